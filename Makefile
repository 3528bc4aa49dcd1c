# Two commands matter: `make run` (demo on http://127.0.0.1:5000) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DB_PACKAGES := postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting
TEST_PACKAGES := $(DB_PACKAGES) chromium fonts-dejavu-core
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2

.PHONY: run test bench lint format vendor clean-venv

$(STAMP): requirements.lock requirements-nodeps.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	@scripts/ensure-debian-packages $(DB_PACKAGES)
	$(VENV)/bin/peta112 db up
	$(VENV)/bin/peta112 db migrate
	$(VENV)/bin/peta112 demo --if-empty
	$(VENV)/bin/peta112 user demo
	$(VENV)/bin/peta112 serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

test: $(STAMP)
	@scripts/ensure-debian-packages $(TEST_PACKAGES)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest tests -p no:cacheprovider

bench: $(STAMP)
	@scripts/ensure-debian-packages $(TEST_PACKAGES)
	PETA112_BENCH_FULL=1 $(PY) -m pytest tests/bench -p no:cacheprovider --benchmark-enable -m bench -s

lint: $(STAMP)
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

vendor:
	scripts/vendor-frontend

clean-venv:
	rm -rf $(VENV)
