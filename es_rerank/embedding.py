"""Text embeddings for the local index: a sentence-transformers bi-encoder run in token-budget
batches (the project's length-sorted batching), with an on-disk cache by content so that a
re-index embeds only the texts that changed.

Models are named as ``inference_id`` / ``model_id`` name them in ES: absent or
``all-MiniLM-L6-v2`` (also ``sentence-transformers/all-MiniLM-L6-v2``) is the offline model the
``[bi-encoder]`` extra ships; anything else must be the directory of a sentence-transformers
bi-encoder (no model hub is asked).

>>> e = Embedder()
>>> v = e.embed(["wing lift", "heat transfer"])
>>> v.shape, round(float((v[0] ** 2).sum()), 4)
((2, 384), 1.0)
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from es_rerank.console import long_step
from es_rerank.runtime.batching import DEFAULT_MAX_BATCH_TOKENS, plan_batches

__all__ = ["DEFAULT_EMBEDDING_MODEL", "Embedder", "EmbeddingCache", "embedder_for"]

#: The model ``semantic_text`` and ``text_embedding`` use when none is named.
DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
_PACKAGED_NAMES = {DEFAULT_EMBEDDING_MODEL, "sentence-transformers/all-MiniLM-L6-v2"}

_LOADED: dict[str, Embedder] = {}
_LOCK = threading.Lock()


def model_directory(name: str | None) -> Path:
    """The directory of the embedding model ``name`` (see the module doc)."""
    from es_rerank.models import ModelLoadError, packaged_bi_encoder_path

    if name is None or name in _PACKAGED_NAMES:
        return Path(packaged_bi_encoder_path())
    path = Path(name).expanduser()
    if not (path / "config.json").is_file():
        raise ModelLoadError(
            f"embedding model {name!r}: not {DEFAULT_EMBEDDING_MODEL!r} and not the directory "
            "of a sentence-transformers bi-encoder (no config.json there)"
        )
    return path


def embedder_for(name: str | None) -> Embedder:
    """One shared :class:`Embedder` per model in this process."""
    key = str(model_directory(name))
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = Embedder(key)
        return _LOADED[key]


class EmbeddingCache:
    """Embeddings by (model, text) digest in a SQLite file: committed with each batch, so a
    killed run keeps what it embedded."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (key BLOB PRIMARY KEY, vec BLOB)")
        self._db.commit()

    def get(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        out: dict[bytes, bytes] = {}
        for start in range(0, len(keys), 500):
            part = list(keys[start : start + 500])
            marks = ",".join("?" * len(part))
            rows = self._db.execute(f"SELECT key, vec FROM emb WHERE key IN ({marks})", part)
            out.update({bytes(k): bytes(v) for k, v in rows})
        return out

    def put(self, items: Sequence[tuple[bytes, bytes]]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?)", items)
        self._db.commit()

    def close(self) -> None:
        self._db.close()


class Embedder:
    """Unit-length float32 embeddings of texts with one bi-encoder."""

    def __init__(
        self, model: str | None = None, *, max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS
    ) -> None:
        from es_rerank.runtime import load_runtime
        from es_rerank.runtime.function_runtime import BiEncoderRuntime

        path = model_directory(model)
        with long_step(f"loading the embedding model {path}"):
            runtime = load_runtime(str(path))
        if not isinstance(runtime, BiEncoderRuntime):
            raise ValueError(f"embedding model {model!r} is not a bi-encoder")
        self.name = str(path)
        self._model: Any = runtime.model
        dims = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self.dims = int(dims())
        self.max_batch_tokens = max_batch_tokens
        self._digest = hashlib.sha256(self.name.encode()).digest()[:8]
        self.encoded = 0  # texts run through the model (cache hits excluded)
        self._queries: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._queries_lock = threading.Lock()

    def query(self, text: str) -> npt.NDArray[np.float32]:
        """The embedding of one query text; the last 1,024 are kept, since a search tree
        (a hybrid, its reranked twin, the total count) asks for the same query often."""
        with self._queries_lock:
            hit = self._queries.get(text)
            if hit is not None:
                self._queries.move_to_end(text)
                return hit
        vector: npt.NDArray[np.float32] = self.embed([text])[0]
        with self._queries_lock:
            self._queries[text] = vector
            while len(self._queries) > 1024:
                self._queries.popitem(last=False)
        return vector

    def key(self, text: str) -> bytes:
        return hashlib.sha256(self._digest + text.encode()).digest()[:16]

    def embed(
        self,
        texts: Sequence[str],
        *,
        cache: EmbeddingCache | None = None,
        progress: Any = None,
    ) -> npt.NDArray[np.float32]:
        """One row per text; ``cache`` is read first and filled with what was encoded;
        ``progress`` (a tqdm bar) is advanced per encoded text."""
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        keys = [self.key(t) for t in texts]
        found = cache.get(keys) if cache is not None else {}
        todo: dict[str, list[int]] = {}
        for i, (text, key) in enumerate(zip(texts, keys, strict=True)):
            if key in found:
                out[i] = np.frombuffer(found[key], dtype=np.float32)
            else:
                todo.setdefault(text, []).append(i)
        if progress is not None:
            progress.update(len(texts) - sum(len(v) for v in todo.values()))
        if not todo:
            return out
        unique = list(todo)
        tokenizer = self._model.tokenizer
        limit = int(self._model.max_seq_length)
        lengths = [
            min(len(ids), limit)
            for ids in tokenizer(unique, add_special_tokens=True, truncation=False)["input_ids"]
        ]
        fresh: list[tuple[bytes, bytes]] = []
        for batch in plan_batches(lengths, max_batch_tokens=self.max_batch_tokens):
            emb = self._model.encode(
                [unique[i] for i in batch],
                batch_size=len(batch),
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            for i, row in zip(batch, np.asarray(emb, dtype=np.float32), strict=True):
                for j in todo[unique[i]]:
                    out[j] = row
                fresh.append((keys[todo[unique[i]][0]], row.tobytes()))
                if progress is not None:
                    progress.update(len(todo[unique[i]]))
            self.encoded += len(batch)
        if cache is not None:
            cache.put(fresh)
        return out
