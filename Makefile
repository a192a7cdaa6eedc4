# The front door: make run, make test, make lint, make bench.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/ecrf
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
TEST_ENV := DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) CELERY_TASK_ALWAYS_EAGER=1

.PHONY: run test test-clock coverage lint bench load install install-dev system-packages services migrate messages

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(PIP) install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

system-packages:
	bash scripts/system-packages.sh

services:
	bash scripts/check-services.sh

# The Chinese pages: locale/*/LC_MESSAGES/django.po compiled to django.mo (GNU gettext's msgfmt).
# Only the .po is committed. After wrapping new strings: manage.py makemessages -l zh_Hans
# --ignore='.venv/*' --ignore='tests/*' --ignore='bench/*', translate, then make messages.
messages: install
	$(PY) manage.py compilemessages --ignore='.venv/*' -v0

# Embedded default: SQLite beside manage.py, Celery tasks in-process, demo data loaded.
# Never a debug page (it shows the settings): DEBUG is off unless asked for on the command
# line, `make run DEBUG=1`; a DEBUG exported in the shell does not switch it on.
RUN_DEBUG := $(if $(filter command line,$(origin DEBUG)),$(DEBUG),0)

run: install messages
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py migrate --noinput -v0
	env -u DATABASE_URL -u REDIS_URL $(PY) manage.py demo_seed
	@echo ""
	@echo "  eCRF running at http://$(HOST):$(PORT)/"
	@echo "  Demo logins (password rux-demo-2026 for each):"
	@echo "    clinician    - clinician / investigator"
	@echo "    coordinator  - study coordinator"
	@echo "    monitor      - monitor (read-only)"
	@echo "    datamanager  - data manager"
	@echo "    admin        - configuration (Django admin at /admin/)"
	@echo ""
	env -u DATABASE_URL -u REDIS_URL DEBUG=$(RUN_DEBUG) $(PY) manage.py runserver $(HOST):$(PORT)

# The modules whose results depend on the day: run again with the clock at 23:30 UTC, when a
# site in Beijing is already on tomorrow's date (tests/conftest.py, ECRF_TEST_CLOCK).
CLOCK_TESTS ?= tests/test_site_clock.py tests/api tests/services tests/web
# The suite runs on one process per core (pytest-xdist); a test module stays on one process
# (its module fixtures: a Redis server, a worker). PYTEST_WORKERS=0 runs it in this process.
PYTEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
PYTEST_PARALLEL := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile)

test: install-dev system-packages services messages
	createdb -h 127.0.0.1 -U postgres ecrf 2>/dev/null || true
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run -v0
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_PARALLEL) --cov --cov-report=
	$(MAKE) --no-print-directory coverage
	$(TEST_ENV) ECRF_TEST_CLOCK=23:30 $(PY) -m pytest $(PYTEST_PARALLEL) $(CLOCK_TESTS)

# Coverage of the first pass: at least 90 % of the code, and every line of the pure clinical rules.
coverage:
	$(PY) -m coverage report --fail-under=90
	$(PY) -m coverage report --include='*/rules/*' --fail-under=100

test-clock: install-dev services
	$(TEST_ENV) ECRF_TEST_CLOCK=23:30 $(PY) -m pytest $(PYTEST_PARALLEL) $(CLOCK_TESTS)

BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/ecrf_bench

# Benchmarks on a fresh PostgreSQL database; results go to docs/benchmarks.md.
bench: install-dev services
	dropdb -h 127.0.0.1 -U postgres --if-exists ecrf_bench
	createdb -h 127.0.0.1 -U postgres ecrf_bench
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) CELERY_TASK_ALWAYS_EAGER=0 $(PY) -m bench.run

LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/ecrf_load

# 20 API clients for 60 s against gunicorn and a real worker on 127.0.0.1 (bench/load.py).
load: install-dev services
	dropdb -h 127.0.0.1 -U postgres --if-exists ecrf_load
	createdb -h 127.0.0.1 -U postgres ecrf_load
	DATABASE_URL=$(LOAD_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) manage.py migrate --noinput -v0
	DATABASE_URL=$(LOAD_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) CELERY_TASK_ALWAYS_EAGER=0 $(PY) -m bench.load

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
