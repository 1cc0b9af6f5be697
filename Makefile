# Fidelio. `make run` and `make test` need nothing but Python 3.11+ on the machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test lint format install manage clean

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
test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) config/embedded.py exec --throwaway -- $(PY) -m pytest $(PYTEST_ARGS)

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
