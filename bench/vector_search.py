"""kNN on the local index: recall@10 against exact search, latency, build time and memory on
the shared corpora (embedded with the packaged all-MiniLM-L6-v2) and on a synthetic set
(1,000,000 x 384 by default), and indexing throughput against sentence-transformers
``encode`` of the same texts.

    python bench/vector_search.py                      # everything (the 1M set is long)
    python bench/vector_search.py --parts corpora,throughput
    python bench/vector_search.py --parts synthetic --n 200000
    python bench/vector_search.py --parts sweep --efs 100,200,400   # beam widths, one graph

Every figure comes with the CPU and the load average at the time; ratios are measured side by
side in one run. The synthetic vectors are unit vectors of low intrinsic dimension (a Gaussian
mixture in 32 dimensions mapped into 384, plus noise), as sentence embeddings are; i.i.d.
Gaussian vectors, which no corpus resembles, would make every method look worse.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATASETS, machine

from es_rerank.backends import vectors as vec_mod
from es_rerank.backends.vectors import DenseVectorSpec, VectorField

K = 10
CORPORA = ("cranfield", "msmarco-dl19-subset", "dbpedia-entity-subset")


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _read(path: Path, key: str = "text") -> list[str]:
    out = []
    with path.open() as fh:
        for line in fh:
            row = json.loads(line)
            title = row.get("title") or ""
            out.append(f"{title} {row.get(key, '')}".strip() if key == "text" else row[key])
    return out


def _percentiles(ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def measure(
    field: VectorField, state: Any, vectors: np.ndarray, queries: np.ndarray, *, exact: bool
) -> dict[str, float]:
    """recall@10 of the field's search against exact numpy search, and latencies of both."""
    lat, exact_lat, recall = [], [], []
    for q in queries:
        t = time.perf_counter()
        truth = np.argsort(-(vectors @ q), kind="stable")[:K]
        exact_lat.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        hits = field.search(state, q.tolist(), k=K, num_candidates=int(K * 1.5), exact=exact)
        lat.append((time.perf_counter() - t) * 1000)
        got = {int(i) for i, _ in hits}
        recall.append(len(got & set(truth.tolist())) / K)
    p50, p99 = _percentiles(lat)
    e50, e99 = _percentiles(exact_lat)
    return {
        "recall@10": round(float(np.mean(recall)), 4),
        "p50_ms": round(p50, 3),
        "p99_ms": round(p99, 3),
        "qps": round(1000 / float(np.mean(lat)), 1),
        "exact_numpy_p50_ms": round(e50, 3),
        "exact_numpy_p99_ms": round(e99, 3),
        "speedup_p50": round(e50 / p50, 1),
    }


def build(vectors: np.ndarray, index_type: str) -> tuple[VectorField, Any, float, float]:
    spec = DenseVectorSpec("v", vectors.shape[1], "cosine", index_type)  # type: ignore[arg-type]
    field = VectorField(spec, Path(tempfile.mkdtemp()))
    ids = [str(i) for i in range(len(vectors))]
    before = rss_mib()
    t = time.perf_counter()
    state = field.refresh(1, lambda: (ids, vectors))
    return field, state, time.perf_counter() - t, rss_mib() - before


def _corpus_vectors(name: str, args: argparse.Namespace, emb: Any) -> tuple[Any, Any] | None:
    """The corpus's embeddings (from ``--index-cache``'s index of it when there is one: the
    eval's cached ``passages-semantic`` index, whose chunks are already embedded) and the
    queries' embeddings."""
    from es_rerank import LocalIndex

    base = args.datasets / name
    if not (base / "corpus.jsonl").is_file():
        print(f"{name}: absent, skipped")
        return None
    queries = _read(base / "queries.jsonl")[: args.corpus_queries]
    cached = [p.parent for p in sorted(args.index_cache.glob(f"{name}-*/es_rerank_mapping.json"))]
    for entry in cached:
        index = LocalIndex.open(entry)
        if "text_semantic" in index.mapping.fields:
            state = index._vector_state("text_semantic")
            print(f"{name}: {len(state.ids)} chunk vectors from {entry}")
            return state.vectors, emb.embed(queries)
    texts = _read(base / "corpus.jsonl")
    return emb.embed(texts), emb.embed(queries)


def corpora(args: argparse.Namespace) -> None:
    from es_rerank.embedding import embedder_for

    emb = embedder_for(None)
    for name in args.corpora.split(","):
        t = time.perf_counter()
        found = _corpus_vectors(name, args, emb)
        if found is None:
            continue
        dv, qv = found
        took = time.perf_counter() - t
        print(f"{name}: {len(dv)} vectors, {len(qv)} queries ready in {took:.0f}s; {load()}")
        for index_type in ("int8_hnsw", "hnsw"):
            field, state, secs, mib = build(dv, index_type)
            default = measure(field, state, dv, qv, exact=False)
            saved = vec_mod.EXACT_BELOW
            vec_mod.EXACT_BELOW = 0  # the graph even where the default searches exactly
            graph = measure(field, state, dv, qv, exact=False)
            vec_mod.EXACT_BELOW = saved
            print(
                f"  {index_type}: build {secs:.2f}s, +{mib:.0f} MiB; defaults {default}; "
                f"graph forced {graph}; {load()}"
            )


def _synthetic(n: int, dims: int, seed: int) -> np.ndarray:
    basis = np.random.default_rng(0).standard_normal((32, dims)).astype(np.float32)
    centres = np.random.default_rng(1).standard_normal((64, 32)).astype(np.float32)
    rng = np.random.default_rng(seed)
    out = np.empty((n, dims), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        z = centres[rng.integers(0, 64, m)] + 0.7 * rng.standard_normal((m, 32)).astype(np.float32)
        x = z @ basis + 0.5 * rng.standard_normal((m, dims)).astype(np.float32)
        out[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def synthetic(args: argparse.Namespace) -> None:
    data = _synthetic(args.n, args.dims, 7)
    queries = _synthetic(args.queries, args.dims, 8)
    print(f"synthetic {args.n} x {args.dims}, {args.queries} queries; {load()}")
    field, state, secs, mib = build(data, "int8_hnsw")
    print(f"  int8_hnsw build {secs:.0f}s (1 thread), +{mib:.0f} MiB RSS; {load()}")
    print(f"  {measure(field, state, data, queries, exact=False)}; {load()}")


def _truth(data: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Exact top-10 rows of each query (float32 inner product), batched."""
    out = np.empty((len(queries), K), dtype=np.int64)
    for start in range(0, len(queries), 25):
        sims = data @ queries[start : start + 25].T
        for j in range(sims.shape[1]):
            col = sims[:, j]
            top = np.argpartition(-col, K)[:K]
            out[start + j] = top[np.argsort(-col[top], kind="stable")]
    return out


def sweep(args: argparse.Namespace) -> None:
    """One graph of the synthetic set (built once, kept under ``--graph-cache``), searched with
    each beam width of ``--efs``: recall@10 of the beam itself (the ceiling), of the
    ``num_candidates`` (15 for k=10) best of the beam by the graph's own distance rescored in
    float (the previous default), and of the whole beam rescored in float (the current one);
    then the field's default search, and exact numpy search, timed per query."""
    data = _synthetic(args.n, args.dims, 7)
    queries = _synthetic(args.queries, args.dims, 8)
    spec = DenseVectorSpec("v", args.dims, "cosine", args.index_type, args.m, args.ef_construction)
    print(f"synthetic {args.n} x {args.dims}, {args.queries} queries, {spec}; {load()}")
    t = time.perf_counter()
    truth = _truth(data, queries)
    print(f"  exact top-10 of all queries (batched) {time.perf_counter() - t:.0f}s; {load()}")
    args.graph_cache.mkdir(parents=True, exist_ok=True)
    path = args.graph_cache / (
        f"synthetic-{args.n}x{args.dims}-{args.index_type}-m{args.m}-ef{args.ef_construction}.usearch"
    )
    graph = vec_mod.new_graph(spec)
    if path.is_file():
        graph.load(str(path))
        if len(graph) != args.n:
            raise SystemExit(f"{path} holds {len(graph)} vectors, not {args.n}")
        print(f"  graph loaded from {path} (resolved {path.resolve()})")
    else:
        before = rss_mib()
        t = time.perf_counter()
        graph.add(np.arange(args.n), data, threads=args.build_threads)
        secs = time.perf_counter() - t
        print(
            f"  graph built in {secs:.0f}s ({args.build_threads} threads), "
            f"+{rss_mib() - before:.0f} MiB RSS; {load()}"
        )
        graph.save(str(path))
    for ef in (int(x) for x in args.efs.split(",")):
        graph.expansion_search = ef
        rec_beam, rec_15, rec_all, ms = [], [], [], []
        for q, true in zip(queries, truth, strict=True):
            t = time.perf_counter()
            keys = np.asarray(graph.search(q, ef, threads=1).keys, dtype=np.int64)
            top = keys[np.argsort(-(data[keys] @ q), kind="stable")[:K]]
            ms.append((time.perf_counter() - t) * 1000)
            head = keys[:15]
            top15 = head[np.argsort(-(data[head] @ q), kind="stable")[:K]]
            want = set(true.tolist())
            rec_beam.append(len(want & set(keys.tolist())) / K)
            rec_15.append(len(want & set(top15.tolist())) / K)
            rec_all.append(len(want & set(top.tolist())) / K)
        p50, p99 = _percentiles(ms)
        print(
            f"  ef {ef}: recall@10 beam {np.mean(rec_beam):.4f}, 15 rescored "
            f"{np.mean(rec_15):.4f}, beam rescored {np.mean(rec_all):.4f}; "
            f"search+rescore p50 {p50:.2f} ms p99 {p99:.2f} ms; {load()}"
        )
    ids = [str(i) for i in range(args.n)]
    field = VectorField(spec, Path(tempfile.mkdtemp()))
    state = vec_mod._Cache(1, ids, data, np.arange(args.n, dtype=np.int64), graph)
    lat, exact_lat, recall = [], [], []
    for i, (q, true) in enumerate(zip(queries, truth, strict=True)):
        t = time.perf_counter()
        hits = field.search(state, q.tolist(), k=K, num_candidates=int(K * 1.5))
        lat.append((time.perf_counter() - t) * 1000)
        recall.append(len({int(h) for h, _ in hits} & set(true.tolist())) / K)
        if i < args.exact_queries:
            t = time.perf_counter()
            np.argsort(-(data @ q), kind="stable")[:K]
            exact_lat.append((time.perf_counter() - t) * 1000)
    p50, p99 = _percentiles(lat)
    e50, e99 = _percentiles(exact_lat)
    print(
        f"  defaults (MIN_EF_SEARCH {vec_mod.MIN_EF_SEARCH}, num_candidates 15): recall@10 "
        f"{np.mean(recall):.4f}, p50 {p50:.2f} ms, p99 {p99:.2f} ms, qps "
        f"{1000 / np.mean(lat):.0f}; exact numpy ({len(exact_lat)} queries) p50 {e50:.1f} ms, "
        f"p99 {e99:.1f} ms; speedup p50 {e50 / p50:.0f}x; {load()}"
    )


def _time(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def throughput(args: argparse.Namespace) -> None:
    """LocalIndex.add of a semantic_text corpus (chunking, embedding in token-budget batches,
    vectors and graph committed) against sentence-transformers encode of the same chunks."""
    from es_rerank import LocalIndex
    from es_rerank.backends.semantic_text import DEFAULT_SEMANTIC_CHUNKING, SemanticTextSpec
    from es_rerank.embedding import embedder_for

    texts = _read(args.datasets / "msmarco-dl19-subset" / "corpus.jsonl")[: args.docs]
    spec = SemanticTextSpec.from_mapping("body", {"type": "semantic_text"})
    assert spec.chunking == DEFAULT_SEMANTIC_CHUNKING
    chunks = [c for t in texts for c in spec.chunks(t)]
    model = embedder_for(None)._model
    mapping = {"mappings": {"properties": {"body": {"type": "semantic_text"}}}}
    docs = [{"_id": str(i), "body": t} for i, t in enumerate(texts)]
    emb = embedder_for(None)
    rounds = []
    for r in range(args.rounds):
        # the two alternate which goes first, so neither always meets the warmer caches
        idx = LocalIndex(tempfile.mkdtemp(), mapping=mapping)
        encoded = emb.encoded

        def st() -> None:
            model.encode(chunks, batch_size=32, normalize_embeddings=True)

        def ours(idx: LocalIndex = idx) -> None:
            idx.add(docs, progress=False)

        if r % 2:
            ours_s, st_s = _time(ours), _time(st)
        else:
            st_s, ours_s = _time(st), _time(ours)
        assert emb.encoded - encoded >= len(set(chunks)), "every chunk embedded, none cached"
        rounds.append((st_s, ours_s))
        print(
            f"  round {r + 1} ({'index' if r % 2 else 'ST'} first) {len(texts)} docs / "
            f"{len(chunks)} chunks: ST encode {len(chunks) / st_s:.1f} chunks/s, "
            f"LocalIndex.add {len(chunks) / ours_s:.1f} chunks/s, ratio {st_s / ours_s:.2f}; "
            f"{load()}"
        )
    ratios = [s / o for s, o in rounds]
    best = min(s for s, _ in rounds) / min(o for _, o in rounds)
    print(
        f"indexing / ST encode throughput over {len(rounds)} rounds: median "
        f"{float(np.median(ratios)):.2f}, min {min(ratios):.2f}, max {max(ratios):.2f}; "
        f"fastest ST / fastest index {best:.2f}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--parts", default="corpora,throughput,synthetic")
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--dims", type=int, default=384)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--docs", type=int, default=1000, help="documents for the throughput part")
    p.add_argument("--rounds", type=int, default=8, help="throughput rounds (alternating)")
    p.add_argument("--datasets", type=Path, default=DATASETS, help="the shared datasets folder")
    p.add_argument("--corpus-queries", type=int, default=100, help="queries per corpus")
    p.add_argument("--corpora", default=",".join(CORPORA), help="which shared corpora")
    p.add_argument(
        "--index-cache",
        type=Path,
        default=Path.home() / ".cache" / "es-rerank" / "indexes",
        help="where `es-rerank eval --first-stages` cached its indexes (embeddings reused)",
    )
    p.add_argument("--efs", default="100,150,200,300,500", help="sweep: beam widths")
    p.add_argument("--index-type", default="int8_hnsw", help="sweep: the graph's kind")
    p.add_argument("--m", type=int, default=vec_mod.DEFAULT_M, help="sweep: connectivity")
    p.add_argument("--ef-construction", type=int, default=vec_mod.DEFAULT_EF_CONSTRUCTION)
    p.add_argument("--build-threads", type=int, default=1, help="sweep: graph build threads")
    p.add_argument("--exact-queries", type=int, default=50, help="sweep: exact numpy timed")
    p.add_argument(
        "--graph-cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "es-rerank-bench-graphs",
        help="sweep: where built graphs are kept for the next run",
    )
    args = p.parse_args()
    print(json.dumps(machine()))
    parts = args.parts.split(",")
    if "corpora" in parts:
        corpora(args)
    if "throughput" in parts:
        throughput(args)
    if "synthetic" in parts:
        synthetic(args)
    if "sweep" in parts:
        sweep(args)


if __name__ == "__main__":
    main()
