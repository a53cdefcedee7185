"""Every environment variable the shim reads is in one table, ``inference_shim.config.VARIABLES``
(one per setting, read as :class:`es_rerank.env.Variable` reads): no module of the shim
touches ``os.environ`` or ``os.getenv`` itself."""

from __future__ import annotations

import ast
import dataclasses

import pytest

from inference_shim.config import ENV_PREFIX, VARIABLES, Settings, settings_from_argv
from tests.helpers.import_graph import modules


def _environ_uses(tree: ast.AST) -> list[int]:
    """Lines naming ``os.environ``, ``os.getenv`` or ``environ``/``getenv`` imported from
    ``os``: any use, an alias (``env = os.environ``) included."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and ast.unparse(node) in ("os.environ", "os.getenv"):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            lines += [node.lineno for a in node.names if a.name in ("environ", "getenv")]
    return sorted(lines)


def test_no_module_of_the_shim_reads_the_environment_itself() -> None:
    found = {
        name: lines
        for name, path in modules()
        if name.startswith("inference_shim")
        if (lines := _environ_uses(ast.parse(path.read_text())))
    }
    assert found == {}


def test_the_reader_sees_each_way_of_reading() -> None:
    tree = ast.parse(
        'os.environ.get("A")\nos.getenv("B")\nenv = os.environ\nfrom os import environ\nx = 1'
    )
    assert _environ_uses(tree) == [1, 2, 3, 4]


def test_the_table_has_one_variable_per_setting() -> None:
    names = [v.name for v in VARIABLES]
    assert len(names) == len(set(names))
    assert sorted(names) == sorted(
        ENV_PREFIX + f.name.upper() for f in dataclasses.fields(Settings)
    )
    assert all(v.about for v in VARIABLES)


def test_a_variable_sets_its_flags_default_and_a_flag_wins() -> None:
    env = {"SHIM_PORT": " 9001 ", "SHIM_PROTECT_INFO": "yes", "SHIM_MAX_QUEUE": "3"}
    s = settings_from_argv(["--scorer", "m:f", "--max-queue", "5"], environ=env)
    assert (s.port, s.protect_info, s.max_queue) == (9001, True, 5)


def test_an_empty_variable_is_unset() -> None:
    s = settings_from_argv(["--scorer", "m:f"], environ={"SHIM_PORT": "", "SHIM_API_KEY": " "})
    assert (s.port, s.api_key) == (Settings().port, None)


@pytest.mark.parametrize(("var", "text"), [("SHIM_PORT", "eighty"), ("SHIM_PROTECT_INFO", "2")])
def test_a_bad_value_names_its_variable(
    var: str, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        settings_from_argv(["--scorer", "m:f"], environ={var: text})
    assert f"environment variable {var}:" in capsys.readouterr().err
