"""The pages say what the code has: README.md stays the pitch with the two commands, the
command-line page names every command, and the environment page every variable the
commands read (each list derived from the code, not copied)."""

from __future__ import annotations

import argparse
import doctest
import importlib.util
import re

from es_rerank.cli import build_parser as es_rerank_parser
from es_rerank.elastic.connection import ENV_VARS
from es_rerank.env_mirrors import ENV_MIRRORS
from inference_shim.cli import build_parser as shim_parser
from inference_shim.config import PROCESS_VARIABLES
from inference_shim.config import VARIABLES as SHIM_VARIABLES
from tests.docs.examples import ROOT

DOCS = ROOT / "docs"


def _subcommands(parser: argparse.ArgumentParser) -> list[str]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(sub.choices)


def test_readme_is_the_pitch_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 250
    assert re.search(r"^make demo\b", readme, re.M) and re.search(r"^make test\b", readme, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    for face in ("the client", "the inference shim", "uploading a model", "evaluation"):
        assert re.search(rf"^## Quickstart: .*{face}", readme, re.M | re.I), face


def test_every_readme_link_into_docs_resolves() -> None:
    links = re.findall(r"\]\((docs/[^)#]+)(?:#[^)]*)?\)", (ROOT / "README.md").read_text())
    assert links
    for link in links:
        assert (ROOT / link).is_file(), link


def test_the_command_line_page_names_every_command() -> None:
    page = (DOCS / "cli.md").read_text()
    for name in _subcommands(es_rerank_parser()):
        assert f"`es-rerank {name}" in page or f"`{name}`" in page, name
    for name in _subcommands(shim_parser()):
        assert f"`inference-shim {name}`" in page, name


def test_the_environment_page_names_every_variable() -> None:
    page = (DOCS / "environment.md").read_text()
    shim_page = (DOCS / "shim.md").read_text()
    for var in [*ENV_MIRRORS.values(), *ENV_VARS.values()]:
        assert f"`{var}`" in page, var
    for variable in SHIM_VARIABLES:
        assert f"`{variable.name}`" in page and f"`{variable.name}`" in shim_page, variable
    for variable in PROCESS_VARIABLES:
        assert f"`{variable.name}" in page, variable


def test_the_api_reference_griffe_extension_fences_doctests() -> None:
    path = DOCS / "_griffe" / "doctest_fences.py"
    spec = importlib.util.spec_from_file_location("doctest_fences", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert doctest.testmod(module).failed == 0
    assert module.fence_doctests("text\n>>> x\n1") == "text\n```pycon\n>>> x\n1\n```"
