# Fidelio. `make run` and `make test` need nothing but Python 3.11+ on the machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Locked dependencies with hashes (docs/decisions.md): base.txt for production, dev.txt for make run/test and CI.
LOCKS := requirements/base.txt requirements/dev.txt
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check
# mypy imports config.test_settings (django-stubs); these placeholder URLs keep that import from starting or
# joining the embedded servers. Nothing connects to them: type checking needs no database.
NO_SERVERS := DATABASE_URL=postgresql://typecheck@127.0.0.1:9/typecheck REDIS_URL=redis://127.0.0.1:9/0 \
	FIDELIO_EMBEDDED=0 DJANGO_DEBUG=1
MYPY := $(NO_SERVERS) $(PY) -m mypy
# make lock LOCK_ARGS=--upgrade (everything to the newest release in its range) or LOCK_ARGS="--upgrade-package Django"
LOCK_ARGS ?=
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --no-config --no-header --python-version 3.11 \
	--python-platform x86_64-unknown-linux-gnu --generate-hashes $(LOCK_ARGS)

.PHONY: run test chromium gettext messages makemessages lint format typecheck install manage clean lock audit

# Exactly the locked versions, hash-checked (pip, setuptools and wheel too), then Fidelio itself without
# resolving anything: the build uses the locked setuptools, so nothing unpinned is fetched.
$(STAMP): pyproject.toml $(LOCKS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --require-hashes -r requirements/dev.txt
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

## Regenerate both lock files from pyproject.toml and requirements/build.in; dev.txt is constrained by base.txt.
## Keeps the current pins where they still fit; LOCK_ARGS=--upgrade moves every pin to the newest release in range.
lock: $(STAMP)
	$(UV_COMPILE) pyproject.toml requirements/build.in -o requirements/base.txt
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra dev -c requirements/base.txt -o requirements/dev.txt
	@for f in $(LOCKS); do { printf '%s\n' \
		"# Fidelio's locked dependencies, with hashes, for Python 3.11 on Linux x86_64: base.txt for production," \
		"# dev.txt (base.txt's pins plus the dev extra) for make run, make test and CI." \
		"# Generated, do not edit: change pyproject.toml or requirements/build.in, then run \`make lock\`" \
		"# (uv pip compile, see the Makefile; \`make lock LOCK_ARGS=--upgrade\` updates every pin)."; \
		cat $$f; } > $$f.tmp && mv $$f.tmp $$f; done

## pip-audit over the dev lock (a superset of base.txt); known vulnerabilities fail unless accepted in
## requirements/pip-audit-allow.txt. Also fails when PyPI's vulnerability data cannot be reached.
audit: $(STAMP)
	$(PY) requirements/audit.py requirements/dev.txt

## The whole platform on embedded PostgreSQL and Redis (data in var/): web :8000, Celery worker and beat.
run: $(STAMP) messages
	$(PY) config/embedded.py run

## The whole suite on throwaway embedded PostgreSQL and Redis (or DATABASE_URL / REDIS_URL when set).
## (The audit step only warns when this machine cannot reach PyPI's per-release vulnerability data.)
test: $(STAMP) chromium messages
	$(PY) requirements/audit.py --allow-unreachable requirements/dev.txt
	$(PY) -m ruff check .
	$(MYPY)
	$(PY) config/embedded.py exec --throwaway -- $(PY) -m pytest $(PYTEST_ARGS)

# $(call apt_install,PACKAGE,WHAT IS MISSING,WHAT FOR): Debian's PACKAGE from apt, as root or through sudo, its
# output shown only when it fails. Used only after a check found the package missing.
define apt_install
	if [ "$$(id -u)" -eq 0 ]; then sudo=; \
	elif command -v sudo >/dev/null 2>&1; then sudo=sudo; \
	else echo "make: $(2) is missing; as root: apt-get install $(1)" >&2; exit 1; fi; \
	echo "Installing Debian's $(1) $(3)..."; \
	log=$$(mktemp); \
	if $$sudo apt-get update -qq >"$$log" 2>&1 && $$sudo env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends $(1) >>"$$log" 2>&1; \
	then rm -f "$$log"; else cat "$$log" >&2; rm -f "$$log"; exit 1; fi
endef

## Debian's Chromium for the browser tests (tests/browser), from apt when /usr/bin/chromium is missing (as root,
## or through sudo). Never a browser that Playwright downloads: `playwright install` is not run, ever.
chromium:
	@test -x /usr/bin/chromium || { $(call apt_install,chromium,/usr/bin/chromium,for the browser tests); \
		test -x /usr/bin/chromium; }

## Debian's gettext (msgfmt) for the translations, from apt when it is missing (as root, or through sudo).
gettext:
	@command -v msgfmt >/dev/null 2>&1 || { $(call apt_install,gettext,msgfmt,for the translations); }

## The translations (locale/*/LC_MESSAGES/django.po, in the repository) compiled to .mo files (not committed).
## The production recipe in the README runs the same `manage.py compilemessages`.
messages: $(STAMP) gettext
	@$(NO_SERVERS) $(PY) manage.py compilemessages --locale pl --locale cs --locale ru --locale el -v 0

## The catalogues refreshed from the code and templates (then translate the new entries; `make test` fails on
## any untranslated or fuzzy one).
makemessages: $(STAMP) gettext
	$(NO_SERVERS) $(PY) manage.py makemessages --locale pl --locale cs --locale ru --locale el \
		--ignore '.venv/*' --ignore 'var/*' --ignore 'bench/*' --ignore 'tests/*' --ignore 'build/*' --no-obsolete

lint: $(STAMP)
	$(PY) -m ruff check .

## mypy (django-stubs, djangorestframework-stubs) over the files listed in pyproject.toml's [tool.mypy];
## its cache is .mypy_cache (a cold run takes 15-20 s, a warm one about 2 s).
typecheck: $(STAMP)
	$(MYPY)

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## Any manage.py command on the embedded servers, e.g. make manage ARGS="createsuperuser"
manage: $(STAMP)
	$(PY) manage.py $(ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache .hypothesis
