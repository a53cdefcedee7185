"""Small real models the tests build themselves (no hub access needed)."""

from __future__ import annotations

import string
from pathlib import Path

WORDS = [
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "for",
    "on",
    "that",
    "with",
    "as",
    "by",
    "berlin",
    "paris",
    "city",
    "people",
    "live",
    "population",
    "museum",
    "river",
    "capital",
    "france",
    "germany",
    "elasticsearch",
    "search",
    "rerank",
    "query",
    "document",
    "score",
    "model",
    "cat",
    "dog",
    "fast",
    "slow",
]


def _vocab() -> list[str]:
    chars = string.ascii_lowercase + string.digits + string.punctuation
    return (
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        + WORDS
        + list(chars)
        + ["##" + c for c in chars]
    )


def build_tiny_cross_encoder(path: Path, *, seed: int = 0, max_position: int = 128) -> Path:
    """A seeded 2-layer ``BertForSequenceClassification`` (num_labels=1) with a WordPiece
    vocabulary that tokenizes any ASCII text; a few hundred KB on disk."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    vocab_file = path / "vocab.txt"
    vocab_file.write_text("\n".join(_vocab()) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab_file), do_lower_case=True)
    tokenizer.model_max_length = max_position
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(_vocab()),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_position,
        num_labels=1,
    )
    model = BertForSequenceClassification(config).eval()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def minilm_l6_random(path: Path, *, seed: int = 0) -> Path:
    """The exact cross-encoder/ms-marco-MiniLM-L-6-v2 architecture with random weights
    (speed does not depend on the weights). Reuses the packaged BERT uncased vocabulary."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    from es_rerank.models import packaged_bi_encoder_path

    path.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=384,
        num_hidden_layers=6,
        num_attention_heads=12,
        intermediate_size=1536,
        max_position_embeddings=512,
        num_labels=1,
    )
    BertForSequenceClassification(config).eval().save_pretrained(path)
    BertTokenizerFast.from_pretrained(packaged_bi_encoder_path()).save_pretrained(path)
    return path
