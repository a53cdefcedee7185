"""Reranker model families, detected from a model directory's config: encoder
cross-encoders (BERT, XLM-RoBERTa, DeBERTa-v2, ELECTRA, ModernBERT, ...) score one pair with
their classification head; LLM rerankers (Qwen3-Reranker and alike) are causal language
models that read the pair in a prompt template and score ``logit("yes") - logit("no")`` at
the last position; their sequence-classification conversions score that position with a
one-output head.

A checkpoint whose classification head would be freshly initialised (a base model, a
masked or causal LM relabelled as a classifier) is refused: it would load and score at
random.

>>> import json, tempfile
>>> d = Path(tempfile.mkdtemp())
>>> _ = (d / "config.json").write_text(json.dumps({"model_type": "bert",
...     "architectures": ["BertForMaskedLM"]}))
>>> try:
...     detect_family(d)
... except HeadMissingError as exc:
...     print("freshly initialised" in str(exc))
True
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from es_rerank.runtime.base import RuntimeUnavailableError

__all__ = [
    "QWEN3_RERANKER_INSTRUCTION",
    "HeadMissingError",
    "ModelFamily",
    "PromptTemplate",
    "detect_family",
    "is_llm_config",
]

QWEN3_RERANKER_INSTRUCTION = (
    "Given a web search query, retrieve relevant passages that answer the query"
)

# Qwen3-Reranker's prompt from its model card, as a chat template over the "system"
# (instruction), "query" and "document" messages that sentence-transformers 5.x and vLLM
# pass; used for a Qwen3 reranker saved without such a template (the original checkpoints).
_QWEN3_RERANKER_TEMPLATE = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query "
    'and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n'
    '<|im_start|>user\n<Instruct>: {{ messages | selectattr("role", "eq", "system") '
    '| map(attribute="content") | first | default("' + QWEN3_RERANKER_INSTRUCTION + '") }}\n'
    '<Query>: {{ messages | selectattr("role", "eq", "query") | map(attribute="content") '
    "| first }}\n"
    '<Document>: {{ messages | selectattr("role", "eq", "document") '
    '| map(attribute="content") | first }}<|im_end|>\n'
    "<|im_start|>assistant\n<think>\n\n</think>\n\n"
)
# model_type -> (template name, template, default instruction of the model card)
_BUILT_IN = {
    "qwen3": ("Qwen3-Reranker (model card)", _QWEN3_RERANKER_TEMPLATE, QWEN3_RERANKER_INSTRUCTION)
}
# How sentence-transformers tells a template that reads content as a list of parts.
_STRUCTURED = ("content[0]", ".type", "'type'", '"type"', "item.type", "message.content[")
_DEFAULT = re.compile(
    r"""selectattr\(\s*["']role["']\s*,\s*["']eq["']\s*,\s*["']system["']\s*\)"""
    r""".*?default\(\s*(["'])(.*?)\1\s*\)""",
    re.S,
)


class HeadMissingError(RuntimeUnavailableError):
    """The checkpoint has no trained scoring head for the way it would be loaded."""


@dataclass(frozen=True)
class PromptTemplate:
    """The chat template an LLM reranker reads a pair in: ``system`` (the instruction),
    ``query`` and ``document`` messages."""

    name: str
    jinja: str
    default_instruction: str | None
    structured: bool = False
    kwargs: dict[str, Any] = field(default_factory=dict)

    def messages(self, query: str, document: str, instruction: str | None) -> list[Any]:
        def content(text: str) -> Any:
            return [{"type": "text", "text": text}] if self.structured else text

        head = [] if instruction is None else [{"role": "system", "content": content(instruction)}]
        return [
            *head,
            {"role": "query", "content": content(query)},
            {"role": "document", "content": content(document)},
        ]


@dataclass(frozen=True)
class ModelFamily:
    """What a model is and how it scores a pair."""

    #: bert, xlm-roberta, deberta-v2, electra, modernbert (any encoder's model type),
    #: llm-reranker (causal LM, yes/no) or llm-seq-cls (its classifier conversion)
    name: str
    model_type: str
    architecture: str
    scoring: Literal["classifier", "yes-no"]
    template: PromptTemplate | None = None
    yes_id: int | None = None
    no_id: int | None = None

    @property
    def is_llm(self) -> bool:
        return self.name.startswith("llm-")

    def describe(self, instruction: str | None = None) -> dict[str, Any]:
        """``/info``'s family, template and instruction."""
        t = self.template
        return {
            "family": self.name,
            "architecture": self.architecture,
            "template": t.name if t else None,
            "instruction": instruction
            if instruction is not None
            else (t and t.default_instruction),
        }


def _read_config(path: Path) -> dict[str, Any]:
    file = path / "config.json"
    if not file.is_file():
        raise RuntimeUnavailableError(f"{path} has no config.json: not a Hugging Face model")
    config: dict[str, Any] = json.loads(file.read_text())
    return config


def is_llm_config(config: dict[str, Any]) -> bool:
    """Whether a config is a decoder-only language model (a causal LM that is not also a
    masked LM: BERT-likes have a causal head class too)."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    model_type = config.get("model_type", "")
    return (
        model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
        and model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES
    )


def _checkpoint_keys(path: Path) -> set[str] | None:
    """Parameter names stored in the checkpoint (None when it has no file read here)."""
    files = sorted(path.glob("*.safetensors"))
    if files:
        from safetensors import safe_open

        keys: set[str] = set()
        for f in files:
            with safe_open(str(f), framework="pt") as fh:
                keys.update(fh.keys())
        return keys
    bins = sorted(path.glob("pytorch_model*.bin"))
    if bins:
        import torch

        out: set[str] = set()
        for f in bins:
            out.update(torch.load(f, map_location="meta", weights_only=True, mmap=True).keys())
        return out
    return None


def _missing_head(path: Path) -> list[str]:
    """Head parameters (those outside the base model) a sequence classifier would have to
    initialise at random: absent from the checkpoint."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    keys = _checkpoint_keys(path)
    if keys is None:
        return []
    config = AutoConfig.from_pretrained(path)
    with torch.device("meta"):
        model = AutoModelForSequenceClassification.from_config(config)  # type: ignore[no-untyped-call]
    prefix = f"{model.base_model_prefix}."
    head = [n for n, _ in model.named_parameters() if not n.startswith(prefix)]
    return [n for n in head if n not in keys]


def _own_template(path: Path, tokenizer: Any) -> PromptTemplate | None:
    """The model's own chat template, when it carries a query/document pair (rendering
    changes with both)."""
    jinja = getattr(tokenizer, "chat_template", None)
    if isinstance(jinja, dict):  # named templates: a reranker's is its default
        jinja = jinja.get("default")
    if not isinstance(jinja, str) or not jinja:
        return None
    st = path / "sentence_bert_config.json"
    st_config = json.loads(st.read_text()) if st.is_file() else {}
    kwargs = dict((st_config.get("processing_kwargs") or {}).get("chat_template") or {})
    kwargs.pop("restore_suffix", None)
    declared = ((st_config.get("modality_config") or {}).get("message") or {}).get("format")
    structured = declared == "structured" or (
        declared is None and any(p in jinja for p in _STRUCTURED)
    )
    found = _DEFAULT.search(jinja)
    template = PromptTemplate(
        name="model's chat template",
        jinja=jinja,
        default_instruction=found.group(2) if found else None,
        structured=structured,
        kwargs=kwargs,
    )
    try:
        renders = [
            tokenizer.apply_chat_template(
                template.messages(q, d, None), tokenize=False, chat_template=jinja, **kwargs
            )
            for q, d in (("q0", "d0"), ("q1", "d0"), ("q0", "d1"))
        ]
    except Exception:  # a template that cannot render a pair does not carry one
        return None
    return template if renders[0] not in (renders[1], renders[2]) else None


def detect_family(path: Path) -> ModelFamily:
    """The family of the model in ``path`` (a cross-encoder directory); raises
    :class:`HeadMissingError` for a checkpoint without a trained scoring head and
    :class:`RuntimeUnavailableError` for an LLM reranker it cannot prompt."""
    config = _read_config(path)
    archs = config.get("architectures") or []
    arch = str(archs[0]) if archs else ""
    model_type = str(config.get("model_type", ""))
    name = path.name or str(path)
    if arch.endswith("ForCausalLM"):
        return _llm_reranker(path, name, model_type, arch)
    if arch and not arch.endswith("ForSequenceClassification"):
        raise HeadMissingError(
            f"{name}: its config names {arch}, neither a sequence classifier nor a causal LM: "
            "a classification head would be freshly initialised and score at random. Serve a "
            "cross-encoder (...ForSequenceClassification) or an LLM reranker (...ForCausalLM)"
        )
    missing = _missing_head(path)
    if missing:
        raise HeadMissingError(
            f"{name}: the checkpoint has no weights for {', '.join(missing[:4])}: a "
            "classification head would be freshly initialised and score at random. Serve a "
            "trained cross-encoder, or the causal LM itself (architectures ...ForCausalLM) "
            "if it is an LLM reranker"
        )
    if not is_llm_config(config):
        return ModelFamily(model_type or "encoder", model_type, arch, "classifier")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)  # type: ignore[no-untyped-call]
    return ModelFamily(
        "llm-seq-cls", model_type, arch, "classifier", _own_template(path, tokenizer)
    )


def _llm_reranker(path: Path, name: str, model_type: str, arch: str) -> ModelFamily:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)  # type: ignore[no-untyped-call]
    vocab = tokenizer.get_vocab()
    if "yes" not in vocab or "no" not in vocab:
        raise RuntimeUnavailableError(
            f"{name} is a causal LM ({arch}) whose tokenizer has no 'yes'/'no' tokens: not an "
            "LLM reranker that scores logit('yes') - logit('no')"
        )
    template = _own_template(path, tokenizer)
    if template is None and model_type in _BUILT_IN:
        label, jinja, instruction = _BUILT_IN[model_type]
        template = PromptTemplate(name=label, jinja=jinja, default_instruction=instruction)
    if template is None:
        raise RuntimeUnavailableError(
            f"{name} is a causal LM ({arch}) without a reranking prompt: its chat template does "
            "not render a query/document pair. Add a chat_template.jinja that renders the "
            "'query' and 'document' messages (and 'system' for the instruction), as "
            "sentence-transformers 5 expects"
        )
    return ModelFamily(
        "llm-reranker",
        model_type,
        arch,
        "yes-no",
        template,
        yes_id=int(vocab["yes"]),
        no_id=int(vocab["no"]),
    )
