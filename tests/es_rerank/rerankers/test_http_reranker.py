"""HttpReranker in each format against real servers on loopback: the shim's own TEI, Cohere
and Elasticsearch-inference routes, and doubles of Cohere's API, Infinity and TEI that
answer with the shapes their references document (and refuse what they refuse)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from es_rerank import ConfigurationError, HttpReranker, Reranker, RerankError
from es_rerank.rerankers import rerank_endpoint
from tests.helpers.recording_server import Recorded, Reply, serve

KEY = "http-reranker-key"
TEXTS = ["-1.5", "3", "0.25", "-7"]  # the shim's score_is_text scorer reads them as raw scores


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def raw(text: str) -> float:
    """What the doubles below score: a logit from the text's length."""
    return len(text) / 10 - 2


# -- the shim's own routes -----------------------------------------------------------------


@pytest.fixture(scope="module")
def shim_url() -> Iterator[str]:
    from tests.helpers.shim import serve_shim

    with serve_shim(scorer="tests.conformance.scorers:score_is_text", api_key=KEY) as url:
        yield url


@pytest.fixture(scope="module")
def sigmoid_shim_url() -> Iterator[str]:
    """A shim whose default score mode is sigmoid (what TEI and Infinity return)."""
    from tests.helpers.shim import serve_shim

    with serve_shim(scorer="tests.conformance.scorers:score_is_text", score_mode="sigmoid") as url:
        yield url


@pytest.mark.parametrize(
    ("format", "path"),
    [
        ("es", ""),
        ("es", "/inference/rerank"),
        ("tei", ""),
        ("tei", "/rerank"),
        ("cohere", ""),
        ("cohere", "/v1/rerank"),
        ("cohere", "/v2/rerank"),
    ],
)
def test_raw_scores_in_input_order_from_each_route_of_the_shim(
    shim_url: str, format: str, path: str
) -> None:
    # The shim's Cohere routes answer sigmoid, as Cohere's: score_scale turns them back.
    scale = "sigmoid" if format == "cohere" else "raw"
    reranker = HttpReranker(
        shim_url + path, format=format, api_key=KEY, model="any", score_scale=scale
    )
    assert isinstance(reranker, Reranker)
    # The shim answers best first; negative logits show that no sigmoid was left applied.
    assert reranker.rerank("q", TEXTS) == pytest.approx([-1.5, 3.0, 0.25, -7.0], abs=1e-9)


def test_tei_asks_for_raw_scores_even_where_the_server_defaults_to_sigmoid(
    sigmoid_shim_url: str,
) -> None:
    assert HttpReranker(sigmoid_shim_url, format="tei").rerank("q", TEXTS) == [
        -1.5,
        3.0,
        0.25,
        -7.0,
    ]


@pytest.mark.parametrize("path", ["/v1/rerank", "/v2/rerank"])
def test_cohere_sigmoid_scores_are_used_as_returned_or_turned_back_into_logits(
    sigmoid_shim_url: str, path: str
) -> None:
    as_returned = HttpReranker(sigmoid_shim_url + path, format="cohere").rerank("q", TEXTS)
    assert as_returned == pytest.approx([sigmoid(float(t)) for t in TEXTS], abs=1e-12)
    logits = HttpReranker(sigmoid_shim_url + path, format="cohere", score_scale="sigmoid")
    assert logits.rerank("q", TEXTS) == pytest.approx([-1.5, 3.0, 0.25, -7.0], abs=1e-9)


def test_tei_inputs_over_its_batch_limit_are_split_and_put_back_in_order(shim_url: str) -> None:
    texts = [str(i - 40) for i in range(70)]  # 32 + 32 + 6
    scores = HttpReranker(shim_url, format="tei", api_key=KEY).rerank("q", texts)
    assert scores == [float(t) for t in texts]


@pytest.mark.parametrize("format", ["es", "tei", "cohere"])
def test_a_wrong_key_is_the_servers_401_with_its_message(shim_url: str, format: str) -> None:
    with pytest.raises(RerankError, match=r"HTTP 401 after 1 attempt\(s\): missing or wrong"):
        HttpReranker(shim_url, format=format, api_key="wrong").rerank("q", ["1"])


def test_the_servers_refusal_of_a_text_is_reported_not_retried(shim_url: str) -> None:
    with pytest.raises(RerankError, match=r"HTTP 4\d\d after 1 attempt\(s\)"):
        HttpReranker(shim_url, format="tei", api_key=KEY).rerank("q", ["x" * 30_000])


# -- Cohere's API ----------------------------------------------------------------------------

# The body fields Cohere's rerank reference lists; anything else is refused with 422.
COHERE_V1_FIELDS = {
    "model",
    "query",
    "documents",
    "top_n",
    "rank_fields",
    "return_documents",
    "max_chunks_per_doc",
}
COHERE_V2_FIELDS = {"model", "query", "documents", "top_n", "max_tokens_per_doc", "priority"}


class CohereApi:
    """Answers ``/v1/rerank`` and ``/v2/rerank`` as Cohere's API does: the documented request
    fields only (an unknown one is a 422 with Cohere's message), ``model`` required on v2,
    v2 documents as strings, results best first with scores in [0, 1], ``id`` and ``meta``."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)

    @staticmethod
    def _error(status: int, message: str) -> Reply:
        return Reply(status, {"id": str(uuid.uuid4()), "message": message})

    def __call__(self, rec: Recorded) -> Reply:
        version = {"/v1/rerank": "1", "/v2/rerank": "2"}.get(rec.path)
        if version is None or rec.method != "POST":
            return self._error(404, f"{rec.path} not found")
        if rec.headers.get("authorization") != "Bearer co-key":
            return self._error(401, "invalid api token")
        if self.replies:
            return self.replies.pop(0)
        body = rec.body
        allowed = COHERE_V2_FIELDS if version == "2" else COHERE_V1_FIELDS
        unknown = sorted(set(body) - allowed)
        if unknown:
            return self._error(
                422,
                f"unknown field: parameter '{unknown[0]}' is not a valid field. For proper "
                "usage, please refer to https://docs.cohere.com/reference/rerank",
            )
        if version == "2" and "model" not in body:
            return self._error(400, "invalid request: model must be specified")
        docs = body["documents"]
        if version == "2" and not all(isinstance(d, str) for d in docs):
            return self._error(422, "invalid request: documents must be strings")
        texts = [d if isinstance(d, str) else d["text"] for d in docs]
        results = [{"index": i, "relevance_score": sigmoid(raw(t))} for i, t in enumerate(texts)]
        results.sort(key=lambda r: -r["relevance_score"])
        return Reply(
            200,
            {
                "id": str(uuid.uuid4()),
                "results": results[: body.get("top_n") or len(results)],
                "meta": {
                    "api_version": {"version": version, "is_experimental": False},
                    "billed_units": {"search_units": 1},
                },
            },
        )


DOCS = ["short", "a somewhat longer document", "a document of middling size", "tiny"]


@pytest.mark.parametrize("version", ["1", "2"])
def test_cohere_api_gets_exactly_its_fields_and_its_answer_is_read(version: str) -> None:
    with serve(CohereApi()) as server:
        reranker = HttpReranker(
            f"{server.url}/v{version}/rerank",
            format="cohere",
            model="rerank-v3.5",
            api_key="co-key",
        )
        scores = reranker.rerank("which document is longest", DOCS)
    assert scores == pytest.approx([sigmoid(raw(d)) for d in DOCS], abs=1e-15)
    (rec,) = server.requests
    assert rec.body == {
        "model": "rerank-v3.5",
        "query": "which document is longest",
        "documents": DOCS,
    }
    assert rec.headers["content-type"] == "application/json"


def test_cohere_base_url_gets_the_v2_route() -> None:
    with serve(CohereApi()) as server:
        HttpReranker(server.url, format="cohere", model="m", api_key="co-key").rerank("q", ["a"])
    assert server.requests[0].path == "/v2/rerank"


def test_cohere_scores_as_probabilities_turn_back_into_logits() -> None:
    with serve(CohereApi()) as server:
        reranker = HttpReranker(
            server.url, format="cohere", model="m", api_key="co-key", score_scale="sigmoid"
        )
        assert reranker.rerank("q", DOCS) == pytest.approx([raw(d) for d in DOCS], abs=1e-9)


def test_cohere_refusals_come_back_with_coheres_message() -> None:
    with serve(CohereApi()) as server:
        no_model = HttpReranker(server.url, format="cohere", api_key="co-key")
        with pytest.raises(
            RerankError, match=r"HTTP 400 after 1 attempt\(s\): invalid request: model"
        ):
            no_model.rerank("q", ["a"])
        with pytest.raises(RerankError, match=r"HTTP 401 .*invalid api token"):
            HttpReranker(server.url, format="cohere", model="m").rerank("q", ["a"])


def test_cohere_rate_limit_is_retried_after_its_wait(sleeps: list[float]) -> None:
    limited = Reply(
        429,
        {
            "id": "x",
            "message": "You are using a Trial key, which is limited to 10 API calls / minute.",
        },
        {"Retry-After": "3"},
    )
    with serve(CohereApi(limited, limited)) as server:
        reranker = HttpReranker(server.url, format="cohere", model="m", api_key="co-key")
        assert reranker.rerank("q", ["abc"]) == pytest.approx([sigmoid(raw("abc"))])
        assert sleeps == [3.0, 3.0]
        with serve(CohereApi(*[limited] * 4)) as again, pytest.raises(RerankError) as info:
            HttpReranker(again.url, format="cohere", model="m", api_key="co-key", retries=2).rerank(
                "q", ["abc"]
            )
    assert "HTTP 429 after 3 attempt(s): You are using a Trial key" in str(info.value)


# -- Infinity's /rerank ----------------------------------------------------------------------


def infinity(rec: Recorded) -> Reply:
    """Infinity's ``POST /rerank``: Cohere-like, sigmoid scores unless ``raw_scores``,
    ``{"object": "rerank", "results", "model", "usage", "id", "created"}``; errors in
    OpenAI's ``{"error": {"message", "type", "param", "code"}}``."""
    if rec.path != "/rerank":
        return Reply(
            404, {"error": {"message": "Not Found", "type": None, "param": None, "code": 404}}
        )
    body = rec.body
    if not body.get("documents"):
        message = "ModelNotDeployedError: no documents"
        return Reply(400, {"error": {"message": message, "type": None, "param": None, "code": 400}})
    scores = [raw(d) if body.get("raw_scores") else sigmoid(raw(d)) for d in body["documents"]]
    results = sorted(
        ({"relevance_score": s, "index": i} for i, s in enumerate(scores)),
        key=lambda r: -r["relevance_score"],
    )
    return Reply(
        200,
        {
            "object": "rerank",
            "results": results,
            "model": body.get("model", "default/not-specified"),
            "usage": {"prompt_tokens": 42, "total_tokens": 42},
            "id": f"infinity-{uuid.uuid4()}",
            "created": 1760000000,
        },
    )


def test_infinity_rerank_route_in_the_cohere_format() -> None:
    with serve(infinity) as server:
        url = server.url + "/rerank"
        as_returned = HttpReranker(url, format="cohere").rerank("q", DOCS)
        logits = HttpReranker(url, format="cohere", score_scale="sigmoid").rerank("q", DOCS)
    assert as_returned == pytest.approx([sigmoid(raw(d)) for d in DOCS], abs=1e-15)
    assert logits == pytest.approx([raw(d) for d in DOCS], abs=1e-9)
    assert server.requests[0].body == {"query": "q", "documents": DOCS}


def test_an_openai_shaped_error_shows_its_message() -> None:
    def no_documents(rec: Recorded) -> Reply:
        return infinity(Recorded(rec.method, rec.path, rec.headers, {}, rec.at))

    with (
        serve(no_documents) as server,
        pytest.raises(RerankError, match=r"HTTP 400 .*ModelNotDeployedError: no documents"),
    ):
        HttpReranker(server.url + "/rerank", format="cohere").rerank("q", ["a"])


# -- Text Embeddings Inference -----------------------------------------------------------------

TEI_FIELDS = {"query", "texts", "truncate", "truncation_direction", "raw_scores", "return_text"}


def tei(rec: Recorded) -> Reply:
    """TEI's ``POST /rerank``: at most 32 texts (its --max-client-batch-size default),
    sigmoid unless ``raw_scores``, a top-level array best first."""
    body = rec.body
    assert set(body) <= TEI_FIELDS, body
    if len(body["texts"]) > 32:
        return Reply(
            422,
            {
                "error": f"batch size {len(body['texts'])} > maximum allowed batch size 32",
                "error_type": "Validation",
            },
        )
    scores = [raw(t) if body.get("raw_scores") else sigmoid(raw(t)) for t in body["texts"]]
    ranks = [{"index": i, "score": s} for i, s in enumerate(scores)]
    return Reply(200, sorted(ranks, key=lambda r: -r["score"]))


def test_tei_gets_raw_scores_truncation_and_batches_within_its_limit() -> None:
    texts = [("x" * (i % 13)) for i in range(70)]
    with serve(tei) as server:
        assert HttpReranker(server.url, format="tei").rerank("q", texts) == [raw(t) for t in texts]
    assert [len(r.body["texts"]) for r in server.requests] == [32, 32, 6]
    assert server.requests[0].body == {
        "query": "q",
        "texts": texts[:32],
        "raw_scores": True,
        "truncate": True,
    }


def test_a_larger_max_batch_reaches_teis_own_refusal() -> None:
    with serve(tei) as server, pytest.raises(RerankError) as info:
        HttpReranker(server.url, format="tei", max_batch=40).rerank("q", ["a"] * 40)
    assert "HTTP 422 after 1 attempt(s): batch size 40 > maximum allowed batch size 32" in str(
        info.value
    )


# -- answers that are not what the format declares ---------------------------------------------


@pytest.mark.parametrize(
    ("format", "body", "message"),
    [
        ("tei", {"rerank": []}, "not a JSON array"),
        ("tei", [{"index": 0, "score": "high"}], "`[0].score`: input should be a valid number"),
        ("es", [{"index": 0}], "not a JSON object with a `rerank` list"),
        ("es", {"rerank": [{"index": -1, "relevance_score": 1}]}, "`rerank[0].index`"),
        ("cohere", {"results": [{"index": 0}]}, "missing field `results[0].relevance_score`"),
        ("cohere", {"data": []}, "not a JSON object with a `results` list"),
    ],
)
def test_an_answer_that_does_not_parse_names_the_field(
    format: str, body: Any, message: str
) -> None:
    with serve(lambda rec: Reply(200, body)) as server, pytest.raises(RerankError) as info:
        HttpReranker(server.url, format=format).rerank("q", ["a"])
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([{"index": 0, "score": 1.0}], r"count mismatch: \[2\] vs \[1\]"),
        ([{"index": 0, "score": 1.0}, {"index": 0, "score": 2.0}], "out of range or repeated"),
        ([{"index": 0, "score": 1.0}, {"index": 5, "score": 2.0}], "out of range or repeated"),
    ],
)
def test_a_wrong_set_of_scores_is_an_error_never_partial(body: Any, message: str) -> None:
    with serve(lambda rec: Reply(200, body)) as server, pytest.raises(RerankError, match=message):
        HttpReranker(server.url, format="tei").rerank("q", ["a", "b"])


def test_sigmoid_scale_refuses_scores_that_are_not_probabilities() -> None:
    with serve(lambda rec: Reply(200, [{"index": 0, "score": 2.5}])) as server:
        reranker = HttpReranker(server.url, format="tei", score_scale="sigmoid")
        with pytest.raises(RerankError, match=r"outside \[0, 1\].*use score_scale='raw'"):
            reranker.rerank("q", ["a"])


def test_a_probability_of_exactly_one_gives_a_finite_logit() -> None:
    body = [{"index": 0, "score": 1.0}, {"index": 1, "score": 0.0}]
    with serve(lambda rec: Reply(200, body)) as server:
        high, low = HttpReranker(server.url, format="tei", score_scale="sigmoid").rerank(
            "q", ["a", "b"]
        )
    assert 36 < high < 37 and -746 < low < -744


def test_a_bad_request_is_refused_before_it_is_sent() -> None:
    with serve(tei) as server:
        reranker = HttpReranker(server.url, format="tei")
        with pytest.raises(RerankError, match=r"`texts\[1\]`: contains a lone UTF-16 surrogate"):
            reranker.rerank("q", ["fine", "bad \ud800"])
        with pytest.raises(RerankError, match="`query`: cannot be empty"):
            reranker.rerank("  ", ["a"])
    assert server.requests == []


# -- the retry policy --------------------------------------------------------------------------


class Script:
    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def __call__(self, rec: Recorded) -> Reply:
        if self.replies:
            return self.replies.pop(0)
        return tei(rec)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_overload_and_gateway_statuses_are_retried(status: int, sleeps: list[float]) -> None:
    with serve(Script(Reply(status, {"error": "busy"}))) as server:
        assert HttpReranker(server.url, format="tei", backoff=0.25).rerank("q", ["ab"]) == [
            raw("ab")
        ]
    assert len(server.requests) == 2 and sleeps == [0.25]


@pytest.mark.parametrize("status", [400, 401, 404, 413, 422, 424, 500])
def test_other_statuses_are_not_retried(status: int, sleeps: list[float]) -> None:
    with serve(Script(Reply(status, {"error": "no"}))) as server, pytest.raises(RerankError):
        HttpReranker(server.url, format="tei").rerank("q", ["ab"])
    assert len(server.requests) == 1 and sleeps == []


def test_retry_on_status_is_configurable(sleeps: list[float]) -> None:
    with serve(Script(Reply(500, {"error": "flaky"}))) as server:
        reranker = HttpReranker(server.url, format="tei", retry_on_status=[500])
        assert reranker.rerank("q", ["ab"]) == [raw("ab")]
    assert len(server.requests) == 2


def test_a_connection_the_server_dropped_is_retried(sleeps: list[float]) -> None:
    # The server died (or restarted) before answering: it computes nothing for this client.
    with serve(Script(Reply(drop=True), Reply(drop=True))) as server:
        assert HttpReranker(server.url, format="tei").rerank("q", ["abc"]) == [raw("abc")]
    assert len(server.requests) == 3 and sleeps == [0.5, 1.0]


def test_a_read_timeout_is_not_retried_unless_asked(sleeps: list[float]) -> None:
    slow = Reply(200, [{"index": 0, "score": 1.0}], delay_s=1.0)
    with serve(Script(slow, slow)) as server:
        with pytest.raises(RerankError) as info:
            HttpReranker(server.url, format="tei", timeout=0.2).rerank("q", ["a"])
        assert len(server.requests) == 1
        assert "failed after 1 attempt(s): ReadTimeout" in str(info.value)
        assert "may still be computing" in str(info.value)
        retried = HttpReranker(server.url, format="tei", timeout=0.3, retry_on_timeout=True)
        assert retried.rerank("q", ["ab"]) == [raw("ab")]
    assert len(server.requests) == 3


# -- parameters and URLs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("format", "url", "expected"),
    [
        ("es", "http://h:8080", "http://h:8080/inference/rerank"),
        ("es", "http://h:8080/", "http://h:8080/inference/rerank"),
        ("es", "http://gw/shim/inference/rerank/", "http://gw/shim/inference/rerank"),
        ("tei", "https://tei.example", "https://tei.example/rerank"),
        ("tei", "http://gw/tei/rerank", "http://gw/tei/rerank"),
        ("cohere", "https://api.cohere.com", "https://api.cohere.com/v2/rerank"),
        ("cohere", "https://api.cohere.com/v1/rerank", "https://api.cohere.com/v1/rerank"),
        ("cohere", "http://infinity:7997/rerank", "http://infinity:7997/rerank"),
    ],
)
def test_routes(format: str, url: str, expected: str) -> None:
    assert rerank_endpoint(format, url) == expected


@pytest.mark.parametrize(
    ("format", "url", "message"),
    [
        ("tei", "http://h/v2/rerank", "ends in /v2/rerank, a route of the cohere format, not tei"),
        ("cohere", "http://h/inference/rerank", "a route of the es format, not cohere"),
        ("es", "http://h/rerank", "a route of the tei or cohere format, not es"),
        ("tei", "http://h/api/score", "has the path '/api/score', which is no Text Embeddings"),
        ("tei", "h:8080", "needs an http:// or https:// scheme"),
        ("jina", "http://h", "format must be one of es, tei, cohere, got 'jina'"),
    ],
)
def test_urls_are_refused_not_extended(format: str, url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        HttpReranker(url, format=format)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": 0}, "timeout must be > 0"),
        ({"retries": -1}, "retries must be an integer >= 0"),
        ({"backoff": -1.0}, "backoff must be >= 0"),
        ({"retry_on_timeout": "yes"}, "retry_on_timeout must be True or False"),
        ({"retry_on_status": [429, 99]}, "retry_on_status must hold HTTP status codes"),
        ({"max_batch": 0}, "max_batch must be a positive integer"),
        ({"score_scale": "logit"}, "score_scale must be one of raw, sigmoid"),
        ({"model": ""}, "model must be a non-empty string"),
    ],
)
def test_parameters_are_checked(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        HttpReranker("http://x", **kwargs)
