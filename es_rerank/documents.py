"""Documents on their way into an index, whichever index it is (local or Elasticsearch):
reading JSONL with per-line errors, resolving a mapping by name or file, and the
indexed / rejected report.

>>> import json, tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "docs.jsonl"
>>> _ = path.write_text('{"_id": "1"}\\nnot json\\n')
>>> [(n, doc, err is not None) for n, doc, err in read_jsonl(path)]
[(1, {'_id': '1'}, False), (2, None, True)]
>>> sorted(resolve_mapping("passages")["mappings"]["properties"])[:3]
['length', 'published', 'source']
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from es_rerank.errors import ConfigurationError

# A surrogate code point in a decoded str is always a lone one (JSON pairs are combined).
_SURROGATE = re.compile("[\ud800-\udfff]")

__all__ = [
    "AddResult",
    "Rejected",
    "count_lines",
    "document_error",
    "lone_surrogate",
    "print_rejected",
    "read_jsonl",
    "resolve_mapping",
]


@dataclass(frozen=True)
class Rejected:
    """A document that was not indexed: where it came from, its id if known, and why."""

    position: int  # 1-based line of a JSONL file, or index in the iterable
    id: str | None
    reason: str


@dataclass
class AddResult:
    """How many documents were indexed, and every rejected one with its reason."""

    indexed: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def print_rejected(result: AddResult, file: TextIO | None = None) -> None:
    """One line per rejected document (default on stderr): its line (and id when known) and
    why.

    >>> print_rejected(AddResult(1, [Rejected(3, None, "not JSON")]), file=sys.stdout)
    rejected line 3: not JSON
    """
    for r in result.rejected:
        where = f"line {r.position}" + (f" (id {r.id})" if r.id is not None else "")
        print(f"rejected {where}: {r.reason}", file=file or sys.stderr)


def resolve_mapping(mapping: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    """A mapping body from a dict, a ``.json`` file, or a name in ``mappings/``."""
    if isinstance(mapping, Mapping):
        return dict(json.loads(json.dumps(mapping)))
    p = Path(mapping)
    if p.suffix == ".json" and p.is_file():
        data = json.loads(p.read_text())
    else:
        from es_rerank.resources import load_json_resource

        try:
            data = load_json_resource(str(mapping))
        except FileNotFoundError as exc:
            raise ConfigurationError(f"mapping: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"mapping: {mapping} is not a JSON object")
    return data


def read_jsonl(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    """``(line number, parsed value or None, error or None)`` for every line of ``path``.

    A line is refused, never repaired: bytes that are not UTF-8, text that is not JSON
    (``NaN`` and ``Infinity`` included, as in ES), or a string with a lone surrogate
    escape such as ``"\\ud800"`` (not Unicode text; it cannot be encoded for an index).
    """
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            yield (lineno, *_parse_line(raw))


def _parse_line(raw: bytes) -> tuple[Any, str | None]:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8: byte 0x{raw[exc.start]:02x} at column {exc.start + 1}"
    if not line.strip():
        return None, "empty line"
    try:
        doc = json.loads(line, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, ValueError) as exc:
        return None, f"invalid JSON: {exc}"
    # Strictly decoded UTF-8 holds no surrogates: only a \\u escape can bring one in.
    if "\\u" in line:
        problem = lone_surrogate(doc)
        if problem is not None:
            return None, problem
    return doc, None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def lone_surrogate(value: Any, where: str = "") -> str | None:
    """Why ``value`` (a parsed JSON value) is not Unicode text, or None: the first string
    (or key) holding a lone surrogate, with its field path.

    >>> lone_surrogate({"a": ["ok", "x\\ud800"]})
    "lone surrogate \\\\ud800 in field 'a': not valid Unicode text"
    """
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        if found is None:
            return None
        field_name = f" in field {where!r}" if where else ""
        code = ord(found.group())
        return f"lone surrogate \\u{code:04x}{field_name}: not valid Unicode text"
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            inner = lone_surrogate(key, path) or lone_surrogate(item, path)
            if inner:
                return inner
    elif isinstance(value, list):
        for item in value:
            inner = lone_surrogate(item, where)
            if inner:
                return inner
    return None


def document_error(doc: Any, *, id_field: str) -> str | None:
    """Why ``doc`` cannot be indexed whatever the mapping, or None: it must be a JSON
    object with a string or integer id in ``id_field`` and Unicode text throughout."""
    if not isinstance(doc, Mapping):
        return f"not a JSON object but {_json_type(doc)}"
    raw_id = doc.get(id_field)
    if raw_id is None or raw_id == "":
        return f"missing id field {id_field!r}"
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool):
        return f"id field {id_field!r} must be a string or integer, got {_json_type(raw_id)}"
    return lone_surrogate(dict(doc))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else type(value).__name__


def count_lines(path: Path, *, non_blank: bool = False) -> int:
    """Lines in ``path`` (for a progress bar's total); with ``non_blank``, only those that
    hold more than white space (the documents of a JSONL file)."""
    with path.open("rb") as fh:
        return sum(1 for line in fh if not non_blank or line.strip())
