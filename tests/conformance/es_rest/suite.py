"""Elasticsearch's YAML REST test files (``yaml/``) as cases: each test section with the
file's ``setup`` steps, parsed as ES's runner parses them (Jackson's YAML: ``1.7014124E38``
is a number, not a string)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["HERE", "YAML_DIR", "Case", "all_cases", "load_file"]

HERE = Path(__file__).resolve().parent
YAML_DIR = HERE / "yaml"


class _EsYamlLoader(yaml.SafeLoader):
    """YAML 1.1 wants a sign in a float's exponent; Jackson (ES's runner) does not."""


_EsYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


@dataclass(frozen=True)
class Case:
    """One test section of one file, run after the file's ``setup`` steps."""

    file: str  # the file's stem, e.g. "70_text_similarity_rank_retriever"
    name: str
    setup: tuple[dict[str, Any], ...]
    steps: tuple[dict[str, Any], ...]

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


def load_file(path: Path) -> list[Case]:
    setup: list[dict[str, Any]] = []
    cases: list[Case] = []
    for document in yaml.load_all(path.read_text(), Loader=_EsYamlLoader):
        if not document:
            continue
        for name, steps in document.items():
            if name == "setup":
                setup = list(steps)
            elif name == "teardown":
                continue  # every case gets fresh indices and endpoints
            else:
                cases.append(Case(path.stem, str(name), tuple(setup), tuple(steps)))
    # ES runs the setup section before every test, wherever the file puts it.
    return [Case(c.file, c.name, tuple(setup), c.steps) for c in cases]


@cache
def all_cases() -> tuple[Case, ...]:
    return tuple(c for p in sorted(YAML_DIR.glob("*.yml")) for c in load_file(p))
