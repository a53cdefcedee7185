"""Kill ``es-rerank index`` with SIGKILL mid-run, re-run it: nothing lost or doubled."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from es_rerank import LocalIndex
from es_rerank.cli import main
from es_rerank.cli.index import EXIT_REJECTED
from tests.helpers.kill_indexing import kill_after_first_commit

pytestmark = pytest.mark.slow

N_DOCS = 20_000


def _write_corpus(path: Path) -> None:
    words = [
        "wing",
        "flow",
        "heat",
        "shock",
        "boundary",
        "layer",
        "pressure",
        "drag",
        "lift",
        "mach",
    ]
    with path.open("w") as fh:
        for i in range(N_DOCS):
            text = " ".join(words[(i * 7 + k) % len(words)] for k in range(40))
            fh.write(json.dumps({"_id": f"d{i}", "title": f"doc {i}", "text": text}) + "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_killed_index_run_resumes_exactly_once(tmp_path: Path) -> None:
    corpus, path = tmp_path / "big.jsonl", tmp_path / "idx"
    _write_corpus(corpus)
    seen = kill_after_first_commit(path, str(corpus), "--batch-size", "20")
    partial = LocalIndex(path).count()
    assert seen <= partial < N_DOCS  # committed batches survived, the rest is absent

    assert main(["index", str(corpus), "--local", str(path), "--batch-size", "5000"]) == 0
    index = LocalIndex(path)
    assert index.count() == N_DOCS
    for probe in ("d0", f"d{partial}", f"d{N_DOCS - 1}"):
        hits = index.search_query({"term": {"title": probe[1:]}}, size=N_DOCS)
        assert probe in [h.id for h in hits]
    # each id exactly once: match_all over everything returns N distinct ids
    all_ids = [h.id for h in index.search_query(None, size=N_DOCS + 10)]
    assert len(all_ids) == N_DOCS == len(set(all_ids))


def test_index_cli_lists_rejects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "d.jsonl"
    f.write_text('{"_id": "a", "text": "ok"}\n{"text": "no id"}\nnot json\n')
    assert main(["index", str(f), "--local", str(tmp_path / "i")]) == EXIT_REJECTED
    captured = capsys.readouterr()
    assert "indexed 1, rejected 2" in captured.out
    assert "line 2: missing id" in captured.err and "line 3: invalid JSON" in captured.err
    assert main(["index", str(tmp_path / "nope.jsonl"), "--local", str(tmp_path / "i")]) == 2
