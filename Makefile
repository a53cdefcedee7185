# Every target builds .venv from the project's own files first. torch is pinned and
# installed before anything that depends on it, so pip never pulls a CUDA build.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
TORCH_VERSION := 2.13.0
STAMP := $(VENV)/.installed

.PHONY: venv test lint typecheck demo clean

venv: $(STAMP)

# Re-runs only when pyproject.toml or this Makefile change.
$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==$(TORCH_VERSION)"
	$(BIN)/python -m pip install --quiet -e ".[all,dev]"
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

typecheck: lint

test: lint
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/es-rerank demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Shim throughput against sentence-transformers, side by side (a few minutes on 2 cores).
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python bench/shim_throughput.py
