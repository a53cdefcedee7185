"""``es-rerank index`` of a 20,000-line corpus with bad lines in the middle: each bad line is
rejected alone with its line number and reason, every other document is indexed into a real
on-disk local index, and numbers are coerced as Elasticsearch coerces them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from es_rerank import LocalIndex
from es_rerank.cli import main
from es_rerank.cli.index import EXIT_REJECTED

N_LINES = 20_000
BAD_AT = 10_000  # 0-based: the bad lines are 10,001 to 10,004 in the file


def _write_corpus(path: Path) -> None:
    words = ["wing", "flow", "heat", "shock", "boundary", "layer", "pressure", "drag", "lift"]
    words.append("mach")
    with path.open("wb") as fh:
        for i in range(N_LINES):
            doc = {"_id": f"d{i}", "title": f"doc {i}", "text": " ".join(words[i % 10 :])}
            doc["year"] = 1900 + i % 100
            line = json.dumps(doc).encode()
            if i == BAD_AT:  # a lone surrogate escape
                line = line.replace(b'"title": "', b'"title": "\\ud800')
            elif i == BAD_AT + 1:  # not UTF-8
                line = line.replace(b"doc ", b"doc \xff")
            elif i == BAD_AT + 2:
                line = b"{not json"
            elif i == BAD_AT + 3:  # ES refuses it too
                line = json.dumps({**doc, "year": "nineteen"}).encode()
            elif i == BAD_AT + 4:  # coerced, as in ES
                line = json.dumps({**doc, "year": "1999"}).encode()
            elif i == BAD_AT + 5:
                line = json.dumps({**doc, "year": 1.5}).encode()
            elif i == BAD_AT + 6:
                line = json.dumps({**doc, "year": 2.0}).encode()
            fh.write(line + b"\n")


def test_bad_lines_are_rejected_alone_and_the_rest_is_indexed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus, path = tmp_path / "corpus.jsonl", tmp_path / "idx"
    _write_corpus(corpus)
    code = main(["index", str(corpus), "--local", str(path), "--batch-size", "5000"])
    out, err = capsys.readouterr()
    assert code == EXIT_REJECTED, err
    assert out.strip().splitlines()[-1] == f"indexed {N_LINES - 4}, rejected 4"
    rejected = [line for line in err.splitlines() if line.startswith("rejected line")]
    assert rejected == [
        "rejected line 10001: lone surrogate \\ud800 in field 'title': not valid Unicode text",
        "rejected line 10002: not valid UTF-8: byte 0xff at column 33",
        "rejected line 10003: invalid JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
        "rejected line 10004 (id d10003): mapper_parsing_exception: failed to parse field "
        "[year] of type [integer] in document with id 'd10003'. Preview of field's value: "
        "'nineteen' (For input string: \"nineteen\")",
    ]

    index = LocalIndex(path)
    assert index.count() == N_LINES - 4
    assert index.get(f"d{BAD_AT - 1}") is not None and index.get(f"d{N_LINES - 1}") is not None
    for i in range(BAD_AT, BAD_AT + 4):
        assert index.get(f"d{i}") is None

    def years(query: dict[str, object]) -> set[str]:
        return {h.id for h in index.search_query(query, size=1000)}

    assert f"d{BAD_AT + 4}" in years({"term": {"year": 1999}})
    assert years({"term": {"year": 1}}) == {f"d{BAD_AT + 5}"}
    assert years({"term": {"year": 2}}) == {f"d{BAD_AT + 6}"}
    assert index.get(f"d{BAD_AT + 4}") == {
        "title": f"doc {BAD_AT + 4}",
        "text": "boundary layer pressure drag lift mach",
        "year": "1999",  # _source as sent
    }


def test_a_clean_corpus_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"_id": "a", "text": "x", "year": "2001"}\n{"_id": "b", "text": "y"}\n')
    assert main(["index", str(corpus), "--local", str(tmp_path / "idx")]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "indexed 2, rejected 0"
