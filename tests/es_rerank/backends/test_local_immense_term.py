"""A keyword value over Lucene's 32,766-byte term limit is rejected with ES's message, per
document, and the rest of the input is indexed (issue 25 item 6).

The message is ES's KeywordFieldMapper preflight check (elastic/elasticsearch
server/src/main/java/org/elasticsearch/index/mapper/KeywordFieldMapper.java at
04b1d77819dcc49fd0ff8b306598042928283519), wrapped as FieldMapper.parse wraps it (a 400
document parsing failure naming the field). ``ignore_above`` skips the value instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from es_rerank import LocalIndex
from es_rerank.cli import main
from es_rerank.cli.index import EXIT_REJECTED

MAPPING = {
    "mappings": {
        "properties": {
            "tag": {"type": "keyword"},
            "short": {"type": "keyword", "ignore_above": 10},
            "text": {"type": "text"},
        }
    }
}
LIMIT = 32766


def test_limit_is_in_utf8_bytes_and_exact(tmp_path: Path) -> None:
    index = LocalIndex(tmp_path / "idx", mapping=MAPPING)
    docs = [
        {"_id": "at-limit", "tag": "x" * LIMIT},
        {"_id": "over", "tag": "y" * (LIMIT + 1)},
        {"_id": "multibyte", "tag": "é" * (LIMIT // 2 + 1)},  # 16,384 chars, 32,768 bytes
        {"_id": "in-list", "tag": ["ok", "z" * 40_000]},
        {"_id": "text-is-fine", "text": "w" * 40_000},
    ]
    result = index.add(docs, progress=False)
    assert result.indexed == 2
    assert [r.id for r in result.rejected] == ["over", "multibyte", "in-list"]
    reason = result.rejected[0].reason
    assert reason.startswith(
        "mapper_parsing_exception: failed to parse field [tag] of type [keyword] in document "
        "with id 'over'. Preview of field's value: 'yyy"
    )
    assert reason.endswith(
        '(Document contains at least one immense term in field="tag" (whose UTF8 encoding is '
        "longer than the max length 32766), all of which were skipped. Please correct the "
        "analyzer to not produce such terms. The prefix of the first immense term is: "
        f"'[{', '.join(['121'] * 30)}]...')"
    )
    # Java prints signed bytes: é is 0xC3 0xA9 -> -61, -87
    assert "[-61, -87, -61, -87," in result.rejected[1].reason
    assert [h.id for h in index.search_query({"term": {"tag": "x" * LIMIT}}, size=5)] == [
        "at-limit"
    ]
    assert index.get("over") is None and index.get("in-list") is None


def test_ignore_above_keeps_source_but_not_the_term(tmp_path: Path) -> None:
    index = LocalIndex(tmp_path / "idx", mapping=MAPPING)
    result = index.add(
        [{"_id": "a", "short": "0123456789"}, {"_id": "b", "short": "0123456789X" * 4000}],
        progress=False,
    )
    assert result.indexed == 2 and not result.rejected
    assert [h.id for h in index.search_query({"exists": {"field": "short"}}, size=5)] == ["a"]
    assert index.get("b") == {"short": "0123456789X" * 4000}


def test_cli_rejects_the_line_and_indexes_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "c.jsonl"
    lines = [{"_id": f"d{i}", "text": f"doc {i}", "tag": "t"} for i in range(5)]
    lines[2]["tag"] = "q" * (LIMIT + 10)
    corpus.write_text("".join(json.dumps(d) + "\n" for d in lines))
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps(MAPPING))
    code = main(["index", str(corpus), "--local", str(tmp_path / "idx"), "--mapping", str(mapping)])
    out, err = capsys.readouterr()
    assert code == EXIT_REJECTED
    assert out.strip().splitlines()[-1] == "indexed 4, rejected 1"
    (line,) = [x for x in err.splitlines() if x.startswith("rejected line")]
    assert line.startswith("rejected line 3 (id d2): mapper_parsing_exception: failed to parse")
    assert 'immense term in field="tag"' in line
    assert LocalIndex(tmp_path / "idx").count() == 4
