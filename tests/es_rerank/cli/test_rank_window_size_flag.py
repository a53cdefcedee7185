"""One spelling for the window across commands: ``--rank-window-size`` (ES's parameter),
wherever a command reranks the top hits of a first stage. An old spelling (``demo
--window``) still works, with a deprecation note on stderr."""

from __future__ import annotations

import argparse

import pytest

from es_rerank.cli import build_parser

#: The endpoint's task setting: the most results one call returns, not a window reranked.
OTHER_MEANINGS = {"--max-window"}


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(subs.choices)


def test_every_window_flag_is_spelled_rank_window_size() -> None:
    visible: dict[str, set[str]] = {}
    for name, sub in _subcommands().items():
        for action in sub._actions:
            for flag in action.option_strings:
                if "window" not in flag or flag in OTHER_MEANINGS:
                    continue
                if action.help == argparse.SUPPRESS:  # an old spelling, kept for a while
                    assert action.dest == "rank_window_size", (name, flag)
                    continue
                visible.setdefault(flag, set()).add(name)
    assert visible == {"--rank-window-size": {"search", "demo", "eval", "calibrate"}}


def test_demo_window_still_works_with_a_deprecation_note(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = build_parser().parse_args(["demo", "--window", "7"])
    assert args.rank_window_size == 7
    err = capsys.readouterr().err
    assert "--window is deprecated" in err and "use --rank-window-size" in err

    args = build_parser().parse_args(["demo", "--rank-window-size", "9"])
    assert args.rank_window_size == 9
    assert capsys.readouterr().err == ""
    assert build_parser().parse_args(["demo"]).rank_window_size == 30


def test_demo_reads_the_window_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ES_RERANK_RANK_WINDOW_SIZE", "12")
    assert build_parser().parse_args(["demo"]).rank_window_size == 12
