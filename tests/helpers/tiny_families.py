"""Tiny random models of every reranker family the runtimes serve, built without the hub:
BERT, XLM-RoBERTa, DeBERTa-v2, ELECTRA and ModernBERT cross-encoders, an LLM reranker (a
causal Qwen3 whose tokenizer has ``yes``/``no`` and Qwen3-Reranker's chat template) and its
sequence-classification conversion."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.helpers.tiny_models import WORDS, _vocab

ENCODER_FAMILIES = ("bert", "xlm-roberta", "deberta-v2", "electra", "modernbert")
LLM_FAMILIES = ("llm-reranker", "llm-seq-cls")

# Qwen3-Reranker's prompt as sentence-transformers 5.x loads it: the instruction is the
# "system" message, the pair the "query"/"document" messages (as published for vLLM/ST).
QWEN3_RERANKER_TEMPLATE = (
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query "
    'and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n'
    '<|im_start|>user\n<Instruct>: {{ messages | selectattr("role", "eq", "system") '
    '| map(attribute="content") | first | default("Given a web search query, retrieve '
    'relevant passages that answer the query") }}\n'
    '<Query>: {{ messages | selectattr("role", "eq", "query") | map(attribute="content") '
    "| first }}\n"
    '<Document>: {{ messages | selectattr("role", "eq", "document") '
    '| map(attribute="content") | first }}<|im_end|>\n'
    "<|im_start|>assistant\n<think>\n\n</think>\n\n"
)


def _spread(model: Any, names: tuple[str, ...], scale: float) -> Any:
    """Scale the output layer: random heads score every pair about alike; scaled up, texts
    get clearly different scores, so a 1e-4 agreement check means something."""
    import torch

    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith(names):
                param.mul_(scale)
    return model


def _encoder_config(family: str, vocab: int, max_position: int) -> tuple[Any, Any]:
    import transformers as tf

    common: dict[str, Any] = {
        "vocab_size": vocab,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "num_labels": 1,
        "pad_token_id": 0,
    }
    if family == "bert":
        return tf.BertConfig(**common, max_position_embeddings=max_position), (
            tf.BertForSequenceClassification
        )
    if family == "xlm-roberta":
        # RoBERTa positions start after the padding index: two more than the tokens.
        config = tf.XLMRobertaConfig(
            **common, max_position_embeddings=max_position + 2, type_vocab_size=1
        )
        return config, tf.XLMRobertaForSequenceClassification
    if family == "deberta-v2":
        config = tf.DebertaV2Config(
            **common,
            max_position_embeddings=max_position,
            relative_attention=True,
            position_buckets=32,
            pos_att_type=["p2c", "c2p"],
            type_vocab_size=0,
            position_biased_input=False,
        )
        return config, tf.DebertaV2ForSequenceClassification
    if family == "electra":
        config = tf.ElectraConfig(**common, embedding_size=16, max_position_embeddings=max_position)
        return config, tf.ElectraForSequenceClassification
    if family == "modernbert":
        config = tf.ModernBertConfig(
            **common,
            max_position_embeddings=max_position,
            global_attn_every_n_layers=2,
            local_attention=16,
            cls_token_id=2,
            sep_token_id=3,
            bos_token_id=2,
            eos_token_id=3,
        )
        return config, tf.ModernBertForSequenceClassification
    raise ValueError(f"unknown encoder family {family!r}")


def build_tiny_encoder(path: Path, family: str, *, seed: int = 0, max_position: int = 128) -> Path:
    """A seeded 2-layer sequence classifier (num_labels=1) of ``family`` with a WordPiece
    vocabulary that tokenizes any ASCII text (token types only where the family uses them)."""
    import torch
    from transformers import BertTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    vocab_file = path / "vocab.txt"
    vocab_file.write_text("\n".join(_vocab()) + "\n")
    # XLM-RoBERTa and ModernBERT tokenizers give no token types (their models take none).
    names = ["input_ids", "attention_mask"]
    if family not in ("xlm-roberta", "modernbert"):
        names.insert(1, "token_type_ids")
    tokenizer = BertTokenizerFast(
        vocab_file=str(vocab_file), do_lower_case=True, model_input_names=names
    )
    tokenizer.model_max_length = max_position
    torch.manual_seed(seed)
    config, cls = _encoder_config(family, len(_vocab()), max_position)
    # ModernBERT's head normalizes its input: a smaller scale gives the same spread.
    scale = 10.0 if family == "modernbert" else 1000.0
    model = _spread(cls(config).eval(), ("classifier.weight", "out_proj.weight"), scale)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def _llm_tokenizer(max_length: int) -> Any:
    """A byte-level BPE tokenizer trained on the test words, with Qwen's special tokens and
    whole-word ``yes``/``no`` tokens (what an LLM reranker reads its score from)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = [" ".join(WORDS), "yes no yes no", "Judge whether the Document meets the Query"] * 20
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        model_max_length=max_length,
    )
    fast.model_input_names = ["input_ids", "attention_mask"]
    fast.chat_template = QWEN3_RERANKER_TEMPLATE
    assert fast.convert_tokens_to_ids("yes") != fast.unk_token_id
    return fast


def _causal_config(model_type: str, vocab: int, pad: int, max_length: int, **extra: Any) -> Any:
    """The 2-layer config every tiny causal reranker here uses, for any ``model_type``."""
    from transformers import AutoConfig

    return AutoConfig.for_model(
        model_type,
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        max_position_embeddings=max_length,
        pad_token_id=pad,
        tie_word_embeddings=True,
        **extra,
    )


def build_tiny_llm_reranker(path: Path, *, seed: int = 0, max_length: int = 256) -> Path:
    """A seeded 2-layer ``Qwen3ForCausalLM`` saved as Qwen3-Reranker is: a causal LM whose
    tokenizer has ``yes``/``no`` and the reranker's chat template."""
    import torch
    from transformers import Qwen3ForCausalLM

    path.mkdir(parents=True, exist_ok=True)
    tokenizer = _llm_tokenizer(max_length)
    torch.manual_seed(seed)
    config = _causal_config("qwen3", len(tokenizer), tokenizer.pad_token_id, max_length)
    _spread(Qwen3ForCausalLM(config).eval(), ("model.norm.weight",), 50.0).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def build_tiny_causal_reranker(
    path: Path, model_type: str, *, seed: int = 0, max_length: int = 256
) -> Path:
    """A seeded 2-layer causal LM of any ``model_type`` (``gemma3_text``, ``starcoder2``,
    ...) saved as an LLM reranker: the tokenizer with ``yes``/``no`` and Qwen3-Reranker's
    chat template (for architectures some exporters cannot take)."""
    import torch
    from transformers import AutoModelForCausalLM

    path.mkdir(parents=True, exist_ok=True)
    tokenizer = _llm_tokenizer(max_length)
    torch.manual_seed(seed)
    config = _causal_config(model_type, len(tokenizer), tokenizer.pad_token_id, max_length)
    model = AutoModelForCausalLM.from_config(config).eval()  # type: ignore[no-untyped-call]
    _spread(model, ("model.norm.weight", "model.norm.bias"), 50.0).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def build_tiny_llm_seq_cls(path: Path, *, seed: int = 0, max_length: int = 256) -> Path:
    """The sequence-classification conversion of an LLM reranker
    (``Qwen3ForSequenceClassification``, num_labels=1), saved with the sentence-transformers
    config that declares the chat-template ("message") input."""
    import torch
    from transformers import Qwen3ForSequenceClassification

    path.mkdir(parents=True, exist_ok=True)
    tokenizer = _llm_tokenizer(max_length)
    torch.manual_seed(seed)
    config = _causal_config(
        "qwen3", len(tokenizer), tokenizer.pad_token_id, max_length, num_labels=1
    )
    model = Qwen3ForSequenceClassification(config).eval()
    _spread(model, ("score.weight",), 50.0).save_pretrained(path)
    tokenizer.save_pretrained(path)
    st_files: dict[str, Any] = {
        "config_sentence_transformers.json": {
            "model_type": "CrossEncoder",
            "activation_fn": "torch.nn.modules.activation.Sigmoid",
        },
        "modules.json": [
            {
                "idx": 0,
                "name": "0",
                "path": "",
                "type": "sentence_transformers.base.modules.transformer.Transformer",
            }
        ],
        "sentence_bert_config.json": {
            "transformer_task": "sequence-classification",
            "modality_config": {
                "text": {"method": "forward", "method_output_name": "logits"},
                "message": {"method": "forward", "method_output_name": "logits", "format": "flat"},
            },
            "module_output_name": "scores",
        },
    }
    for name, content in st_files.items():
        (path / name).write_text(json.dumps(content))
    return path


def build_family(path: Path, family: str, *, seed: int = 0) -> Path:
    """A tiny model of ``family`` (one of :data:`ENCODER_FAMILIES` or :data:`LLM_FAMILIES`)."""
    if family == "llm-reranker":
        return build_tiny_llm_reranker(path, seed=seed)
    if family == "llm-seq-cls":
        return build_tiny_llm_seq_cls(path, seed=seed)
    return build_tiny_encoder(path, family, seed=seed)
