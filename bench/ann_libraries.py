"""usearch vs hnswlib vs faiss-cpu on the same vectors with ES's HNSW defaults (m=16,
ef_construction=100): recall@10 against exact search, build time, query latency, memory and
on-disk size, each library in its own subprocess so that memory figures do not mix.

    python bench/ann_libraries.py --n 50000 --dims 384 --queries 200

The vectors are clustered unit vectors (real embeddings are clustered; uniform random ones
are a worst case no corpus has), single-threaded build and search.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine

M, EF_CONSTRUCTION, K = 16, 100, 10


def clustered(n: int, dims: int, seed: int, latent: int = 32) -> np.ndarray:
    """Unit vectors of low intrinsic dimension, as sentence embeddings are: points of a
    ``latent``-dimensional Gaussian mixture mapped into ``dims`` dimensions, plus noise."""
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(0).standard_normal((latent, dims)).astype(np.float32)
    centres = np.random.default_rng(1).standard_normal((64, latent)).astype(np.float32)
    z = centres[rng.integers(0, len(centres), n)] + 0.7 * rng.standard_normal((n, latent))
    x = z.astype(np.float32) @ basis + 0.5 * rng.standard_normal((n, dims)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_one(lib: str, n: int, dims: int, nq: int, ef: int) -> dict[str, float]:
    data = clustered(n, dims, 1)
    queries = clustered(nq, dims, 2)
    exact = np.argsort(-(queries @ data.T), axis=1)[:, :K]
    before = rss_mib()
    t0 = time.perf_counter()
    path = Path(tempfile.mkdtemp()) / "ann"
    if lib.startswith("usearch"):
        from usearch.index import Index

        idx = Index(
            ndim=dims,
            metric="ip",
            dtype="i8" if lib == "usearch-i8" else "f32",
            connectivity=M,
            expansion_add=EF_CONSTRUCTION,
            expansion_search=ef,
        )
        idx.add(np.arange(n), data, threads=1)
        build = time.perf_counter() - t0
        mem = rss_mib() - before

        def search(q: np.ndarray) -> np.ndarray:
            return np.asarray(idx.search(q, K, threads=1).keys)

        idx.save(str(path))
        t1 = time.perf_counter()
        idx2 = Index.restore(str(path))
        load = time.perf_counter() - t1
        assert idx2 is not None and len(idx2) == n
    elif lib == "hnswlib":
        import hnswlib

        idx = hnswlib.Index(space="ip", dim=dims)
        idx.init_index(max_elements=n, ef_construction=EF_CONSTRUCTION, M=M)
        idx.set_num_threads(1)
        idx.add_items(data, np.arange(n))
        idx.set_ef(ef)
        build = time.perf_counter() - t0
        mem = rss_mib() - before

        def search(q: np.ndarray) -> np.ndarray:
            return idx.knn_query(q, k=K)[0]

        idx.save_index(str(path))
        t1 = time.perf_counter()
        idx2 = hnswlib.Index(space="ip", dim=dims)
        idx2.load_index(str(path))
        load = time.perf_counter() - t1
    else:
        import faiss

        faiss.omp_set_num_threads(1)
        idx = faiss.IndexHNSWFlat(dims, M, faiss.METRIC_INNER_PRODUCT)
        idx.hnsw.efConstruction = EF_CONSTRUCTION
        idx.add(data)
        idx.hnsw.efSearch = ef
        build = time.perf_counter() - t0
        mem = rss_mib() - before

        def search(q: np.ndarray) -> np.ndarray:
            return idx.search(q, K)[1]

        faiss.write_index(idx, str(path))
        t1 = time.perf_counter()
        faiss.read_index(str(path))
        load = time.perf_counter() - t1
    lat = []
    found = []
    for q in queries:
        t = time.perf_counter()
        found.append(search(q[None, :]).reshape(-1))
        lat.append(time.perf_counter() - t)
    recall = float(np.mean([len(set(f) & set(e)) / K for f, e in zip(found, exact, strict=True)]))
    ms = np.array(lat) * 1000
    return {
        "recall@10": round(recall, 4),
        "build_s": round(build, 2),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "rss_mib": round(mem, 1),
        "disk_mib": round(path.stat().st_size / 2**20, 1),
        "load_s": round(load, 3),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=50_000)
    p.add_argument("--dims", type=int, default=384)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--ef", type=int, default=100)
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--libs", default="usearch,usearch-i8,hnswlib,faiss")
    a = p.parse_args()
    if a.one:
        print(json.dumps(run_one(a.one, a.n, a.dims, a.queries, a.ef)))
        return
    print(json.dumps(machine()))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for lib in a.libs.split(","):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                lib,
                "--n",
                str(a.n),
                "--dims",
                str(a.dims),
                "--queries",
                str(a.queries),
                "--ef",
                str(a.ef),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        print(lib, out.stdout.strip(), "load", os.getloadavg())


if __name__ == "__main__":
    main()
