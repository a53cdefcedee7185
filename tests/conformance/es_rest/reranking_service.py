"""A port of Elasticsearch's ``test_reranking_service`` as an es-rerank Reranker.

ES's YAML REST tests create rerank endpoints with ``"service": "test_reranking_service"``,
served by ``TestRerankingServiceExtension`` (elastic/elasticsearch,
x-pack/plugin/inference/qa/test-service-plugin/src/main/java/org/elasticsearch/xpack/
inference/mock/TestRerankingServiceExtension.java; the newest stored version, the one with
``RERANK_WINDOW_SIZE = 333`` and task settings ``top_n``/``hide_top_n``). Its rules:

- ``makeResults``: unless ``use_text_length``, every input is parsed with Java's
  ``Float.parseFloat`` and that float32 is its score.
- If any input does not parse (``NumberFormatException``), or with ``use_text_length``,
  ``makeResultFromTextInput``: for ``i`` in ``0..n-1`` the input at index ``n-1-i`` scores
  ``minScore + resultDiff * (n - i)`` in float32 arithmetic, so the input at index ``j``
  scores ``minScore + resultDiff * (j + 1)``: the LAST input scores highest. With
  ``use_text_length`` the score is ``1f / text.length()`` instead.
- Task settings (``TestTaskSettings.fromMap``): ``min_score`` (default: a random float in
  ``[-1, 1)``, drawn once when the endpoint is created), ``result_diff`` (default 0.2),
  ``use_text_length``, ``should_fail_validation`` (every call fails), ``top_n`` (ranked
  docs cut to the best ``top_n``; ES then reports a score-count mismatch, so this port
  raises), ``hide_top_n``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["JavaNumberFormatError", "TestRerankingService", "default_scorer", "java_parse_float"]

#: Java's FloatingDecimal grammar (decimal and hexadecimal forms, optional f/F/d/D suffix).
_DECIMAL = re.compile(r"[+-]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)[fFdD]?)")
_HEX = re.compile(r"[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+[fFdD]?")


class JavaNumberFormatError(ValueError):
    """What ``Float.parseFloat`` throws (``NumberFormatException``)."""


def java_parse_float(text: str) -> float:
    """``Float.parseFloat(text)``: the float32 value, or :class:`JavaNumberFormatError`.

    Java trims characters <= U+0020 first and accepts a type suffix:

    >>> java_parse_float(" -1 "), java_parse_float("10"), java_parse_float("2.5f")
    (-1.0, 10.0, 2.5)
    >>> java_parse_float("0.1") == float(np.float32(0.1))
    True
    >>> java_parse_float("moon")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    JavaNumberFormatError: For input string: "moon"
    """
    stripped = text.strip("".join(chr(c) for c in range(0x21)))
    if _DECIMAL.fullmatch(stripped):
        body = stripped.rstrip("fFdD") if not stripped.endswith("Infinity") else stripped
        value = float(body.replace("Infinity", "inf"))
    elif _HEX.fullmatch(stripped):
        value = float.fromhex(stripped.rstrip("fFdD"))
    else:
        raise JavaNumberFormatError(f'For input string: "{text}"')
    with np.errstate(over="ignore"):
        return float(np.float32(value))


def _java_bool(value: Any) -> bool:
    """``Boolean.parseBoolean(value.toString())``: true only for "true", any case."""
    text = "true" if value is True else "false" if value is False else str(value)
    return text.lower() == "true"


class TestRerankingService:
    """ES's ``test_reranking_service`` for one endpoint, created with ``task_settings``.

    >>> service = TestRerankingService({}, rng=random.Random(0))
    >>> service.rerank("q", ["0", "-1", "10"])
    [0.0, -1.0, 10.0]
    >>> fallback = TestRerankingService({"min_score": 0, "result_diff": 0.5})
    >>> fallback.rerank("q", ["a", "b", "3"])  # "a" does not parse: the last input wins
    [0.5, 1.0, 1.5]
    """

    __test__ = False  # a helper, not a pytest class

    def __init__(
        self, task_settings: Mapping[str, Any] | None = None, *, rng: random.Random | None = None
    ) -> None:
        settings = dict(task_settings or {})
        draw = rng if rng is not None else random.Random()
        self.should_fail_validation = _java_bool(settings.pop("should_fail_validation", False))
        self.use_text_length = _java_bool(settings.pop("use_text_length", False))
        # Drawn whether or not min_score is given, as fromMap draws it first.
        min_score = float(np.float32(draw.uniform(-1.0, 1.0)))
        if "min_score" in settings:
            min_score = java_parse_float(str(settings.pop("min_score")))
        self.min_score = min_score
        self.result_diff = java_parse_float(str(settings.pop("result_diff", "0.2")))
        top_n = settings.pop("top_n", None)
        self.top_n = None if top_n is None else int(str(top_n))
        self.hide_top_n = _java_bool(settings.pop("hide_top_n", False))

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        if self.should_fail_validation:
            raise RuntimeError("validation call intentionally failed based on task settings")
        scores = self._text_input_scores(texts) if self.use_text_length else None
        if scores is None:
            try:
                scores = [java_parse_float(t) for t in texts]
            except JavaNumberFormatError:
                scores = self._text_input_scores(texts)
        if self.top_n is not None and self.top_n < len(texts):
            raise RuntimeError(
                f"test_reranking_service returned the top {self.top_n} of {len(texts)} "
                "inputs (task setting top_n): the reranker's score count does not match"
            )
        return scores

    def _text_input_scores(self, texts: Sequence[str]) -> list[float]:
        n = len(texts)
        out = [0.0] * n
        for i in range(n):
            index = n - 1 - i
            if self.use_text_length:
                score = np.float32(1.0) / np.float32(len(texts[index]))
            else:
                score = np.float32(self.min_score) + np.float32(self.result_diff) * np.float32(
                    n - i
                )
            out[index] = float(score)
        return out


_DEFAULT = TestRerankingService({}, rng=random.Random(0))


def default_scorer(query: str, texts: Sequence[str]) -> list[float]:
    """The service with empty task settings (as every ported YAML creates it), for the
    inference shim's ``--scorer`` when a real cluster runs the cases natively."""
    return _DEFAULT.rerank(query, texts)
