"""``es-rerank index FILE.jsonl``: index documents locally (``--local PATH``) or into
Elasticsearch (``--es-url URL --index NAME``), with progress and an indexed / rejected count."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from es_rerank.backends.local import AddResult, LocalIndex, Rejected, _read_jsonl, _resolve_mapping


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "index",
        help="index a JSONL file into a local index or an Elasticsearch index",
        description="Index one JSON object per line. Re-running is idempotent by id.",
    )
    p.add_argument("file", type=Path, metavar="FILE.jsonl")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--local", type=Path, metavar="PATH", help="local index directory")
    where.add_argument("--es-url", metavar="URL", help="Elasticsearch URL (needs --index)")
    p.add_argument("--index", metavar="NAME", help="Elasticsearch index name (with --es-url)")
    p.add_argument(
        "--mapping",
        default="passages",
        metavar="FILE",
        help="mapping JSON file or name in mappings/ (default: passages)",
    )
    p.add_argument("--id-field", default="_id", help="field holding the id (default: _id)")
    p.add_argument(
        "--batch-size", type=int, default=1000, help="documents per commit/bulk (default: 1000)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise FileNotFoundError(f"no such file: {args.file}")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.local is not None:
        result = LocalIndex(args.local, mapping=args.mapping).add(
            args.file, id_field=args.id_field, batch_size=args.batch_size
        )
    else:
        if not args.index:
            raise ValueError("--es-url needs --index NAME")
        result = index_elasticsearch(
            args.file,
            url=args.es_url,
            index=args.index,
            mapping=args.mapping,
            id_field=args.id_field,
            batch_size=args.batch_size,
        )
    report(result)
    return 0 if not result.rejected else 1


def report(result: AddResult) -> None:
    for r in result.rejected:
        where = f"line {r.position}" + (f" (id {r.id})" if r.id is not None else "")
        print(f"rejected {where}: {r.reason}", file=sys.stderr)
    print(f"indexed {result.indexed}, rejected {len(result.rejected)}")


def index_elasticsearch(
    file: Path,
    *,
    url: str,
    index: str,
    mapping: str,
    id_field: str,
    batch_size: int,
) -> AddResult:
    """Bulk-index ``file`` with ``helpers.streaming_bulk``, creating ``index`` from ``mapping``."""
    from elasticsearch import helpers
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    from es_rerank.connection import es_client

    # credentials come from ES_API_KEY / ES_USERNAME / ES_PASSWORD, as for every command
    client = es_client(url=url)
    if not client.indices.exists(index=index):
        body = _resolve_mapping(mapping)
        client.indices.create(
            index=index, mappings=body.get("mappings"), settings=body.get("settings")
        )
    result = AddResult()
    positions: dict[str, int] = {}

    def actions() -> Iterator[dict[str, Any]]:
        for pos, doc, error in _read_jsonl(file):
            if error is not None or not isinstance(doc, dict) or doc.get(id_field) in (None, ""):
                reason = error or (
                    "not a JSON object" if not isinstance(doc, dict) else f"missing {id_field!r}"
                )
                result.rejected.append(Rejected(pos, None, reason))
                continue
            doc_id = str(doc[id_field])
            positions[doc_id] = pos
            source = {k: v for k, v in doc.items() if k != id_field}
            yield {"_index": index, "_id": doc_id, "_source": source}

    with file.open("rb") as fh:
        total = sum(1 for _ in fh)
    with tqdm(total=total, unit="doc", desc="indexing") as bar:
        for ok, item in helpers.streaming_bulk(
            client, actions(), chunk_size=batch_size, raise_on_error=False, max_retries=3
        ):
            bar.update(1)
            info = next(iter(item.values()))
            if ok:
                result.indexed += 1
            else:
                doc_id = str(info.get("_id"))
                reason = json.dumps(info.get("error"), ensure_ascii=False)
                result.rejected.append(Rejected(positions.get(doc_id, 0), doc_id, reason))
    client.indices.refresh(index=index)
    return result
