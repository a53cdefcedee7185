"""Run ``es-rerank index`` in a subprocess and SIGKILL it once a first batch is committed,
for the crash-safety tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from es_rerank import LocalIndex


def kill_after_first_commit(index_path: Path, *args: str) -> int:
    """Start ``es-rerank index ARGS --local INDEX_PATH``, SIGKILL it as soon as the index
    holds a document, and return how many it held then."""
    cmd = [sys.executable, "-m", "es_rerank", "index", *args, "--local", str(index_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        seen = 0
        while time.monotonic() < deadline and proc.poll() is None:
            if (index_path / "es_rerank_mapping.json").exists():
                try:
                    seen = LocalIndex(index_path).count()
                except ValueError:  # caught while the index is being created
                    seen = 0
                if seen > 0:
                    break
            time.sleep(0.02)
        assert proc.poll() is None, "indexing finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    return seen
