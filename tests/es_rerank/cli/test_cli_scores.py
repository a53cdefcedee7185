import subprocess
import sys

import pytest

from es_rerank.cli import main


def test_normalize_command(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["normalize", "-1", "2"]) == 0
    out = capsys.readouterr().out.split("\n")
    assert "0.367879441" in out[0]
    assert out[1].rstrip().endswith("3")


@pytest.mark.slow
def test_denormalize_bad_value_is_a_clear_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "es_rerank", "denormalize", "0"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "normalized score must be finite and > 0" in proc.stderr
