"""Throughput of every model runtime against the CPU peers, side by side in one run.

Same model (the exact ms-marco-MiniLM-L-6-v2 architecture, random weights: speed does not
depend on the weights) and the same requests (an MS MARCO query with 100 passages each):

  (a) sentence-transformers ``CrossEncoder.predict``, fp32 torch, default settings;
  (b) the sentence-transformers configurations a user would pick for int8 on CPU:
      ``backend="onnx"`` with its avx512_vnni dynamic int8 export, and
      ``backend="openvino"`` with its static int8 export (calibrated on this package's
      calibration set, since the default calibration data is on the hub);
  (c) the shim's engine in-process, per runtime and dtype;
  (d) the shim over HTTP (a real server on loopback in a subprocess) at several
      concurrencies, with the fastest runtime of (c);
  (e) Infinity (``infinity-emb`` in its own virtual environment) over HTTP, where it
      installs and starts; otherwise the reason is printed.

Single-stream rows take turns request by request and concurrent rows round by round (on
the same requests), so a neighbour's load on the shared CPU falls on all of them alike.
Prints pairs/s, ratios to (a) and to the best of (b), p50/p99 per request, and model
tokens/s as a share of the measured GEMM peak (fp32, and int8 for int8 rows).

Run: ``make bench`` (or ``python bench/shim_throughput.py --help``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH_CACHE,
    Measurement,
    Request,
    flops_per_token,
    gemm_peak,
    load_requests,
    machine,
    st_onnx_int8_export,
    st_openvino_int8_export,
    start_shim,
    timed,
)

RUNTIMES = [
    ("torch", "fp32"),
    ("torch", "bf16"),
    ("onnx", "fp32"),
    ("onnx", "int8"),
    ("openvino", "fp32"),
    ("openvino", "bf16"),
    ("openvino", "int8"),
]


def bench_model() -> Path:
    """The random-weight MiniLM-L6 cross-encoder, built once (seeded) and kept with the
    sentence-transformers exports under ``.cache/bench``."""
    from tests.helpers.tiny_models import minilm_l6_random

    path = BENCH_CACHE / "minilm-l6-random"
    if not (path / "config.json").is_file():
        BENCH_CACHE.mkdir(parents=True, exist_ok=True)  # a fresh checkout has none
        tmp = Path(tempfile.mkdtemp(dir=BENCH_CACHE))
        minilm_l6_random(tmp)
        tmp.rename(path)
    return path


def st_int8_peers(model: Path) -> list[tuple[str, Callable[[Request], object]]]:
    """sentence-transformers' own int8 exports of ``model`` (made once)."""
    from sentence_transformers import CrossEncoder

    onnx_file = st_onnx_int8_export(model)
    ov_file = st_openvino_int8_export(model)
    out = []
    for label, backend, file in (
        ("(b) sentence-transformers onnx int8 (avx512_vnni)", "onnx", onnx_file),
        ("(b) sentence-transformers openvino int8 (static)", "openvino", ov_file),
    ):
        ce = CrossEncoder(str(model), backend=backend, model_kwargs={"file_name": file})
        out.append((label, _predict(ce)))
    return out


def _predict(ce: object) -> Callable[[Request], object]:
    def predict(req: Request) -> object:
        return ce.predict([(req[0], t) for t in req[1]], show_progress_bar=False)  # type: ignore[attr-defined]

    return predict


def http_client(
    url: str, route: str, body: Callable[[Request], dict[str, object]]
) -> Callable[[Request], object]:
    import httpx

    local = threading.local()

    def call(req: Request) -> object:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=url, timeout=600)
        r = client.post(route, json=body(req))
        r.raise_for_status()
        return r.json()

    return call


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=32, help="requests per row")
    parser.add_argument("--passages", type=int, default=100, help="passages per request")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument(
        "--max-batch-tokens",
        type=int,
        default=None,
        help="padded tokens per forward pass of the engine rows (default: the runtime's, "
        "1024 on CPU)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-infinity", action="store_true", help="skip the Infinity peer")
    args = parser.parse_args(argv)

    os.environ.setdefault("ES_RERANK_CACHE", str(BENCH_CACHE / "es-rerank"))
    import torch
    from sentence_transformers import CrossEncoder

    from es_rerank.runtime import DEFAULT_MAX_BATCH_TOKENS, load_runtime
    from es_rerank.runtime.hardware import default_threads
    from inference_shim.metrics import Metrics
    from inference_shim.runner import Engine

    threads = default_threads()
    torch.set_num_threads(threads)
    reqs, source = load_requests(args.requests, args.passages, args.seed)
    print("machine:")
    for k, v in machine().items():
        print(f"  {k}: {v}")
    budget = args.max_batch_tokens or f"default ({DEFAULT_MAX_BATCH_TOKENS} on CPU)"
    print(
        f"data: {source}; {args.requests} requests x {args.passages} passages per row; "
        f"--max-batch-tokens {budget}; "
        f"{threads} threads; {args.rounds} rounds",
        flush=True,
    )
    peak = gemm_peak(threads)
    print(f"measured GEMM peak: fp32 {peak['fp32']:.0f} GFLOP/s, int8 {peak['int8']:.0f} GOP/s")

    model = bench_model()
    rows: list[tuple[str, Callable[[Request], object], int, str]] = []
    ce = CrossEncoder(str(model))
    rows.append(("(a) CrossEncoder.predict, fp32 torch", _predict(ce), 1, "fp32"))
    try:
        rows += [(label, fn, 1, "int8") for label, fn in st_int8_peers(model)]
    except Exception as exc:
        print(f"(b) sentence-transformers int8 peers unavailable: {type(exc).__name__}: {exc}")

    # token counts (the model's tokenizer, truncated as the engine does) for tokens/s
    ref = load_runtime(model, runtime="torch")
    tokens = {id(r): sum(p.length for p in ref.tokenize(r[0], r[1])) for r in reqs}
    mean_len = sum(tokens.values()) / sum(len(t) for _, t in reqs)
    flops = flops_per_token(model / "config.json", mean_len)

    engines: dict[str, Engine] = {}
    for runtime, dtype in RUNTIMES:
        label = f"(c) shim engine in-process, {runtime} {dtype}"
        try:
            rt = load_runtime(model, runtime=runtime, dtype=dtype, threads=threads)
        except Exception as exc:
            print(f"{label}: unavailable: {type(exc).__name__}: {exc}")
            continue
        engine = Engine(
            rt, max_batch_tokens=args.max_batch_tokens, max_queue=256, metrics=Metrics()
        )
        engine.start()
        engine.wait_ready()
        engines[label] = engine
        rows.append((label, lambda r, e=engine: e.score(r[0], r[1]), 1, dtype))

    procs = []
    results: dict[str, Measurement] = {}
    try:
        # a first round, request by request, to pick the fastest engine for the HTTP rows
        probe = reqs[:4]
        engine_rows = [(label, fn) for label, fn, _, _ in rows if label.startswith("(c)")]
        speed = {label: Measurement() for label, _ in engine_rows}
        for req in probe:
            for label, fn in engine_rows:
                speed[label].add(timed(fn, [req], 1))
        fastest = max(speed, key=lambda k: speed[k].pairs_per_s)
        runtime, dtype = fastest.rsplit(", ", 1)[1].split()
        proc, url = start_shim(
            [
                "--model",
                str(model),
                "--runtime",
                runtime,
                "--dtype",
                dtype,
                *(
                    ["--max-batch-tokens", str(args.max_batch_tokens)]
                    if args.max_batch_tokens
                    else []
                ),
                "--threads",
                "64",
                "--max-queue",
                "256",
            ]
        )
        procs.append(proc)
        http = http_client(url, "/rerank", lambda r: {"query": r[0], "texts": r[1]})
        rows += [
            (f"(d) shim over HTTP, {runtime} {dtype}, concurrency {c}", http, c, dtype)
            for c in args.concurrency
        ]
        if not args.no_infinity:
            from infinity_peer import start_infinity

            started = start_infinity(model)
            if isinstance(started, str):
                print(f"(e) Infinity: not measured: {started}")
            else:
                iproc, iurl, ilabel = started
                procs.append(iproc)
                ibody = lambda r: {"query": r[0], "documents": r[1], "model": str(model)}  # noqa: E731
                rows.append(
                    (
                        f"(e) Infinity {ilabel}, concurrency 1",
                        http_client(iurl, "/rerank", ibody),
                        1,
                        "fp32",
                    )
                )
                rows.append(
                    (
                        f"(e) Infinity {ilabel}, concurrency 16",
                        http_client(iurl, "/rerank", ibody),
                        16,
                        "fp32",
                    )
                )

        for _, fn, _, _ in rows:
            timed(fn, probe[:1], 1)  # warm every row
        results = {label: Measurement() for label, _, _, _ in rows}
        tokens_of: Callable[[Request], int] = lambda q: tokens[id(q)]  # noqa: E731
        size = math.ceil(len(reqs) / args.rounds)
        if size < max(c for _, _, c, _ in rows):
            print(f"note: {size} requests per round is below the highest concurrency")
        for r in range(args.rounds):
            part = reqs[r * size : (r + 1) * size]
            this_round = {label: Measurement() for label, _, _, _ in rows}
            # single-stream rows take turns request by request, so a burst of a neighbour's
            # load on the shared CPU falls on all of them alike; concurrent rows need the
            # whole round's requests at once and take turns round by round
            for req in part:
                for label, fn, c, _ in rows:
                    if c == 1:
                        this_round[label].add(timed(fn, [req], 1, tokens_of))
            for label, fn, c, _ in rows:
                if c > 1:
                    this_round[label] = timed(fn, part, c, tokens_of)
            for label, m in this_round.items():
                results[label].add(m)
                print(f"  round {r + 1}: {label}: {m.pairs_per_s:.1f} pairs/s", flush=True)
    finally:
        for p in procs:
            p.terminate()
            p.wait(60)
        for e in engines.values():
            e.close()

    # the peak is measured again at the end (the best of both): neighbours' load on the
    # shared CPU only ever lowers a measurement
    again = gemm_peak(threads)
    peak = {k: max(v, again[k]) for k, v in peak.items()}
    base = results[rows[0][0]].pairs_per_s
    st_int8 = [results[label].pairs_per_s for label, _, _, _ in rows if label.startswith("(b)")]
    best_b = max(st_int8) if st_int8 else float("nan")
    print()
    print(
        f"mean pair length {mean_len:.1f} tokens; {flops / 1e6:.1f} MFLOP per token; "
        f"GEMM peak fp32 {peak['fp32']:.0f} GFLOP/s, int8 {peak['int8']:.0f} GOP/s"
    )
    print(
        f"| setting | pairs/s | vs (a) | vs best (b) | p50 per {args.passages} passages | p99 "
        "| tokens/s | % of fp32 peak | % of int8 peak |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, _, _, dtype in rows:
        m = results[label]
        tps = m.tokens_per_s
        util32 = 100 * tps * flops / 1e9 / peak["fp32"]
        util8 = f"{100 * tps * flops / 1e9 / peak['int8']:.0f}%" if dtype == "int8" else "-"
        print(
            f"| {label} | {m.pairs_per_s:.1f} | {m.pairs_per_s / base:.2f}x "
            f"| {m.pairs_per_s / best_b:.2f}x | {m.percentile(0.5) * 1000:.0f} ms "
            f"| {m.percentile(0.99) * 1000:.0f} ms | {tps:.0f} | {util32:.0f}% | {util8} |"
        )
    print()
    print(f"load average (1 min) at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
