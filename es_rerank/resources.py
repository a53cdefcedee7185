"""Locate the JSON files under ``mappings/`` (index mappings, endpoint templates).

In a wheel they ship inside the package as ``es_rerank/_mappings``; in a source checkout
they are read from the repository's top-level ``mappings/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["load_json_resource", "mappings_dir"]


def mappings_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "_mappings", here.parent / "mappings"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no mappings directory next to {here}")


def load_json_resource(name: str) -> Any:
    """Parse ``mappings/<name>`` (``name`` may include ``.json`` or not)."""
    file = mappings_dir() / (name if name.endswith(".json") else f"{name}.json")
    if not file.is_file():
        known = sorted(p.name for p in mappings_dir().glob("*.json"))
        raise FileNotFoundError(f"no resource {file.name!r} in {file.parent}; known: {known}")
    return json.loads(file.read_text())
