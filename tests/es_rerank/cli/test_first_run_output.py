"""A first run as a new user sees it: a fresh HOME and cache, a real process, a model exported
to OpenVINO int8. stdout carries the result only (``--json`` parses), the command announces
its long steps on stderr, and the exporters' own output (NNCF's progress bars and INFO lines,
tracer warnings) stays off the terminal unless ``-v`` asks for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from es_rerank import LocalIndex
from tests.helpers import ROOT

pytestmark = pytest.mark.slow

pytest.importorskip("openvino", reason="the openvino extra is not installed")

THIRD_PARTY_NOISE = ("TracerWarning", "INFO:nncf", "Statistics collection", "torch_dtype")


@pytest.fixture
def index(tmp_path: Path) -> Path:
    idx = LocalIndex(tmp_path / "idx", create=True)
    idx.add(
        [
            {"_id": "1", "text": "the moon hides the sun"},
            {"_id": "2", "text": "cats purr"},
            {"_id": "3", "text": "a solar eclipse every eighteen months"},
        ]
    )
    return tmp_path / "idx"


def _search(index: Path, model: Path, home: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ES_RERANK", "TRANSFORMERS"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "es_rerank", "search", "--local", str(index), "--query",
               "moon", "--field", "text", "--model", str(model), "--runtime", "openvino",
               "--dtype", "int8", "--json", *flags]  # fmt: skip
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_first_run_stdout_is_json_and_the_export_is_announced(
    index: Path, tiny_cross_encoder: Path, tmp_path: Path
) -> None:
    first = _search(index, tiny_cross_encoder, tmp_path / "home")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["hits"]["total"]["value"] >= 1
    lines = first.stderr.splitlines()
    announce = [n for n, line in enumerate(lines) if line.lstrip().startswith("exporting ")]
    assert announce, first.stderr
    assert "int8" in lines[announce[-1]] and "first run" in lines[announce[-1]]
    assert any("cached in " + str(tmp_path / "home" / ".cache") in line for line in lines)
    for noise in THIRD_PARTY_NOISE:
        assert noise not in first.stderr + first.stdout
    # the second run loads the cached export and says nothing of exports
    again = _search(index, tiny_cross_encoder, tmp_path / "home")
    assert again.returncode == 0 and "exporting" not in again.stderr
    assert json.loads(again.stdout) == json.loads(first.stdout) | {
        "took": json.loads(again.stdout)["took"]
    }


def test_quiet_prints_nothing_but_the_result(
    index: Path, tiny_cross_encoder: Path, tmp_path: Path
) -> None:
    quiet = _search(index, tiny_cross_encoder, tmp_path / "home", "--quiet")
    assert quiet.returncode == 0, quiet.stderr
    json.loads(quiet.stdout)
    assert quiet.stderr.strip() == ""


def test_verbose_shows_the_exporters_on_stderr_only(
    index: Path, tiny_cross_encoder: Path, tmp_path: Path
) -> None:
    loud = _search(index, tiny_cross_encoder, tmp_path / "home", "-v")
    assert loud.returncode == 0, loud.stderr
    json.loads(loud.stdout)
    assert "nncf" in loud.stderr.lower()
