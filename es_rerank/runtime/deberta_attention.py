"""DeBERTa-v2/v3's disentangled attention bias over the relative positions a batch uses.

transformers projects all ``2 x att_span`` relative-position embeddings (512 in DeBERTa-v3)
through each layer's query and key projections, copies them once per pair in the batch and
multiplies every token against all of them, then gathers the ``L`` positions each token
needs. A batch of pairs of ``L`` tokens uses only the ``2r + 1`` embeddings around the
centre, where ``r`` is its largest relative-position bucket (``r = L - 1`` below the 128
exact buckets). :func:`windowed_attention_bias` computes the same scores from that window,
broadcast over the batch instead of copied, without the data-dependent branch (an ``If``
node) transformers' ``build_rpos`` puts in an exported graph.

The scores equal transformers' (the same embeddings meet the same queries and keys; the
indices are shifted by the window's start). The ONNX and OpenVINO exporters trace the
model with this method in place (:func:`exporting`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

__all__ = [
    "WINDOWED_RECIPE",
    "export_recipe",
    "exporting",
    "is_deberta_v2",
    "windowed_attention_bias",
    "windowed_deberta",
]

#: part of an export's cache key: a DeBERTa-v2 export made before this change is rebuilt
WINDOWED_RECIPE = "deberta-v2 windowed relative positions 1"


def is_deberta_v2(model_type: str | None) -> bool:
    """Whether ``model_type`` (a config's) is DeBERTa-v2/v3, whose attention this rewrites.

    >>> is_deberta_v2("deberta-v2"), is_deberta_v2("deberta"), is_deberta_v2("bert")
    (True, False, False)
    """
    return model_type == "deberta-v2"


def windowed_attention_bias(
    self: Any,
    query_layer: Any,
    key_layer: Any,
    relative_pos: Any,
    rel_embeddings: Any,
    scale_factor: int,
) -> Any:
    """``DisentangledSelfAttention.disentangled_attention_bias`` over the window of relative
    positions in use (same arguments, same result)."""
    import torch
    from transformers.models.deberta_v2 import modeling_deberta_v2 as m

    if relative_pos is None:
        relative_pos = m.build_relative_position(
            query_layer,
            key_layer,
            bucket_size=self.position_buckets,
            max_position=self.max_relative_positions,
        )
    if relative_pos.dim() == 2:
        relative_pos = relative_pos.unsqueeze(0).unsqueeze(0)
    elif relative_pos.dim() == 3:
        relative_pos = relative_pos.unsqueeze(1)
    elif relative_pos.dim() != 4:
        raise ValueError(f"Relative position ids must be of dim 2 or 3 or 4. {relative_pos.dim()}")
    if query_layer.size(-2) != key_layer.size(-2):  # cross attention: transformers' own way
        original = _ORIGINAL[0]
        return original(self, query_layer, key_layer, relative_pos, rel_embeddings, scale_factor)

    att_span = self.pos_ebd_size
    relative_pos = relative_pos.to(device=query_layer.device, dtype=torch.long)
    # transformers reads embedding clamp(rel + att_span, 0, 2 att_span - 1); the window
    # [lo, hi) holds every one the batch reads.
    index = torch.clamp(relative_pos + att_span, 0, att_span * 2 - 1)
    p2c_index = torch.clamp(-relative_pos + att_span, 0, att_span * 2 - 1)
    lo = torch.minimum(index.min(), p2c_index.min())
    hi = torch.maximum(index.max(), p2c_index.max()) + 1
    window = rel_embeddings[lo:hi, :].unsqueeze(0)
    index, p2c_index = index - lo, p2c_index - lo
    heads = self.num_attention_heads
    batch = query_layer.size(0) // heads
    length = query_layer.size(-2)

    def per_head(x: Any) -> Any:  # (B*H, L, d) -> (B, H, L, d)
        return x.view(batch, heads, x.size(-2), x.size(-1))

    def positions(proj: Any) -> Any:  # (1, H, W, d): broadcast over the batch, not copied
        return self.transpose_for_scores(proj(window), heads).unsqueeze(0)

    if self.share_att_key:
        pos_query, pos_key = positions(self.query_proj), positions(self.key_proj)
    else:
        pos_key = positions(self.pos_key_proj) if "c2p" in self.pos_att_type else None
        pos_query = positions(self.pos_query_proj) if "p2c" in self.pos_att_type else None
    gather_index = index.view(1, 1, length, length).expand(batch, heads, length, length)
    score: Any = 0
    if "c2p" in self.pos_att_type:
        scale = m.scaled_size_sqrt(pos_key, scale_factor)
        c2p = torch.matmul(per_head(query_layer), pos_key.transpose(-1, -2))
        c2p = torch.gather(c2p, dim=-1, index=gather_index)
        score = score + c2p / scale.to(dtype=c2p.dtype)
    if "p2c" in self.pos_att_type:
        scale = m.scaled_size_sqrt(pos_query, scale_factor)
        p2c = torch.matmul(per_head(key_layer), pos_query.transpose(-1, -2))
        p2c = torch.gather(
            p2c, dim=-1, index=p2c_index.view(1, 1, length, length).expand_as(gather_index)
        ).transpose(-1, -2)
        score = score + p2c / scale.to(dtype=p2c.dtype)
    if isinstance(score, int):
        return score
    return score.reshape(batch * heads, length, length)


_ORIGINAL: list[Any] = []


@contextmanager
def windowed_deberta() -> Iterator[None]:
    """DeBERTa-v2 models built or traced inside run :func:`windowed_attention_bias`."""
    from transformers.models.deberta_v2.modeling_deberta_v2 import DisentangledSelfAttention

    cls: Any = DisentangledSelfAttention
    original = cls.disentangled_attention_bias
    if not _ORIGINAL:
        _ORIGINAL.append(original)
    cls.disentangled_attention_bias = windowed_attention_bias
    try:
        yield
    finally:
        cls.disentangled_attention_bias = original


def _model_type(path: Path) -> str | None:
    import json

    try:
        value = json.loads((path / "config.json").read_text()).get("model_type")
    except (OSError, ValueError):
        return None
    return value if isinstance(value, str) else None


def export_recipe(path: Path) -> dict[str, str]:
    """What an export of the model at ``path`` adds to its cache key (the rewritten
    attention of DeBERTa-v2; nothing for other families)."""
    return {"attention": WINDOWED_RECIPE} if is_deberta_v2(_model_type(path)) else {}


def exporting(path: Path) -> AbstractContextManager[None]:
    """The context an exporter traces the model at ``path`` in: :func:`windowed_deberta`
    for DeBERTa-v2, nothing for other families."""
    return windowed_deberta() if export_recipe(path) else nullcontext()
