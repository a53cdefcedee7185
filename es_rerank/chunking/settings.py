"""``chunk_rescorer`` and its ``chunking_settings``: parsed and validated as ES 9.2 does.

Sources: ``TextSimilarityRankRetrieverBuilder`` (the ``chunk_rescorer`` object parser),
``ChunkScorerConfig`` (defaults, the ``max_chunk_size``-only shorthand),
``ChunkingSettingsBuilder.fromMap(map, false)``, ``ChunkingStrategy.fromString`` and the
``*ChunkingSettings.fromMap`` / ``validate`` methods with ``InferenceUtils``' messages.
Errors are :class:`~es_rerank.errors.RetrieverValidationError` carrying ES's own text
(``Validation Failed: 1: ...;`` for ES's ``ValidationException``).

>>> ChunkRescorer.from_dict({}).effective_chunking_settings
SentenceChunking(max_chunk_size=300, sentence_overlap=0)
>>> ChunkRescorer.from_dict({"chunking_settings": {"max_chunk_size": 50}}).to_dict()
{'chunking_settings': {'strategy': 'sentence', 'max_chunk_size': 50, 'sentence_overlap': 0}}
>>> ChunkRescorer.from_dict({"size": 0})
Traceback (most recent call last):
...
es_rerank.errors.RetrieverValidationError: size must be greater than 0, was: 0
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from es_rerank.errors import RetrieverValidationError

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_SIZE",
    "MARKDOWN_SEPARATORS",
    "PLAINTEXT_SEPARATORS",
    "ChunkRescorer",
    "ChunkingSettings",
    "NoneChunking",
    "RecursiveChunking",
    "SentenceChunking",
    "WordChunking",
    "chunking_settings_from_dict",
]

#: ``ChunkScorerConfig.DEFAULT_CHUNK_SIZE``: words per chunk when none is given (9.2).
DEFAULT_CHUNK_SIZE = 300
#: ``ChunkScorerConfig.DEFAULT_SIZE``: chunks sent per document when ``size`` is absent.
DEFAULT_SIZE = 1

#: ``SeparatorGroup.PLAINTEXT``: blank lines first, then single line breaks.
PLAINTEXT_SEPARATORS = ("(?<!\\n)\\n\\n(?!\\n)", "(?<!\\n)\\n(?!\\n)")
#: ``SeparatorGroup.MARKDOWN``: headings by level, then setext headings.
MARKDOWN_SEPARATORS = (
    "\n# ",
    "\n## ",
    "\n### ",
    "\n#### ",
    "\n##### ",
    "\n###### ",
    "\n^(?!\\s*$).*\\n-{1,}\\n",
    "\n^(?!\\s*$).*\\n={1,}\\n",
)
_SEPARATOR_GROUPS = {"plaintext": PLAINTEXT_SEPARATORS, "markdown": MARKDOWN_SEPARATORS}

_PARAM = "chunk_rescorer.chunking_settings"
_SCOPE = "chunking_settings"


def _java_str(value: object) -> str:
    """How Java prints a parsed JSON value inside ES's messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_java_str(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={_java_str(v)}" for k, v in value.items()) + "}"
    return str(value)


def _java_double(value: int) -> str:
    return f"{float(value)!r}"  # Java's Double.toString for integral values: 20.0


class _Errors:
    """ES's ``ValidationException``: messages collected, thrown together."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def raise_if_any(self) -> None:
        if self.messages:
            text = "".join(f"{i}: {m};" for i, m in enumerate(self.messages, 1))
            raise RetrieverValidationError(_PARAM, f"Validation Failed: {text}")

    # InferenceUtils.removeAsType(map, key, Integer.class, ...)
    def pop_int(self, settings: dict[str, Any], key: str) -> int | None:
        value = settings.pop(key, None)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(
                f"field [{key}] is not of the expected type. The value [{_java_str(value)}] "
                "cannot be converted to a [Integer]"
            )
            return None
        return value

    # InferenceUtils.extractRequiredPositiveInteger
    def required_positive_int(self, settings: dict[str, Any], key: str) -> int | None:
        before = len(self.messages)
        value = self.pop_int(settings, key)
        if len(self.messages) > before:
            return None
        if value is None:
            self.add(f"[{_SCOPE}] does not contain the required setting [{key}]")
            return None
        if value <= 0:
            self.add(f"[{_SCOPE}] Invalid value [{value}]. [{key}] must be a positive integer")
            return None
        return value

    def required_at_least(self, settings: dict[str, Any], key: str, minimum: int) -> int | None:
        value = self.required_positive_int(settings, key)
        if value is not None and value < minimum:
            self.add(
                f"[{_SCOPE}] Invalid value [{_java_double(value)}]. [{key}] must be greater "
                f"than or equal to [{_java_double(minimum)}]"
            )
            return None
        return value

    def required_at_most(self, settings: dict[str, Any], key: str, maximum: int) -> int | None:
        value = self.required_positive_int(settings, key)
        if value is not None and value > maximum:
            self.add(
                f"[{_SCOPE}] Invalid value [{_java_double(value)}]. [{key}] must be less than "
                f"or equal to [{_java_double(maximum)}]"
            )
        return value

    def unknown_keys(self, settings: Mapping[str, Any], valid: set[str], label: str) -> None:
        invalid = [k for k in settings if k not in valid]
        if invalid:
            self.add(f"{label} can not have the following settings: [{', '.join(invalid)}]")


@dataclass(frozen=True)
class WordChunking:
    """``strategy: word``: windows of ``max_chunk_size`` words, ``overlap`` words shared.

    ES requires ``overlap`` (1 to ``max_chunk_size / 2``; 0 is refused) and
    ``max_chunk_size >= 10``.
    """

    strategy: ClassVar[str] = "word"
    max_chunk_size: int
    overlap: int

    def to_dict(self) -> dict[str, Any]:
        return {"strategy": "word", "max_chunk_size": self.max_chunk_size, "overlap": self.overlap}


@dataclass(frozen=True)
class SentenceChunking:
    """``strategy: sentence``: whole sentences up to ``max_chunk_size`` words (>= 20);
    ``sentence_overlap`` 1 repeats the previous sentence (at most 20 of its words) at the
    start of the next chunk. Sentences longer than a chunk are cut on words."""

    strategy: ClassVar[str] = "sentence"
    max_chunk_size: int
    sentence_overlap: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": "sentence",
            "max_chunk_size": self.max_chunk_size,
            "sentence_overlap": self.sentence_overlap,
        }


@dataclass(frozen=True)
class RecursiveChunking:
    """``strategy: recursive``: split on each separator regex in turn until chunks fit
    ``max_chunk_size`` words (>= 10); what never fits goes to the sentence chunker."""

    strategy: ClassVar[str] = "recursive"
    max_chunk_size: int
    separators: tuple[str, ...] = PLAINTEXT_SEPARATORS

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": "recursive",
            "max_chunk_size": self.max_chunk_size,
            "separators": list(self.separators),
        }


@dataclass(frozen=True)
class NoneChunking:
    """``strategy: none``: the whole field text is one chunk."""

    strategy: ClassVar[str] = "none"

    def to_dict(self) -> dict[str, Any]:
        return {"strategy": "none"}


ChunkingSettings = WordChunking | SentenceChunking | RecursiveChunking | NoneChunking


def _default_chunking(
    max_chunk_size: int | None, default: int = DEFAULT_CHUNK_SIZE
) -> SentenceChunking:
    """``ChunkScorerConfig.defaultChunkingSettings``: sentence chunks, no overlap."""
    size = default if max_chunk_size is None else max_chunk_size
    if size < 20:  # SentenceBoundaryChunkingSettings.validate()
        raise RetrieverValidationError(
            _PARAM, f"Validation Failed: 1: max_chunk_size[{size}] must be above 20;"
        )
    return SentenceChunking(max_chunk_size=size, sentence_overlap=0)


def _word(settings: dict[str, Any]) -> WordChunking:
    errors = _Errors()
    errors.unknown_keys(
        settings, {"strategy", "max_chunk_size", "overlap"}, "Word based chunking settings"
    )
    max_chunk_size = errors.required_at_least(settings, "max_chunk_size", 10)
    overlap = None
    if max_chunk_size is not None:
        overlap = errors.required_at_most(settings, "overlap", max_chunk_size // 2)
    errors.raise_if_any()
    assert max_chunk_size is not None and overlap is not None
    return WordChunking(max_chunk_size=max_chunk_size, overlap=overlap)


def _sentence(settings: dict[str, Any]) -> SentenceChunking:
    errors = _Errors()
    errors.unknown_keys(
        settings,
        {"strategy", "max_chunk_size", "sentence_overlap"},
        "Sentence based chunking settings",
    )
    max_chunk_size = errors.required_at_least(settings, "max_chunk_size", 20)
    overlap = errors.pop_int(settings, "sentence_overlap")
    if overlap is None:
        overlap = 1
    elif overlap not in (0, 1):
        errors.add(f"sentence_overlap[{overlap}] must be either 0 or 1")
    errors.raise_if_any()
    assert max_chunk_size is not None
    return SentenceChunking(max_chunk_size=max_chunk_size, sentence_overlap=overlap)


def _recursive(settings: dict[str, Any]) -> RecursiveChunking:
    errors = _Errors()
    errors.unknown_keys(
        settings,
        {"strategy", "max_chunk_size", "separator_group", "separators"},
        "Recursive chunking settings",
    )
    max_chunk_size = errors.required_at_least(settings, "max_chunk_size", 10)
    group = settings.pop("separator_group", None)
    separators: tuple[str, ...] | None = None
    if group is not None:
        if not isinstance(group, str):
            errors.add(
                f"field [separator_group] is not of the expected type. The value "
                f"[{_java_str(group)}] cannot be converted to a [String]"
            )
            group = None
        elif not group:
            errors.add(
                f"[{_SCOPE}] Invalid value empty string. [separator_group] must be a "
                "non-empty string"
            )
            group = None
        elif group.strip().lower() not in _SEPARATOR_GROUPS:
            errors.add(
                f"[{_SCOPE}] Invalid value [{group}] received. [separator_group] must be one "
                "of [markdown, plaintext]"
            )
            group = None
    raw = settings.pop("separators", None)
    if raw is not None:
        if not isinstance(raw, list):
            errors.add(
                f"field [separators] is not of the expected type. The value "
                f"[{_java_str(raw)}] cannot be converted to a [List]"
            )
        else:
            bad = [s for s in raw if not isinstance(s, str)]
            for s in bad:
                errors.add(
                    f"field [separators] is not of the expected type. The value "
                    f"[{_java_str(s)}] cannot be converted to a [String]"
                )
            if not bad:
                separators = tuple(raw)
    if separators is not None and group is not None:
        errors.add("Recursive chunking settings can not have both separators and separator_set")
    if group is not None:
        separators = _SEPARATOR_GROUPS[group.strip().lower()]
    elif separators is not None and not separators:
        errors.add("Recursive chunking settings can not have an empty list of separators")
    errors.raise_if_any()
    assert max_chunk_size is not None
    for sep in separators or ():
        try:
            re.compile(sep)
        except re.error as exc:  # Java would fail later, while chunking
            raise RetrieverValidationError(
                _PARAM, f"separator [{sep}] is not a regular expression this client can run: {exc}"
            ) from None
    if separators is None:
        return RecursiveChunking(max_chunk_size=max_chunk_size)
    return RecursiveChunking(max_chunk_size=max_chunk_size, separators=separators)


def chunking_settings_from_dict(settings: Mapping[str, Any] | None) -> ChunkingSettings | None:
    """``ChunkScorerConfig.chunkingSettingsFromMap``: ``None`` means "use the default".

    ``{"max_chunk_size": N}`` alone is the sentence chunker with **no** overlap, while a
    full ``{"strategy": "sentence", "max_chunk_size": N}`` gets ES's usual
    ``sentence_overlap`` default of **1**.

    >>> chunking_settings_from_dict({"strategy": "sentence", "max_chunk_size": 40})
    SentenceChunking(max_chunk_size=40, sentence_overlap=1)
    >>> chunking_settings_from_dict({"max_chunk_size": 40})
    SentenceChunking(max_chunk_size=40, sentence_overlap=0)
    >>> chunking_settings_from_dict({}) is None
    True
    """
    if settings is None:
        return None
    if not isinstance(settings, Mapping):
        raise RetrieverValidationError(_PARAM, "[chunking_settings] must be an object or null")
    if len(settings) == 1 and "max_chunk_size" in settings:
        size = settings["max_chunk_size"]
        if size is not None and (isinstance(size, bool) or not isinstance(size, int)):
            raise RetrieverValidationError(  # ES casts to Integer here and fails with a 500
                _PARAM,
                f"field [max_chunk_size] is not of the expected type. The value "
                f"[{_java_str(size)}] cannot be converted to a [Integer]",
            )
        return _default_chunking(size)
    if not settings:
        return None
    if "strategy" not in settings:
        raise RetrieverValidationError(
            _PARAM, "Can't generate Chunker without ChunkingStrategy provided"
        )
    strategy = _java_str(settings["strategy"])
    work = dict(settings)
    if strategy == "none":  # ChunkingSettingsBuilder returns the singleton, other keys unread
        return NoneChunking()
    if strategy == "word":
        return _word(work)
    if strategy == "sentence":
        return _sentence(work)
    if strategy == "recursive":
        return _recursive(work)
    raise RetrieverValidationError(_PARAM, f"Invalid chunkingStrategy {strategy}")


def _parse_size(value: object) -> int | None:
    # declareInt: an integer, or a string/float holding one (XContent coerces)
    if value is None:
        return None
    if isinstance(value, bool):
        ok = False
    elif isinstance(value, int):
        return value
    elif isinstance(value, float):
        ok = value.is_integer()
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            ok = False
        else:
            ok = number.is_integer()
            value = number
    else:
        ok = False
    if not ok:
        raise RetrieverValidationError(
            "chunk_rescorer.size", f"[chunk_rescorer] failed to parse field [size]: {value!r}"
        )
    assert isinstance(value, float)
    return int(value)


@dataclass(frozen=True)
class ChunkRescorer:
    """``text_similarity_reranker.chunk_rescorer``: score a document by its best chunks.

    ``size``: chunks per document sent to the reranker (default 1); ``chunking_settings``:
    how the field text is cut (default: sentence chunks of ``default_chunk_size`` words, no
    overlap: 300 up to ES 9.2, the endpoint's window from 9.3, see
    :func:`~es_rerank.chunking.endpoint_defaults.for_cluster`). ``to_dict()`` writes what
    ES echoes back (chunking settings in full; ``default_chunk_size`` is not sent).

    >>> r = ChunkRescorer(size=2, chunking_settings=WordChunking(max_chunk_size=50, overlap=5))
    >>> ChunkRescorer.from_dict(r.to_dict()) == r, r.effective_size
    (True, 2)
    """

    size: int | None = None
    chunking_settings: ChunkingSettings | None = None
    default_chunk_size: int = field(default=DEFAULT_CHUNK_SIZE, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.size is not None:
            if isinstance(self.size, bool) or not isinstance(self.size, int):
                raise RetrieverValidationError(
                    "chunk_rescorer.size",
                    f"[chunk_rescorer] [size] must be an integer, got {self.size!r}",
                )
            if self.size < 1:
                raise RetrieverValidationError(
                    "chunk_rescorer.size", f"size must be greater than 0, was: {self.size}"
                )
        allowed = (WordChunking, SentenceChunking, RecursiveChunking, NoneChunking)
        if self.chunking_settings is not None and not isinstance(self.chunking_settings, allowed):
            raise RetrieverValidationError(
                _PARAM,
                "[chunk_rescorer] chunking_settings must be WordChunking, SentenceChunking, "
                f"RecursiveChunking or NoneChunking, got {self.chunking_settings!r}",
            )

    @property
    def effective_size(self) -> int:
        return DEFAULT_SIZE if self.size is None else self.size

    @property
    def effective_chunking_settings(self) -> ChunkingSettings:
        if self.chunking_settings is None:
            return _default_chunking(None, self.default_chunk_size)
        return self.chunking_settings

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.size is not None:
            body["size"] = self.size
        if self.chunking_settings is not None:
            body["chunking_settings"] = self.chunking_settings.to_dict()
        return body

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> ChunkRescorer:
        """Parse the ``chunk_rescorer`` object of a retriever.

        Unlike ES 9.2, whose parser ignores unknown keys here (a misspelt ``chunk_size``
        silently falls back to the defaults), unknown keys are refused.
        """
        if not isinstance(body, Mapping):
            raise RetrieverValidationError("chunk_rescorer", "[chunk_rescorer] must be an object")
        for key in body:
            if key not in ("size", "chunking_settings"):
                raise RetrieverValidationError(
                    "chunk_rescorer",
                    f"[chunk_rescorer] unknown field [{key}] (expected [size] or "
                    "[chunking_settings])",
                )
        return cls(
            size=_parse_size(body.get("size")),
            chunking_settings=chunking_settings_from_dict(body.get("chunking_settings")),
        )
