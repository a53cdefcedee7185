# Every target builds .venv from the project's own files first. torch is pinned and
# installed before anything that depends on it, so pip never pulls a CUDA build.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
TORCH_VERSION := 2.13.0
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu
STAMP := $(VENV)/.installed

# On Linux, torch comes from PyTorch's CPU index (PyPI's Linux wheel is the multi-GB CUDA
# build). Where that index's name does not resolve (offline, or a CI machine with a local
# wheel directory in pip's configuration), pip's own configuration is used; it fails at once
# instead of retrying an unreachable index for every package. PyPI's macOS wheels are CPU.
torch_index = $(shell [ "$$(uname -s)" = Linux ] && $(PYTHON) -c "import socket; socket.getaddrinfo('download.pytorch.org', 443)" 2>/dev/null && echo "--index-url $(TORCH_CPU_INDEX)")

# Stops make when the venv's torch is a CUDA build (checked after each install).
cpu_torch_check = $(BIN)/python -c "import sys, torch; sys.exit(f'torch {torch.__version__} is a CUDA build; make clean, then run make again where $(TORCH_CPU_INDEX) is reachable' if torch.version.cuda else 0)"

.PHONY: venv test test-fast lint typecheck docs demo clean up down test-es

venv: $(STAMP)

# Re-runs only when pyproject.toml or this Makefile change. torch is pinned in the second
# install too, or the resolver may replace the CPU build with a newer (CUDA) one.
$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "torch==$(TORCH_VERSION)" $(torch_index)
	$(cpu_torch_check)
	$(BIN)/python -m pip install --quiet -e ".[all,dev]" "torch==$(TORCH_VERSION)"
	$(cpu_torch_check)
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

typecheck: lint

# The docs site (mkdocs.yml, docs/) into build/site; --strict fails on any warning (a broken
# link or anchor, a page missing from the nav, an API reference entry that does not resolve).
# Never with --quiet: it hides the warnings from --strict, which then passes.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# pytest includes tests/docs: every example of README.md and docs/ runs. It runs on
# TEST_WORKERS pytest-xdist workers (0: one process), each with its share of the CPUs; a
# module's tests, or a docs page's examples, stay on one worker in their order
# (tests/conftest.py), and the groups are handed out in collection order.
TEST_WORKERS ?= 2
test: lint docs
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

# The loop to run while changing code: every test but those marked slow (model exports,
# subprocess shims with a model, commands run end to end, soaks); make test runs them all.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

demo: $(STAMP)
	$(BIN)/es-rerank demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build/site

# Runtimes against sentence-transformers and Infinity, side by side (BENCH=throughput),
# each runtime's agreement and NDCG@10 against fp32 on the distilled model (BENCH=quality),
# each model family at its real size with random weights against sentence-transformers
# (BENCH=families), head-of-line blocking and engine throughput against oldest-first scheduling
# (BENCH=fairness), a 150-second soak of the real shim at concurrency 32 with the distilled
# model (BENCH=soak), connection floods and SIGTERM under load (BENCH=reliability), and a
# shim SIGKILLed while a client waits (BENCH=kill). All
# by default; about 30 minutes on 2 cores (the first run also exports the models).
# BENCH=vectors: kNN recall@10 against exact search, latency and build time on the shared
# corpora and a synthetic 1M x 384 set, indexing against sentence-transformers encode (long);
# BENCH=ann-libraries: usearch, hnswlib and faiss-cpu on the same vectors.
# BENCH=retries: what retrying read timeouts costs a busy shim (32 calls with a 10 s timeout,
# the distilled model; 10 to 30 minutes on 2 cores, so not part of "all").
# BENCH=soak30: the soak for 30 minutes (RSS growth over the last half); BENCH=soak-contended:
# the 150-second soak beside a CPU hog process (503s among admitted requests, Retry-After
# against the measured drain time). Neither is part of "all".
BENCH ?= all
.PHONY: bench
bench: $(STAMP)
	if [ "$(BENCH)" = all ] || [ "$(BENCH)" = throughput ]; then $(BIN)/python bench/shim_throughput.py; fi
	if [ "$(BENCH)" = all ] || [ "$(BENCH)" = quality ]; then $(BIN)/python bench/runtime_quality.py; fi
	if [ "$(BENCH)" = all ] || [ "$(BENCH)" = families ]; then $(BIN)/python bench/model_families.py; fi
	if [ "$(BENCH)" = retries ]; then $(BIN)/python bench/read_timeout_retries.py; fi
	if [ "$(BENCH)" = vectors ]; then $(BIN)/python bench/vector_search.py; fi
	if [ "$(BENCH)" = ann-libraries ]; then $(BIN)/python bench/ann_libraries.py; fi
	if [ "$(BENCH)" = all ] || [ "$(BENCH)" = reliability ]; then $(BIN)/python bench/reliability.py; fi
	if [ "$(BENCH)" = all ] || [ "$(BENCH)" = fairness ]; then $(BIN)/python bench/shim_fairness.py; fi
	if [ "$(BENCH)" = all ] || [ "$(BENCH)" = soak ]; then $(BIN)/python bench/shim_soak.py; fi
	if [ "$(BENCH)" = soak30 ]; then $(BIN)/python bench/shim_soak.py --seconds 1800; fi
	if [ "$(BENCH)" = soak-contended ]; then $(BIN)/python bench/shim_soak.py --contended; fi
	if [ "$(BENCH)" = all ] || [ "$(BENCH)" = kill ]; then $(BIN)/python bench/shim_kill.py; fi

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
