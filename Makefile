# Fidelio. `make run` and `make test` need nothing but Python 3.11+ on the machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test chromium lint format install manage clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## The whole platform on embedded PostgreSQL and Redis (data in var/): web :8000, Celery worker and beat.
run: $(STAMP)
	$(PY) config/embedded.py run

## The whole suite on throwaway embedded PostgreSQL and Redis (or DATABASE_URL / REDIS_URL when set).
test: $(STAMP) chromium
	$(PY) -m ruff check .
	$(PY) config/embedded.py exec --throwaway -- $(PY) -m pytest $(PYTEST_ARGS)

## Debian's Chromium for the browser tests (tests/browser), from apt when /usr/bin/chromium is missing (as root,
## or through sudo). Never a browser that Playwright downloads: `playwright install` is not run, ever.
chromium:
	@test -x /usr/bin/chromium || { \
		if [ "$$(id -u)" -eq 0 ]; then sudo=; \
		elif command -v sudo >/dev/null 2>&1; then sudo=sudo; \
		else echo "make: /usr/bin/chromium is missing; as root: apt-get install chromium" >&2; exit 1; fi; \
		echo "Installing Debian's chromium for the browser tests..."; \
		log=$$(mktemp); \
		if $$sudo apt-get update -qq >"$$log" 2>&1 && $$sudo env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends chromium >>"$$log" 2>&1; \
		then rm -f "$$log"; else cat "$$log" >&2; rm -f "$$log"; exit 1; fi; \
		test -x /usr/bin/chromium; }

lint: $(STAMP)
	$(PY) -m ruff check .

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## Any manage.py command on the embedded servers, e.g. make manage ARGS="createsuperuser"
manage: $(STAMP)
	$(PY) manage.py $(ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
