"""Read a retrieval collection in the BEIR layout: ``corpus.jsonl``, ``queries.jsonl``,
``qrels/test.tsv`` (``query-id corpus-id score`` rows, header optional, graded)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BeirDataset", "load_beir"]


@dataclass(frozen=True)
class BeirDataset:
    path: Path
    corpus: Path
    queries: dict[str, str]  # judged queries only, file order
    qrels: dict[str, dict[str, int]]


def load_beir(path: str | Path, *, split: str = "test") -> BeirDataset:
    """Load queries and qrels of ``path`` (judgments from ``qrels/<split>.tsv``); the corpus
    stays on disk (it is streamed)."""
    if not split or not all(c.isalnum() or c in "-_." for c in split) or split.startswith("."):
        raise ValueError(f"split must be a qrels file name such as test or dev, got {split!r}")
    root = Path(path)
    corpus, queries_file, qrels_file = (
        root / "corpus.jsonl",
        root / "queries.jsonl",
        root / "qrels" / f"{split}.tsv",
    )
    for f in (corpus, queries_file, qrels_file):
        if not f.is_file():
            raise FileNotFoundError(f"dataset {root}: missing {f.relative_to(root)} (BEIR layout)")
    qrels: dict[str, dict[str, int]] = {}
    with qrels_file.open(newline="") as fh:
        rows = csv.reader(fh, delimiter="\t")
        first = next(rows, None)
        # The header line is optional (some exports omit it): a non-integer score marks it.
        if first is not None and not (len(first) >= 3 and first[2].strip().lstrip("-").isdigit()):
            first = None
        if first is not None:
            qrels.setdefault(first[0], {})[first[1]] = int(first[2])
        for lineno, row in enumerate(rows, start=2):
            if len(row) < 3:
                raise ValueError(f"{qrels_file}:{lineno}: expected 3 columns, got {row!r}")
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    queries: dict[str, str] = {}
    with queries_file.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            obj = json.loads(line)
            if not isinstance(obj, dict) or "_id" not in obj or "text" not in obj:
                raise ValueError(f"{queries_file}:{lineno}: needs '_id' and 'text'")
            if str(obj["_id"]) in qrels:
                queries[str(obj["_id"])] = str(obj["text"])
    missing = sorted(set(qrels) - set(queries))
    if missing:
        raise ValueError(f"{qrels_file}: judged queries absent from queries.jsonl: {missing[:5]}")
    return BeirDataset(path=root, corpus=corpus, queries=queries, qrels=qrels)
