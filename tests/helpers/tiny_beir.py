"""A four-document BEIR-layout collection (two judged queries, one empty document) for the
dataset commands' tests."""

from __future__ import annotations

import json
from pathlib import Path


def write_tiny_beir(root: Path) -> Path:
    """Write ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/test.tsv`` under ``root``."""
    (root / "qrels").mkdir(parents=True)
    docs = [
        ("d1", "wing lift", "the lift of a swept wing at low speed"),
        ("d2", "heat transfer", "heat transfer in a hypersonic boundary layer"),
        ("d3", "shock waves", "shock waves on a wing at high mach number"),
        ("d4", "empty", ""),
    ]
    with (root / "corpus.jsonl").open("w") as fh:
        for i, t, x in docs:
            fh.write(json.dumps({"_id": i, "title": t, "text": x}) + "\n")
    (root / "queries.jsonl").write_text(
        '{"_id": "1", "text": "wing lift"}\n{"_id": "2", "text": "boundary layer heat"}\n'
    )
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n1\td1\t2\n1\td3\t1\n2\td2\t1\n"
    )
    return root
