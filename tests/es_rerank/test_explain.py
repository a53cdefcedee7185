"""``search(..., explain=True)`` and ``es-rerank search --explain``: every window hit's path
through the rules, externally (in-memory backend, local index, the CLI over a loopback
cluster and shim) and natively (ES's ``_explanation`` from a loopback cluster)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from es_rerank import (
    ElasticsearchBackend,
    LocalIndex,
    StandardRetriever,
    TextSimilarityReranker,
    normalize,
    search,
)
from es_rerank.cli import main
from es_rerank.explain import (
    BELOW_MIN_SCORE,
    FIELD_MISSING,
    KEPT,
    RERANK_FAILED,
    explanation_table,
)
from tests.conformance.cases import CHUNK_DOCS, SENTENCES_OF_20
from tests.conformance.scorers import largest_number
from tests.helpers.memory_backend import MemoryBackend
from tests.helpers.recording_server import Recorded, Reply, serve

# child order d1..d5 (match_all); raw scores are the texts; d2 has no text
DOCS = [
    {"_id": "d1", "text": "1"},
    {"_id": "d2", "title": "no text field"},
    {"_id": "d3", "text": "-2"},
    {"_id": "d4", "text": "3"},
    {"_id": "d5", "text": "0.5"},
]


def as_number(query: str, texts: Sequence[str]) -> list[float]:
    return [float(t) for t in texts]


def spec(**kw: Any) -> TextSimilarityReranker:
    params: dict[str, Any] = {
        "retriever": StandardRetriever(query={"match_all": {}}),
        "field": "text",
        "inference_text": "q",
        "inference_id": "ce",
    }
    params.update(kw)
    return TextSimilarityReranker(**params)


def test_every_window_hit_kept_or_dropped_with_its_reason() -> None:
    result = search(
        spec(min_score=0.0), backend=MemoryBackend(DOCS), reranker=as_number, size=2, explain=True
    )
    assert [h.id for h in result.hits] == ["d4", "d1"]
    (top,) = result.explanation or []
    assert top.path == "text_similarity_reranker" and top.complete and top.min_score == 0.0
    by_id = {h.id: h for h in top.hits}
    assert [h.id for h in top.hits] == ["d1", "d2", "d3", "d4", "d5"]  # child order

    d4 = by_id["d4"]
    assert (d4.child_rank, d4.child_score, d4.text) == (4, 1.0, "3")
    assert (d4.raw_score, d4.normalized_score) == (3.0, 4.0)
    assert (d4.verdict, d4.final_rank, d4.returned) == (KEPT, 1, True)

    d5 = by_id["d5"]  # kept, ranked 3rd, but not on the page of 2
    assert (d5.verdict, d5.final_rank, d5.returned) == (KEPT, 3, False)
    assert d5.normalized_score == pytest.approx(1.5)

    d2 = by_id["d2"]
    assert (d2.verdict, d2.text, d2.raw_score, d2.final_rank, d2.returned) == (
        FIELD_MISSING,
        None,
        None,
        None,
        False,
    )

    d3 = by_id["d3"]  # raw -2 < 0: dropped, though it would show as 0.135
    assert (d3.verdict, d3.raw_score, d3.final_rank, d3.returned) == (
        BELOW_MIN_SCORE,
        -2.0,
        None,
        False,
    )
    assert d3.normalized_score == pytest.approx(math.exp(-2))

    # each returned hit carries its own explanation
    assert [h.explanation for h in result.hits] == [d4, by_id["d1"]]
    json.dumps(result.to_dict())  # the explain block is plain JSON
    assert result.to_dict()["explain"][0]["hits"][1]["verdict"] == FIELD_MISSING


def test_explain_does_not_change_the_result() -> None:
    backend = MemoryBackend(DOCS)
    plain = search(spec(min_score=0.0), backend=backend, reranker=as_number)
    explained = search(spec(min_score=0.0), backend=backend, reranker=as_number, explain=True)
    assert [(h.id, h.score) for h in plain.hits] == [(h.id, h.score) for h in explained.hits]
    assert plain.explanation is None and all(h.explanation is None for h in plain.hits)
    assert "explain" not in plain.to_dict()


def test_page_marks_the_returned_hits() -> None:
    result = search(
        spec(), backend=MemoryBackend(DOCS), reranker=as_number, size=2, from_=1, explain=True
    )
    (top,) = result.explanation or []
    returned = [(h.id, h.final_rank) for h in top.ranked() if h.returned]
    assert returned == [("d1", 2), ("d5", 3)] == [(h.id, h.rank) for h in result.hits]


def test_chunked_hits_show_the_chunks_sent_and_the_best_one() -> None:
    rescorer = {"size": 2, "chunking_settings": SENTENCES_OF_20}
    result = search(
        spec(chunk_rescorer=rescorer, inference_text="moon eclipse"),
        backend=MemoryBackend(CHUNK_DOCS),
        reranker=largest_number,
        explain=True,
    )
    (top,) = result.explanation or []
    c1, c2, c3 = (top.hit(i) for i in ("c1", "c2", "c3"))
    assert c1 is not None and c2 is not None and c3 is not None
    # c1: only its eclipse sentence shares a term, so it alone is sent (the 9 never is)
    assert [(c.index, c.raw_score) for c in c1.chunks] == [(1, 2.0)]
    assert c1.chunks[0].text.startswith("A total moon eclipse") and c1.chunks[0].bm25 > 0
    assert c1.raw_score == 2.0
    # c2 matches nothing: its first two chunks, BM25 0
    assert [(c.index, c.bm25, c.raw_score) for c in c2.chunks] == [(0, 0.0, 5.0), (1, 0.0, 1.0)]
    # c3: both sentences, best BM25 first; the second (7) is the best chunk
    assert [c.index for c in c3.chunks] == [0, 1]
    best = c3.best_chunk
    assert best is not None and (best.index, best.raw_score) == (1, 7.0)
    assert c3.raw_score == 7.0 and c3.normalized_score == normalize(7.0)
    assert c3.text is not None and c3.text[best.start : best.end] == best.text
    assert result.to_dict()["explain"][0]["hits"][2]["best_chunk"] == 1
    table = explanation_table(top)
    assert "chunk_rescorer size 2" in table and "best of 2 chunk(s): #1 Watchers" in table


def test_rerank_failure_kept_child_order() -> None:
    def fails(query: str, texts: Sequence[str]) -> list[float]:
        raise RuntimeError("model crashed")

    result = search(
        spec(allow_rerank_failures=True),
        backend=MemoryBackend(DOCS),
        reranker=fails,
        size=3,
        explain=True,
    )
    (top,) = result.explanation or []
    assert top.rerank_error == "RuntimeError: model crashed"
    assert [(h.id, h.verdict, h.final_rank, h.returned) for h in top.hits[:4]] == [
        ("d1", RERANK_FAILED, 1, True),
        ("d2", RERANK_FAILED, 2, True),
        ("d3", RERANK_FAILED, 3, True),
        ("d4", RERANK_FAILED, 4, False),
    ]
    assert "allow_rerank_failures kept the child order" in explanation_table(top)


def test_no_hit_has_the_field() -> None:
    docs = [{"_id": "a", "title": "x"}, {"_id": "b", "title": "y"}]
    result = search(spec(), backend=MemoryBackend(docs), reranker=as_number, explain=True)
    (top,) = result.explanation or []
    assert result.hits == [] and [h.verdict for h in top.hits] == [FIELD_MISSING] * 2


def test_nested_rerankers_outermost_first_with_their_paths() -> None:
    inner = spec(rank_window_size=5, min_score=0.0)
    outer = spec(
        retriever=inner,
        rank_window_size=3,
        inference_id="later",
    )
    rerankers = {"ce": as_number, "later": lambda q, texts: [float(i) for i in range(len(texts))]}
    result = search(outer, backend=MemoryBackend(DOCS), reranker=rerankers, size=3, explain=True)
    explanation = result.explanation or []
    assert [e.path for e in explanation] == [
        "text_similarity_reranker",
        "text_similarity_reranker.retriever.text_similarity_reranker",
    ]
    top, nested = explanation
    # inner keeps d4, d1, d5 (d3 below 0, d2 without text) and passes 3 on to the outer
    assert [(h.id, h.final_rank, h.returned) for h in nested.ranked()[:3]] == [
        ("d4", 1, True),
        ("d1", 2, True),
        ("d5", 3, True),
    ]
    assert [h.id for h in top.hits] == ["d4", "d1", "d5"]
    assert [h.id for h in result.hits] == ["d5", "d1", "d4"]


def test_local_index(tmp_path: Path) -> None:
    index = LocalIndex(tmp_path / "idx", mapping={"properties": {"text": {"type": "text"}}})
    index.add(DOCS, id_field="_id", progress=False)
    result = search(spec(min_score=0.0), backend=index, reranker=as_number, explain=True)
    (top,) = result.explanation or []
    assert {h.id: h.verdict for h in top.hits} == {
        "d1": KEPT,
        "d2": FIELD_MISSING,
        "d3": BELOW_MIN_SCORE,
        "d4": KEPT,
        "d5": KEPT,
    }


def test_table_lists_kept_by_rank_then_dropped_in_child_order() -> None:
    result = search(
        spec(min_score=0.0), backend=MemoryBackend(DOCS), reranker=as_number, size=2, explain=True
    )
    lines = explanation_table((result.explanation or [])[0]).splitlines()
    assert lines[0] == (
        "text_similarity_reranker: endpoint [ce], field [text], window 10, min_score 0 (raw)"
    )
    assert lines[1].split() == [
        "rank", "child", "id", "child", "score", "raw", "normalized", "min_score", "returned",
        "text", "sent",
    ]  # fmt: skip
    rows = [line.split(maxsplit=8) for line in lines[2:]]
    assert [r[2] for r in rows] == ["d4", "d1", "d5", "d2", "d3"]
    assert rows[0][:8] == ["1", "4", "d4", "1.0000", "3.0000", "4.0000", "pass", "yes"]
    assert rows[2][6:8] == ["pass", "no"]
    assert rows[3][:8] == ["-", "2", "d2", "1.0000", "-", "-", "-", "no"]
    assert rows[3][8] == FIELD_MISSING
    assert rows[4][:8] == ["-", "3", "d3", "1.0000", "-2.0000", "0.1353", "fail", "no"]


# ---------------------------------------------------------------- native: ES's _explanation


def _es_explanation(value: float, child: float, doc: str) -> dict[str, Any]:
    """The shape ES 9.x returns (70_text_similarity_rank_retriever.yml, "with explain")."""
    return {
        "value": value,
        "description": "sum of:",
        "details": [
            {
                "value": value,
                "description": "text_similarity_reranker match using inference endpoint: "
                "[ce] on document field: [text] matching on source query ",
                "details": [
                    {
                        "value": child,
                        "description": "sum of:",
                        "details": [{"value": child, "description": f"text:{doc}", "details": []}],
                    }
                ],
            },
            {"value": 0.0, "description": "match on required clause, product of:", "details": []},
        ],
    }


class NativeCluster:
    def __init__(self) -> None:
        self.bodies: list[Any] = []

    def __call__(self, rec: Recorded) -> Reply:
        path = rec.path.split("?")[0]
        if path == "/_license":
            return Reply(200, {"license": {"status": "active", "type": "trial"}})
        self.bodies.append(rec.body)
        hits = [
            {
                "_index": "docs",
                "_id": "d4",
                "_score": 4.0,
                "_source": {"text": "3"},
                "_explanation": _es_explanation(4.0, 1.0, "three"),
            },
            {
                "_index": "docs",
                "_id": "d1",
                "_score": 2.0,
                "_source": {"text": "1"},
                "_explanation": _es_explanation(2.0, 1.5, "one"),
            },
        ]
        body = {"took": 2, "hits": {"total": {"value": 5, "relation": "eq"}, "hits": hits}}
        return Reply(200, body)


@pytest.fixture
def native() -> Iterator[tuple[NativeCluster, Elasticsearch]]:
    state = NativeCluster()
    with serve(state, default_headers={"X-Elastic-Product": "Elasticsearch"}) as server:
        client = Elasticsearch(server.url, request_timeout=5, max_retries=0)
        yield state, client
        client.close()


def test_native_explain_maps_what_elasticsearch_reports(native: Any) -> None:
    state, client = native
    result = search(
        spec(min_score=0.5),
        backend=ElasticsearchBackend(client, "docs"),
        mode="native",
        size=2,
        from_=1,
        explain=True,
    )
    assert state.bodies[-1]["explain"] is True
    (top,) = result.explanation or []
    assert not top.complete and top.min_score == 0.5
    d4, d1 = top.hits
    assert (d4.id, d4.final_rank, d4.normalized_score, d4.raw_score) == ("d4", 2, 4.0, 3.0)
    assert (d4.child_score, d4.text, d4.verdict, d4.returned) == (1.0, "3", KEPT, True)
    assert (d1.id, d1.final_rank, d1.raw_score, d1.child_score) == ("d1", 3, 1.0, 1.5)
    assert [h.explanation for h in result.hits] == [d4, d1]
    assert "reports the returned hits only" in explanation_table(top)
    # without explain nothing is asked for
    search(spec(), backend=ElasticsearchBackend(client, "docs"), mode="native", size=2)
    assert "explain" not in state.bodies[-1]


# ---------------------------------------------------------------- the CLI


def shim(rec: Recorded) -> Reply:
    items = [
        {"index": i, "relevance_score": float(t.split()[-1])}
        for i, t in enumerate(rec.body["input"])
    ]
    return Reply(200, {"rerank": items})


def test_cli_explain_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = [
        {"_id": "a", "text": "moon score 1"},
        {"_id": "b", "title": "moon without text"},
        {"_id": "c", "text": "moon score -3"},
        {"_id": "d", "text": "moon score 2"},
    ]
    index = LocalIndex(tmp_path / "idx", mapping="passages")
    index.add(docs, progress=False)
    with serve(shim) as sh:
        code = main(
            [
                "search",
                "--local",
                str(tmp_path / "idx"),
                "--query",
                "moon",
                "--first-stage",
                '{"match_all": {}}',
                "--shim-url",
                sh.url,
                "--min-score",
                "0",
                "--size",
                "1",
                "--explain",
            ]
        )
    out = capsys.readouterr().out
    assert code == 0
    table = out.split("\n\n", 1)[1].splitlines()
    assert table[0].startswith("text_similarity_reranker: endpoint [.rerank-v1-elasticsearch]")
    rows = [line.split(maxsplit=8) for line in table[2:]]
    assert [(r[0], r[2], r[7]) for r in rows] == [
        ("1", "d", "yes"),
        ("2", "a", "no"),
        ("-", "b", "no"),
        ("-", "c", "no"),
    ]
    assert rows[2][8] == FIELD_MISSING and rows[3][6] == "fail"


def test_cli_explain_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = LocalIndex(tmp_path / "idx", mapping="passages")
    index.add([{"_id": "a", "text": "moon 1"}, {"_id": "b", "text": "moon 2"}], progress=False)
    with serve(shim) as sh:
        argv = ["search", "--local", str(tmp_path / "idx"), "--query", "moon"]
        assert main([*argv, "--shim-url", sh.url, "--json", "--explain"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert [h["id"] for h in body["explain"][0]["hits"]] == ["a", "b"]
    assert [h["final_rank"] for h in body["explain"][0]["hits"]] == [2, 1]


def test_cli_chunk_rescorer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = LocalIndex(tmp_path / "idx", mapping="passages")
    index.add(CHUNK_DOCS, progress=False)
    sent: list[list[str]] = []

    def numbers(rec: Recorded) -> Reply:
        sent.append(rec.body["input"])
        scores = largest_number(rec.body["query"], rec.body["input"])
        return Reply(
            200, {"rerank": [{"index": i, "relevance_score": s} for i, s in enumerate(scores)]}
        )

    with serve(numbers) as sh:
        argv = ["search", "--local", str(tmp_path / "idx"), "--query", "moon eclipse"]
        rescorer = json.dumps({"size": 1, "chunking_settings": SENTENCES_OF_20})
        assert main([*argv, "--first-stage", '{"match_all": {}}', "--shim-url", sh.url,
                     "--chunk-rescorer", rescorer, "--json"]) == 0  # fmt: skip
    body = json.loads(capsys.readouterr().out)
    assert [h["_id"] for h in body["hits"]["hits"]] == ["c2", "c3", "c1"]
    first_sentences = [d["text"].split(". ")[0] for d in CHUNK_DOCS]
    # c1 sends its second (eclipse) sentence, c2 (no match) and c3 their first
    assert [t.strip().rstrip(".") for t in sent[0]] == [
        CHUNK_DOCS[0]["text"].split(". ")[1].rstrip("."),
        first_sentences[1],
        first_sentences[2],
    ]


def test_cli_chunk_rescorer_refuses_bad_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["search", "--local", str(tmp_path), "--query", "q", "--shim-url", "http://x"]
    assert main([*argv, "--chunk-rescorer", '{"size": 0}']) == 2
    assert "size must be greater than 0, was: 0" in capsys.readouterr().err
    assert main([*argv, "--chunk-rescorer", "{bad"]) == 2
    assert "--chunk-rescorer is not valid JSON" in capsys.readouterr().err


def test_explain_must_be_a_bool() -> None:
    with pytest.raises(ValueError, match="explain must be True or False"):
        search(spec(), backend=MemoryBackend(DOCS), reranker=as_number, explain="yes")  # type: ignore[arg-type]
