from __future__ import annotations

import math
from pathlib import Path

import pytest

from es_rerank import evaluate
from es_rerank.datasets import load_beir


def test_graded_ndcg_matches_the_trec_eval_formula() -> None:
    qrels = {"q": {"a": 2, "b": 1, "z": 0}}
    got = evaluate({"q": ["b", "a"]}, qrels, metrics=["ndcg@10"]).aggregate["ndcg@10"]
    dcg = 1 / math.log2(2) + 2 / math.log2(3)  # trec_eval: gain = grade
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert got == pytest.approx(dcg / idcg)
    swapped = evaluate({"q": ["a", "b"]}, qrels, metrics=["ndcg@10"]).aggregate["ndcg@10"]
    assert swapped == pytest.approx(1.0)


def test_mrr_counts_grade_one_and_up_only() -> None:
    qrels = {"q": {"zero": 0, "one": 1}}
    ev = evaluate({"q": ["zero", "x", "one"]}, qrels)
    assert ev.per_query["mrr@10"]["q"] == pytest.approx(1 / 3)
    assert ev.per_query["map"]["q"] == pytest.approx(1 / 3)


def test_ranked_lists_keep_their_order_and_missing_queries_score_zero() -> None:
    qrels = {"q1": {"d1": 1}, "q2": {"d9": 1}}
    # as scores, equal values would be re-ordered by id; as a list, the order is kept
    ev = evaluate({"q1": ["d2", "d1"]}, qrels, metrics=["mrr@10"])
    assert ev.per_query["mrr@10"] == {"q1": 0.5, "q2": 0.0}
    assert ev.aggregate["mrr@10"] == pytest.approx(0.25)
    scored = evaluate({"q1": {"d1": 3.0, "d2": 5.0}}, qrels, metrics=["mrr@10"])
    assert scored.per_query["mrr@10"]["q1"] == 0.5


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="nonsense"):
        evaluate({"q": ["a"]}, {"q": {"a": 1}}, metrics=["nonsense@3"])
    with pytest.raises(ValueError, match="qrels"):
        evaluate({"q": ["a"]}, {})


def test_load_beir_with_and_without_header(tmp_path: Path) -> None:
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text('{"_id": "d1", "text": "x"}\n')
    (tmp_path / "queries.jsonl").write_text(
        '{"_id": "1", "text": "first"}\n{"_id": "2", "text": "unjudged"}\n'
    )
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\td1\t2\n")
    ds = load_beir(tmp_path)
    assert ds.queries == {"1": "first"} and ds.qrels == {"1": {"d1": 2}}
    (tmp_path / "qrels" / "test.tsv").write_text("1\td1\t2\n")
    assert load_beir(tmp_path).qrels == {"1": {"d1": 2}}
    (tmp_path / "qrels" / "test.tsv").write_text("9\td1\t1\n")
    with pytest.raises(ValueError, match="absent from queries"):
        load_beir(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"corpus\.jsonl"):
        load_beir(tmp_path / "nope")
