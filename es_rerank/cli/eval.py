"""``es-rerank eval --dataset DIR``: BM25 first stage vs reranked on a BEIR-layout collection.

Prints the metrics side by side, per-query win/tie/loss (by NDCG@10) and the time spent in
each stage; writes ``results.json`` (every number) and ``ndcg10_change.png`` (captioned) to
``--out``, refusing to overwrite earlier results without ``--force``. ``--json`` prints the
whole report as JSON on stdout instead of the table (progress and notes stay on stderr).

The local index is cached by corpus (its path, size and modification time) under the cache
directory, so every evaluation of one collection builds it once, whatever ``--out`` is.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from es_rerank.backends.base import Backend, Hit
from es_rerank.backends.local import LocalIndex
from es_rerank.chunking.settings import ChunkRescorer
from es_rerank.cli.eval_plot import write_change_png
from es_rerank.cli.index import print_rejected
from es_rerank.datasets import BeirDataset, load_beir
from es_rerank.documents import resolve_mapping
from es_rerank.elastic.backend import ElasticsearchBackend
from es_rerank.elastic.bulk import bulk_index
from es_rerank.elastic.cluster import ensure_index
from es_rerank.elastic.connection import add_connection_arguments, connection_from_args
from es_rerank.errors import ConfigurationError
from es_rerank.evaluation import evaluate
from es_rerank.extras import require_extra
from es_rerank.factories import cross_encoder_reranker, require_models
from es_rerank.models import LoadedModel
from es_rerank.rerank_window import rerank_window, resolve_model
from es_rerank.rerankers.base import Reranker
from es_rerank.runtime.cache import cache_root, cached_build
from es_rerank.runtime.cli import add_runtime_arguments, runtime_kwargs

if TYPE_CHECKING:
    from es_rerank.rerankers.cross_encoder import CrossEncoderReranker

METRICS = ("ndcg@10", "mrr@10", "map")
DEFAULT_OUT = Path("eval-out")
RESULT_FILES = ("results.json", "ndcg10_change.png")


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "eval",
        help="evaluate BM25 vs reranked (NDCG@10, MRR@10, MAP) on a BEIR-layout dataset",
        description=(
            "Indexes DIR/corpus.jsonl (into a local index cached by corpus under "
            "$ES_RERANK_CACHE or ~/.cache/es-rerank/indexes, or --local PATH; or into --index "
            "NAME on a cluster), runs every judged query of DIR/qrels/SPLIT.tsv (--split, "
            "default test) with BM25 (multi_match on title and text) and reranked, and reports "
            "both: a table (or --json) on stdout, results.json and a captioned "
            "ndcg10_change.png in --out."
        ),
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"write results.json and ndcg10_change.png here (default {DEFAULT_OUT}; with "
        "--json, no files unless --out is given)",
    )
    p.add_argument("--force", action="store_true", help="overwrite results already in --out")
    p.add_argument(
        "--first-stages",
        metavar="LIST",
        help="compare first stages instead, each with and without the reranker: a comma list "
        "of bm25, dense, hybrid-rrf, hybrid-linear, or 'all' (local index only; the corpus is "
        "embedded once by the packaged all-MiniLM-L6-v2); writes first_stages.json and "
        "first_stages.png",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the whole report as JSON on stdout (progress and notes on stderr)",
    )
    add_run_arguments(p)
    p.set_defaults(func=run)


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """The dataset, model, window and first-stage options ``eval`` and ``calibrate`` share."""
    p.add_argument(
        "--dataset",
        type=Path,
        required=True,
        metavar="DIR",
        help="a BEIR-layout collection: DIR/corpus.jsonl, DIR/queries.jsonl and "
        "DIR/qrels/SPLIT.tsv",
    )
    p.add_argument(
        "--split",
        default="test",
        help="the judgments to score against: DIR/qrels/SPLIT.tsv (test, dev, train) "
        "(default: test)",
    )
    p.add_argument("--model", metavar="PATH_OR_ID", help="reranker (resolution as in `demo`)")
    p.add_argument("--rank-window-size", type=int, default=100, help="BM25 hits reranked (100)")
    p.add_argument("--field", default="text", help="document field the reranker reads (text)")
    p.add_argument("--batch-size", type=int, default=32, help="model batch size (32)")
    p.add_argument("--max-length", type=int, help="truncate pairs to N tokens (model's own)")
    p.add_argument(
        "--limit-queries", type=int, metavar="N", help="only the first N (>= 1) judged queries"
    )
    p.add_argument(
        "--chunk-rescorer",
        metavar="JSON",
        help='rerank each document by its best chunks (ES 9.2+ chunk_rescorer), e.g. {"size": '
        '1, "chunking_settings": {"max_chunk_size": 100}}; {} for the defaults',
    )
    p.add_argument(
        "--local",
        type=Path,
        metavar="PATH",
        help="local index dir (default: one cached per corpus in the cache directory)",
    )
    p.add_argument(
        "--index",
        metavar="NAME",
        help="run the first stage on this Elasticsearch index (filled from the corpus if absent)",
    )
    add_connection_arguments(p)
    add_runtime_arguments(p)


def check_out(out: Path, files: Sequence[str], *, force: bool) -> None:
    """Refuse an ``--out`` that is a file, or that holds ``files`` from an earlier run
    (unless ``force``), before any work."""
    if out.exists() and not out.is_dir():
        raise ConfigurationError(f"--out {out} is a file; give a directory")
    present = [name for name in files if (out / name).exists()]
    if present and not force:
        raise ConfigurationError(
            f"--out {out} already holds {' and '.join(present)} from an earlier run; give "
            "another --out, or --force to overwrite them"
        )


@dataclass(frozen=True)
class Run:
    """What a dataset run needs, checked and loaded from the shared options."""

    data: BeirDataset
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    backend: Backend
    index_s: float
    model: LoadedModel
    reranker: CrossEncoderReranker
    load_s: float
    chunk_rescorer: ChunkRescorer | None

    @property
    def chunk_rescorer_json(self) -> dict[str, Any] | None:
        return None if self.chunk_rescorer is None else self.chunk_rescorer.to_dict()


def prepare_run(args: argparse.Namespace, feature: str) -> Run:
    """Check every shared option before any work, then load the dataset, the first-stage
    backend (indexing the corpus if needed) and the model."""
    # Everything the run needs is checked before any indexing or model loading.
    require_extra("eval", "ir_measures", "matplotlib", feature=feature)
    require_models(feature)
    if args.rank_window_size < 1:
        raise ConfigurationError(f"--rank-window-size must be >= 1, got {args.rank_window_size}")
    if args.batch_size < 1:
        raise ConfigurationError(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.limit_queries is not None and args.limit_queries < 1:
        raise ConfigurationError(f"--limit-queries must be >= 1, got {args.limit_queries}")
    if args.local is not None and args.index:
        raise ConfigurationError("give either --local PATH or --index NAME, not both")
    chunk_rescorer = _chunk_rescorer(args.chunk_rescorer)
    data = load_beir(args.dataset, split=args.split)
    queries = dict(list(data.queries.items())[: args.limit_queries or None])
    qrels = {q: data.qrels[q] for q in queries}
    t0 = time.perf_counter()
    backend = _backend(args, data)
    index_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = resolve_model(args.model, max_length=args.max_length)
    reranker = cross_encoder_reranker(model, batch_size=args.batch_size, **runtime_kwargs(args))
    load_s = time.perf_counter() - t0
    return Run(data, queries, qrels, backend, index_s, model, reranker, load_s, chunk_rescorer)


def run(args: argparse.Namespace) -> int:
    if args.first_stages:
        return _run_first_stages(args)
    out: Path | None = args.out if args.out is not None else None if args.json else DEFAULT_OUT
    if out is not None:
        check_out(out, RESULT_FILES, force=args.force)
    if args.json:
        # Only the report goes to stdout: anything printed along the way goes to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            result = _evaluate(args, out)
        print(json.dumps(result, indent=2))
        return 0
    result = _evaluate(args, out)
    _print_table(result)
    if out is not None:
        print(f"wrote {out / 'results.json'} and {out / 'ndcg10_change.png'}")
    return 0


def _evaluate(args: argparse.Namespace, out: Path | None) -> dict[str, Any]:
    """Index, run both stages, score them; write the files to ``out``; the report."""
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    prep = prepare_run(args, "es-rerank eval")
    data, queries, qrels = prep.data, prep.queries, prep.qrels
    backend = prep.backend
    window = args.rank_window_size

    first: dict[str, Sequence[Hit]] = {}
    t0 = time.perf_counter()
    for qid, text in tqdm(queries.items(), desc="BM25", unit="q", file=sys.stderr):
        first[qid] = backend.search_query(first_stage_query(text), size=window)
    bm25_s = time.perf_counter() - t0

    reranker = _Counting(prep.reranker)
    reranked: dict[str, list[str]] = {}
    t0 = time.perf_counter()
    for qid, text in tqdm(queries.items(), desc="rerank", unit="q", file=sys.stderr):
        ranked = rerank_window(
            reranker,
            text,
            backend=backend,
            first_stage=first_stage_query(text),
            field=args.field,
            window=window,
            chunk_rescorer=prep.chunk_rescorer_json,
        )
        reranked[qid] = [r.id for r in ranked]
    rerank_s = time.perf_counter() - t0

    bm25_run = {q: [h.id for h in hits] for q, hits in first.items()}
    ev_bm25 = evaluate(bm25_run, qrels, metrics=METRICS)
    ev_rr = evaluate(reranked, qrels, metrics=METRICS)
    deltas = {q: ev_rr.per_query["ndcg@10"][q] - ev_bm25.per_query["ndcg@10"][q] for q in queries}
    wins = sum(d > 1e-9 for d in deltas.values())
    losses = sum(d < -1e-9 for d in deltas.values())
    result: dict[str, Any] = {
        "dataset": str(data.path),
        "split": args.split,
        "queries": len(queries),
        "model": model_info(prep),
        "rank_window_size": window,
        "chunk_rescorer": prep.chunk_rescorer_json,
        "first_stage": "multi_match(title, text) BM25 on "
        + ("Elasticsearch" if args.index else "local tantivy index"),
        "metrics": {"bm25": ev_bm25.aggregate, "reranked": ev_rr.aggregate},
        "per_query": {"bm25": ev_bm25.per_query, "reranked": ev_rr.per_query},
        "ndcg@10_wins_ties_losses": [wins, len(deltas) - wins - losses, losses],
        "seconds": {
            "index": prep.index_s,
            "model_load": prep.load_s,
            "bm25": bm25_s,
            "rerank": rerank_s,
        },
        "pairs_scored": reranker.pairs,
        "machine": f"{platform.machine()} {platform.processor() or ''} {_cpus()} CPUs".strip(),
        "load_average": _load_average(),
        "command": " ".join(["es-rerank", *sys.argv[1:]]) if sys.argv else "",
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(result, indent=2))
        write_change_png(result, deltas, out / "ndcg10_change.png")
    return result


def _run_first_stages(args: argparse.Namespace) -> int:
    from es_rerank.cli.eval_first_stages import (
        FIRST_STAGES,
        compare_first_stages,
        print_first_stages,
        write_first_stages_png,
    )

    wanted = args.first_stages.split(",") if args.first_stages != "all" else list(FIRST_STAGES)
    unknown = [s for s in wanted if s not in FIRST_STAGES]
    if unknown:
        raise ConfigurationError(
            f"--first-stages: unknown {unknown}; choose from {', '.join(FIRST_STAGES)} or all"
        )
    if args.index:
        raise ConfigurationError("--first-stages runs on the local index; drop --index")
    out: Path = args.out if args.out is not None else DEFAULT_OUT
    files = ("first_stages.json", "first_stages.png")
    check_out(out, files, force=args.force)
    prep = prepare_run(args, "es-rerank eval --first-stages")
    stages = compare_first_stages(
        prep.backend,
        prep.queries,
        prep.qrels,
        _Counting(prep.reranker),
        stages=wanted,
        window=args.rank_window_size,
        field=args.field,
        metrics=METRICS,
    )
    name = prep.data.path.name
    result = {
        "dataset": str(prep.data.path),
        "queries": len(prep.queries),
        "rank_window_size": args.rank_window_size,
        "model": model_info(prep),
        "embedding_model": "all-MiniLM-L6-v2 (packaged)",
        "first_stages": stages,
        "seconds": {"index": prep.index_s, "model_load": prep.load_s},
        "load_average": _load_average(),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / files[0]).write_text(json.dumps(result, indent=2))
    write_first_stages_png({name: stages}, out / files[1])
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"\n{result['dataset']}: {result['queries']} queries, window {args.rank_window_size}")
        print(model_line(result["model"]))
        print_first_stages(stages, METRICS)
        print(f"wrote {out / files[0]} and {out / files[1]}")
    return 0


class _Counting:
    """A reranker that counts the (query, text) pairs it scores."""

    def __init__(self, inner: Reranker) -> None:
        self.inner = inner
        self.pairs = 0

    def rerank(self, query: str, texts: Sequence[str]) -> Sequence[float]:
        self.pairs += len(texts)
        return self.inner.rerank(query, texts)


def _chunk_rescorer(text: str | None) -> ChunkRescorer | None:
    if text is None:
        return None
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"--chunk-rescorer is not valid JSON: {exc}") from None
    return ChunkRescorer.from_dict(body)


def model_info(prep: Run) -> dict[str, Any]:
    """The model as the reports record it: path, kind, max length, runtime and dtype (and
    a cross-encoder's family, template and instruction)."""
    info = prep.reranker.info
    family = ("family", "architecture", "template", "instruction")
    return {
        "path": prep.model.path,
        "kind": prep.model.kind,
        "max_length": prep.reranker.runtime.max_length,
        "runtime": info["runtime"],
        "dtype": info["dtype"],
        **{k: info[k] for k in family if k in info},
        **({"selection": info["selection"]} if "selection" in info else {}),
    }


def model_line(model: dict[str, Any]) -> str:
    return f"model: {model['path']} ({model['kind']}, runtime {model['runtime']} {model['dtype']})"


def first_stage_query(text: str) -> dict[str, Any]:
    return {"multi_match": {"query": text, "fields": ["title", "text"]}}


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def _backend(args: argparse.Namespace, data: BeirDataset) -> Backend:
    if args.index:
        connection = connection_from_args(args)
        if not connection.configured:
            raise ConfigurationError(
                "--index NAME runs on Elasticsearch: give --es-url URL (or ES_URL) / --cloud-id"
            )
        client = connection.client()
        if ensure_index(client, args.index, "passages"):
            result = bulk_index(client, args.index, data.corpus, batch_size=500)
            print_rejected(result)
            print(f"indexed {result.indexed}, rejected {len(result.rejected)}", file=sys.stderr)
        return ElasticsearchBackend(client, args.index)
    mapping = "passages-semantic" if getattr(args, "first_stages", None) else "passages"
    if args.local is None:
        return cached_corpus_index(data.corpus, name=data.path.name, mapping=mapping)
    index = LocalIndex(args.local, mapping=mapping)
    with data.corpus.open("rb") as fh:
        n_docs = sum(1 for line in fh if line.strip())
    if index.count() < n_docs:  # new, or an earlier run stopped early: adding is idempotent
        print_rejected(index.add(data.corpus))
    return index


def cached_corpus_index(
    corpus: Path, *, name: str, cache: Path | None = None, mapping: str = "passages"
) -> LocalIndex:
    """The local index of ``corpus`` (``mapping``, default ``passages``) from the cache,
    built there on first use. The entry is keyed by the corpus file (resolved path, size,
    modification time), so every evaluation of one collection shares it whatever its
    ``--out``; it is built in a temporary directory and renamed into place, so an interrupted
    or concurrent build never leaves a half-filled index behind."""
    stat = corpus.stat()
    blob = json.dumps(
        {"corpus": str(corpus.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
         "mapping": resolve_mapping(mapping), "format": 1},
        sort_keys=True,
    )  # fmt: skip
    key = f"{name}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"
    root = cache or cache_root().parent / "indexes"  # beside the runtime cache

    def build(tmp: Path) -> None:
        print_rejected(LocalIndex(tmp, mapping=mapping).add(corpus))

    entry, _ = cached_build(root, key, build, describe={"corpus": str(corpus.resolve())})
    return LocalIndex.open(entry)


def _print_table(result: dict[str, Any]) -> None:
    m = result["metrics"]
    print(
        f"\n{result['dataset']} ({result.get('split', 'test')}): {result['queries']} queries, "
        f"window {result['rank_window_size']}"
    )
    print(model_line(result["model"]))
    if result["chunk_rescorer"] is not None:
        print(f"chunk_rescorer: {json.dumps(result['chunk_rescorer'])}")
    print(f"  {'metric':<10} {'BM25':>8} {'reranked':>9} {'change':>8}")
    for name in METRICS:
        b, r = m["bm25"][name], m["reranked"][name]
        print(f"  {name:<10} {b:>8.4f} {r:>9.4f} {r - b:>+8.4f}")
    w, t, lo = result["ndcg@10_wins_ties_losses"]
    print(f"  per-query NDCG@10: {w} wins, {t} ties, {lo} losses")
    s = result["seconds"]
    print(
        f"  time: index {s['index']:.1f}s, model load {s['model_load']:.1f}s, "
        f"BM25 {s['bm25']:.2f}s, rerank {s['rerank']:.1f}s "
        f"({result['pairs_scored']} pairs)"
    )


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # not on every platform
        return None
