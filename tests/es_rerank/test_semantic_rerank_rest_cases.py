"""ES's REST cases for ``chunk_rescorer`` over a ``semantic_text`` field, run over LocalIndex.

Source: elastic/elasticsearch, x-pack/plugin/inference/src/yamlRestTest/resources/
rest-api-spec/test/inference/70_text_similarity_rank_retriever.yml at
0128e30676c6961849e4d2d0f92b6b1eb58e4433 (the cases "Reranking based on rescore_chunks on a
semantic_text field ..." and "chunk_rescorer ... first chunk if no text matches found").
The index is the file's ``setup``: ``text`` is copied (``copy_to``) into
``semantic_text_field`` chunked in words of 10 with overlap 1. Two substitutions, since no ES
test plugin runs here: the field's ``inference_id`` (ES's ``sparse-inference-id`` test service)
is the packaged all-MiniLM-L6-v2, and ``my-rerank-model`` (ES's ``test_reranking_service``,
which scores non-numeric inputs by position, the later higher) is that same rule.
"""

from __future__ import annotations

from typing import Any

import pytest

from es_rerank import LocalIndex, search
from es_rerank.errors import RetrieverValidationError

MAPPING = {
    "mappings": {
        "properties": {
            "text": {"type": "text", "copy_to": "semantic_text_field"},
            "topic": {"type": "keyword"},
            "subtopic": {"type": "keyword"},
            "inference_text_field": {"type": "text"},
            "semantic_text_field": {
                "type": "semantic_text",
                "chunking_settings": {"strategy": "word", "max_chunk_size": 10, "overlap": 1},
            },
        }
    }
}
DOCS = [
    {
        "_id": "doc_2",
        "text": "The phases of the Moon come from the position of the Moon relative to the "
        "Earth and Sun.",
        "topic": ["science"],
        "subtopic": ["astronomy"],
        "inference_text_field": "0",
    },
    {
        "_id": "doc_3",
        "text": "Sun Moon Lake is a lake in Nantou County, Taiwan. It is the largest lake in "
        "Taiwan.",
        "topic": ["geography"],
        "inference_text_field": "1",
    },
    {
        "_id": "doc_1",
        "text": "As seen from Earth, a solar eclipse happens when the Moon is directly between "
        "the Earth and the Sun.",
        "topic": ["science"],
        "subtopic": ["technology"],
        "inference_text_field": "-1",
    },
]
QUESTION = "how often does the moon hide the sun?"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> LocalIndex:
    idx = LocalIndex(tmp_path_factory.mktemp("rest"), mapping=MAPPING)
    assert idx.add(DOCS, progress=False).indexed == 3
    return idx


class Recorder:
    """ES's test_reranking_service on text: the i-th input scores i."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, query: str, texts: list[str]) -> list[float]:
        self.calls.append(list(texts))
        return [float(i) for i in range(len(texts))]


def _run(index: LocalIndex, rescorer: Any, text: str = QUESTION) -> tuple[list[str], Recorder]:
    body: dict[str, Any] = {
        "retriever": {"standard": {"query": {"match": {"topic": {"query": "science"}}}}},
        "rank_window_size": 10,
        "inference_id": "my-rerank-model",
        "inference_text": text,
        "field": "semantic_text_field",
    }
    if rescorer is not None:
        body["chunk_rescorer"] = rescorer
    rec = Recorder()
    res = search(
        {"text_similarity_reranker": body}, backend=index, reranker=rec, size=10, mode="external"
    )
    assert res.total == 2
    return [h.id for h in res.hits], rec


@pytest.mark.parametrize(
    ("case", "rescorer", "per_doc"),
    [
        ("on a semantic_text field", {"size": 2}, 2),
        ("on a semantic_text field using defaults", {}, 1),
        ("specifying chunk size", {"size": 20}, 2),
        # explicit settings other than the field's: the text is chunked again, BM25-scored
        (
            "specifying chunking settings",
            {
                "chunking_settings": {
                    "strategy": "sentence",
                    "max_chunk_size": 20,
                    "sentence_overlap": 0,
                }
            },
            1,
        ),
        ("only max chunk size", {"size": 20, "chunking_settings": {"max_chunk_size": 20}}, 1),
    ],
)
def test_rescore_chunks_on_semantic_text(
    index: LocalIndex, case: str, rescorer: dict[str, Any], per_doc: int
) -> None:
    ids, rec = _run(index, rescorer)
    assert ids == ["doc_1", "doc_2"], case
    (sent,) = rec.calls
    # doc_2 then doc_1 (the child's order); each 17-18 word text has 2 chunks of the field
    assert len(sent) == 2 * per_doc
    if per_doc == 2:
        assert set(sent[:2]) == set(index.chunks("doc_2", "semantic_text_field"))
        assert set(sent[2:]) == set(index.chunks("doc_1", "semantic_text_field"))


def test_default_rescorer_sends_the_chunk_closest_by_embeddings(index: LocalIndex) -> None:
    _, rec = _run(index, {})
    chunks = index.chunks("doc_1", "semantic_text_field")
    assert len(chunks) == 2
    best = index.best_chunks("doc_1", "semantic_text_field", QUESTION, 1)
    assert best is not None and rec.calls[0][1] == best[0] and best[0] in chunks
    # the field's own chunks (10 words, overlap 1), not the rescorer's default 300-word ones
    assert all(len(c.split()) <= 10 for c in rec.calls[0])


def test_no_text_match_still_sends_a_chunk_and_no_rescorer_sends_the_value(
    index: LocalIndex,
) -> None:
    ids, rec = _run(index, {}, "iamanonsensefieldthatshouldreturnnoresults")
    assert ids == ["doc_1", "doc_2"] and len(rec.calls[0]) == 2
    ids, rec = _run(index, None)
    assert ids == ["doc_1", "doc_2"]
    assert rec.calls[0] == [DOCS[0]["text"], DOCS[2]["text"]]  # the copied values


def test_invalid_chunking_settings_are_refused(index: LocalIndex) -> None:
    bad = {
        "size": 20,
        "chunking_settings": {"strategy": "sentence", "max_chunk_size": 10, "sentence_overlap": 20},
    }
    with pytest.raises(RetrieverValidationError, match="Invalid value"):
        _run(index, bad)
