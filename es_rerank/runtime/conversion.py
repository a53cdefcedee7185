"""An LLM reranker as a sequence classifier, for the exporters (ONNX, OpenVINO), which take
a text-classification model: the causal LM's backbone with a one-output head whose weights
are the LM head's ``yes`` row minus its ``no`` row. The head reads the last non-padding
token, so its logit is ``logit("yes") - logit("no")`` there, the LLM reranker's score
(this is how Qwen3-Reranker's published sequence-classification conversions are made).

The conversion is cached beside the exports (:mod:`es_rerank.runtime.cache`).
"""

from __future__ import annotations

from pathlib import Path

from es_rerank.runtime.cache import library_versions, model_entry
from es_rerank.runtime.families import ModelFamily

__all__ = ["classifier_checkpoint"]


def classifier_checkpoint(
    path: Path, family: ModelFamily, *, digest: str, cache: Path | None = None
) -> Path:
    """The cached sequence-classification conversion of the LLM reranker in ``path``."""

    def build(out: Path) -> None:
        import torch
        from transformers import (
            AutoModelForCausalLM,
            AutoModelForSequenceClassification,
            AutoTokenizer,
        )

        tokenizer = AutoTokenizer.from_pretrained(path)  # type: ignore[no-untyped-call]
        causal = AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32)
        config = causal.config
        config.architectures = [
            type(causal).__name__.replace("ForCausalLM", "") + "ForSequenceClassification"
        ]
        config.num_labels = 1
        if config.pad_token_id is None:  # the head finds each pair's last token by it
            config.pad_token_id = tokenizer.pad_token_id or tokenizer.eos_token_id
        classifier = AutoModelForSequenceClassification.from_config(config)  # type: ignore[no-untyped-call]
        # get_decoder: base_model is the model itself where base_model_prefix names no
        # attribute (Gemma 3's causal LM)
        decoder = causal.get_decoder()  # type: ignore[no-untyped-call]
        classifier.get_decoder().load_state_dict(decoder.state_dict())
        weight = causal.get_output_embeddings().weight  # type: ignore[no-untyped-call]
        with torch.no_grad():
            classifier.score.weight.copy_((weight[family.yes_id] - weight[family.no_id])[None])
        classifier.save_pretrained(out)
        tokenizer.save_pretrained(out)

    return model_entry(
        path,
        digest=digest,
        runtime="seq-cls",
        dtype="fp32",
        versions=library_versions(("torch", "transformers")),
        build=build,
        cache=cache,
    )
