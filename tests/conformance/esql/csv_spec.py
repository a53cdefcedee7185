"""Reading ES's ``*.csv-spec`` files: a case is its name, ``required_capability`` lines, the
query up to the first line ending in ``;``, optional ``ignoreOrder:true`` and ``warning``
lines, then a ``name:type | ...`` header and ``|``-separated rows up to a line ``;``.
Values: ``null``, ``[a, b]`` multi-values, numbers by the column's type."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SpecCase:
    name: str
    query: str
    columns: tuple[tuple[str, str], ...]
    rows: tuple[tuple[Any, ...], ...]
    ignore_order: bool = False
    capabilities: tuple[str, ...] = field(default=())


def value(text: str, kind: str, *, null: str = "null") -> Any:
    """One CSV cell by its column type: ``null`` (the data files: an empty cell), a
    ``[a, b]`` multi-value, a number, or the text."""
    text = text.strip()
    if text == null:
        return None
    if text.startswith("[") and text.endswith("]"):
        return [value(v, kind, null=null) for v in text[1:-1].split(",")]
    if kind in ("double", "float"):
        return float(text)
    if kind in ("long", "integer"):
        return int(text)
    return text


def _strip_comment(line: str) -> str:
    return "" if line.strip().startswith("//") else line


def parse(path: Path) -> list[SpecCase]:
    lines = path.read_text().split("\n")
    cases: list[SpecCase] = []
    i = 0
    while i < len(lines):
        if not lines[i].strip() or lines[i].strip().startswith("//"):
            i += 1
            continue
        name = lines[i].strip()
        i += 1
        capabilities = []
        while lines[i].startswith("required_capability:"):
            capabilities.append(lines[i].split(":", 1)[1].strip())
            i += 1
        query_lines = []
        while True:
            line = _strip_comment(lines[i])
            i += 1
            if line.rstrip().endswith(";"):
                query_lines.append(line.rstrip()[:-1])
                break
            query_lines.append(line)
        ignore_order = False
        # Between the query and the header: blank lines, comments, ignoreOrder, warnings.
        while not lines[i].strip() or lines[i].strip().startswith(("//", "ignoreOrder", "warning")):
            if lines[i].strip().replace(" ", "") == "ignoreOrder:true":
                ignore_order = True
            i += 1
        header = [h.strip().split(":") for h in lines[i].split("|")]
        columns = tuple((n.strip(), t.strip()) for n, t in header)
        i += 1
        rows = []
        while lines[i].strip() != ";":
            if lines[i].strip() and not lines[i].strip().startswith("//"):
                cells = lines[i].split("|")
                rows.append(tuple(value(c, t) for c, (_, t) in zip(cells, columns, strict=True)))
            i += 1
        i += 1
        query = " ".join(x.strip() for x in query_lines if x.strip())
        cases.append(SpecCase(name, query, columns, tuple(rows), ignore_order, tuple(capabilities)))
    return cases
