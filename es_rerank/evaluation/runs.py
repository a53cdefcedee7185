"""A run over a BEIR-layout collection, as ``eval`` and ``calibrate`` make it: the options
they share (:class:`RunOptions`, from the flags :func:`add_run_arguments` adds), checked
before any work, then the dataset, the first-stage backend (the corpus indexed once, in the
cache or the index named) and the reranker loaded (:func:`prepare_run`).

>>> from pathlib import Path
>>> RunOptions(dataset=Path("ds"), rank_window_size=0).check()
Traceback (most recent call last):
...
es_rerank.errors.ConfigurationError: --rank-window-size must be >= 1, got 0
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from es_rerank.backends.base import Backend
from es_rerank.backends.local import LocalIndex
from es_rerank.chunking.settings import ChunkRescorer
from es_rerank.datasets import BeirDataset, load_beir
from es_rerank.documents import count_lines, print_rejected
from es_rerank.elastic.connection import (
    ConnectionOptions,
    add_connection_arguments,
    connection_from_args,
)
from es_rerank.errors import ConfigurationError
from es_rerank.extras import require_extra
from es_rerank.factories import require_models
from es_rerank.index_cache import cached_corpus_index
from es_rerank.rerank_window import ChosenModel, model_reranker
from es_rerank.rerankers.base import Reranker
from es_rerank.runtime.cli import add_runtime_arguments, runtime_kwargs

if TYPE_CHECKING:
    from es_rerank.rerankers.cross_encoder import CrossEncoderReranker

__all__ = [
    "CountingReranker",
    "PreparedRun",
    "RunOptions",
    "add_run_arguments",
    "check_out",
    "model_info",
    "model_line",
    "prepare_run",
]


@dataclass(frozen=True)
class RunOptions:
    """What a run is asked to do; the flags of :func:`add_run_arguments`, by the same names."""

    dataset: Path
    split: str = "test"
    model: str | None = None
    rank_window_size: int = 100
    field: str = "text"
    batch_size: int = 32
    max_length: int | None = None
    limit_queries: int | None = None
    chunk_rescorer: ChunkRescorer | None = None
    #: a local index directory (default: one cached per corpus)
    local: Path | None = None
    #: an Elasticsearch index, on the cluster ``connection`` names
    index: str | None = None
    connection: ConnectionOptions | None = None
    #: the corpus is also embedded (the ``passages-semantic`` mapping), for dense stages
    semantic: bool = False
    #: :func:`es_rerank.factories.cross_encoder_reranker` keywords (runtime, dtype, ...)
    runtime: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_args(cls, args: argparse.Namespace, *, semantic: bool = False) -> RunOptions:
        """The options the flags of :func:`add_run_arguments` give."""
        return cls(
            dataset=args.dataset,
            split=args.split,
            model=args.model,
            rank_window_size=args.rank_window_size,
            field=args.field,
            batch_size=args.batch_size,
            max_length=args.max_length,
            limit_queries=args.limit_queries,
            chunk_rescorer=_chunk_rescorer(args.chunk_rescorer),
            local=args.local,
            index=args.index,
            connection=connection_from_args(args) if args.index else None,
            semantic=semantic,
            runtime=runtime_kwargs(args),
        )

    def check(self) -> None:
        """Refuse a value no run can use, naming its flag."""
        for flag, value in (
            ("--rank-window-size", self.rank_window_size),
            ("--batch-size", self.batch_size),
            ("--limit-queries", self.limit_queries),
        ):
            if value is not None and value < 1:
                raise ConfigurationError(f"{flag} must be >= 1, got {value}")
        if self.local is not None and self.index:
            raise ConfigurationError("give either --local PATH or --index NAME, not both")

    @property
    def chunk_rescorer_json(self) -> dict[str, Any] | None:
        return None if self.chunk_rescorer is None else self.chunk_rescorer.to_dict()


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """The dataset, model, window and first-stage flags ``eval`` and ``calibrate`` share."""
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
class PreparedRun:
    """What a dataset run needs, checked and loaded."""

    options: RunOptions
    data: BeirDataset
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    backend: Backend
    index_s: float
    model: ChosenModel
    reranker: CrossEncoderReranker
    load_s: float

    @property
    def chunk_rescorer_json(self) -> dict[str, Any] | None:
        return self.options.chunk_rescorer_json


def prepare_run(options: RunOptions, feature: str) -> PreparedRun:
    """Check every option before any work, then load the dataset, the first-stage backend
    (indexing the corpus if needed) and the reranker (on the runtime asked for: a model is
    loaded once, by that runtime)."""
    require_extra("eval", "ir_measures", "matplotlib", feature=feature)
    require_models(feature)
    options.check()
    data = load_beir(options.dataset, split=options.split)
    queries = dict(list(data.queries.items())[: options.limit_queries or None])
    qrels = {q: data.qrels[q] for q in queries}
    t0 = time.perf_counter()
    backend = _backend(options, data)
    index_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model, reranker = model_reranker(
        options.model,
        max_length=options.max_length,
        batch_size=options.batch_size,
        **options.runtime,
    )
    load_s = time.perf_counter() - t0
    return PreparedRun(options, data, queries, qrels, backend, index_s, model, reranker, load_s)


class CountingReranker:
    """A reranker that counts the (query, text) pairs it scores."""

    def __init__(self, inner: Reranker) -> None:
        self.inner = inner
        self.pairs = 0

    def rerank(self, query: str, texts: Sequence[str]) -> Sequence[float]:
        self.pairs += len(texts)
        return self.inner.rerank(query, texts)


def model_info(prep: PreparedRun) -> dict[str, Any]:
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
    """The report's model as one line.

    >>> model_line({"path": "/m/ce", "kind": "cross-encoder", "runtime": "onnx", "dtype": "int8"})
    'model: /m/ce (cross-encoder, runtime onnx int8)'
    """
    return f"model: {model['path']} ({model['kind']}, runtime {model['runtime']} {model['dtype']})"


def _chunk_rescorer(text: str | None) -> ChunkRescorer | None:
    if text is None:
        return None
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"--chunk-rescorer is not valid JSON: {exc}") from None
    return ChunkRescorer.from_dict(body)


def _backend(options: RunOptions, data: BeirDataset) -> Backend:
    if options.index:
        return _cluster_index(options.index, options.connection, data)
    mapping = "passages-semantic" if options.semantic else "passages"
    if options.local is None:
        return cached_corpus_index(data.corpus, name=data.path.name, mapping=mapping)
    index = LocalIndex(options.local, mapping=mapping)
    if index.count() < count_lines(data.corpus, non_blank=True):
        # new, or an earlier run stopped early: adding is idempotent
        print_rejected(index.add(data.corpus))
    return index


def _cluster_index(name: str, connection: ConnectionOptions | None, data: BeirDataset) -> Backend:
    """Index ``name`` on the cluster, filled from the corpus when it does not exist."""
    from es_rerank.elastic.backend import ElasticsearchBackend
    from es_rerank.elastic.bulk import bulk_index
    from es_rerank.elastic.cluster import ensure_index

    connection = connection or ConnectionOptions.resolve()
    if not connection.configured:
        raise ConfigurationError(
            "--index NAME runs on Elasticsearch: give --es-url URL (or ES_URL) / --cloud-id"
        )
    client = connection.client()
    if ensure_index(client, name, "passages"):
        result = bulk_index(client, name, data.corpus, batch_size=500)
        print_rejected(result)
        print(f"indexed {result.indexed}, rejected {len(result.rejected)}", file=sys.stderr)
    return ElasticsearchBackend(client, name)
