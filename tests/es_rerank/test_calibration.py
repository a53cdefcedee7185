"""min_score calibration on synthetic judged scores where the right threshold is known."""

from __future__ import annotations

import math
import random

import pytest

from es_rerank import calibrate, normalize


def _synthetic(seed: int = 7) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, int]]]:
    """20 queries of 10 documents: relevant ones score in [1, 4], the others in [-4, 0.5],
    except one non-relevant document per query in [2, 3] (a confident mistake)."""
    rng = random.Random(seed)
    scores: dict[str, dict[str, float]] = {}
    qrels: dict[str, dict[str, int]] = {}
    for q in range(20):
        qid = f"q{q}"
        scores[qid], qrels[qid] = {}, {}
        for d in range(10):
            doc = f"{qid}-d{d}"
            if d < 3:  # relevant, graded 1 or 2
                scores[qid][doc] = rng.uniform(1.0, 4.0)
                qrels[qid][doc] = 1 + d % 2
            elif d == 3:  # judged non-relevant but scored high
                scores[qid][doc] = rng.uniform(2.0, 3.0)
                qrels[qid][doc] = 0
            else:  # unjudged: counts as not relevant
                scores[qid][doc] = rng.uniform(-4.0, 0.5)
        qrels[qid][f"{qid}-unretrieved"] = 2  # relevant but outside the window
    return scores, qrels


def test_the_known_threshold_separates_relevant_from_the_rest() -> None:
    scores, qrels = _synthetic()
    cal = calibrate(scores, qrels)
    assert cal.queries == 20 and cal.scored == 200 and cal.relevant == 80
    relevant_min = min(s for q in scores for d, s in scores[q].items() if qrels[q].get(d, 0) > 0)
    # every relevant document kept, only the 20 confident mistakes with them: 60 / 80 kept
    at = cal.for_precision(0.75)
    assert at is not None
    assert at.threshold == relevant_min
    assert (at.kept, at.relevant_kept) == (80, 60)
    assert at.precision == 0.75 and at.recall == 60 / 80 and at.kept_per_query == 4.0
    assert at.normalized_threshold == normalize(relevant_min)
    # the recall ceiling is the window's: a quarter of the relevant documents were not in it
    assert cal.points[0].recall == 0.75 and cal.points[0].kept == 200
    # precision 1 needs a threshold above every mistake (all below 3.0)
    top = cal.for_precision(1.0)
    mistakes_max = max(s for q in scores for d, s in scores[q].items() if d.endswith("-d3"))
    assert top is not None and top.threshold > mistakes_max
    assert all(p.precision < 1.0 for p in cal.points if p.threshold <= mistakes_max)


def test_points_run_from_the_lowest_threshold_and_only_shrink() -> None:
    cal = calibrate(*_synthetic(3))
    thresholds = [p.threshold for p in cal.points]
    assert thresholds == sorted(thresholds) and len(set(thresholds)) == len(thresholds)
    kept = [p.kept for p in cal.points]
    assert kept == sorted(kept, reverse=True) and kept[-1] >= 1
    recall = [p.recall for p in cal.points]
    assert recall == sorted(recall, reverse=True)


def test_ties_are_kept_or_dropped_together_as_min_score_does() -> None:
    scores = {"q": {"a": 1.0, "b": 1.0, "c": 0.0}}
    cal = calibrate(scores, {"q": {"a": 1}})
    assert [(p.threshold, p.kept, p.relevant_kept) for p in cal.points] == [
        (0.0, 3, 1),
        (1.0, 2, 1),
    ]


def test_relevance_sets_the_lowest_grade_that_counts() -> None:
    scores = {"q": {"a": 2.0, "b": 1.0}}
    qrels = {"q": {"a": 1, "b": 2}}
    assert calibrate(scores, qrels).points[-1].precision == 1.0
    strict = calibrate(scores, qrels, relevance=2)
    assert strict.relevant == 1 and strict.points[-1].precision == 0.0
    assert strict.for_precision(0.5) is not None and strict.for_precision(0.6) is None
    with pytest.raises(ValueError, match="relevance must be >= 1"):
        calibrate(scores, qrels, relevance=0)


def test_queries_without_judgments_or_scores() -> None:
    cal = calibrate({"q": {"a": 0.5}, "r": {}}, {})
    assert cal.relevant == 0 and cal.queries == 2
    (point,) = cal.points
    assert (point.precision, point.recall, point.kept_per_query) == (0.0, 0.0, 0.5)
    assert calibrate({}, {"q": {"a": 1}}).points == ()


@pytest.mark.parametrize("target", [0.0, -0.1, 1.5, math.nan])
def test_target_precision_out_of_range_is_refused(target: float) -> None:
    cal = calibrate({"q": {"a": 1.0}}, {"q": {"a": 1}})
    with pytest.raises(ValueError, match="target precision must be in"):
        cal.for_precision(target)


def test_to_dict_is_json_ready() -> None:
    import json

    cal = calibrate({"q": {"a": 1.0, "b": -1.0}}, {"q": {"a": 1}})
    body = json.loads(json.dumps(cal.to_dict()))
    assert body["points"][0] == {
        "threshold": -1.0,
        "normalized_threshold": normalize(-1.0),
        "kept": 2,
        "relevant_kept": 1,
        "precision": 0.5,
        "recall": 1.0,
        "kept_per_query": 2.0,
    }
