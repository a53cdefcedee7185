"""The examples of the documentation (README.md and docs/*.md): every fenced ``python`` and
``sh`` block, with the marker comments written directly above it.

Markers (HTML comments, so they are visible in the page source and not on the site):

- ``<!-- not-run: REASON -->``: the block cannot run here (a cluster, a GPU, the hub...);
  the reason is required.
- ``<!-- runs-in: tests/PATH.py -->``: another test runs this block; that file must exist
  and name the page.
- ``<!-- server -->``: each command starts a server; it is run on a free port, waited for
  until ``/health`` answers, then stopped with SIGTERM (exit status 0 expected).
- ``<!-- run-with: shim -->``: a real shim on loopback answers ``localhost:8080`` and
  ``localhost:8081`` for this block.
- ``<!-- run-shortened: ARGS -->``: ARGS are appended to each ``es-rerank eval`` and
  ``es-rerank calibrate`` command, so a run of many minutes stays a check.
- ``<!-- example: NAME -->``: a name to refer to the block by.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LANGUAGES = ("python", "sh")
MARKERS = ("not-run", "runs-in", "server", "run-with", "run-shortened", "example")

_FENCE = re.compile(r"^```(\S*)\s*$")
_MARKER = re.compile(r"^<!--\s*([\w-]+)(?::\s*(.*?))?\s*-->\s*$")
# What makes a block slow: it loads a model, starts a server or builds an index of a corpus.
_SLOW = re.compile(
    r"--model|CrossEncoderReranker|inference-shim|es-rerank (eval|calibrate|demo|upload-model)"
    r"|semantic_text|\.\./shared/datasets"
)


@dataclass(frozen=True)
class Example:
    """One fenced block of a page, with the markers above it."""

    page: Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def is_doctest(self) -> bool:
        return self.language == "python" and self.code.lstrip().startswith(">>>")

    @property
    def slow(self) -> bool:
        return (
            bool(_SLOW.search(self.code)) or "server" in self.markers or "run-with" in self.markers
        )

    @property
    def promised_output(self) -> str | None:
        """The comment lines closing a (non-doctest) Python block: what it prints."""
        lines = self.code.rstrip("\n").splitlines()
        tail: list[str] = []
        while lines and lines[-1].startswith("#"):
            tail.insert(0, lines.pop()[1:].removeprefix(" "))
        return "\n".join(tail) if tail and lines else None


def examples(page: Path) -> list[Example]:
    """Every ``python`` and ``sh`` block of ``page``, in order."""
    found: list[Example] = []
    lines = page.read_text().splitlines()
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        start, language = i, fence.group(1)
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        markers: dict[str, str] = {}
        k = start - 1
        while k >= 0 and (m := _MARKER.match(lines[k])):
            markers[m.group(1)] = m.group(2) or ""
            k -= 1
        if language in LANGUAGES:
            code = "\n".join(lines[start + 1 : end]) + "\n"
            found.append(Example(page, start + 1, language, code, markers))
        i = end + 1
    return found


def all_examples() -> list[Example]:
    return [ex for page in PAGES for ex in examples(page)]
