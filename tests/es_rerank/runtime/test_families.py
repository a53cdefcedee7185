"""Every reranker family scores as sentence-transformers' CrossEncoder scores it (fp32, 1e-4):
BERT, XLM-RoBERTa, DeBERTa-v2, ELECTRA and ModernBERT cross-encoders, an LLM reranker (a
causal LM in its prompt template, logit("yes") - logit("no")) and its sequence-classification
conversion; a checkpoint whose head would be freshly initialised is refused."""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from es_rerank.rerankers import CrossEncoderReranker
from es_rerank.runtime import InputTooLongError, load_runtime, score_pairs
from es_rerank.runtime.families import (
    QWEN3_RERANKER_INSTRUCTION,
    HeadMissingError,
    detect_family,
)
from es_rerank.runtime.hardware import cpu_supports_bf16
from tests.helpers.tiny_families import ENCODER_FAMILIES, LLM_FAMILIES, build_family
from tests.helpers.tiny_models import WORDS

pytestmark = pytest.mark.slow

FAMILIES = (*ENCODER_FAMILIES, *LLM_FAMILIES)
QUERY = "how many people live in berlin"


def _texts(n: int = 12, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    # Some long enough to be truncated at the lengths below.
    return [" ".join(rng.choices(WORDS, k=rng.choice((2, 9, 30, 90)))) for _ in range(n)]


@pytest.fixture(scope="module", params=FAMILIES)
def family_model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    family: str = request.param
    return family, build_family(tmp_path_factory.mktemp(family), family)


def _st_scores(
    path: Path, texts: list[str], *, max_length: int | None, prompt: str | None = None
) -> np.ndarray:
    import torch
    from sentence_transformers import CrossEncoder

    ce = CrossEncoder(str(path), activation_fn=torch.nn.Identity(), max_length=max_length)
    out = ce.predict([(QUERY, t) for t in texts], prompt=prompt, batch_size=4)
    return np.asarray(out, dtype=np.float32)


@pytest.mark.parametrize("cut", [False, True])
def test_every_family_scores_as_sentence_transformers(
    family_model: tuple[str, Path], cut: bool
) -> None:
    family, path = family_model
    texts = _texts()
    # cut: a maximum length that truncates the long texts (an LLM's prompt takes ~160)
    max_length = (200 if family in LLM_FAMILIES else 48) if cut else None
    reranker = CrossEncoderReranker(path, max_length=max_length, max_batch_tokens=600)
    got = np.asarray(reranker.rerank(QUERY, texts), dtype=np.float32)
    want = _st_scores(path, texts, max_length=max_length)
    assert np.ptp(want) > 100 * 1e-4  # scores differ enough for the check to mean something
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)
    assert reranker.info["family"] == family
    if family == "llm-reranker":
        assert (reranker.info["instruction"], reranker.info["template"]) == (
            QWEN3_RERANKER_INSTRUCTION,
            "model's chat template",
        )


@pytest.mark.parametrize("family", LLM_FAMILIES)
def test_an_instruction_reaches_the_prompt_as_in_sentence_transformers(
    family: str, tmp_path: Path
) -> None:
    path = build_family(tmp_path / family, family)
    texts = _texts(seed=8)
    instruction = "Find passages about the city"
    reranker = CrossEncoderReranker(path, instruction=instruction, max_length=200)
    got = np.asarray(reranker.rerank(QUERY, texts), dtype=np.float32)
    want = _st_scores(path, texts, max_length=200, prompt=instruction)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)
    default = np.asarray(CrossEncoderReranker(path).rerank(QUERY, texts))
    assert np.abs(default - got).max() > 1e-3  # the instruction changed the scores
    assert reranker.info["instruction"] == instruction
    # per call, as the shim passes a request's `instruct`
    rt = load_runtime(path, max_length=200)
    per_call = score_pairs(rt, rt.tokenize(QUERY, texts, instruction=instruction))
    np.testing.assert_allclose(per_call, want, atol=1e-4, rtol=0)


def test_llm_token_ids_are_sentence_transformers_and_truncation_keeps_the_template(
    tmp_path: Path,
) -> None:
    from sentence_transformers import CrossEncoder

    path = build_family(tmp_path / "llm", "llm-reranker")
    long_doc = " ".join(["berlin museum river"] * 60)
    rt = load_runtime(path, max_length=190)
    ce = CrossEncoder(str(path), max_length=190)
    (pair,) = rt.tokenize(QUERY, [long_doc])
    st_ids = ce[0].preprocess([(QUERY, long_doc)])["input_ids"][0].tolist()
    assert list(pair.ids) == st_ids and len(st_ids) == 190
    text = rt.tokenizer._right.decode(pair.ids)  # type: ignore[attr-defined]
    # the whole query, the template's suffix (the scored position), the document's start
    assert f"<Query>: {QUERY}\n<Document>: berlin museum" in text
    # (Jinja drops the template's final newline, in sentence-transformers too)
    assert text.endswith("<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n")
    # left: the document's end is kept instead
    (left,) = rt.tokenize(QUERY, [long_doc], direction="left")
    left_text = rt.tokenizer._right.decode(left.ids)  # type: ignore[attr-defined]
    assert f"<Query>: {QUERY}\n<Document>:" in left_text and "river<|im_end|>" in left_text
    # the document is cut before the query: a query longer than the room left is cut last
    long_query = " ".join(["population"] * 40)
    (both,) = rt.tokenize(long_query, [long_doc])
    both_text = rt.tokenizer._right.decode(both.ids)  # type: ignore[attr-defined]
    assert "<Document>:<|im_end|>" in both_text and len(both.ids) == 190
    with pytest.raises(InputTooLongError, match="truncate=true"):
        rt.tokenize(QUERY, [long_doc], truncate=False)


def test_a_causal_lm_relabelled_as_a_classifier_is_refused(tmp_path: Path) -> None:
    """vLLM's override trick (architectures: ...ForSequenceClassification on the causal
    checkpoint) would load a random head: refused, with the reason."""
    path = build_family(tmp_path / "llm", "llm-reranker")
    config = json.loads((path / "config.json").read_text())
    config["architectures"] = ["Qwen3ForSequenceClassification"]
    config["num_labels"] = 1
    (path / "config.json").write_text(json.dumps(config))
    for runtime in ("torch", "onnx"):
        with pytest.raises(HeadMissingError, match=r"score\.weight.*freshly initialised"):
            load_runtime(path, runtime=runtime)


def test_a_classifier_without_head_weights_is_refused(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    path = build_family(tmp_path / "xlmr", "xlm-roberta")
    weights = load_file(str(path / "model.safetensors"))
    kept = {k: v for k, v in weights.items() if not k.startswith("classifier.")}
    save_file(kept, str(path / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(HeadMissingError, match=r"classifier.*freshly initialised"):
        CrossEncoderReranker(path)


def test_llm_rerankers_without_a_prompt_or_yes_no_are_refused(tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    path = build_family(tmp_path / "llm", "llm-reranker")
    original = detect_family(path)
    tok = AutoTokenizer.from_pretrained(path)
    tok.chat_template = "{{ messages[0]['role'] }}"  # renders no content: carries no pair
    tok.save_pretrained(path)
    # a Qwen3 reranker saved without a pair template gets the model card's template
    family = detect_family(path)
    assert family.template is not None and "model card" in family.template.name
    assert family.template.jinja == original.template.jinja  # type: ignore[union-attr]
    texts = _texts(seed=2)
    builtin = CrossEncoderReranker(path).rerank(QUERY, texts)
    shutil.rmtree(path)
    reference = build_family(tmp_path / "llm", "llm-reranker")
    np.testing.assert_allclose(
        builtin, CrossEncoderReranker(reference).rerank(QUERY, texts), atol=1e-5
    )
    # another model type without a pair template cannot be prompted
    config = json.loads((path / "config.json").read_text())
    config["model_type"] = "llama"
    config["architectures"] = ["LlamaForCausalLM"]
    tok = AutoTokenizer.from_pretrained(path)
    tok.chat_template = "{{ messages[0]['role'] }}"
    tok.save_pretrained(path)
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"chat_template\.jinja"):
        detect_family(path)


def test_an_instruction_for_a_model_without_a_prompt_names_the_parameter(
    tiny_cross_encoder: Path,
) -> None:
    with pytest.raises(ValueError, match=r"^instruction: .* only LLM rerankers"):
        CrossEncoderReranker(tiny_cross_encoder, instruction="find it")
    rt = load_runtime(tiny_cross_encoder)
    with pytest.raises(ValueError, match=r"^instruction:"):
        rt.tokenize(QUERY, ["a"], instruction="find it")  # type: ignore[call-arg]


def _available(runtime: str, dtype: str) -> bool:
    mods = {"torch": ["torch"], "onnx": ["onnxruntime", "optimum"], "openvino": ["openvino"]}
    if dtype == "bf16" and not cpu_supports_bf16():
        return False
    return all(importlib.util.find_spec(m) for m in mods[runtime])


COMBOS = [
    pytest.param(r, d, marks=pytest.mark.skipif(not _available(r, d), reason=f"{r} {d} absent"))
    for r, d in [
        ("torch", "bf16"),
        ("onnx", "fp32"),
        ("onnx", "int8"),
        ("openvino", "fp32"),
        ("openvino", "int8"),
    ]
]


@pytest.mark.parametrize(("runtime", "dtype"), COMBOS)
def test_every_family_runs_on_every_runtime(
    family_model: tuple[str, Path], runtime: str, dtype: str, runtime_cache: Path
) -> None:
    family, path = family_model
    texts = _texts(seed=3)
    ref = load_runtime(path)
    want = score_pairs(ref, ref.tokenize(QUERY, texts))
    rt = load_runtime(path, runtime=runtime, dtype=dtype, cache_dir=runtime_cache)
    rt.setup_thread()
    got = score_pairs(rt, rt.tokenize(QUERY, texts))
    scale = float(np.abs(want).max())
    if dtype == "fp32":
        np.testing.assert_allclose(got, want, atol=1e-4 * max(scale, 1.0))
    elif dtype == "bf16" or family not in LLM_FAMILIES:
        np.testing.assert_allclose(got, want, atol=0.1 * scale)
    else:  # int8 on the tiny random LLM moves scores more; they still go together
        assert np.corrcoef(got, want)[0, 1] > 0.95
    assert (rt.runtime, rt.dtype) == (runtime, dtype)
