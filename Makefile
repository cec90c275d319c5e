# Two commands for a bare machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 5009
HOST ?= 127.0.0.1
PYTHON ?= python3
# The settings fail closed (production unless told otherwise): the demo and the tests say so.
DEV := DJANGO_DEBUG=1

.PHONY: run test lint format install install-test node-tools browser proxy migrate demo-data bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q ".[demo]"
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PIP) install -q ".[test]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test node-tools browser proxy

# npm ci installs exactly the committed lock file and never rewrites it.
node_modules/.bin/firebase: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

node-tools: node_modules/.bin/firebase

# Browser tests drive Debian's chromium, never a downloaded browser.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# deploy/nginx.conf is tested with Debian's nginx.
proxy:
	@[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || { \
		echo "Installing Debian's nginx for the proxy tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }

migrate: install
	$(DEV) $(PY) manage.py migrate --no-input

demo-data: migrate
	$(DEV) $(PY) manage.py seed_demo

run: demo-data
	$(DEV) $(PY) manage.py collectstatic --no-input -v0
	$(DEV) $(PY) manage.py serve_demo --host $(HOST) --port $(PORT)

test: install-test
	$(DEV) DJANGO_TESTING=1 $(PY) -m pytest $(PYTEST_ARGS)

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

$(VENV)/.installed-bench: $(VENV)/.installed-test pyproject.toml
	$(PIP) install -q ".[test,bench]"
	touch $@

bench: $(VENV)/.installed-bench
	bash bench/run.sh

clean:
	rm -rf $(VENV) node_modules staticfiles db.sqlite3 test-db.sqlite3*
