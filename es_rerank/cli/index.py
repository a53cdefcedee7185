"""``es-rerank index FILE.jsonl``: index documents locally (``--local PATH``) or into
Elasticsearch (``--index NAME`` on the cluster the connection flags name), with progress and
an indexed / rejected count.

Like ES's bulk API, a document that cannot be read or does not fit is rejected alone (its
line and reason on stderr) and every other one is indexed. Exit status: 0 when every line
was indexed, :data:`EXIT_REJECTED` (3) when the run finished with some lines rejected, 1
when indexing itself failed, 2 for a wrong argument."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from es_rerank.backends.local import LocalIndex
from es_rerank.documents import AddResult, print_rejected, resolve_mapping
from es_rerank.elastic.bulk import bulk_index
from es_rerank.elastic.connection import (
    add_connection_arguments,
    connection_from_args,
    refuse_cluster_flags,
)
from es_rerank.errors import ConfigurationError

#: Exit status of a run that finished with some documents rejected (the rest indexed).
EXIT_REJECTED = 3


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "index",
        help="index a JSONL file into a local index or an Elasticsearch index",
        description="Index one JSON object per line. Re-running is idempotent by id. Give "
        "--local PATH (created if absent or empty), or --index NAME on a cluster (created from "
        "--mapping if absent). A line that is not UTF-8 or not JSON, or a document that does "
        "not fit the mapping, is rejected alone, with its line and reason on stderr; the rest "
        "is indexed. Numbers are coerced as Elasticsearch does ('1999' or 1999.0 into an "
        'integer field; 1.5 becomes 1) unless the mapping sets "coerce": false. Locally, '
        "dense_vector values are checked and committed with their document, and semantic_text "
        "fields are chunked and embedded by their local model (a second progress bar), in "
        "token-budget batches, each chunk embedded once: a re-index embeds only what changed.",
        epilog=f"exit status: 0 all indexed; {EXIT_REJECTED} finished with some lines rejected "
        "(the rest indexed); 1 indexing failed; 2 wrong argument",
    )
    p.add_argument("file", type=Path, metavar="FILE.jsonl")
    p.add_argument("--local", type=Path, metavar="PATH", help="local index directory")
    p.add_argument("--index", metavar="NAME", help="Elasticsearch index name")
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
    add_connection_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise ConfigurationError(f"no such file: {args.file}")
    if args.batch_size < 1:
        raise ConfigurationError(f"--batch-size must be >= 1, got {args.batch_size}")
    mapping = resolve_mapping(args.mapping)  # a bad --mapping fails before anything is written
    if args.local is not None:
        refuse_cluster_flags(args)
        result = LocalIndex(args.local, mapping=mapping).add(
            args.file, id_field=args.id_field, batch_size=args.batch_size
        )
    else:
        connection = connection_from_args(args)
        if not connection.configured:
            raise ConfigurationError(
                "give --local PATH, or --index NAME with --es-url URL (or ES_URL) / --cloud-id"
            )
        if not args.index:
            raise ConfigurationError("--index NAME is required to index into Elasticsearch")
        result = bulk_index(
            connection.client(),
            args.index,
            args.file,
            id_field=args.id_field,
            mapping=mapping,
            batch_size=args.batch_size,
        )
    report(result)
    return EXIT_REJECTED if result.rejected else 0


def report(result: AddResult) -> None:
    """Every rejected document on stderr, then the counts on stdout."""
    print_rejected(result)
    print(f"indexed {result.indexed}, rejected {len(result.rejected)}")
