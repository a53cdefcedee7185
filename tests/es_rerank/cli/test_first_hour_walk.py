"""A new user's first hour, scripted: a fresh HOME and cache, real processes, the README's
journeys in order (index, search, eval, calibrate, the score conversions, completion).
Every ``--json`` prints JSON alone on stdout, no third-party warning or progress bar
reaches the terminal, and every heavy step (importing torch, loading weights, exporting,
compiling or quantizing a model) runs under a line of the command's own: an announced step
or a progress bar (``tests/helpers/step_audit.py`` records each one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.helpers.tiny_beir import write_tiny_beir

pytestmark = pytest.mark.slow

pytest.importorskip("openvino", reason="the openvino extra is not installed")

NOISE = ("Warning", "warnings.warn", "INFO:", "torch_dtype", "Statistics collection", "it/s]")


def _run(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ES_", "TRANSFORMERS"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), PYTHONPATH=str(ROOT))
    env.pop("ES_RERANK_CACHE", None)
    report = home / "steps.json"
    done = subprocess.run(
        [sys.executable, "-m", "tests.helpers.step_audit", str(report), *argv],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, (argv, done.stderr)
    for noise in NOISE:
        assert noise not in done.stderr, (argv, noise, done.stderr)
    silent = [c for c in json.loads(report.read_text()) if not c["announced"]]
    assert not silent, (argv, silent, done.stderr)
    return done


def test_the_first_hour(tmp_path: Path, tiny_cross_encoder: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    data = write_tiny_beir(tmp_path / "ds")
    model = str(tiny_cross_encoder)

    indexed = _run(home, "index", "--local", "idx", str(data / "corpus.jsonl"))
    assert indexed.stdout.startswith("indexed 4, rejected 0")
    # embedding a semantic_text field loads the bi-encoder (what the hybrid demo does first)
    corpus = str(data / "corpus.jsonl")
    semantic = _run(home, "index", "--local", "sem", "--mapping", "passages-semantic", corpus)
    assert "loading the embedding model" in semantic.stderr

    search = ["search", "--local", "idx", "--query", "wing lift", "--model", model]
    first = _run(home, *search, "--runtime", "openvino", "--dtype", "int8", "--json")
    hits = json.loads(first.stdout)["hits"]["hits"]
    assert {h["_id"] for h in hits} <= {"d1", "d2", "d3", "d4"} and hits
    assert "exporting" in first.stderr  # the long first-run step, announced
    assert "exporting" not in _run(home, *search, "--runtime", "openvino", "--dtype",
                                   "int8", "--json").stderr  # fmt: skip

    report = json.loads(_run(home, "eval", "--dataset", str(data), "--model", model,
                             "--json").stdout)  # fmt: skip
    assert report["queries"] == 2 and "ndcg@10" in report["metrics"]["reranked"]

    calibration = json.loads(
        _run(home, "calibrate", "--dataset", str(data), "--model", model, "--json").stdout
    )
    assert calibration["points"]

    assert json.loads(_run(home, "normalize", "0", "--json").stdout) == {
        "raw": [0.0], "normalized": [1.0]
    }  # fmt: skip
    assert "_shtab_es_rerank" in _run(home, "completion", "bash").stdout
