"""``es-rerank completion bash|zsh|tcsh``: the shell completion script for every command and
flag, generated from the parser itself (shtab), so it never falls behind ``--help``."""

from __future__ import annotations

import argparse
from typing import Any

SHELLS = ("bash", "zsh", "tcsh")


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "completion",
        help="print a shell completion script",
        description=(
            "Print the completion script for SHELL. bash: "
            'eval "$(es-rerank completion bash)" in ~/.bashrc; zsh: es-rerank completion zsh '
            '> "${fpath[1]}/_es-rerank"; tcsh: eval `es-rerank completion tcsh`.'
        ),
    )
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import shtab

    # the whole command's parser, which es_rerank.cli.build_parser puts in every namespace
    print(shtab.complete(args.parser, shell=args.shell))
    return 0
