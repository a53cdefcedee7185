"""ElasticsearchBackend and ElasticInferenceReranker through elasticsearch-py 9 against a
real loopback server returning canned ES JSON; the exact requests are asserted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from es_rerank import (
    ElasticInferenceReranker,
    ElasticsearchBackend,
    ElasticsearchError,
    ElasticsearchRequestError,
    InferenceEndpointNotFoundError,
    LicenseError,
    RetrieverRequest,
    StandardRetriever,
    TextSimilarityReranker,
    search,
)
from tests.helpers.recording_server import Recorded, RecordingServer, Reply, serve

PRODUCT = {"X-Elastic-Product": "Elasticsearch"}


def es_error(status: int, error_type: str, reason: str, **extra: Any) -> Reply:
    error = {
        "root_cause": [{"type": error_type, "reason": reason}],
        "type": error_type,
        "reason": reason,
        **extra,
    }
    return Reply(status, {"error": error, "status": status})


def hits(*items: tuple[str, float, dict[str, Any]]) -> dict[str, Any]:
    return {
        "took": 7,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": len(items), "relation": "eq"},
            "max_score": max((s for _, s, _ in items), default=None),
            "hits": [
                {"_index": "docs", "_id": i, "_score": s, "_source": src} for i, s, src in items
            ],
        },
    }


class Cluster:
    """Routes by (method, path); anything else is a 400 so a wrong request fails loudly."""

    def __init__(self, license_type: str = "trial") -> None:
        self.license_type = license_type
        self.search_reply: Reply = Reply(200, hits())
        self.inference: dict[str, Any] = {}

    def __call__(self, rec: Recorded) -> Reply:
        path = rec.path.split("?")[0]
        if rec.method == "GET" and path == "/_license":
            return Reply(200, {"license": {"status": "active", "type": self.license_type}})
        if rec.method == "POST" and path == "/docs/_search":
            return self.search_reply
        if rec.method == "GET" and path.startswith("/_inference/rerank/"):
            inference_id = path.rsplit("/", 1)[1]
            if inference_id not in self.inference:
                return es_error(
                    404,
                    "resource_not_found_exception",
                    f"Inference endpoint not found [{inference_id}]",
                )
            return Reply(
                200,
                {
                    "endpoints": [
                        {
                            "inference_id": inference_id,
                            "task_type": "rerank",
                            "service": "elasticsearch",
                        }
                    ]
                },
            )
        if rec.method == "POST" and path.startswith("/_inference/rerank/"):
            inference_id = path.rsplit("/", 1)[1]
            if inference_id not in self.inference:
                return es_error(
                    404,
                    "resource_not_found_exception",
                    f"Inference endpoint not found [{inference_id}]",
                )
            scores = self.inference[inference_id](rec.body["query"], rec.body["input"])
            items = sorted(
                ({"index": i, "relevance_score": s} for i, s in enumerate(scores)),
                key=lambda x: -x["relevance_score"],
            )
            return Reply(200, {"rerank": items})
        return es_error(400, "illegal_argument_exception", f"no route {rec.method} {path}")


@pytest.fixture
def cluster() -> Iterator[tuple[Cluster, RecordingServer, Elasticsearch]]:
    state = Cluster()
    with serve(state, default_headers=PRODUCT) as server:
        client = Elasticsearch(server.url, request_timeout=5, max_retries=0)
        yield state, server, client
        client.close()


def spec(**kw: Any) -> TextSimilarityReranker:
    params: dict[str, Any] = {
        "retriever": StandardRetriever(query={"match": {"text": "moon"}}),
        "field": "text",
        "inference_text": "how often is there an eclipse",
        "inference_id": "my-rerank",
        "rank_window_size": 3,
    }
    params.update(kw)
    return TextSimilarityReranker(**params)


def test_inference_reranker_sends_the_rerank_api_call_and_maps_indexes(cluster: Any) -> None:
    state, server, client = cluster
    state.inference["my-rerank"] = lambda q, texts: [float(len(t)) for t in texts]
    scores = ElasticInferenceReranker(client, "my-rerank").rerank("q", ["abc", "a", "ab"])
    assert scores == [3.0, 1.0, 2.0]
    (rec,) = server.requests
    assert (rec.method, rec.path.split("?")[0]) == ("POST", "/_inference/rerank/my-rerank")
    assert rec.body == {"query": "q", "input": ["abc", "a", "ab"]}


def test_inference_reranker_unknown_endpoint_keeps_es_reason(cluster: Any) -> None:
    _, _, client = cluster
    with pytest.raises(InferenceEndpointNotFoundError) as info:
        ElasticInferenceReranker(client, "nope").rerank("q", ["a"])
    assert info.value.reason == "Inference endpoint not found [nope]"
    assert str(info.value).startswith("Inference endpoint not found [nope]; ")
    assert info.value.status == 404


def test_search_query_sends_query_and_size(cluster: Any) -> None:
    state, server, client = cluster
    state.search_reply = Reply(200, hits(("a", 2.0, {"text": "x"}), ("b", 1.0, {"text": "y"})))
    backend = ElasticsearchBackend(client, "docs")
    out = backend.search_query({"match": {"text": "moon"}}, size=2)
    assert [(h.id, h.score, dict(h.source)) for h in out] == [
        ("a", 2.0, {"text": "x"}),
        ("b", 1.0, {"text": "y"}),
    ]
    assert server.requests[-1].body == {"query": {"match": {"text": "moon"}}, "size": 2}
    backend.search_query(None, size=5)
    assert server.requests[-1].body == {"query": {"match_all": {}}, "size": 5}


def test_native_search_sends_the_retriever_and_reads_the_response(cluster: Any) -> None:
    state, server, client = cluster
    state.search_reply = Reply(200, hits(("b", 3.5, {"text": "y"}), ("a", 0.2, {"text": "x"})))
    backend = ElasticsearchBackend(client, "docs")
    result = search(spec(), backend=backend, size=2, from_=1, source=["text"])
    assert result.mode == "native"
    assert [server.requests[0].method, server.requests[0].path] == ["GET", "/_license"]
    sent = server.requests[1]
    assert sent.path.split("?")[0] == "/docs/_search"
    assert sent.body == {
        "retriever": spec().to_dict(),
        "size": 2,
        "from": 1,
        "_source": ["text"],
    }
    assert [(h.id, h.score, h.rank, h.index) for h in result.hits] == [
        ("b", 3.5, 2, "docs"),
        ("a", 0.2, 3, "docs"),
    ]
    assert result.took_ms == 7 and result.total == 2
    assert result.to_dict()["hits"]["hits"][0] == {
        "_index": "docs",
        "_id": "b",
        "_score": 3.5,
        "_source": {"text": "y"},
    }
    # the license answer is cached: a second search asks only _search
    search(spec(), backend=backend, size=2)
    assert [r.path.split("?")[0] for r in server.requests] == [
        "/_license",
        "/docs/_search",
        "/docs/_search",
    ]


def test_the_old_call_form_sends_what_a_request_sends(cluster: Any) -> None:
    state, server, client = cluster
    state.search_reply = Reply(200, hits(("b", 3.5, {"text": "y"})))
    backend = ElasticsearchBackend(client, "docs")
    backend.search_retriever(RetrieverRequest(spec().to_dict(), size=2, from_=1, explain=True))
    with pytest.warns(DeprecationWarning, match="RetrieverRequest"):
        old = backend.search_retriever(spec().to_dict(), size=2, from_=1, explain=True)
    assert [h.id for h in old.hits] == ["b"]
    new_body, old_body = (r.body for r in server.requests)
    assert (
        old_body
        == new_body
        == {
            "retriever": spec().to_dict(),
            "size": 2,
            "from": 1,
            "_source": True,
            "explain": True,
        }
    )


def test_normalized_min_score_is_sent_raw(cluster: Any) -> None:
    _, server, client = cluster
    search(
        spec(min_score=1.5),
        backend=ElasticsearchBackend(client, "docs"),
        mode="native",
        min_score_space="normalized",
        size=3,
    )
    assert server.requests[-1].body["retriever"]["text_similarity_reranker"]["min_score"] == 0.5


def test_auto_without_enterprise_license_runs_externally_with_the_clusters_endpoint(
    cluster: Any,
) -> None:
    state, server, client = cluster
    state.license_type = "basic"
    state.inference["my-rerank"] = lambda q, texts: [float(t) for t in texts]
    state.search_reply = Reply(
        200,
        hits(
            ("a", 2.0, {"text": "-1"}), ("b", 1.5, {"text": "4"}), ("c", 1.0, {"title": "no text"})
        ),
    )
    result = search(spec(), backend=ElasticsearchBackend(client, "docs"), size=3)
    assert result.mode == "external"
    assert [h.id for h in result.hits] == ["b", "a"]
    assert result.hits[0].score == pytest.approx(5.0)
    lookup, first_stage, rerank_call = server.requests[1:]
    assert (lookup.method, lookup.path.split("?")[0]) == ("GET", "/_inference/rerank/my-rerank")
    assert first_stage.body == {"query": {"match": {"text": "moon"}}, "size": 3}
    assert rerank_call.path.split("?")[0] == "/_inference/rerank/my-rerank"
    assert rerank_call.body == {"query": "how often is there an eclipse", "input": ["-1", "4"]}


def test_auto_with_a_reranker_given_runs_externally_even_on_a_trial_cluster(cluster: Any) -> None:
    state, server, client = cluster
    state.search_reply = Reply(200, hits(("a", 2.0, {"text": "1"}), ("b", 1.0, {"text": "2"})))
    result = search(
        spec(),
        backend=ElasticsearchBackend(client, "docs"),
        reranker=lambda q, ts: [float(t) for t in ts],
        size=2,
    )
    assert result.mode == "external" and [h.id for h in result.hits] == ["b", "a"]
    assert all(r.path.split("?")[0] == "/docs/_search" for r in server.requests)


def test_external_unknown_endpoint_fails_before_the_first_stage(cluster: Any) -> None:
    state, server, client = cluster
    state.license_type = "basic"
    with pytest.raises(InferenceEndpointNotFoundError, match=r"not found \[ghost\]"):
        search(spec(inference_id="ghost"), backend=ElasticsearchBackend(client, "docs"), size=3)
    assert [r.path.split("?")[0] for r in server.requests] == [
        "/_license",
        "/_inference/rerank/ghost",
    ]


def test_license_non_compliant_is_a_license_error(cluster: Any) -> None:
    state, _, client = cluster
    state.search_reply = es_error(
        403,
        "security_exception",
        "current license is non-compliant for [text_similarity_reranker]",
        license_expired_feature="text_similarity_reranker",
    )
    with pytest.raises(
        LicenseError, match=r"non-compliant for \[text_similarity_reranker\]"
    ) as info:
        search(spec(), backend=ElasticsearchBackend(client, "docs"), mode="native", size=3)
    assert info.value.status == 403 and isinstance(info.value, ElasticsearchError)


def test_shard_failure_reason_is_surfaced(cluster: Any) -> None:
    state, _, client = cluster
    state.search_reply = Reply(
        404,
        {
            "error": {
                "root_cause": [
                    {
                        "type": "resource_not_found_exception",
                        "reason": "Inference endpoint not found [ghost]",
                    }
                ],
                "type": "search_phase_execution_exception",
                "reason": "all shards failed",
                "failed_shards": [
                    {
                        "shard": 0,
                        "reason": {
                            "type": "resource_not_found_exception",
                            "reason": "Inference endpoint not found [ghost]",
                        },
                    }
                ],
            },
            "status": 404,
        },
    )
    with pytest.raises(
        InferenceEndpointNotFoundError, match=r"Inference endpoint not found \[ghost\]"
    ):
        search(
            spec(inference_id="ghost"),
            backend=ElasticsearchBackend(client, "docs"),
            mode="native",
            size=3,
        )


def test_validation_error_is_a_value_error(cluster: Any) -> None:
    state, _, client = cluster
    state.search_reply = es_error(
        400,
        "action_request_validation_exception",
        "Validation Failed: 1: [rank_window_size] is weird;",
    )
    with pytest.raises(ElasticsearchRequestError, match="is weird") as info:
        search(spec(), backend=ElasticsearchBackend(client, "docs"), mode="native", size=3)
    assert isinstance(info.value, ValueError)


def test_client_side_rules_fail_before_any_request(cluster: Any) -> None:
    _, server, client = cluster
    with pytest.raises(
        ValueError, match=r"\[rank_window_size: 3\] be greater than or equal to \[size: 10\]"
    ):
        search(spec(), backend=ElasticsearchBackend(client, "docs"), mode="native", size=10)
    assert server.requests == []


def test_search_request_sends_the_standard_options_and_reads_sort_values(cluster: Any) -> None:
    state, server, client = cluster
    reply = hits(("b", 0.0, {"year": 2020}), ("a", 0.0, {"year": 2019}))
    reply["hits"]["hits"][0]["sort"] = [2020, "b"]
    state.search_reply = Reply(200, reply)
    backend = ElasticsearchBackend(client, "docs")
    options = {
        "sort": [{"year": "desc"}],
        "search_after": [2021],
        "terminate_after": 5,
        "min_score": 0.5,
        "collapse": {"field": "year"},
    }
    out = backend.search_request({"match_all": {}}, size=2, options=options)
    assert server.requests[-1].body == {"query": {"match_all": {}}, "size": 2, **options}
    assert [h.sort for h in out] == [(2020, "b"), None]
    with pytest.raises(ValueError, match=r"does not take the option \[aggs\]"):
        backend.search_request(None, size=1, options={"aggs": {}})


def test_external_mode_runs_a_reranker_free_subtree_as_one_native_retriever(
    cluster: Any,
) -> None:
    from es_rerank import RRFRetriever

    state, server, client = cluster
    state.search_reply = Reply(200, hits(("a", 0.5, {"text": "aa"}), ("b", 0.4, {"text": "b"})))
    state.inference["my-rerank"] = lambda q, texts: [float(len(t)) for t in texts]
    rrf = RRFRetriever(
        retrievers=[StandardRetriever(query={"match": {"text": "x"}}), StandardRetriever()],
        rank_window_size=3,
    )
    result = search(spec(retriever=rrf), backend=ElasticsearchBackend(client, "docs"),
                    mode="external", size=2)  # fmt: skip
    searches = [r for r in server.requests if r.path.split("?")[0] == "/docs/_search"]
    (sent,) = searches
    assert sent.body["retriever"] == rrf.to_dict()
    assert sent.body["size"] == 3
    assert [h.id for h in result.hits] == ["a", "b"]  # reranked by text length: 2, 1


def test_native_search_sends_a_top_level_collapse(cluster: Any) -> None:
    _, server, client = cluster
    collapse = {"field": "year", "inner_hits": {"name": "by_year"}}
    search(spec(), backend=ElasticsearchBackend(client, "docs"), mode="native", size=3,
           collapse=collapse)  # fmt: skip
    assert server.requests[-1].body["collapse"] == collapse
