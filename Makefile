# Two commands matter: `make run` and `make test`. Both install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck check browser nginx bench clean

$(STAMP): pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv \
	  && $(BIN)/uv sync -q --frozen --extra dev --inexact --python $(BIN)/python \
	  || $(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/capacity serve

# Debian's chromium for the browser tests (Playwright's own browser download does not work here).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: sudo apt-get install chromium" >&2; exit 1; fi; }

# Debian's nginx for tests/ops/test_proxy.py, which runs deploy/nginx.conf in front of the app
# (the test fails in CI without it). Only the binary is used: the test starts its own nginx.
nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light \
	    || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; } >/dev/null; \
	  else echo "nginx missing: sudo apt-get install nginx-light" >&2; exit 1; fi; }

test: $(STAMP) browser nginx
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check capacity tests bench
	$(BIN)/ruff format --check capacity tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
