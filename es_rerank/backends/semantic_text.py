"""``semantic_text`` fields of the local index: text chunked as ES chunks it and each chunk
embedded by a local bi-encoder named by the field's ``inference_id``.

ES's defaults (``ChunkingSettingsBuilder.DEFAULT_SETTINGS``): the ``sentence`` strategy with
``max_chunk_size`` 250 words and ``sentence_overlap`` 1; a field's ``chunking_settings`` replace
them. A document scores as its best chunk (ES: a ``nested`` ``knn`` over the chunks with
``score_mode: max``); ``match`` and ``semantic`` on the field both run that query.

>>> spec = SemanticTextSpec.from_mapping("body", {"type": "semantic_text"})
>>> spec.chunking
SentenceChunking(max_chunk_size=250, sentence_overlap=1)
>>> spec.chunks("One sentence. Another one.")
['One sentence. Another one.']
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from es_rerank.backends.vectors import DenseVectorSpec
from es_rerank.chunking.chunkers import chunk_offsets
from es_rerank.chunking.settings import (
    ChunkingSettings,
    SentenceChunking,
    chunking_settings_from_dict,
)
from es_rerank.embedding import DEFAULT_EMBEDDING_MODEL, model_directory

__all__ = ["DEFAULT_SEMANTIC_CHUNKING", "SemanticTextSpec", "chunks_field"]

#: ES's default chunking for inference (``ChunkingSettingsBuilder.DEFAULT_SETTINGS``).
DEFAULT_SEMANTIC_CHUNKING = SentenceChunking(max_chunk_size=250, sentence_overlap=1)


def chunks_field(name: str) -> str:
    """The stored bytes field holding field ``name``'s chunk texts (a JSON list)."""
    return f"_chunks_{name}"


def _model_dims(inference_id: str | None) -> int:
    """The embedding size, read from the model's files (no model is loaded)."""
    path = model_directory(inference_id)
    modules = path / "modules.json"
    if modules.is_file():
        for module in json.loads(modules.read_text()):
            if str(module.get("type", "")).endswith("Dense"):
                cfg = json.loads((path / module["path"] / "config.json").read_text())
                return int(cfg["out_features"])
    return int(json.loads((path / "config.json").read_text())["hidden_size"])


@dataclass(frozen=True)
class SemanticTextSpec:
    name: str
    inference_id: str
    chunking: ChunkingSettings
    vector: DenseVectorSpec

    @classmethod
    def from_mapping(cls, name: str, spec: Mapping[str, Any]) -> SemanticTextSpec:
        where = f"mapping field {name!r} (semantic_text)"
        unknown = sorted(
            set(spec) - {"type", "inference_id", "search_inference_id", "chunking_settings"}
        )
        if unknown:
            raise ValueError(f"{where}: parameter(s) {unknown} not supported by the local index")
        inference_id = spec.get("inference_id", DEFAULT_EMBEDDING_MODEL)
        search_id = spec.get("search_inference_id", inference_id)
        if not isinstance(inference_id, str) or search_id != inference_id:
            raise ValueError(
                f"{where}: inference_id must be a model name or path, and search_inference_id "
                "(if given) the same model"
            )
        try:
            dims = _model_dims(inference_id)
            chunking = chunking_settings_from_dict(spec.get("chunking_settings"))
        except Exception as exc:
            raise ValueError(f"{where}: {exc}") from exc
        vector = DenseVectorSpec(name, dims, "cosine", "int8_hnsw")
        return cls(name, inference_id, chunking or DEFAULT_SEMANTIC_CHUNKING, vector)

    def chunks(self, text: str) -> list[str]:
        """The chunk texts of ``text`` (none for blank text)."""
        if not text.strip():
            return []
        return [text[s:e] for s, e in chunk_offsets(text, self.chunking)]

    def texts(self, value: Any) -> list[str]:
        """The chunks of a field value: a string or an array of strings, as ES accepts."""
        values = value if isinstance(value, list) else [value]
        out: list[str] = []
        for v in values:
            if not isinstance(v, str):
                raise ValueError(f"[{self.name}] expects text or an array of text, got {v!r}")
            out.extend(self.chunks(v))
        return out
