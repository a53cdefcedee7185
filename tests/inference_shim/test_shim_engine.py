"""Batching correctness, overload, graceful shutdown, bi-encoders, CLI and OpenAPI sync."""

from __future__ import annotations

import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from es_rerank.models import load_model, packaged_bi_encoder_path
from es_rerank.runtime import DEFAULT_MAX_BATCH_TOKENS, FunctionRuntime, plan_batches
from es_rerank.runtime.torch_runtime import TorchRuntime
from inference_shim.config import Settings
from inference_shim.errors import OverloadedError, UnhealthyError
from inference_shim.loading import build_engine
from inference_shim.metrics import Metrics
from inference_shim.runner import Engine
from inference_shim.schemas import committed_openapi, render_openapi
from tests.helpers.shim import ShimProcess, run_shim
from tests.helpers.tiny_models import WORDS
from tests.inference_shim.scorers import overlap


def _random_texts(rng: random.Random, n: int) -> list[str]:
    return [" ".join(rng.choices(WORDS, k=rng.randint(1, 60))) for _ in range(n)]


def test_openapi_document_is_in_sync() -> None:
    assert committed_openapi() == render_openapi(), (
        "inference_shim/openapi.json is stale: regenerate it with "
        "python -c 'from inference_shim.schemas import render_openapi; "
        'print(render_openapi(), end="")\' > inference_shim/openapi.json'
    )


def test_plan_batches_respects_budget() -> None:
    lengths = [31, 5, 300, 9, 30, 200, 9]
    batches = plan_batches(lengths, max_batch_tokens=64)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths)  # shortest first
    for b in batches:
        assert len(b) == 1 or max(lengths[i] for i in b) * len(b) <= 64
    assert all(len(b) <= 2 for b in plan_batches(lengths, max_batch_tokens=10**6, max_pairs=2))


def test_engine_matches_sentence_transformers(spread_cross_encoder: Path) -> None:
    """In-process: a request far larger than one batch is split and reassembled, and the
    scores equal CrossEncoder.predict's raw logits."""
    rng = random.Random(1)
    texts = _random_texts(rng, 150)
    expected = load_model(spread_cross_encoder).score("berlin population", texts)
    metrics = Metrics()
    settings = Settings(model=str(spread_cross_encoder), max_batch_tokens=300)
    engine = build_engine(settings, metrics=metrics)
    try:
        got = engine.score("berlin population", texts)
    finally:
        engine.close()
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert (metrics.registry.get_sample_value("shim_batch_size_count") or 0) >= 10


def test_waiting_requests_share_batches(spread_cross_encoder: Path) -> None:
    """Requests queued together are sorted and batched together, and each still gets
    exactly its own scores."""
    rng = random.Random(5)
    jobs = [(f"berlin {k}", _random_texts(rng, 4)) for k in range(12)]
    model = load_model(spread_cross_encoder)
    metrics = Metrics()
    hf, tok = model.model.model, model.model.tokenizer
    runtime = TorchRuntime(hf, tok, name="tiny", max_length=128)
    engine = Engine(runtime, max_batch_tokens=4096, metrics=metrics)
    futures = [engine.submit(q, t) for q, t in jobs]  # queued before the thread starts
    engine.start()
    try:
        results = [f.result(60) for f in futures]
    finally:
        engine.close()
    for (q, t), got in zip(jobs, results, strict=True):
        np.testing.assert_allclose(got, model.score(q, t), atol=1e-4)
    batches = metrics.registry.get_sample_value("shim_batch_size_count") or 0
    assert batches < len(jobs)  # fewer model calls than requests: they were mixed


@pytest.mark.slow
def test_concurrent_requests_are_not_mixed(model_shim: ShimProcess) -> None:
    """Requests from many threads share batches; every reply equals the reply the same
    request gets alone."""
    rng = random.Random(7)
    requests = [
        (
            "berlin population" if k % 2 else "paris museum river",
            _random_texts(rng, rng.randint(1, 40)),
        )
        for k in range(24)
    ]
    with model_shim.client() as c:
        alone = [c.post("/rerank", json={"query": q, "texts": t}).json() for q, t in requests]

    def send(req: tuple[str, list[str]]) -> list[dict[str, float]]:
        with model_shim.client() as c:
            r = c.post("/rerank", json={"query": req[0], "texts": req[1]})
            assert r.status_code == 200, r.text
            return r.json()  # type: ignore[no-any-return]

    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(send, requests * 2))
    for k, reply in enumerate(together):
        solo = alone[k % len(requests)]
        assert [it["index"] for it in reply] == [it["index"] for it in solo]
        np.testing.assert_allclose(
            [it["score"] for it in reply], [it["score"] for it in solo], atol=1e-4
        )


@pytest.mark.slow
def test_large_request_is_split_over_http(
    model_shim: ShimProcess, spread_cross_encoder: Path
) -> None:
    texts = _random_texts(random.Random(3), 300)  # at the client limit; many 512-token batches
    with model_shim.client() as c:
        r = c.post("/inference/rerank", json={"query": "berlin", "input": texts})
    assert r.status_code == 200, r.text
    got = {x["index"]: x["relevance_score"] for x in r.json()["rerank"]}
    assert sorted(got) == list(range(300))
    expected = load_model(spread_cross_encoder).score("berlin", texts)
    np.testing.assert_allclose([got[i] for i in range(300)], expected, atol=1e-4)


@pytest.mark.slow
def test_full_queue_is_429_with_retry_after() -> None:
    shim = ShimProcess(["--scorer", "tests.inference_shim.scorers:slow", "--max-queue", "1"])
    try:
        body = {"query": "berlin", "texts": ["berlin city"]}
        with ThreadPoolExecutor(max_workers=1) as pool:
            first = pool.submit(lambda: httpx.post(shim.url + "/rerank", json=body, timeout=30))
            time.sleep(0.5)  # the first request now holds the only slot
            second = httpx.post(shim.url + "/rerank", json=body, timeout=30)
            assert first.result().status_code == 200
        assert second.status_code == 429
        assert second.headers["Retry-After"] == "1"
        assert second.json()["error_type"] == "Overloaded"
        assert httpx.post(shim.url + "/rerank", json=body, timeout=30).status_code == 200
    finally:
        assert shim.terminate() == 0


def test_engine_refuses_when_full_and_after_close() -> None:
    gate = threading.Event()

    def blocked(q: str, ts: list[str]) -> list[float]:
        gate.wait(10)
        return overlap(q, ts)

    engine = Engine(FunctionRuntime(blocked, name="blocked"), max_queue=2)
    engine.start()
    futures = [engine.submit("q", ["a"]), engine.submit("q", ["b"])]
    with pytest.raises(OverloadedError):
        engine.submit("q", ["c"])
    gate.set()
    got = [f.result(10).tolist() for f in futures]
    assert got == [pytest.approx(overlap("q", ["a"])), pytest.approx(overlap("q", ["b"]))]
    engine.close()
    with pytest.raises(UnhealthyError):
        engine.submit("q", ["a"])


@pytest.mark.slow
def test_sigterm_drains_in_flight_request() -> None:
    shim = ShimProcess(["--scorer", "tests.inference_shim.scorers:slow"])
    body = {"query": "berlin", "texts": ["berlin city", "paris"]}
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(lambda: httpx.post(shim.url + "/rerank", json=body, timeout=30))
        time.sleep(0.7)  # the request is inside the 2-second scorer
        shim.proc.send_signal(signal.SIGTERM)
        reply = pending.result()
    assert reply.status_code == 200
    assert [it["index"] for it in reply.json()] == [0, 1]
    assert shim.proc.wait(30) == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(shim.url + "/health", timeout=2)


@pytest.mark.slow
def test_bi_encoder_is_scored_by_cosine() -> None:
    path = packaged_bi_encoder_path()
    texts = ["Berlin has 3.5 million people.", "Cats purr when content.", "Paris is in France."]
    query = "how many people live in berlin"
    expected = load_model(path).score(query, texts).tolist()
    shim = ShimProcess(["--model", path])
    try:
        with shim.client() as c:
            r = c.post("/rerank", json={"query": query, "texts": texts, "raw_scores": True})
            info = c.get("/info").json()
            long = c.post(
                "/rerank", json={"query": query, "texts": ["word " * 600], "truncate": False}
            )
    finally:
        assert shim.terminate() == 0
    assert info["kind"] == "bi-encoder"
    got = {it["index"]: it["score"] for it in r.json()}
    np.testing.assert_allclose([got[i] for i in range(3)], expected, atol=1e-5)
    assert r.json()[0]["index"] == 0
    assert long.status_code == 422


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "exactly one of --model"),
        (["--model", "x", "--scorer", "m:f"], "exactly one of --model"),
        (["--model", "./no/such/dir"], "--model PATH"),
        (["--scorer", "no_such_module_xyz:f"], "cannot import"),
        (["--scorer", "tests.inference_shim.scorers"], "package.module:function"),
        (
            ["--score-mode", "softmax", "--scorer", "tests.inference_shim.scorers:overlap"],
            "--score-mode",
        ),
    ],
)
def test_cli_errors(args: list[str], needle: str) -> None:
    r = run_shim(args, timeout=60)
    assert r.returncode == 2
    assert needle in r.stderr


@pytest.mark.slow
def test_environment_mirrors_flags() -> None:
    shim = ShimProcess(
        [],
        env={
            "SHIM_SCORER": "tests.inference_shim.scorers:overlap",
            "SHIM_MAX_QUEUE": "3",
            "SHIM_SCORE_MODE": "sigmoid",
        },
    )
    try:
        info = httpx.get(shim.url + "/info").json()
    finally:
        assert shim.terminate() == 0
    assert info["limits"]["max_queue"] == 3
    # No --max-batch-tokens: /info reports the budget in use, the CPU default.
    assert info["limits"]["max_batch_tokens"] == DEFAULT_MAX_BATCH_TOKENS
    assert info["score_mode"] == "sigmoid"
    assert info["kind"] == "scorer"


@pytest.mark.slow
def test_max_input_length_above_the_model_is_refused(spread_cross_encoder: Path) -> None:
    r = run_shim(["--model", str(spread_cross_encoder), "--max-input-length", "4096"])
    assert r.returncode == 2
    assert "--max-input-length 4096 is above the model's limit of 128" in r.stderr
