# Every target builds .venv from the project's own files first. torch is pinned and
# installed before anything that depends on it, so pip never pulls a CUDA build.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
TORCH_VERSION := 2.13.0
STAMP := $(VENV)/.installed

.PHONY: venv test lint typecheck demo clean up down test-es

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

# Runtimes against sentence-transformers and Infinity, side by side (BENCH=throughput), and
# each runtime's agreement and NDCG@10 against fp32 on the distilled model (BENCH=quality).
# Both by default; about 15 minutes on 2 cores (the first run also exports the models).
BENCH ?= all
.PHONY: bench
bench: $(STAMP)
	if [ "$(BENCH)" = all ] || [ "$(BENCH)" = throughput ]; then $(BIN)/python bench/shim_throughput.py; fi
	if [ "$(BENCH)" = all ] || [ "$(BENCH)" = quality ]; then $(BIN)/python bench/runtime_quality.py; fi

# Elasticsearch + shim + setup in Docker (docker/compose.yml). The first run writes
# docker/.env with random passwords; `docker compose -f docker/compose.yml logs setup`
# shows the index and endpoint it created.
COMPOSE := docker compose -f docker/compose.yml --env-file docker/.env

docker/.env:
	$(PYTHON) -c "import secrets; t = secrets.token_urlsafe; print(f'ELASTIC_PASSWORD={t(18)}\nSHIM_API_KEY={t(24)}')" > $@
	chmod 600 $@

up: docker/.env
	$(COMPOSE) up -d --build --wait elasticsearch shim
	$(COMPOSE) run --rm setup

down: docker/.env
	$(COMPOSE) down

# The real-cluster tests (tests/elasticsearch, all marked `elasticsearch`; they also run
# the conformance suite natively and externally) and the conformance suite's own ES
# executors: ES_URL must point at a cluster (with ES_API_KEY or ES_USERNAME/ES_PASSWORD),
# or Docker must work.
test-es: $(STAMP)
	$(BIN)/python -m pytest tests/elasticsearch $(wildcard tests/conformance)
