# Knowledge Bridge: `make run` sets everything up and serves the site; `make test` checks it all.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test lint format messages clean-db browser

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

setup: $(VENV)/.installed node_modules/.installed
	if command -v msgfmt >/dev/null; then $(MANAGE) compilemessages --ignore=.venv --ignore=node_modules -v 0; fi
	$(MANAGE) migrate --noinput -v 0

run: setup
	$(MANAGE) load_demo $(if $(wildcard ../shared/fixtures/h5p),--h5p-dir ../shared/fixtures/h5p)
	$(MANAGE) runserver $(HOST):$(PORT)

# The production stack on one machine: checks the environment (ENV_FILE=FILE to read it from
# a file, scripts/prod.env.example), then setup, gunicorn and the task worker (scripts/prod.sh).
.PHONY: prod
prod:
	bash scripts/prod.sh

# The load test (docs/BENCHMARKS.md, "Load test (Locust)"): Locust comes from its own
# requirements file (never installed by `make run`); the scenario runs headless and bounded
# against the production stack on 127.0.0.1:$(LOAD_PORT), on the database kb_load that
# `.venv/bin/python bench/load/data.py` fills first. Override LOAD_USERS (at most 200),
# LOAD_SPAWN_RATE, LOAD_RUN_TIME (at most 12m) and LOAD_PORT.
LOAD_USERS ?= 200
LOAD_SPAWN_RATE ?= 2
LOAD_RUN_TIME ?= 10m
LOAD_PORT ?= 8100
.PHONY: load-test
load-test: $(VENV)/.installed
	$(PIP) install --quiet -r bench/load/requirements.txt
	LOAD_USERS=$(LOAD_USERS) LOAD_SPAWN_RATE=$(LOAD_SPAWN_RATE) LOAD_RUN_TIME=$(LOAD_RUN_TIME) \
	  LOAD_PORT=$(LOAD_PORT) bash bench/load/run.sh

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The browser tests drive Debian's Chromium (Playwright cannot download a browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Install Debian's chromium (sudo apt-get install chromium) for the browser tests." >&2; exit 1; \
	  fi; }

test: setup lint browser
	DJANGO_SETTINGS_MODULE=training_site.settings.test $(MANAGE) makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

messages: $(VENV)/.installed
	$(MANAGE) makemessages -l vi -l en --ignore=.venv --ignore=node_modules --ignore=staticfiles
	$(MANAGE) makemessages -d djangojs -l vi -l en --ignore=.venv --ignore=node_modules --ignore=staticfiles
	$(MANAGE) compilemessages --ignore=.venv --ignore=node_modules
