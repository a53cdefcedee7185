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
