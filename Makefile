# Two commands for a fresh machine: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The suite in two processes (pytest-xdist), each with its own test database; a module stays
# in one process (its world is built once); modules in the order tests/conftest.py sets. `make test PYTEST_WORKERS=0`: one process.
PYTEST_WORKERS ?= 2
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install migrate demo demo-code lint messages browsers screenshots clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	DEBUG=1 $(PY) manage.py migrate --noinput

demo: migrate
	EMAIL_URL=dummy:// DEBUG=1 $(PY) manage.py load_demo

# The demo users' current second-factor code (their key is published: development only).
demo-code: install
	@DEBUG=1 $(PY) manage.py demo_code

# The embedded mode: no broker, no beat; a sweeper process stands in for beat every minute.
run: demo
	@echo "Open http://$(HOST):$(PORT)/ — demo users are listed in README.md; 'make demo-code' prints their second-factor code"
	DEBUG=1 $(PY) manage.py sweep --every 60 & sweeper=$$!; \
	trap 'kill $$sweeper 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: install browsers
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# The browser tests drive Debian's chromium (Playwright cannot download its own here).
browsers:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium >/dev/null || \
	    { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
	  else echo "chromium missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; }

# Screenshots for docs/img, taken by the browser tests.
screenshots: install browsers
	SCREENSHOTS=docs/img $(PY) -m pytest tests/browser -q
	DEBUG=1 $(PY) manage.py export_charts --out docs/img

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

messages: install
	mkdir -p locale
	DEBUG=1 $(PY) manage.py makemessages -l it -l ca -l es -l en --no-obsolete --ignore .venv --ignore tests
	DEBUG=1 $(PY) manage.py compilemessages --ignore .venv

clean:
	rm -rf $(VENV) db.sqlite3 .test-media

# Celery (docs/operations.md): a worker and exactly one beat, with CELERY_BROKER_URL set,
# e.g. CELERY_BROKER_URL=redis://127.0.0.1:6379/0 make worker
.PHONY: worker beat sweep

worker: install
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0): without a broker tasks run in-process."; exit 1; }
	DEBUG=$${DEBUG:-1} $(VENV)/bin/celery -A config worker --loglevel INFO

beat: install
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0): beat sends the sweeps to the worker through it."; exit 1; }
	DEBUG=$${DEBUG:-1} $(VENV)/bin/celery -A config beat --loglevel INFO

# Every sweep once, in this process (`make run` repeats it every minute by itself).
sweep: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py sweep
