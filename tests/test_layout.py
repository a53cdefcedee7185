"""The rules of tests/README.md: tests mirror the packages, module names are unique, one
shim launcher, and no project module is skipped when it is missing."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from tests.helpers import ROOT

TESTS = ROOT / "tests"
CROSS_CUTTING = ("conformance", "docs", "elasticsearch", "spec")
LAUNCHER = TESTS / "helpers" / "shim.py"


def _test_modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if p != Path(__file__).resolve())


def _sources() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if p != Path(__file__).resolve())


def _misplaced(path: Path) -> str | None:
    """Why ``path`` is not where tests/README.md puts it (None: it is)."""
    parts = path.relative_to(TESTS).parts
    if parts[0] in CROSS_CUTTING:
        return None
    if parts[0] in ("es_rerank", "inference_shim"):
        package = ROOT.joinpath(*parts[:-1])
        if (package / "__init__.py").is_file():
            return None
        return f"{'/'.join(parts[:-1])} is not a package"
    return f"{parts[0]}/ is neither a package's folder nor one of {CROSS_CUTTING}"


def test_every_test_module_sits_in_its_packages_folder_or_a_cross_cutting_one() -> None:
    misplaced = {str(p.relative_to(TESTS)): why for p in _test_modules() if (why := _misplaced(p))}
    assert not misplaced, misplaced


def test_test_module_names_are_unique() -> None:
    # The test folders have no __init__.py: pytest imports each module by its bare name.
    names = Counter(p.name for p in _test_modules())
    assert not [name for name, n in names.items() if n > 1]


def test_the_misplaced_rule_catches_an_old_folder() -> None:
    assert _misplaced(TESTS / "unit" / "test_x.py")
    assert _misplaced(TESTS / "es_rerank" / "nosuchpackage" / "test_x.py")
    assert _misplaced(TESTS / "es_rerank" / "cli" / "test_x.py") is None


PROJECT_SKIP = re.compile(
    r"""(importorskip|find_spec)\(\s*["'](es_rerank|inference_shim|tests)\b"""
)


def test_no_project_module_is_skipped_when_missing() -> None:
    """A missing project module is a failure; only optional third-party extras skip."""
    found = [
        str(p.relative_to(TESTS))
        for p in _sources()
        if PROJECT_SKIP.search(p.read_text(encoding="utf-8"))
    ]
    assert not found
    assert PROJECT_SKIP.search('pytest.importorskip("tests.conformance.cases")')
    assert not PROJECT_SKIP.search('pytest.importorskip("openvino")')


SHIM_START = re.compile(r"""make_server\(|["']inference_shim["'],\s*["']serve["']""")


def test_only_the_launcher_starts_a_shim() -> None:
    starters = [
        str(p.relative_to(TESTS))
        for p in _sources()
        if p != LAUNCHER and SHIM_START.search(p.read_text(encoding="utf-8"))
    ]
    assert not starters, "start shims with tests/helpers/shim.py"
    assert SHIM_START.search(LAUNCHER.read_text(encoding="utf-8"))
