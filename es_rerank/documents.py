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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from es_rerank.errors import ConfigurationError

__all__ = ["AddResult", "Rejected", "count_lines", "read_jsonl", "resolve_mapping"]


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
    """``(line number, parsed value or None, error or None)`` for every line of ``path``."""
    with path.open(encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                yield lineno, None, "empty line"
                continue
            try:
                yield lineno, json.loads(line), None
            except json.JSONDecodeError as exc:
                yield lineno, None, f"invalid JSON: {exc}"


def count_lines(path: Path) -> int:
    """Lines in ``path`` (for a progress bar's total)."""
    with path.open("rb") as fh:
        return sum(1 for _ in fh)
