"""Rerankers against real parts: a loopback HTTP server speaking the shim's ES-inference
format, and a tiny cross-encoder built on disk."""

from __future__ import annotations

import email.utils
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from es_rerank import CrossEncoderReranker, Reranker, RerankError, ShimReranker
from es_rerank.models import ModelLoadError, load_model
from tests.helpers.recording_server import Recorded, RecordingServer, Reply, serve


def _score(body: dict[str, Any]) -> Reply:
    """The shim's answer: score = len(text), sorted best first as the shim may do."""
    items = [{"index": i, "relevance_score": float(len(t))} for i, t in enumerate(body["input"])]
    items.sort(key=lambda x: -x["relevance_score"])
    return Reply(200, {"rerank": items})


class Script:
    """Answers from a list of scripted replies, then scores normally."""

    def __init__(self, *replies: Reply | str) -> None:
        self.replies = list(replies)

    def __call__(self, rec: Recorded) -> Reply:
        if rec.path != "/inference/rerank" or rec.method != "POST":
            return Reply(404, {"error": f"no route {rec.method} {rec.path}"})
        if self.replies:
            reply = self.replies.pop(0)
            if reply == "wrong_count":
                return Reply(200, {"rerank": [{"index": 0, "relevance_score": 1.0}]})
            if isinstance(reply, Reply):
                if reply.body is None and reply.status == 200:
                    return Reply(200, _score(rec.body).body, delay_s=reply.delay_s)
                return reply
        return _score(rec.body)


def test_shim_scores_in_input_order_and_sends_the_es_inference_body() -> None:
    with serve(Script()) as server:
        reranker = ShimReranker(server.url + "/", api_key="s3cret")
        assert isinstance(reranker, Reranker)
        scores = reranker.rerank("what", ["a", "abcd", "ab"])
    assert scores == [1.0, 4.0, 2.0]
    (rec,) = server.requests
    assert rec.method == "POST" and rec.path == "/inference/rerank"
    assert rec.body == {
        "query": "what",
        "input": ["a", "abcd", "ab"],
        "top_n": 3,
        "score_mode": "raw",
    }
    assert rec.headers["authorization"] == "Bearer s3cret"


def test_shim_without_api_key_sends_no_authorization() -> None:
    with serve(Script()) as server:
        ShimReranker(server.url).rerank("q", ["x"])
    assert "authorization" not in server.requests[0].headers


def test_shim_splits_inputs_over_max_batch() -> None:
    with serve(Script()) as server:
        scores = ShimReranker(server.url, max_batch=2).rerank("q", ["a", "bbb", "cc", "dddd", "e"])
    assert scores == [1.0, 3.0, 2.0, 4.0, 1.0]
    assert [r.body["input"] for r in server.requests] == [["a", "bbb"], ["cc", "dddd"], ["e"]]


def test_shim_empty_input_makes_no_request() -> None:
    with serve(Script()) as server:
        assert ShimReranker(server.url).rerank("q", []) == []
    assert server.requests == []


def test_shim_honours_retry_after_on_429(sleeps: list[float]) -> None:
    script = Script(Reply(429, {"error": "overloaded"}, {"Retry-After": "2"}))
    with serve(script) as server:
        scores = ShimReranker(server.url, retries=2, backoff=0.01).rerank("q", ["abc"])
    assert scores == [3.0]
    assert len(server.requests) == 2
    assert sleeps == [2.0]


def test_shim_retry_after_as_http_date(sleeps: list[float]) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    script = Script(Reply(503, {"error": "unhealthy"}, {"Retry-After": when}))
    with serve(script) as server:
        ShimReranker(server.url, retries=1).rerank("q", ["abc"])
    assert len(sleeps) == 1 and 25 < sleeps[0] <= 30


def test_shim_backs_off_exponentially_on_503(sleeps: list[float]) -> None:
    script = Script(Reply(503, {"error": "a"}), Reply(503, {"error": "b"}))
    with serve(script) as server:
        assert ShimReranker(server.url, retries=3, backoff=0.25).rerank("q", ["ab"]) == [2.0]
    assert sleeps == [0.25, 0.5]
    assert len(server.requests) == 3


def test_shim_gives_up_after_retries(sleeps: list[float]) -> None:
    script = Script(*[Reply(503, {"error": "Unhealthy", "error_type": "unhealthy"})] * 5)
    with serve(script) as server, pytest.raises(RerankError) as info:
        ShimReranker(server.url, retries=2, backoff=0.0).rerank("q", ["ab"])
    assert "HTTP 503 after 3 attempt(s): Unhealthy" in str(info.value)
    assert len(server.requests) == 3


def test_shim_client_errors_are_not_retried() -> None:
    script = Script(Reply(422, {"error": "input is too long", "error_type": "Validation"}))
    with serve(script) as server, pytest.raises(RerankError, match=r"HTTP 422.*input is too long"):
        ShimReranker(server.url, retries=3).rerank("q", ["ab"])
    assert len(server.requests) == 1


def test_shim_read_timeout_is_an_error_and_not_retried_by_default(sleeps: list[float]) -> None:
    # The server got the request and may still be computing it: a second copy would only
    # queue behind the first.
    with serve(Script(Reply(200, delay_s=1.0))) as server, pytest.raises(RerankError) as info:
        ShimReranker(server.url, timeout=0.2, retries=3).rerank("q", ["ab"])
    assert "failed after 1 attempt(s): ReadTimeout" in str(info.value)
    assert "a read timeout is not retried" in str(info.value)
    assert len(server.requests) == 1 and sleeps == []


def test_shim_read_timeout_is_retried_when_asked(sleeps: list[float]) -> None:
    with serve(Script(Reply(200, delay_s=1.0))) as server:
        reranker = ShimReranker(server.url, timeout=0.3, retries=1, retry_on_timeout=True)
        assert reranker.rerank("q", ["ab"]) == [2.0]
    assert len(server.requests) == 2


def test_shim_wrong_count_is_an_error_never_partial() -> None:
    with (
        serve(Script("wrong_count")) as server,
        pytest.raises(RerankError, match=r"count mismatch: \[2\] vs \[1\]"),
    ):
        ShimReranker(server.url).rerank("q", ["a", "b"])


def test_shim_unreachable_is_an_error(sleeps: list[float]) -> None:
    server = RecordingServer(Script())
    url = server.url
    server.httpd.server_close()  # never started; nothing listens on the port any more
    with pytest.raises(RerankError, match="failed after 2 attempt"):
        ShimReranker(url, retries=1).rerank("q", ["a"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "localhost:8080"}, "needs an http:// or https:// scheme"),
        ({"url": "http://x:8080/rerank"}, "give the server's base URL"),
        ({"url": "http://x", "timeout": 0}, "timeout must be > 0"),
        ({"url": "http://x", "retries": -1}, "retries must be an integer >= 0"),
        ({"url": "http://x", "backoff": -1.0}, "backoff must be >= 0"),
        ({"url": "http://x", "max_batch": 0}, "max_batch must be a positive integer"),
    ],
)
def test_shim_parameters_are_checked(kwargs: dict[str, Any], message: str) -> None:
    url = kwargs.pop("url")
    with pytest.raises(ValueError, match=message):
        ShimReranker(url, **kwargs)


def test_cross_encoder_returns_the_models_raw_logits(tiny_cross_encoder: Path) -> None:
    reranker = CrossEncoderReranker(tiny_cross_encoder, batch_size=2, max_length=64)
    texts = ["the moon hides the sun", "cats purr", "eclipses happen twice a year"]
    scores = reranker.rerank("how often is there an eclipse", texts)
    expected = load_model(tiny_cross_encoder).score("how often is there an eclipse", texts)
    assert np.allclose(scores, expected, atol=1e-5)
    assert len(set(scores)) == 3  # a real model, not a constant
    assert reranker.rerank("q", []) == []
    assert reranker.runtime.max_length == 64


def test_cross_encoder_accepts_a_loaded_model(tiny_cross_encoder: Path) -> None:
    loaded = load_model(tiny_cross_encoder)
    runtime = CrossEncoderReranker(loaded).runtime
    assert runtime.model is loaded.model.model  # type: ignore[attr-defined]  # reused, not reloaded


def test_cross_encoder_bad_path_says_how_to_pass_one(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="--model PATH"):
        CrossEncoderReranker(str(tmp_path / "nope" / "model"))


def test_cross_encoder_rejects_bad_batch_size(tiny_cross_encoder: Path) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        CrossEncoderReranker(tiny_cross_encoder, batch_size=0)
