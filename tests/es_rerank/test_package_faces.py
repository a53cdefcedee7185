"""The package's faces (the ``es-rerank`` command in ``es_rerank.cli``, the
``inference-shim`` service in ``inference_shim``) stand on the core and never on each
other: no ``es_rerank.cli`` module imports another one (the package's dispatcher loads the
subcommands by name), the shim imports nothing of ``es_rerank.cli``, and the core imports
no face. Neither the core nor the shim has an import circle, not even one through imports
for type checkers."""

from __future__ import annotations

import importlib

import pytest

from tests.helpers.import_graph import cycles, graph

CLI = "es_rerank.cli"
SHIM = "inference_shim"


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def _crosses(a: str, b: str) -> bool:
    if _in(b, CLI):  # only `python -m es_rerank` runs the command
        return a != "es_rerank.__main__"
    if _in(b, SHIM):
        return not _in(a, SHIM)
    return False


def face_crossings(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """The imports that cross from one face into another, or from the core into a face."""
    return [
        (a, b) for a, targets in sorted(edges.items()) for b in sorted(targets) if _crosses(a, b)
    ]


def test_no_face_imports_another_and_the_core_imports_none() -> None:
    edges = graph()
    assert "es_rerank.cli.eval" in edges and "inference_shim.cli" in edges  # the walk sees them
    assert face_crossings(edges) == []


def test_the_rule_sees_each_kind_of_crossing() -> None:
    edges = {
        "es_rerank.cli.calibrate": {"es_rerank.cli.eval", "es_rerank.evaluation.runs"},
        "es_rerank.cli.completion": {"es_rerank.cli"},
        "inference_shim.cli": {"es_rerank.cli", "es_rerank.command_line"},
        "es_rerank.demo": {"es_rerank.cli.index"},
        "es_rerank.search": {"inference_shim.app"},
        "es_rerank.__main__": {"es_rerank.cli"},
        "inference_shim.app": {"inference_shim.config"},
    }
    assert face_crossings(edges) == [
        ("es_rerank.cli.calibrate", "es_rerank.cli.eval"),
        ("es_rerank.cli.completion", "es_rerank.cli"),
        ("es_rerank.demo", "es_rerank.cli.index"),
        ("es_rerank.search", "inference_shim.app"),
        ("inference_shim.cli", "es_rerank.cli"),
    ]


def test_the_dispatcher_names_every_subcommand_module() -> None:
    import es_rerank.cli

    modules = {name for name in graph() if _in(name, CLI) and name != CLI}
    commands = {m for m in modules if hasattr(importlib.import_module(m), "register")}
    assert set(es_rerank.cli._COMMANDS) == commands
    assert modules - commands == {"es_rerank.cli.env_mirrors"}  # an old name, kept


@pytest.mark.parametrize(
    ("package", "type_only"),
    [
        ("es_rerank", ("es_rerank.backends.base", "es_rerank.results")),
        ("inference_shim", ("inference_shim", "inference_shim.app")),  # its lazy exports
    ],
)
def test_no_package_has_an_import_circle_even_for_type_checkers(
    package: str, type_only: tuple[str, str]
) -> None:
    edges = {
        a: {b for b in targets if _in(b, package)}
        for a, targets in graph(type_checking=True).items()
        if _in(a, package)
    }
    importer, imported = type_only
    assert imported in edges[importer]  # a type-only import is seen
    assert cycles(edges) == []
