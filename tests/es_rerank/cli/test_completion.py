"""``es-rerank completion``: the generated bash script, sourced in a real bash, completes
commands, flags and choices as the parser defines them."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from es_rerank.cli import main

BASH = shutil.which("bash")


def _complete(script: str, words: list[str]) -> list[str]:
    assert BASH is not None
    line = " ".join(words)
    quoted = " ".join(f"'{w}'" for w in words)
    program = (
        f"{script}\nCOMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
        f"COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; _shtab_es_rerank; "
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run([BASH, "-c", program], capture_output=True, text=True, check=True)
    return done.stdout.split()


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_bash_completes_commands_flags_and_choices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    assert _complete(script, ["es-rerank", "se"]) == ["search"]
    assert _complete(script, ["es-rerank", "search", "--rank"]) == ["--rank-window-size"]
    assert _complete(script, ["es-rerank", "search", "--mode", ""]) == [
        "auto", "native", "external"
    ]  # fmt: skip
    assert "--split" in _complete(script, ["es-rerank", "eval", "--sp"])


@pytest.mark.parametrize("shell", ["zsh", "tcsh"])
def test_other_shells_get_a_script_naming_every_command(
    shell: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    for command in ("search", "eval", "calibrate", "index", "endpoint", "upload-model"):
        assert command in script, (shell, command)
