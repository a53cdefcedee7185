"""Announced steps nest: a step inside another is shown under it, with its details."""

from __future__ import annotations

import io
import sys

from es_rerank import console


def test_a_step_inside_another_is_indented_under_it() -> None:
    stream = io.StringIO()
    console.configure(console.NORMAL, stream=stream)
    try:
        with console.long_step("loading m"):
            with console.long_step("exporting m", why="first run"):
                pass
            console.say("cached in /c (1 MB)", detail=True)
    finally:
        console.configure(console.QUIET, stream=sys.stderr)
    lines = [line.split(" in ")[0] for line in stream.getvalue().splitlines()]
    assert lines == [
        "loading m ...",
        "  exporting m (first run) ...",
        "    done",
        "    cached",
        "  done",
    ]


def test_a_failed_step_still_closes() -> None:
    stream = io.StringIO()
    console.configure(console.NORMAL, stream=stream)
    try:
        try:
            with console.long_step("loading m"):
                raise OSError("gone")
        except OSError:
            pass
        with console.long_step("next"):
            pass
    finally:
        console.configure(console.QUIET, stream=sys.stderr)
    assert stream.getvalue().splitlines()[1] == "next ..."
