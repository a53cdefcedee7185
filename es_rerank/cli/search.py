"""``es-rerank search``: a reranked search on a local index or an Elasticsearch index,
natively or externally, printed as a ranked table (or ES-shaped JSON with ``--json``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from es_rerank import env
from es_rerank.backends import Backend, InferenceRerankBackend
from es_rerank.elastic.connection import (
    add_connection_arguments,
    connection_from_args,
    refuse_cluster_flags,
)
from es_rerank.env_mirrors import from_environment
from es_rerank.errors import ConfigurationError
from es_rerank.explain import explanation_table
from es_rerank.factories import check_one_reranker, make_reranker, open_backend, require_models
from es_rerank.rerankers import FORMAT_NAMES, SCORE_SCALES
from es_rerank.results import SearchResult
from es_rerank.retrievers import StandardRetriever, TextSimilarityReranker, filters_of
from es_rerank.rules import field_text
from es_rerank.runtime.cli import add_runtime_arguments, runtime_kwargs
from es_rerank.search import search

_SNIPPET = 60


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "search",
        help="run a text_similarity_reranker search (natively or client-side)",
        description=(
            "Search an index with a first-stage match query on --field, then rerank the top "
            "--rank-window-size hits with Elasticsearch's text_similarity_reranker rules: "
            "natively (ES calls its inference endpoint) or externally (a local model, the "
            "shim, or the cluster's _inference API)."
        ),
    )
    where = p.add_argument_group("where to search: --local PATH, or --index NAME on a cluster")
    where.add_argument("--local", metavar="PATH", help="an es-rerank local index directory")
    where.add_argument("--index", help="index (or pattern) to search on Elasticsearch")
    add_connection_arguments(p)
    q = p.add_argument_group("the retriever")
    q.add_argument("--query", required=True, help="the search text: first stage and rerank query")
    q.add_argument("--field", default="text", help="field to match and rerank on (default: text)")
    q.add_argument(
        "--first-stage",
        metavar="JSON",
        help='first-stage query DSL (default: {"match": {FIELD: QUERY}})',
    )
    q.add_argument("--filter", metavar="JSON", help="a query or a list of queries (bool.filter)")
    q.add_argument(
        "--rank-window-size",
        type=int,
        default=10,
        help="hits reranked; must be >= --size (default: 10)",
    )
    q.add_argument("--min-score", type=float, help="drop hits below this score")
    q.add_argument(
        "--min-score-space",
        choices=["raw", "normalized"],
        default="raw",
        help="units of --min-score: raw reranker scores as ES compares them (default), or "
        "the normalized scores ES returns",
    )
    q.add_argument(
        "--chunk-rescorer",
        metavar="JSON",
        help='rerank each hit by its best chunks, as ES 9.2+ does: {"size": N, '
        '"chunking_settings": {...}} ({} for the defaults: 1 chunk of up to 300 words)',
    )
    q.add_argument("--size", type=int, default=10, help="hits to return (default: 10)")
    q.add_argument("--from", dest="from_", type=int, default=0, help="hits to skip (default: 0)")
    r = p.add_argument_group("the reranker (at most one of --model / --shim-url / --rerank-url)")
    r.add_argument("--model", help="local model directory or hub id (cross- or bi-encoder)")
    r.add_argument("--batch-size", type=int, default=32, help="model batch size (default: 32)")
    r.add_argument(
        "--shim-url",
        help="the shim's base URL (http://HOST:PORT; it calls /inference/rerank there)",
    )
    r.add_argument(
        "--shim-api-key",
        default=env.SHIM_API_KEY.value(),
        help="bearer key for the shim (default: $SHIM_API_KEY)",
    )
    r.add_argument(
        "--rerank-url",
        metavar="URL",
        help="a rerank server you run (TEI, Infinity, Cohere's API, the shim): its base URL, "
        "which gets the format's route, or the URL of its rerank route",
    )
    r.add_argument(
        "--rerank-format",
        choices=FORMAT_NAMES,
        help="the --rerank-url's format: tei (POST /rerank, raw logits asked for), cohere "
        "(/v2/rerank; v1, Infinity's /rerank), es (the shim's /inference/rerank) (default: es)",
    )
    r.add_argument(
        "--rerank-api-key",
        metavar="KEY",
        default=env.RERANK_API_KEY.value(),
        help="bearer key for --rerank-url (default: $RERANK_API_KEY)",
    )
    r.add_argument(
        "--rerank-model",
        metavar="NAME",
        help="model name sent in the cohere format (Cohere's API needs one)",
    )
    r.add_argument(
        "--rerank-score-scale",
        choices=SCORE_SCALES,
        help="sigmoid: the server's scores are probabilities (Cohere, Infinity), turned back "
        "into logits before --min-score and normalization; raw: used as returned (default)",
    )
    r.add_argument(
        "--rerank-timeout",
        metavar="SECONDS",
        type=float,
        default=30.0,
        help="seconds to wait for --rerank-url or --shim-url; a read timeout is not retried, "
        "the server may still be computing (default: 30)",
    )
    r.add_argument(
        "--inference-id",
        help="the cluster's rerank endpoint (native mode, or external without a model/shim)",
    )
    p.add_argument(
        "--mode",
        choices=["auto", "native", "external"],
        default="auto",
        help="auto: native when the cluster can and no --model/--shim-url is given",
    )
    p.add_argument("--json", action="store_true", help="print an ES-shaped _search response")
    p.add_argument(
        "--explain",
        action="store_true",
        help="show each window hit's path through the rules: child rank and score, text or "
        "chunks sent, raw and normalized score, min_score verdict, final rank (dropped hits "
        "too; with --json under a top-level 'explain' key)",
    )
    add_runtime_arguments(p)
    p.set_defaults(func=run)


def _json_arg(name: str, text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{name} is not valid JSON: {exc}") from None


def open_search_backend(args: argparse.Namespace) -> Backend:
    """The backend the flags name: an existing local index, or an Elasticsearch index."""
    if args.local is not None:
        refuse_cluster_flags(args)
        return open_backend(local=args.local)
    return open_backend(index=args.index, connection=connection_from_args(args))


def build_retriever(args: argparse.Namespace) -> TextSimilarityReranker:
    first = _json_arg("--first-stage", args.first_stage) or {"match": {args.field: args.query}}
    filters = _json_arg("--filter", args.filter)
    if filters is not None:
        filters_of(filters)  # shape is checked by the spec below
    return TextSimilarityReranker(
        retriever=StandardRetriever(query=first),
        field=args.field,
        inference_text=args.query,
        inference_id=args.inference_id,
        rank_window_size=args.rank_window_size,
        min_score=args.min_score,
        filter=filters,
        chunk_rescorer=_json_arg("--chunk-rescorer", args.chunk_rescorer),
    )


def _snippet(source: Any, field: str) -> str:
    text = None
    for name in ("title", field, "text"):
        text = field_text(source, name)
        if text:
            break
    text = " ".join((text or "").split())
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 3] + "..."


def print_table(result: SearchResult, field: str) -> None:
    rows = [
        (
            str(h.rank),
            h.id,
            f"{h.score:.4f}",
            "-" if h.first_stage_rank is None else str(h.first_stage_rank),
            _snippet(h.source, field),
        )
        for h in result.hits
    ]
    header = ("rank", "id", "score", "first-stage", "title / text")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    line = "  ".join(
        [
            header[0].rjust(widths[0]),
            header[1].ljust(widths[1]),
            header[2].rjust(widths[2]),
            header[3].rjust(widths[3]),
            header[4],
        ]
    )
    print(line)
    for r in rows:
        print(
            "  ".join(
                [
                    r[0].rjust(widths[0]),
                    r[1].ljust(widths[1]),
                    r[2].rjust(widths[2]),
                    r[3].rjust(widths[3]),
                    r[4],
                ]
            )
        )
    print(f"{len(rows)} hit(s) of {result.total} · mode {result.mode} · took {result.took_ms} ms")


def run(args: argparse.Namespace) -> int:
    for name in ("size", "from_", "batch_size"):
        least = 1 if name == "batch_size" else 0
        if getattr(args, name) < least:
            flag = "--" + name.rstrip("_").replace("_", "-")
            raise ConfigurationError(f"{flag} must be >= {least}")
    if from_environment(args, "model") and (args.shim_url or args.rerank_url):
        args.model = None  # a reranker named on the command line wins over $ES_RERANK_MODEL
    if from_environment(args, "model") and args.mode == "native":
        args.model = None
    check_one_reranker(model=args.model, shim_url=args.shim_url, rerank_url=args.rerank_url)
    if args.mode == "native":
        for flag in ("model", "shim_url", "rerank_url"):
            if getattr(args, flag):
                raise ConfigurationError(
                    f"--{flag.replace('_', '-')} is not used with --mode native: Elasticsearch "
                    "calls the --inference-id endpoint itself; drop it, or use --mode external"
                )
    if args.rerank_url is None:
        for flag in ("rerank_format", "rerank_model", "rerank_score_scale"):
            if getattr(args, flag) is not None:
                raise ConfigurationError(f"--{flag.replace('_', '-')} needs --rerank-url")
    if not args.rerank_timeout > 0:
        raise ConfigurationError(f"--rerank-timeout must be > 0 seconds, got {args.rerank_timeout}")
    if args.model:
        require_models()
    retriever = build_retriever(args)
    backend = open_search_backend(args)
    reranker = make_reranker(
        model=args.model,
        shim_url=args.shim_url,
        shim_api_key=args.shim_api_key,
        rerank_url=args.rerank_url,
        rerank_format=args.rerank_format or "es",
        rerank_api_key=args.rerank_api_key,
        rerank_model=args.rerank_model,
        score_scale=args.rerank_score_scale or "raw",
        timeout=args.rerank_timeout,
        batch_size=args.batch_size,
        **runtime_kwargs(args),
    )
    if (
        reranker is None
        and args.mode != "native"
        and not isinstance(backend, InferenceRerankBackend)
    ):
        raise ConfigurationError(
            "a local index needs a reranker: --model PATH (a local model directory), "
            "--shim-url URL or --rerank-url URL"
        )
    result = search(
        retriever,
        backend=backend,
        reranker=reranker,
        size=args.size,
        from_=args.from_,
        mode=args.mode,
        min_score_space=args.min_score_space,
        explain=args.explain,
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print_table(result, args.field)
    for explanation in result.explanation or []:
        print()
        print(explanation_table(explanation))
    return 0
