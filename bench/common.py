"""What the benchmarks share: MS MARCO requests, the machine description, timing with
percentiles, a shim subprocess, the measured GEMM peak and model FLOPs per token."""

from __future__ import annotations

import json
import os
import platform
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The shared models and datasets beside the checkout (ES_RERANK_SHARED names another place,
# e.g. for a worktree).
SHARED = Path(os.environ.get("ES_RERANK_SHARED") or ROOT.parent / "shared")
DATASETS = SHARED / "datasets"
DISTILLED = SHARED / "models" / "minilm-l6-distilled-ce"
MSMARCO = DATASETS / "msmarco-dl19-subset"
BENCH_CACHE = ROOT / ".cache" / "bench"
Request = tuple[str, list[str]]


def load_requests(n: int, per_request: int, seed: int) -> tuple[list[Request], str]:
    """``n`` requests of one MS MARCO query and ``per_request`` passages (a seeded synthetic
    fallback with MS MARCO-like lengths when the dataset is absent)."""
    rng = random.Random(seed)
    if (MSMARCO / "corpus.jsonl").is_file() and (MSMARCO / "queries.jsonl").is_file():
        with open(MSMARCO / "corpus.jsonl") as f:
            corpus = [json.loads(line)["text"] for line in f]
        with open(MSMARCO / "queries.jsonl") as f:
            queries = [json.loads(line)["text"] for line in f]
        source = f"msmarco-dl19-subset ({len(queries)} queries, {len(corpus)} passages)"
    else:
        words = [f"w{i}" for i in range(3000)]
        corpus = [" ".join(rng.choices(words, k=rng.randint(20, 120))) for _ in range(5000)]
        queries = [" ".join(rng.choices(words, k=rng.randint(3, 10))) for _ in range(50)]
        source = "synthetic fallback (msmarco-dl19-subset absent): 20-120 word passages"
    reqs = [(queries[k % len(queries)], rng.sample(corpus, per_request)) for k in range(n)]
    return reqs, source


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def machine() -> dict[str, str]:
    """CPU, cores, library versions and the load average now."""
    from es_rerank.runtime.hardware import cpu_flags, cpu_name

    isa = sorted(
        f for f in cpu_flags() if f in {"avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"}
    )
    info = {
        "cpu": cpu_name(),
        "cores": str(len(os.sched_getaffinity(0))),
        "isa": ", ".join(isa) or "no VNNI/BF16/AMX",
        "python": platform.python_version(),
    }
    for dist in (
        "torch",
        "transformers",
        "sentence-transformers",
        "onnxruntime",
        "optimum",
        "optimum-onnx",
        "optimum-intel",
        "openvino",
        "nncf",
        "waitress",
    ):
        info[dist] = _version(dist)
    info["load average (1 min) at start"] = f"{os.getloadavg()[0]:.2f}"
    return info


def distilled_present() -> bool:
    """True when the shared distilled model is there; otherwise says why the bench skips."""
    if (DISTILLED / "config.json").is_file():
        return True
    print(f"skipped: the distilled model is absent ({DISTILLED})")
    return False


def print_machine() -> None:
    print("machine: " + "; ".join(f"{k} {v}" for k, v in machine().items()))


@dataclass
class Measurement:
    wall: float = 0.0
    pairs: int = 0
    tokens: int = 0
    latencies: list[float] = field(default_factory=list)

    def add(self, other: Measurement) -> None:
        self.wall += other.wall
        self.pairs += other.pairs
        self.tokens += other.tokens
        self.latencies.extend(other.latencies)

    @property
    def pairs_per_s(self) -> float:
        return self.pairs / self.wall if self.wall else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.wall if self.wall else 0.0

    def percentile(self, q: float) -> float:
        lat = sorted(self.latencies)
        return lat[min(len(lat) - 1, round(q * (len(lat) - 1)))] if lat else 0.0


def timed(
    fn: Callable[[Request], object],
    reqs: Sequence[Request],
    concurrency: int,
    tokens_of: Callable[[Request], int] = lambda r: 0,
) -> Measurement:
    """Run every request (from ``concurrency`` threads); wall time and latencies."""
    latencies: list[float] = []
    lock = threading.Lock()

    def one(req: Request) -> None:
        t0 = time.perf_counter()
        fn(req)
        dt = time.perf_counter() - t0
        with lock:
            latencies.append(dt)

    start = time.perf_counter()
    if concurrency == 1:
        for r in reqs:
            one(r)
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(one, reqs))
    return Measurement(
        wall=time.perf_counter() - start,
        pairs=sum(len(t) for _, t in reqs),
        tokens=sum(tokens_of(r) for r in reqs),
        latencies=latencies,
    )


def start_shim(args: Sequence[str]) -> tuple[subprocess.Popen[str], str]:
    """``inference-shim serve ARGS --port 0`` in a subprocess; (process, base URL) once ready."""
    import httpx

    proc = subprocess.Popen(
        [sys.executable, "-m", "inference_shim", "serve", "--port", "0", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("inference-shim listening on "):
            url = line.rsplit(" ", 1)[1].strip()
            break
    else:
        raise RuntimeError("the shim did not start")
    threading.Thread(target=lambda: [None for _ in proc.stdout or ()], daemon=True).start()
    while httpx.get(url + "/ready", timeout=10).status_code != 200:
        time.sleep(0.2)
    return proc, url


def gemm_peak(threads: int) -> dict[str, float]:
    """Best measured GEMM rate with ``threads`` threads: fp32 (torch.mm) in GFLOP/s and
    int8 (torch._int_mm, int8 x int8 -> int32) in GOP/s."""
    import torch

    torch.set_num_threads(threads)
    out: dict[str, float] = {}
    for name, make, mm in (
        ("fp32", lambda n: torch.randn(n, n), torch.mm),
        ("int8", lambda n: torch.randint(-128, 127, (n, n), dtype=torch.int8), torch._int_mm),
    ):
        best = 0.0
        for n in (512, 1024, 2048):
            a, b = make(n), make(n)
            mm(a, b)
            reps = max(3, int(2e10 / (2 * n**3)))
            t0 = time.perf_counter()
            for _ in range(reps):
                mm(a, b)
            best = max(best, reps * 2 * n**3 / (time.perf_counter() - t0) / 1e9)
        out[name] = best
    return out


def flops_per_token(config_path: Path, seq_len: float) -> float:
    """Matrix-multiply FLOPs per token of a BERT-style encoder at ``seq_len`` tokens:
    projections and feed-forward (2 x weights) plus attention scores and mixing."""
    cfg = json.loads(config_path.read_text())
    h, i, layers = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    per_layer = 2 * (4 * h * h + 2 * h * i) + 2 * 2 * seq_len * h
    return float(layers * per_layer)


def write_section(path: Path, heading: str, text: str) -> None:
    """Replace (or add) the section under ``heading`` in ``path`` (RELIABILITY.md) with
    ``text``, leaving the other sections as they are."""
    old = path.read_text() if path.exists() else "# Reliability\n"
    start = old.find(heading)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + len(heading))
        new = old[:start] + text + (old[end + 1 :] if end >= 0 else "")
    path.write_text(new)


ST_ONNX_INT8 = "onnx/model_qint8_avx512_vnni.onnx"
ST_OPENVINO_INT8 = "openvino/openvino_model_qint8_quantized.xml"


def st_onnx_int8_export(model: Path) -> str:
    """sentence-transformers' dynamic int8 ONNX export of ``model`` (made once, in place);
    its file name."""
    from sentence_transformers import CrossEncoder
    from sentence_transformers.backend import export_dynamic_quantized_onnx_model

    if not (model / ST_ONNX_INT8).is_file():
        export_dynamic_quantized_onnx_model(
            CrossEncoder(str(model), backend="onnx"), "avx512_vnni", str(model)
        )
    return ST_ONNX_INT8


def st_openvino_int8_export(model: Path, samples: int = 300) -> str:
    """sentence-transformers' static int8 OpenVINO export of ``model``, calibrated on
    ``samples`` pairs of this package's calibration set (made once, in place); its file
    name."""
    import shutil
    import tempfile

    from optimum.intel import OVQuantizationConfig
    from sentence_transformers import CrossEncoder
    from sentence_transformers.backend import export_static_quantized_openvino_model

    from es_rerank.runtime.calibration import calibration_pairs

    if not (model / ST_OPENVINO_INT8).is_file():
        data = Path(tempfile.mkdtemp())
        with (data / "train.jsonl").open("w") as fh:
            flat = [f"{q} {t}" for q, texts in calibration_pairs() for t in texts]
            for text in flat[:: max(1, len(flat) // samples)][:samples]:  # every query
                fh.write(json.dumps({"sentence": text}) + "\n")
        export_static_quantized_openvino_model(
            CrossEncoder(str(model), backend="openvino"),
            OVQuantizationConfig(num_samples=samples),
            str(model),
            dataset_name=str(data),
            dataset_config_name="default",
            dataset_split="train",
            column_name="sentence",
        )
        shutil.rmtree(data, ignore_errors=True)
    return ST_OPENVINO_INT8
