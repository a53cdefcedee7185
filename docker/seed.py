"""Create the passage index from mappings/passages.json and load a sample corpus into it.

Run by the compose ``setup`` service (connection from ES_URL / ES_USERNAME / ES_PASSWORD or
ES_API_KEY, or the same flags as every es-rerank command); safe to run again: an existing
index is left as it is and documents are indexed by id. Usage:
``python docker/seed.py [--index passages] [--corpus FILE.jsonl]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from es_rerank.cli import error_line
from es_rerank.elastic import bulk_index, ensure_index, wait_for_cluster
from es_rerank.elastic.connection import add_connection_arguments, connection_from_args
from es_rerank.errors import EsRerankError

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", default="passages")
    parser.add_argument("--mapping", default="passages", help="file in mappings/ (no .json)")
    parser.add_argument("--corpus", default=str(HERE / "sample-corpus.jsonl"))
    parser.add_argument("--id-field", default="id", help="field holding the id (default: id)")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for ES")
    add_connection_arguments(parser)
    args = parser.parse_args()
    try:
        client = connection_from_args(args).client()
        wait_for_cluster(client, timeout_s=args.wait)
        if ensure_index(client, args.index, args.mapping):
            print(f"seed: created index [{args.index}] from mappings/{args.mapping}.json")
        else:
            print(f"seed: index [{args.index}] exists; leaving its mapping alone")
        result = bulk_index(client, args.index, args.corpus, id_field=args.id_field, progress=False)
    except EsRerankError as exc:
        print(f"seed: error: {error_line(exc)}", file=sys.stderr)
        return 1
    for r in result.rejected:
        print(f"seed: rejected line {r.position}: {r.reason}", file=sys.stderr)
    print(f"seed: indexed {result.indexed} documents into [{args.index}]")
    return 1 if result.rejected else 0


if __name__ == "__main__":
    sys.exit(main())
