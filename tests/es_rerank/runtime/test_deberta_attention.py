"""DeBERTa-v2's windowed disentangled attention: the same scores as transformers' at every
length (inside and beyond the exact position buckets, padded batches, each attention
variant), and the ONNX and OpenVINO exports trace it (no ``If`` branch in the graph, a
cache key of their own) and score as fp32 torch does at lengths other than the traced one."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from es_rerank.runtime import load_runtime, score_pairs
from es_rerank.runtime.deberta_attention import (
    WINDOWED_RECIPE,
    export_recipe,
    windowed_attention_bias,
    windowed_deberta,
)
from tests.helpers.tiny_families import build_family
from tests.helpers.tiny_models import WORDS


def _model(share_att_key: bool, pos_att_type: list[str], buckets: int) -> Any:
    import importlib

    import torch

    tf: Any = importlib.import_module("transformers")  # (its classes are untyped)
    torch.manual_seed(0)
    config = tf.DebertaV2Config(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
        relative_attention=True,
        position_buckets=buckets,
        share_att_key=share_att_key,
        pos_att_type=pos_att_type,
        norm_rel_ebd="layer_norm",
        type_vocab_size=0,
        position_biased_input=False,
        num_labels=1,
    )
    return tf.DebertaV2ForSequenceClassification(config).eval()


@pytest.mark.parametrize(
    ("share_att_key", "pos_att_type", "buckets"),
    [
        (True, ["p2c", "c2p"], 32),  # DeBERTa-v3 as published (256 buckets), smaller
        (False, ["p2c", "c2p"], 32),
        (True, ["c2p"], 32),
        (False, ["p2c"], -1),  # no buckets: a window over max_relative_positions
    ],
)
@pytest.mark.parametrize("length", [3, 15, 40, 200])
def test_windowed_attention_scores_as_transformers_does(
    share_att_key: bool, pos_att_type: list[str], buckets: int, length: int
) -> None:
    import torch

    model = _model(share_att_key, pos_att_type, buckets)
    gen = torch.Generator().manual_seed(length)
    ids = torch.randint(5, 100, (3, length), generator=gen)
    mask = torch.ones_like(ids)
    mask[1, length // 2 :] = 0  # a padded row
    with torch.inference_mode():
        want = model(input_ids=ids, attention_mask=mask).logits
        with windowed_deberta():
            got = model(input_ids=ids, attention_mask=mask).logits
        again = model(input_ids=ids, attention_mask=mask).logits  # the patch is undone
    assert torch.equal(again, want)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-5)


def test_the_window_is_what_the_batch_reads() -> None:
    # a batch of 5 tokens reads 9 relative-position embeddings of 64: the rest never meet
    # a query, so poisoning them must not change the bias
    import torch

    model = _model(True, ["p2c", "c2p"], 32)
    attention = model.deberta.encoder.layer[0].attention.self
    q = torch.randn(2 * 2, 5, 16)
    k = torch.randn(2 * 2, 5, 16)
    rel = model.deberta.encoder.get_rel_pos(torch.zeros(2, 5, 32))
    emb = model.deberta.encoder.get_rel_embedding()
    poisoned = emb.clone()
    centre = attention.pos_ebd_size
    poisoned[: centre - 4] = float("nan")
    poisoned[centre + 5 :] = float("nan")
    with torch.inference_mode():
        want = attention.disentangled_attention_bias(q, k, rel, emb, 3)
        got = windowed_attention_bias(attention, q, k, rel, poisoned, 3)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-5)


def test_only_deberta_v2_exports_get_the_rewrite(tmp_path: Path) -> None:
    deberta = build_family(tmp_path / "deberta-v2", "deberta-v2")
    bert = build_family(tmp_path / "bert", "bert")
    assert export_recipe(deberta) == {"attention": WINDOWED_RECIPE}
    assert export_recipe(bert) == {}
    assert export_recipe(tmp_path / "missing") == {}


QUERY = "how many people live in berlin"
# lengths inside the tiny model's 16 exact buckets and beyond them, so the traced graph's
# window must follow the batch's length
TEXTS = [" ".join(WORDS[i : i + n]) for i, n in ((0, 3), (5, 12), (9, 30), (2, 7), (20, 60))]


@pytest.mark.slow
@pytest.mark.skipif(
    not (importlib.util.find_spec("optimum") and importlib.util.find_spec("openvino")),
    reason="the onnx and openvino extras are not installed",
)
@pytest.mark.parametrize("runtime", ["onnx", "openvino"])
def test_exports_trace_the_window_and_score_as_torch(
    runtime: str, tmp_path: Path, runtime_cache: Path
) -> None:
    path = build_family(tmp_path / "deberta-v2", "deberta-v2")
    torch_rt = load_runtime(path, runtime="torch")
    pairs = torch_rt.tokenize(QUERY, TEXTS)
    want = score_pairs(torch_rt, pairs)
    rt = load_runtime(path, runtime=runtime, dtype="fp32", cache_dir=runtime_cache)
    for batch in (pairs, pairs[:1], pairs[2:]):  # batches of other widths than the tracer's
        got = score_pairs(rt, [*batch])
        idx = [pairs.index(p) for p in batch]
        np.testing.assert_allclose(got, want[idx], rtol=0, atol=1e-4)
    entry: Path = rt.entry  # type: ignore[attr-defined]
    meta = [json.loads(p.read_text()) for p in entry.glob("*.json")]
    assert any(m.get("attention") == WINDOWED_RECIPE for m in meta), "cache key lacks it"
    if runtime == "openvino":
        import openvino as ov

        ops = ov.Core().read_model(entry / "openvino_model.xml").get_ordered_ops()
        assert not [op for op in ops if op.get_type_name() == "If"]
