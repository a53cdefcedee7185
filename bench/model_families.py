"""Model families at their real sizes, random weights: pairs/s of every runtime this package
has against sentence-transformers' ``CrossEncoder`` on the same architecture and the same
pairs, side by side in one run, with score agreement against fp32 torch.

Families (configs as published; random weights, so agreement numbers say how much a
runtime moves scores, not how good rankings are):

- bert: cross-encoder/ms-marco-MiniLM-L6-v2's config (BERT, 6 layers, hidden 384);
- electra: cross-encoder/ms-marco-electra-base's config (ELECTRA base, 12 layers, 768);
- deberta-v2: mxbai-rerank-base-v1's config (DeBERTa-v3 base, 12 layers, 768);
- modernbert: gte-reranker-modernbert-base's config (ModernBERT base, 22 layers, 768);
- xlm-roberta: bge-reranker-v2-m3's config (XLM-RoBERTa large, 24 layers, hidden 1024);
- llm-reranker: Qwen3-Reranker-0.6B's config (Qwen3ForCausalLM, 28 layers, hidden 1024),
  scored logit("yes") - logit("no") in its prompt template; a byte-level BPE tokenizer
  trained here on the calibration passages (about Qwen's tokens per word on this text).

The encoders use the packaged BERT WordPiece vocabulary (their own tokenizers are
SentencePiece/BPE with similar token counts on English). Pairs: ``--queries`` MS MARCO
(TREC DL 2019) queries with ``--per-query`` passages each from the shared
msmarco-dl19-subset, whole (``--words`` cuts them). sentence-transformers runs ``predict``
(fp32 torch, and its int8 backends: ``export_dynamic_quantized_onnx_model`` avx512_vnni,
and ``export_static_quantized_openvino_model`` calibrated on ``--st-samples`` pairs, for
models under ``--calibrate-below`` parameters). Our OpenVINO int8 is static (NNCF, the
shipped calibration set) for encoders and int8 weights for LLM rerankers.

Run: ``make bench BENCH=families`` (or ``python bench/model_families.py --family modernbert``).
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    BENCH_CACHE,
    load_requests,
    print_machine,
    st_onnx_int8_export,
    st_openvino_int8_export,
)

from es_rerank.runtime.calibration import calibration_pairs  # the LLM tokenizer's corpus

Pairs = list[tuple[str, list[str]]]
ROOT = BENCH_CACHE / "families"


# -- models -------------------------------------------------------------------------------
def _bert_tokenizer(path: Path, *, types: bool) -> None:
    from transformers import BertTokenizerFast

    from es_rerank.models import packaged_bi_encoder_path

    names = ["input_ids", "token_type_ids", "attention_mask"] if types else None
    tok = BertTokenizerFast.from_pretrained(packaged_bi_encoder_path())
    if names is None:
        tok.model_input_names = ["input_ids", "attention_mask"]
        tok.init_kwargs["model_input_names"] = tok.model_input_names
    tok.model_max_length = 512
    tok.save_pretrained(path)


def _save_encoder(path: Path, model: Any, *, types: bool) -> None:
    model.eval().save_pretrained(path)
    _bert_tokenizer(path, types=types)


def build_minilm_l6(path: Path) -> None:
    from tests.helpers.tiny_models import minilm_l6_random

    minilm_l6_random(path)  # cross-encoder/ms-marco-MiniLM-L6-v2, as the throughput bench
    _bert_tokenizer(path, types=True)  # the same tokenizer, with the other families' length


def build_electra_base(path: Path) -> None:
    import torch
    from transformers import ElectraConfig, ElectraForSequenceClassification

    torch.manual_seed(0)
    config = ElectraConfig(  # cross-encoder/ms-marco-electra-base
        vocab_size=30522,
        embedding_size=768,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=512,
        num_labels=1,
    )
    _save_encoder(path, ElectraForSequenceClassification(config), types=True)


def build_deberta_v3_base(path: Path) -> None:
    import torch
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification

    torch.manual_seed(0)
    config = DebertaV2Config(  # mixedbread-ai/mxbai-rerank-base-v1 (DeBERTa-v3 base)
        vocab_size=128100,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=512,
        relative_attention=True,
        position_buckets=256,
        max_relative_positions=-1,
        norm_rel_ebd="layer_norm",
        share_att_key=True,
        pos_att_type=["p2c", "c2p"],
        position_biased_input=False,
        type_vocab_size=0,
        pad_token_id=0,
        num_labels=1,
    )
    _save_encoder(path, DebertaV2ForSequenceClassification(config), types=False)


def build_xlmr_large(path: Path) -> None:
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    torch.manual_seed(0)
    config = XLMRobertaConfig(
        vocab_size=250002,
        hidden_size=1024,
        num_hidden_layers=24,
        num_attention_heads=16,
        intermediate_size=4096,
        max_position_embeddings=8194,
        type_vocab_size=1,
        pad_token_id=0,  # the WordPiece vocabulary's [PAD]
        num_labels=1,
    )
    XLMRobertaForSequenceClassification(config).eval().save_pretrained(path)
    _bert_tokenizer(path, types=False)


def build_modernbert_base(path: Path) -> None:
    import torch
    from transformers import ModernBertConfig, ModernBertForSequenceClassification

    torch.manual_seed(0)
    config = ModernBertConfig(
        vocab_size=50368,
        hidden_size=768,
        num_hidden_layers=22,
        num_attention_heads=12,
        intermediate_size=1152,
        max_position_embeddings=8192,
        global_attn_every_n_layers=3,
        local_attention=128,
        pad_token_id=0,
        cls_token_id=101,
        sep_token_id=102,
        bos_token_id=101,
        eos_token_id=102,
        num_labels=1,
    )
    ModernBertForSequenceClassification(config).eval().save_pretrained(path)
    _bert_tokenizer(path, types=False)


def build_qwen3_reranker(path: Path) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

    from es_rerank.runtime.families import _QWEN3_RERANKER_TEMPLATE

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = [q + " " + " ".join(t) for q, t in calibration_pairs()] + ["yes no"] * 50
    corpus.append(_QWEN3_RERANKER_TEMPLATE)
    trainer = trainers.BpeTrainer(
        vocab_size=6000,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus * 3, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        model_max_length=8192,
    )
    fast.model_input_names = ["input_ids", "attention_mask"]
    fast.init_kwargs["model_input_names"] = fast.model_input_names
    fast.chat_template = _QWEN3_RERANKER_TEMPLATE
    torch.manual_seed(0)
    config = Qwen3Config(  # Qwen/Qwen3-Reranker-0.6B
        vocab_size=151669,
        hidden_size=1024,
        intermediate_size=3072,
        num_hidden_layers=28,
        num_attention_heads=16,
        num_key_value_heads=8,
        head_dim=128,
        max_position_embeddings=40960,
        rope_theta=1000000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        pad_token_id=fast.pad_token_id,
    )
    Qwen3ForCausalLM(config).eval().save_pretrained(path)
    fast.save_pretrained(path)


FAMILIES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "bert": ("ms-marco-MiniLM-L6-v2 config", build_minilm_l6),
    "electra": ("ms-marco-electra-base config", build_electra_base),
    "deberta-v2": ("mxbai-rerank-base-v1 config (DeBERTa-v3 base)", build_deberta_v3_base),
    "modernbert": ("gte-reranker-modernbert-base config", build_modernbert_base),
    "xlm-roberta": ("bge-reranker-v2-m3 config (XLM-R large)", build_xlmr_large),
    "llm-reranker": ("Qwen3-Reranker-0.6B config", build_qwen3_reranker),
}


def model_dir(family: str) -> Path:
    path = ROOT / "models" / family
    if not (path / "config.json").is_file():
        tmp = Path(tempfile.mkdtemp(dir=ROOT))
        FAMILIES[family][1](tmp)
        shutil.rmtree(path, ignore_errors=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(path)
    return path


def parameters(path: Path) -> int:
    from safetensors import safe_open

    n = 0
    for f in path.glob("*.safetensors"):
        with safe_open(str(f), framework="pt") as fh:
            for k in fh.keys():  # noqa: SIM118 (safe_open has no __iter__)
                n += int(np.prod(fh.get_slice(k).get_shape()))
    return n


# -- contenders ---------------------------------------------------------------------------
def ours(path: Path, runtime: str, dtype: str) -> Callable[[Pairs], np.ndarray]:
    from es_rerank.rerankers import CrossEncoderReranker

    r = CrossEncoderReranker(path, runtime=runtime, dtype=dtype)
    return lambda pairs: np.concatenate([np.asarray(r.rerank(q, t)) for q, t in pairs])


def _st_predict(ce: Any) -> Callable[[Pairs], np.ndarray]:
    def run(pairs: Pairs) -> np.ndarray:
        flat = [(q, t) for q, texts in pairs for t in texts]
        return np.asarray(ce.predict(flat, show_progress_bar=False), dtype=np.float32)

    return run


def st_fp32(path: Path) -> Callable[[Pairs], np.ndarray]:
    import torch
    from sentence_transformers import CrossEncoder

    return _st_predict(CrossEncoder(str(path), activation_fn=torch.nn.Identity()))


def st_onnx_int8(path: Path) -> Callable[[Pairs], np.ndarray]:
    import torch
    from sentence_transformers import CrossEncoder

    file = st_onnx_int8_export(path)
    kwargs = {"file_name": file}
    ce = CrossEncoder(
        str(path), backend="onnx", model_kwargs=kwargs, activation_fn=torch.nn.Identity()
    )
    return _st_predict(ce)


def st_openvino_int8(path: Path, samples: int) -> Callable[[Pairs], np.ndarray]:
    import torch
    from sentence_transformers import CrossEncoder

    file = st_openvino_int8_export(path, samples)
    kwargs = {"file_name": file}
    ce = CrossEncoder(
        str(path), backend="openvino", model_kwargs=kwargs, activation_fn=torch.nn.Identity()
    )
    return _st_predict(ce)


# -- measuring ----------------------------------------------------------------------------
def bench_pairs(queries: int, per_query: int, words: int) -> tuple[Pairs, str]:
    """MS MARCO queries with sampled passages (seeded), cut to ``words`` words if > 0."""
    requests, source = load_requests(queries, per_query, seed=0)
    cut = (lambda t: " ".join(t.split()[:words])) if words > 0 else (lambda t: t)
    return [(q, [cut(t) for t in texts]) for q, texts in requests], source


def token_lengths(path: Path, pairs: Pairs) -> str:
    """Tokens per pair as our runtimes feed the model (the LLM's template included)."""
    from es_rerank.runtime.tokenizing import PairTokenizer

    tok = PairTokenizer.from_dir(path, name=path.name)
    n = np.array([p.length for q, texts in pairs for p in tok(q, texts)])
    return f"tokens per pair mean {n.mean():.0f}, median {np.median(n):.0f}, max {n.max()}"


def measure(fn: Callable[[Pairs], np.ndarray], pairs: Pairs, reps: int) -> tuple[float, np.ndarray]:
    """Best pairs/s of ``reps`` runs after a warm-up, and the scores."""
    fn(pairs[:1])
    best = float("inf")
    scores = np.zeros(0)
    for _ in range(reps):
        t0 = time.perf_counter()
        scores = fn(pairs)
        best = min(best, time.perf_counter() - t0)
    return sum(len(t) for _, t in pairs) / best, scores


def agreement(scores: np.ndarray, ref: np.ndarray) -> str:
    from scipy.stats import spearmanr

    rho = float(spearmanr(scores, ref).statistic)
    return f"max|diff| {np.abs(scores - ref).max():.2e}, Spearman {rho:.4f}"


def run_family(family: str, args: argparse.Namespace, pairs: Pairs) -> dict[str, Any]:
    """Every contender on ``pairs``, then the deciding ones head to head; the table row."""
    from es_rerank.runtime.hardware import cpu_supports_bf16

    path = model_dir(family)
    n_params = parameters(path)
    calibrate = n_params < args.calibrate_below
    print(f"\n## {family}: {FAMILIES[family][0]}, {n_params / 1e6:.0f}M parameters")
    print(f"  {token_lengths(path, pairs)}")
    contenders: list[tuple[str, str, Callable[[], Callable[[Pairs], np.ndarray]]]] = [
        ("ours", "torch fp32", lambda: ours(path, "torch", "fp32")),
        ("st", "CrossEncoder fp32 (torch)", lambda: st_fp32(path)),
    ]
    if cpu_supports_bf16():
        contenders.append(("ours", "torch bf16", lambda: ours(path, "torch", "bf16")))
    contenders += [
        ("ours", "onnx fp32", lambda: ours(path, "onnx", "fp32")),
        ("ours", "onnx int8", lambda: ours(path, "onnx", "int8")),
        ("ours", "openvino fp32", lambda: ours(path, "openvino", "fp32")),
    ]
    if cpu_supports_bf16():
        contenders.append(("ours", "openvino bf16", lambda: ours(path, "openvino", "bf16")))
    llm = family == "llm-reranker"
    if llm or calibrate:
        label = "openvino int8 (weights)" if llm else "openvino int8 (static, NNCF)"
        contenders.append(("ours", label, lambda: ours(path, "openvino", "int8")))
    contenders.append(("st", "CrossEncoder onnx int8 (avx512_vnni)", lambda: st_onnx_int8(path)))
    if calibrate:
        label = f"CrossEncoder openvino int8 (static, {args.st_samples} samples)"
        contenders.append(("st", label, lambda: st_openvino_int8(path, args.st_samples)))
    if args.only:  # the reference (our torch fp32) always runs first
        keep = ("torch fp32", *args.only)
        contenders = [c for c in contenders if any(k in c[1] for k in keep)]
    if args.skip:
        contenders = [
            c for c in contenders if c[1] == "torch fp32" or not any(k in c[1] for k in args.skip)
        ]
    rows: list[dict[str, Any]] = []
    ref: np.ndarray | None = None
    for who, label, make in contenders:
        t0 = time.perf_counter()
        try:
            fn = make()
            setup = time.perf_counter() - t0
            pps, scores = measure(fn, pairs, args.reps)
        except Exception as exc:  # a contender that cannot run is reported, not fatal
            msg = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"
            print(f"  {who:4} {label:40} cannot run: {msg}", flush=True)
            if args.verbose:
                traceback.print_exc()
            rows.append({"who": who, "label": label, "error": msg})
            continue
        if ref is None:
            ref = scores
        row = {"who": who, "label": label, "pairs_per_s": pps, "setup_s": setup}
        row["agreement"] = agreement(scores, ref)
        rows.append(row)
        print(
            f"  {who:4} {label:40} {pps:7.2f} pairs/s  (first load/export {setup:6.1f} s; "
            f"vs our fp32: {row['agreement']})",
            flush=True,
        )
        del fn
        gc.collect()
    makers = {label: make for _, label, make in contenders}
    row = head_to_head(family, rows, makers, pairs, args)
    row.update(params=n_params, tokens=token_lengths(path, pairs))
    return row


def head_to_head(
    family: str,
    rows: Sequence[dict[str, Any]],
    makers: dict[str, Callable[[], Callable[[Pairs], np.ndarray]]],
    pairs: Pairs,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """The target ratios, measured again with the contenders that decide them loaded side
    by side and run in turn (``--rounds`` rounds, best of each): on a shared machine the
    load changes between the sequential runs above."""
    ok = [r for r in rows if "pairs_per_s" in r]
    mine = sorted((r for r in ok if r["who"] == "ours"), key=lambda r: -r["pairs_per_s"])
    st = [r for r in ok if r["who"] == "st"]
    st_int8 = max(
        (r for r in st if "int8" in r["label"]), key=lambda r: r["pairs_per_s"], default=None
    )
    picked = [mine[0]["label"]] if mine else []
    if family == "llm-reranker":  # its int8 target is against torch fp32
        picked += [r["label"] for r in mine if r["label"] == "torch fp32"]
        picked += [r["label"] for r in mine if "int8" in r["label"]][:1]
    picked += [r["label"] for r in st if r["label"].endswith("fp32 (torch)")]
    if st_int8 is not None:
        picked.append(st_int8["label"])
    labels = list(dict.fromkeys(picked))
    fns = {label: makers[label]() for label in labels}
    best = {label: 0.0 for label in labels}
    for fn in fns.values():
        fn(pairs[:1])
    for _ in range(args.rounds):
        for label, fn in fns.items():
            t0 = time.perf_counter()
            fn(pairs)
            best[label] = max(
                best[label], sum(len(t) for _, t in pairs) / (time.perf_counter() - t0)
            )
    print(f"  head to head ({args.rounds} rounds in turn, best of each):")
    for label in labels:
        print(f"    {label:40} {best[label]:7.2f} pairs/s")
    return summarize(
        family,
        [
            {
                "who": "ours" if label in {r["label"] for r in mine} else "st",
                "label": label,
                "pairs_per_s": v,
            }
            for label, v in best.items()
        ],
    )


def summarize(family: str, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Prints the target ratios; returns them as one table row."""
    ok = [r for r in rows if "pairs_per_s" in r]
    mine = [r for r in ok if r["who"] == "ours"]
    st = {r["label"]: r["pairs_per_s"] for r in ok if r["who"] == "st"}
    out: dict[str, Any] = {"family": family}
    if not mine:
        return out
    best = max(mine, key=lambda r: r["pairs_per_s"])
    out["ours"] = (best["label"], best["pairs_per_s"])
    print(f"  fastest of ours: {best['label']} {best['pairs_per_s']:.2f} pairs/s")
    fp32 = st.get("CrossEncoder fp32 (torch)")
    if fp32:
        ratio = best["pairs_per_s"] / fp32
        out["st_fp32"] = fp32
        print(f"  target >= 1.5x ST fp32: {ratio:.2f}x -> {'met' if ratio >= 1.5 else 'NOT met'}")
    int8 = {k: v for k, v in st.items() if "int8" in k}
    if int8:
        name, value = max(int8.items(), key=lambda kv: kv[1])
        out["st_int8"] = (name, value)
        ratio = best["pairs_per_s"] / value
        print(
            f"  target >= 1.2x ST best int8 ({name}): {ratio:.2f}x -> "
            f"{'met' if ratio >= 1.2 else 'NOT met'}"
        )
    else:
        print("  ST best int8: none ran for this family (see above)")
    if family == "llm-reranker":
        torch32 = next((r["pairs_per_s"] for r in mine if r["label"] == "torch fp32"), None)
        q = [r for r in mine if "int8" in r["label"]]
        if torch32 and q:
            top = max(q, key=lambda r: r["pairs_per_s"])
            ratio = top["pairs_per_s"] / torch32
            out["int8_vs_torch_fp32"] = (top["label"], ratio)
            print(
                f"  target LLM int8 >= 2x torch fp32: {top['label']} {ratio:.2f}x -> "
                f"{'met' if ratio >= 2 else 'NOT met'}"
            )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--family", action="append", choices=list(FAMILIES))
    p.add_argument("--queries", type=int, default=4)
    p.add_argument("--per-query", type=int, default=8)
    p.add_argument("--words", type=int, default=0, help="cut passages to this many words")
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--calibrate-below", type=float, default=1e12)
    p.add_argument("--st-samples", type=int, default=64, help="ST OpenVINO calibration pairs")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--json", help="append each family's table row (JSON) to this file")
    p.add_argument("--only", nargs="+", help="run only contenders whose label has one of these")
    p.add_argument("--skip", nargs="+", help="leave out contenders whose label has one of these")
    args = p.parse_args(argv)
    ROOT.mkdir(parents=True, exist_ok=True)
    import os

    os.environ.setdefault("ES_RERANK_CACHE", str(ROOT / "cache"))
    print_machine()
    pairs, source = bench_pairs(args.queries, args.per_query, args.words)
    n = sum(len(t) for _, t in pairs)
    words = np.array([len(t.split()) for _, texts in pairs for t in texts])
    cut = f", cut to {args.words} words" if args.words > 0 else ""
    print(
        f"pairs: {n} ({args.queries} queries x {args.per_query} passages from {source}{cut}; "
        f"passage words mean {words.mean():.0f}, max {words.max()}); best of {args.reps} runs "
        "after a warm-up; random weights"
    )
    for family in args.family or list(FAMILIES):
        row = run_family(family, args, pairs)
        row.update(pairs=n, load_1min=os.getloadavg()[0])
        if args.json:
            with open(args.json, "a") as fh:
                fh.write(json.dumps(row) + "\n")
    print(f"\nload average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
