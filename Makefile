# The two commands the README opens with: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test test-fast bench console clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first, pinned: this exact version is the CPU build on local disk; any other
# spec would download a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	# CJK fonts, so the browser tests' Chinese screenshots show characters, not boxes.
	fc-list :lang=zh | grep -q . || (apt-get update -qq && apt-get install -y -qq fonts-noto-cjk)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

serve: install
	$(BIN)/modelyard serve

test: install
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

bench: install
	$(BIN)/python bench/gateway_overhead.py
	$(BIN)/python bench/tokens_per_second.py

# Rebuilds the web console into src/modelyard/console/static (committed, so pip users need
# no Node.js). Needs Node.js 20+ and npm; versions and hashes come from package-lock.json.
# `npm install` rather than `npm ci`: the lock lists only the platform builds of rollup and
# esbuild that the registry mirror holds, and `npm ci` refuses a lock without the others.
console:
	cd console && npm install --no-audit --no-fund && npm run build

clean:
	rm -rf $(VENV) build dist src/*.egg-info
