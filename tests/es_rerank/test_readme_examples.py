"""The README's self-contained examples (a ``<!-- example: NAME -->`` line before a Python
block) run as written and print what their last comment says."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow

EXAMPLE = re.compile(r"<!-- example: ([\w-]+) -->\n```python\n(.*?)```", re.S)
EXAMPLES = dict(EXAMPLE.findall((ROOT / "README.md").read_text()))


def test_the_readme_has_its_examples() -> None:
    assert "async-local" in EXAMPLES


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_prints_what_it_says(name: str) -> None:
    code = EXAMPLES[name]
    promised = re.findall(r"#\s*(\[.*\])\s*$", code, re.M)[-1]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == promised
