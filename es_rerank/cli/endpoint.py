"""``es-rerank endpoint create|delete|list|test``: rerank inference endpoints on a cluster."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from es_rerank.elastic.connection import add_connection_arguments, connection_from_args
from es_rerank.elastic.endpoints import DEFAULT_MAX_WINDOW, SERVICES, endpoint_body, redact
from es_rerank.elastic.inference import create_endpoint, delete_endpoint, list_endpoints, rerank

SAMPLE_QUERY = "how many people live in berlin"
SAMPLE_TEXTS = [
    "Berlin has a population of about 3.7 million people.",
    "The Eiffel Tower is in Paris.",
    "Berlin is the capital of Germany.",
]
API_KEY_ENV = "ES_RERANK_ENDPOINT_API_KEY"


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "endpoint", help="create, list, test or delete rerank inference endpoints on a cluster"
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    c = actions.add_parser(
        "create",
        help="create a rerank endpoint (ES calls the service once to validate it)",
        description="Create PUT _inference/rerank/ID from mappings/endpoint-SERVICE.json.",
    )
    c.add_argument("inference_id", metavar="ID")
    c.add_argument("--service", choices=SERVICES, required=True)
    c.add_argument(
        "--url",
        help="the shim as the ES nodes reach it, with http:// or https://; a URL without a path "
        "gets the service's route (/rerank for hugging_face, /inference/rerank for custom, "
        "/v2/rerank for cohere); a path is kept as given",
    )
    c.add_argument(
        "--api-key",
        help=f"key ES sends to the service, stored as an ES secret (env {API_KEY_ENV})",
    )
    c.add_argument("--model-id", help="cohere: model name; elasticsearch: id of an uploaded model")
    c.add_argument("--num-allocations", type=int, default=1, help="elasticsearch service")
    c.add_argument("--num-threads", type=int, default=1, help="elasticsearch service")
    c.add_argument(
        "--max-window",
        type=int,
        default=DEFAULT_MAX_WINDOW,
        help="hugging_face, cohere: most texts per call, stored as task_settings.top_n so ES "
        "refuses a larger rank_window_size up front; match the shim's --max-client-batch-size "
        f"(default {DEFAULT_MAX_WINDOW})",
    )
    c.add_argument("--timeout", default="60s", help="how long ES may take (default 60s)")
    add_connection_arguments(c)
    c.set_defaults(func=_create)

    d = actions.add_parser("delete", help="delete a rerank endpoint")
    d.add_argument("inference_id", metavar="ID")
    d.add_argument("--force", action="store_true", help="delete even if ingest uses it")
    add_connection_arguments(d)
    d.set_defaults(func=_delete)

    ls = actions.add_parser("list", help="list the cluster's rerank endpoints")
    ls.add_argument("--json", action="store_true", help="print ES's JSON")
    add_connection_arguments(ls)
    ls.set_defaults(func=_list)

    t = actions.add_parser("test", help="rerank sample texts through an endpoint, show scores")
    t.add_argument("inference_id", metavar="ID")
    t.add_argument("--query", default=SAMPLE_QUERY)
    t.add_argument(
        "--text", action="append", dest="texts", metavar="TEXT", help="repeat for more texts"
    )
    t.add_argument("--top-n", type=int)
    add_connection_arguments(t)
    t.set_defaults(func=_test)


def _create(args: argparse.Namespace) -> int:
    body = endpoint_body(
        args.service,
        url=args.url,
        api_key=args.api_key or os.environ.get(API_KEY_ENV) or None,
        model_id=args.model_id,
        num_allocations=args.num_allocations,
        num_threads=args.num_threads,
        max_window=args.max_window,
    )
    connection = connection_from_args(args)
    client = connection.client()
    print(f"PUT _inference/rerank/{args.inference_id} on {connection.describe()}")
    print(json.dumps(redact(body), indent=2))
    resp = create_endpoint(client, inference_id=args.inference_id, body=body, timeout=args.timeout)
    print(f"created rerank endpoint [{resp.get('inference_id', args.inference_id)}]")
    return 0


def _delete(args: argparse.Namespace) -> int:
    delete_endpoint(
        connection_from_args(args).client(), inference_id=args.inference_id, force=args.force
    )
    print(f"deleted rerank endpoint [{args.inference_id}]")
    return 0


def _list(args: argparse.Namespace) -> int:
    endpoints = list_endpoints(connection_from_args(args).client())
    if args.json:
        print(json.dumps(endpoints, indent=2))
        return 0
    for e in endpoints:
        settings = e.get("service_settings", {})
        target = settings.get("url") or settings.get("model_id") or ""
        print(f"{e.get('inference_id', '?'):<40} {e.get('service', '?'):<14} {target}")
    if not endpoints:
        print("no rerank endpoints")
    return 0


def _test(args: argparse.Namespace) -> int:
    texts = args.texts or SAMPLE_TEXTS
    ranked = rerank(
        connection_from_args(args).client(),
        inference_id=args.inference_id,
        query=args.query,
        texts=texts,
        top_n=args.top_n,
    )
    print(f"query: {args.query}")
    print(f"{'rank':>4} {'index':>5} {'raw score':>12}  text")
    for rank, r in enumerate(ranked, 1):
        text = texts[r.index] if 0 <= r.index < len(texts) else "?"
        print(f"{rank:>4} {r.index:>5} {r.score:>12.6g}  {text[:70]}")
    return 0
