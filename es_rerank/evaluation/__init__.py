"""Evaluating a reranker on judged queries: the metrics (:mod:`.metrics`), a prepared run
over a BEIR-layout collection (:mod:`.runs`: the dataset, the first-stage backend and the
model, checked before any work), BM25 against reranked (:mod:`.compare`), first stages
side by side (:mod:`.first_stages`) and the figures (:mod:`.plots`). ``es-rerank eval`` and
``es-rerank calibrate`` are thin commands over these.

>>> ev = evaluate({"q1": ["b", "a"]}, {"q1": {"a": 1}})
>>> ev.aggregate["mrr@10"]
0.5
"""

from es_rerank.evaluation.metrics import Evaluation, evaluate, run_from_rankings

__all__ = ["Evaluation", "evaluate", "run_from_rankings"]
