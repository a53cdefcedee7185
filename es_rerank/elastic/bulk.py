"""One bulk indexer for Elasticsearch (``helpers.streaming_bulk``): documents from an
iterable or a JSONL file, indexed by id (re-running is idempotent), every rejected document
reported with its line and reason, never silently dropped.

>>> from elasticsearch import Elasticsearch
>>> client = Elasticsearch("http://localhost:9200")
>>> bulk_index(client, "docs", "docs.jsonl", mapping="passages")  # doctest: +SKIP
AddResult(indexed=3, rejected=[])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sized
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch, helpers

from es_rerank.documents import AddResult, Rejected, count_lines, document_error, read_jsonl
from es_rerank.elastic.cluster import ensure_index
from es_rerank.elastic.errors import translated
from es_rerank.errors import ConfigurationError

__all__ = ["bulk_index"]


def _item_reason(info: Mapping[str, Any]) -> str:
    error = info.get("error")
    if isinstance(error, Mapping):
        caused = error.get("caused_by")
        reason = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        if isinstance(caused, Mapping) and caused.get("reason"):
            reason += f" ({caused['reason']})"
        return reason
    return str(error or f"HTTP {info.get('status')}")


def bulk_index(
    client: Elasticsearch,
    index: str,
    docs: Iterable[Any] | str | Path,
    *,
    id_field: str = "_id",
    mapping: Mapping[str, Any] | str | Path | None = None,
    batch_size: int = 500,
    refresh: bool = True,
    progress: bool = True,
) -> AddResult:
    """Index ``docs`` (dicts, or the path of a JSONL file) into ``index`` by ``id_field``,
    creating the index from ``mapping`` first when it is absent (``None``: never create).

    Lines that are not UTF-8 or not JSON, documents that are not JSON objects, lack the
    id or hold a lone surrogate (refused here, before sending), and documents that ES
    refuses are listed in the result with their position and reason (ES's own for the
    last); the rest are indexed, as ES's bulk API does. ``refresh`` makes
    them searchable before returning."""
    if not index:
        raise ConfigurationError("--index NAME is required to index into Elasticsearch")
    if batch_size < 1:
        raise ConfigurationError(f"--batch-size must be >= 1, got {batch_size}")
    total: int | None
    if isinstance(docs, str | Path):
        path = Path(docs)
        if not path.is_file():
            raise ConfigurationError(f"no such JSONL file: {path}")
        items: Iterable[tuple[int, Any, str | None]] = read_jsonl(path)
        total = count_lines(path)
    else:
        total = len(docs) if isinstance(docs, Sized) else None
        items = ((i, d, None) for i, d in enumerate(docs, start=1))

    if mapping is not None:
        ensure_index(client, index, mapping)
    result = AddResult()
    positions: dict[str, int] = {}

    def actions() -> Iterator[dict[str, Any]]:
        for pos, doc, error in items:
            if error is None:
                error = document_error(doc, id_field=id_field)
            if error is not None:
                result.rejected.append(Rejected(pos, None, error))
                continue
            doc_id = str(doc[id_field])
            positions[doc_id] = pos
            source = {k: v for k, v in doc.items() if k != id_field}
            yield {"_index": index, "_id": doc_id, "_source": source}

    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    with (
        translated(),
        tqdm(total=total, unit="doc", desc="indexing", disable=None if progress else True) as bar,
    ):
        for ok, item in helpers.streaming_bulk(
            client, actions(), chunk_size=batch_size, raise_on_error=False, max_retries=3
        ):
            bar.update(1)
            info = next(iter(item.values()))
            if ok:
                result.indexed += 1
            else:
                doc_id = str(info.get("_id"))
                result.rejected.append(
                    Rejected(positions.get(doc_id, 0), doc_id, _item_reason(info))
                )
        if refresh:
            client.indices.refresh(index=index)
    result.rejected.sort(key=lambda r: r.position)
    return result
