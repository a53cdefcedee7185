"""``es-rerank endpoint create|delete|list|test``: rerank inference endpoints on a cluster."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from es_rerank.elastic.connection import add_connection_arguments, connection_from_args
from es_rerank.elastic.endpoints import (
    DEFAULT_MAX_WINDOW,
    LONG_DOCUMENT_STRATEGIES,
    SERVICE_ALIASES,
    SERVICES,
    WINDOW_KEYS,
    AdaptiveAllocations,
    endpoint_body,
    redact,
    required_parameters,
    service_name,
)
from es_rerank.elastic.inference import create_endpoint, delete_endpoint, list_endpoints, rerank
from es_rerank.errors import ConfigurationError
from es_rerank.wire import WIRE_FORMATS

SAMPLE_QUERY = "how many people live in berlin"
SAMPLE_TEXTS = [
    "Berlin has a population of about 3.7 million people.",
    "The Eiffel Tower is in Paris.",
    "Berlin is the capital of Germany.",
]
API_KEY_ENV = "ES_RERANK_ENDPOINT_API_KEY"
SERVICE_ACCOUNT_ENV = "ES_RERANK_ENDPOINT_SERVICE_ACCOUNT_JSON"


def _service(text: str) -> str:
    try:
        return service_name(text)
    except ConfigurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _adaptive(text: str) -> AdaptiveAllocations:
    try:
        return AdaptiveAllocations.parse(text)
    except ConfigurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "endpoint", help="create, list, test or delete rerank inference endpoints on a cluster"
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    c = actions.add_parser(
        "create",
        help="create a rerank endpoint (ES calls the service once to validate it)",
        description="Create PUT _inference/rerank/ID from mappings/endpoint-SERVICE.json. "
        f"Secrets come from the environment ({API_KEY_ENV}, {SERVICE_ACCOUNT_ENV}) or an "
        "interactive prompt; flags holding them are accepted but land in shell history.",
    )
    c.add_argument("inference_id", metavar="ID")
    c.add_argument(
        "--service",
        type=_service,
        required=True,
        metavar="SERVICE",
        help=f"one of {', '.join(SERVICES)} (aliases: "
        + ", ".join(f"{a}={s}" for a, s in SERVICE_ALIASES.items())
        + ")",
    )
    c.add_argument(
        "--url",
        help="hugging_face, custom, cohere: the shim as the ES nodes reach it; a URL without a "
        "path gets the service's route ("
        + ", ".join(f"{f.route} for {f.service}" for f in WIRE_FORMATS.values())
        + "), a path is kept as given; watsonxai: the watsonx URL. The shim answers each "
        "service its format's default score ("
        + ", ".join(f"{f.service} {f.score_mode}" for f in WIRE_FORMATS.values())
        + "); start it with --score-mode raw for raw scores on every route",
    )
    c.add_argument(
        "--api-key",
        help=f"key ES sends to the service, stored as an ES secret; prefer env {API_KEY_ENV} or "
        "the prompt",
    )
    c.add_argument(
        "--model-id",
        help="the model (cohere, jinaai, voyageai, watsonxai, elastic, googlevertexai, "
        "hugging_face); elasticsearch: id of an uploaded model; alibabacloud-ai-search: its "
        "service_id",
    )
    c.add_argument("--project-id", help="watsonxai, googlevertexai")
    c.add_argument("--api-version", help="watsonxai, e.g. 2024-05-02")
    c.add_argument("--target", help="azureaistudio: the deployment's target URI")
    c.add_argument("--provider", help="azureaistudio: e.g. cohere")
    c.add_argument("--endpoint-type", help="azureaistudio: token or realtime")
    c.add_argument("--host", help="alibabacloud-ai-search")
    c.add_argument("--workspace", help="alibabacloud-ai-search")
    c.add_argument(
        "--service-account-file",
        metavar="PATH",
        help=f"googlevertexai: the service account key file (or env {SERVICE_ACCOUNT_ENV} "
        "holding the JSON)",
    )
    c.add_argument("--num-allocations", type=int, default=1, help="elasticsearch service")
    c.add_argument("--num-threads", type=int, default=1, help="elasticsearch service")
    c.add_argument(
        "--adaptive-allocations",
        type=_adaptive,
        metavar="MIN:MAX",
        help="elasticsearch service: let ES scale allocations between MIN and MAX (replaces "
        "--num-allocations)",
    )
    c.add_argument(
        "--long-document-strategy",
        choices=LONG_DOCUMENT_STRATEGIES,
        help="elasticsearch service with the Elastic Rerank model (.rerank-v1, 9.2+): truncate "
        "long texts or score them by chunks",
    )
    c.add_argument(
        "--max-chunks-per-doc",
        type=int,
        help="elasticsearch service with --long-document-strategy chunk",
    )
    c.add_argument(
        "--max-window",
        type=int,
        help="most results one call returns, stored as the task setting ES checks against "
        f"rank_window_size ({', '.join(WINDOW_KEYS)}); for hugging_face and cohere it defaults "
        f"to the shim's --max-client-batch-size ({DEFAULT_MAX_WINDOW})",
    )
    c.add_argument(
        "--return-documents",
        action=argparse.BooleanOptionalAction,
        help="task setting: return each text with its score",
    )
    c.add_argument(
        "--truncation",
        action=argparse.BooleanOptionalAction,
        help="voyageai truncation / googlevertexai auto_truncate",
    )
    c.add_argument("--requests-per-minute", type=int, help="the service's rate_limit")
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
    t.add_argument("--top-n", type=int, help="request-level top_n: return the best N only")
    t.add_argument(
        "--return-documents",
        action=argparse.BooleanOptionalAction,
        help="request-level return_documents",
    )
    add_connection_arguments(t)
    t.set_defaults(func=_test)


def secret(
    name: str,
    *,
    given: str | None,
    env_var: str,
    required: bool,
    label: str,
    environ: Mapping[str, str] = os.environ,
    prompt: Callable[[str], str] = getpass.getpass,
    interactive: bool | None = None,
) -> str | None:
    """A secret from its flag, else ``env_var``, else a hidden prompt when stdin is a
    terminal; a required one that is nowhere is a :class:`ConfigurationError` naming
    where to put it (never a silent empty value)."""
    value = given or environ.get(env_var) or None
    if value or not required:
        return value
    if interactive is None:
        interactive = sys.stdin.isatty()
    if interactive:
        value = prompt(f"{label}: ").strip() or None
    if value is None:
        raise ConfigurationError(
            f"{label} is required: set {env_var} (or answer the prompt in a terminal); "
            f"--{name.replace('_', '-')} works too but lands in shell history"
        )
    return value


def _service_account(args: argparse.Namespace, required: bool) -> str | None:
    if args.service_account_file:
        path = Path(args.service_account_file)
        if not path.is_file():
            raise ConfigurationError(f"--service-account-file {path}: no such file")
        return path.read_text()
    return secret(
        "service_account_json",
        given=None,
        env_var=SERVICE_ACCOUNT_ENV,
        required=required,
        label="Google service account JSON",
    )


def _create(args: argparse.Namespace) -> int:
    needs = required_parameters(args.service)
    api_key = secret(
        "api_key",
        given=args.api_key,
        env_var=API_KEY_ENV,
        required="api_key" in needs,
        label=f"{args.service} API key",
    )
    body = endpoint_body(
        args.service,
        url=args.url,
        api_key=api_key,
        model_id=args.model_id,
        num_allocations=args.num_allocations,
        num_threads=args.num_threads,
        adaptive_allocations=args.adaptive_allocations,
        long_document_strategy=args.long_document_strategy,
        max_chunks_per_doc=args.max_chunks_per_doc,
        max_window=args.max_window,
        return_documents=args.return_documents,
        truncation=args.truncation,
        project_id=args.project_id,
        api_version=args.api_version,
        target=args.target,
        provider=args.provider,
        endpoint_type=args.endpoint_type,
        host=args.host,
        workspace=args.workspace,
        service_account_json=_service_account(args, "service_account_json" in needs),
        requests_per_minute=args.requests_per_minute,
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
        target = next(
            (settings[k] for k in ("url", "target", "model_id", "service_id") if settings.get(k)),
            "",
        )
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
        return_documents=args.return_documents,
    )
    print(f"query: {args.query}")
    print(f"{'rank':>4} {'index':>5} {'raw score':>12}  text")
    for rank, r in enumerate(ranked, 1):
        text = texts[r.index] if 0 <= r.index < len(texts) else "?"
        print(f"{rank:>4} {r.index:>5} {r.score:>12.6g}  {text[:70]}")
        if r.text is not None and r.text != text:
            print(f"{'':>4} {'':>5} {'':>12}  returned: {r.text[:60]}")
    return 0
