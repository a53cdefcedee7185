"""ES's ``rank_feature`` and ``rank_features`` fields and the ``rank_feature`` query.

A feature value is stored as Lucene's ``FeatureField`` stores it: the float32's bits
shifted right by 15 (9 significant bits), so a query scores the value as ES reads it back,
not as sent. A query scores every document that has the feature with one of Lucene's
functions (``linear``, ``log``, ``saturation``, ``sigmoid``; ES's default is saturation
with a pivot taken from the index: the decoded mean of the stored frequencies, about the
geometric mean of the values), in float32 as Lucene does.

Rules from elastic/elasticsearch at 13ae1548e7d2d5e1bd2a0b7889b635a0aa40f905
(``modules/mapper-extras/.../extras/RankFeatureQueryBuilder.java``),
0629870fce2e744b55d59df284fce84de4c2ab9f (``RankFeaturesFieldMapper.java``),
00203b9af13ca7b1798b10eac5159301e7312a08 (``RankFeatureFieldMapper.java``) and
apache/lucene at 0a0701995a66cd29460e19c2f9b7336e26ea50a4
(``lucene/core/src/java/org/apache/lucene/document/FeatureField.java``).

>>> decode(encode(0.3))  # what ES scores for a stored 0.3
0.2998046875
>>> RankFeatureFunction.parse({"field": "f", "linear": {}}).score(10.0)
10.0
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import tantivy

from es_rerank.backends.coercion import to_float

__all__ = [
    "RANK_KINDS",
    "RankFeatureFunction",
    "decode",
    "default_pivot",
    "encode",
    "feature_values",
    "resolve_field",
    "score_query",
    "scored",
]

#: The local index's field kinds for ES's ``rank_feature`` and ``rank_features`` types.
RANK_KINDS = ("rank_feature", "rank_features")

_MIN_NORMAL = 1.17549435e-38  # Java's Float.MIN_NORMAL
_FLOAT_MAX = 3.4028234663852886e38
_MAX_FREQ = (struct.unpack("<I", struct.pack("<f", _FLOAT_MAX))[0]) >> 15


def f32(x: float) -> float:
    """``x`` rounded to float32 (one float32 operation on float32 inputs, computed in
    double and rounded once, gives Java's float result)."""
    try:
        return float(struct.unpack("<f", struct.pack("<f", x))[0])
    except OverflowError:
        return math.copysign(math.inf, x)


def encode(value: float) -> int:
    """Lucene's stored term frequency of feature ``value``: its float32 bits >>> 15."""
    return int(struct.unpack("<I", struct.pack("<f", value))[0]) >> 15


def decode(freq: float) -> float:
    """Lucene's ``FeatureField.decodeFeatureValue``."""
    if freq > _MAX_FREQ:
        return _FLOAT_MAX
    return float(struct.unpack("<f", struct.pack("<I", int(freq) << 15))[0])


def default_pivot(freqs: Sequence[int]) -> float:
    """Lucene's ``computePivotFeatureValue``: the decoded mean stored frequency (1 when
    no document has the feature)."""
    if not freqs:
        return 1.0
    return decode(f32(sum(freqs) / len(freqs)))


def _java_float(value: float) -> str:
    """A float as Java's ``Float.toString`` writes the common cases."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value) if value != int(value) or abs(value) >= 1e7 else f"{value:.1f}"


def _one_value(raw: Any, positive: bool, feature: str, field: str) -> float:
    value = f32(to_float(raw, "float", coerce=True))
    if not positive:
        value = f32(1 / value) if value != 0 else math.inf
    if not math.isfinite(value):
        raise ValueError(
            f"featureValue must be finite, got: {_java_float(value)} for feature {feature} "
            f"on field {field}"
        )
    if value < _MIN_NORMAL:
        raise ValueError(
            f"featureValue must be a positive normal float, got: {_java_float(value)} for "
            f"feature {feature} on field {field} which is less than the minimum positive "
            "normal float: 1.17549435E-38"
        )
    return value


def feature_values(
    es_type: str, name: str, values: Sequence[Any], positive: bool
) -> dict[str, int]:
    """The stored frequency of each feature of field ``name`` from its ``_source`` values
    (a ``rank_feature`` field's one feature is named after the field); ValueError with ES's
    message for a value ES refuses."""
    if es_type == "rank_feature":
        if len(values) > 1:
            raise ValueError(
                "[rank_feature] fields do not support indexing multiple values for the same "
                f"field [{name}] in the same document"
            )
        if not values:
            return {}
        return {name: encode(_one_value(values[0], positive, name, "_feature"))}
    out: dict[str, int] = {}
    for obj in values:
        if not isinstance(obj, Mapping):
            token = "START_ARRAY" if isinstance(obj, list) else _token(obj)
            raise ValueError(
                "[rank_features] fields must be json objects, expected a START_OBJECT but "
                f"got: {token}"
            )
        for feature, raw in obj.items():
            if raw is None:
                continue  # ignored, as for numeric fields
            if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
                raise ValueError(
                    "[rank_features] fields take hashes that map a feature to a strictly "
                    f"positive float, but got unexpected token {_token(raw)}"
                )
            key = f"{name}.{feature}"
            if str(feature) in out:
                raise ValueError(
                    "[rank_features] fields do not support indexing multiple values for the "
                    f"same rank feature [{key}] in the same document"
                )
            out[str(feature)] = encode(_one_value(raw, positive, str(feature), name))
    return out


def _token(value: Any) -> str:
    if isinstance(value, bool):
        return "VALUE_BOOLEAN"
    if isinstance(value, Mapping):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    if isinstance(value, str):
        return "VALUE_STRING"
    return "VALUE_NUMBER"


_FUNCTIONS: dict[str, tuple[set[str], set[str]]] = {  # name -> (required, allowed) keys
    "linear": (set(), set()),
    "log": ({"scaling_factor"}, {"scaling_factor"}),
    "saturation": (set(), {"pivot"}),
    "sigmoid": ({"pivot", "exponent"}, {"pivot", "exponent"}),
}


def _float_param(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"[rank_feature] {what} must be a number, got {value!r}")
    try:
        return f32(float(value))
    except ValueError:
        raise ValueError(f"[rank_feature] {what} must be a number, got {value!r}") from None


@dataclass(frozen=True)
class RankFeatureFunction:
    """A parsed ``rank_feature`` query: its field, function, parameters and boost."""

    field: str
    function: str = "saturation"
    pivot: float | None = None
    scaling_factor: float = 1.0
    exponent: float = 1.0
    boost: float = 1.0

    @classmethod
    def parse(cls, body: Any) -> RankFeatureFunction:
        """The query body as ES's parser reads it; ValueError naming what is wrong."""
        if not isinstance(body, Mapping):
            raise ValueError("[rank_feature] query malformed, expected an object")
        unknown = sorted(set(body) - {"field", "boost", "_name", *_FUNCTIONS})
        if unknown:
            raise ValueError(f"[feature] unknown field [{unknown[0]}]")
        if not isinstance(body.get("field"), str):
            raise ValueError("Required [field]")
        chosen = [k for k in _FUNCTIONS if body.get(k) is not None]
        if len(chosen) > 1:
            raise ValueError("Can only specify one of [log], [saturation], [sigmoid] and [linear]")
        boost = _float_param(body.get("boost", 1.0), "boost")
        if boost < 0:
            raise ValueError("negative [boost] are not allowed.")
        if not chosen:
            return cls(str(body["field"]), boost=boost)
        name = chosen[0]
        params = body[name]
        if not isinstance(params, Mapping):
            raise ValueError(f"[{name}] expected an object")
        required, allowed = _FUNCTIONS[name]
        extra = sorted(set(params) - allowed)
        if extra:
            raise ValueError(f"[{name}] unknown field [{extra[0]}]")
        missing = sorted(required - set(params))
        if missing:
            raise ValueError(f"[{name}] Required [{', '.join(missing)}]")
        got = {k: _float_param(v, f"{name}.{k}") for k, v in params.items()}
        factor = got.get("scaling_factor", 1.0)
        if not (factor >= 1 and math.isfinite(factor)):
            raise ValueError(f"scalingFactor must be >= 1, got: {_java_float(factor)}")
        pivot = got.get("pivot")
        if pivot is not None and not (pivot > 0 and math.isfinite(pivot)):
            raise ValueError(f"pivot must be > 0, got: {_java_float(pivot)}")
        exponent = got.get("exponent", 1.0)
        if not (exponent > 0 and math.isfinite(exponent)):
            raise ValueError(f"exp must be > 0, got: {_java_float(exponent)}")
        return cls(
            str(body["field"]),
            name,
            pivot,
            factor,
            exponent,
            boost,
        )

    def with_pivot(self, pivot: float) -> RankFeatureFunction:
        """This query with saturation's pivot filled in (Lucene's rewrite)."""
        return RankFeatureFunction(
            self.field, self.function, pivot, self.scaling_factor, self.exponent, self.boost
        )

    def score(self, value: float) -> float:
        """Lucene's score for a stored (decoded) feature ``value``, weight = the boost."""
        w = self.boost
        if self.function == "linear":
            return f32(w * value)
        if self.function == "log":
            return f32(w * math.log(f32(self.scaling_factor + value)))
        if self.function == "saturation":
            if self.pivot is None:
                raise ValueError("saturation needs its pivot (with_pivot) before scoring")
            k = self.pivot
            return f32(w * f32(1 - f32(k / f32(value + k))))
        pivot_pa = math.pow(self.pivot or 1.0, self.exponent)
        return f32(w * (1 - pivot_pa / (math.pow(value, self.exponent) + pivot_pa)))


def resolve_field(name: str, kinds: Mapping[str, tuple[str, bool]]) -> tuple[str, str, bool] | None:
    """``(mapped field, feature, positive_score_impact)`` a ``rank_feature`` query on
    ``name`` reads, as ES's ``doToQuery`` resolves it: a rank_feature field, or
    ``parent.feature`` of a rank_features field; None for an unmapped field (ES matches
    nothing). ``kinds`` maps each mapped field to its ES type and score impact."""
    if name in kinds:
        es_type, positive = kinds[name]
        if es_type != "rank_feature":
            raise ValueError(
                "[rank_feature] query only works on [rank_feature] fields and features of "
                f"[rank_features] fields, not [{es_type}]"
            )
        return name, name, positive
    parent, dot, feature = name.rpartition(".")
    if dot and kinds.get(parent, ("", True))[0] == "rank_features":
        return parent, feature, True  # ES passes true here whatever the mapping says
    return None


def scored(
    query: RankFeatureFunction, positive: bool, freqs: Sequence[tuple[str, int]]
) -> list[tuple[str, float]]:
    """Each ``(id, stored frequency)`` of the documents that have the feature, scored."""
    if query.function == "log" and not positive:
        raise ValueError(
            "Cannot use the [log] function with a field that has a negative score impact as "
            "it would trigger negative scores"
        )
    if query.function == "saturation" and query.pivot is None:
        query = query.with_pivot(default_pivot([f for _, f in freqs]))
    return [(doc_id, query.score(decode(f))) for doc_id, f in freqs]


def score_query(
    schema: tantivy.Schema, id_field: str, hits: Sequence[tuple[str, float]]
) -> tantivy.Query:
    """Exactly ``hits``, each scoring its score: one constant-score id set per distinct
    score (a feature's values repeat, so this stays small)."""
    by_score: dict[float, list[str]] = {}
    for doc_id, score in hits:
        by_score.setdefault(score, []).append(doc_id)
    if not by_score:
        return tantivy.Query.empty_query()
    return tantivy.Query.boolean_query(
        [
            (
                tantivy.Occur.Should,
                tantivy.Query.const_score_query(
                    tantivy.Query.term_set_query(schema, id_field, ids), score
                ),
            )
            for score, ids in by_score.items()
        ]
    )
