"""Create the passage index from mappings/passages.json and load a sample corpus into it.

Run by the compose ``setup`` service (connection from ES_URL / ES_USERNAME / ES_PASSWORD or
ES_API_KEY); safe to run again: an existing index is left as it is and documents are
indexed by id. Usage: ``python docker/seed.py [--index passages] [--corpus FILE.jsonl]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from elasticsearch import ConnectionError as EsConnectionError
from elasticsearch import helpers

from es_rerank.connection import add_connection_arguments, es_client_from_args
from es_rerank.resources import load_json_resource

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", default="passages")
    parser.add_argument("--mapping", default="passages", help="file in mappings/ (no .json)")
    parser.add_argument("--corpus", default=str(HERE / "sample-corpus.jsonl"))
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for ES")
    add_connection_arguments(parser)
    args = parser.parse_args()
    client = es_client_from_args(args)

    deadline = time.monotonic() + args.wait
    while True:
        try:
            client.cluster.health(wait_for_status="yellow", timeout="10s")
            break
        except EsConnectionError:
            if time.monotonic() > deadline:
                print("seed: Elasticsearch did not answer in time", file=sys.stderr)
                return 1
            time.sleep(2)

    if client.indices.exists(index=args.index):
        print(f"seed: index [{args.index}] exists; leaving its mapping alone")
    else:
        body = load_json_resource(args.mapping)
        client.indices.create(index=args.index, **body)
        print(f"seed: created index [{args.index}] from mappings/{args.mapping}.json")

    docs = [json.loads(line) for line in Path(args.corpus).read_text().splitlines() if line]
    actions = (
        {"_index": args.index, "_id": d["id"], "_source": {k: v for k, v in d.items() if k != "id"}}
        for d in docs
    )
    ok, errors = helpers.bulk(client, actions, refresh="wait_for", raise_on_error=False)
    if errors:
        print(f"seed: {len(errors)} documents failed, first: {errors[0]}", file=sys.stderr)
        return 1
    print(f"seed: indexed {ok} documents into [{args.index}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
