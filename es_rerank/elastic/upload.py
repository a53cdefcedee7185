"""Trace a cross-encoder for Elasticsearch's ``text_similarity`` task with eland, upload it,
start it, and create the ``elasticsearch``-service rerank endpoint for it.

:func:`trace_model` works offline: it writes the TorchScript model, the ES model config
(``inference_config.text_similarity``) and the vocabulary to a directory. :func:`upload_traced`
sends them to a cluster the way ``eland_import_hub_model`` does (config, 1 MB definition
parts, vocabulary), and :func:`upload_model` does both.

>>> es_model_id_for("cross-encoder/ms-marco-MiniLM-L6-v2")
'cross-encoder__ms-marco-minilm-l6-v2'
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from elasticsearch import Elasticsearch

from es_rerank.elastic.cluster import cluster_version
from es_rerank.elastic.endpoints import endpoint_body
from es_rerank.elastic.errors import translated
from es_rerank.elastic.inference import create_endpoint
from es_rerank.errors import ConfigurationError, UploadError
from es_rerank.extras import require_extra
from es_rerank.models import ModelLoadError, load_model
from es_rerank.runtime.families import is_llm_config

__all__ = [
    "CONFIG_FILE",
    "TracedModel",
    "UploadError",
    "check_es_model_id",
    "check_trace_dir",
    "check_traceable",
    "eland_torch_pin",
    "es_model_id_for",
    "require_eland",
    "torch_version_warning",
    "trace_model",
    "upload_model",
    "upload_traced",
]

CONFIG_FILE = "es_model_config.json"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class TracedModel:
    """What :func:`trace_model` wrote: TorchScript model, ES config, vocabulary."""

    source: str
    directory: Path
    model_path: Path
    config_path: Path
    vocab_path: Path
    config: dict[str, Any]
    es_model_id: str


def _say(stream: TextIO | None) -> Progress:
    def say(msg: str) -> None:
        if stream is not None:
            print(msg, file=stream, flush=True)

    return say


_VALID_MODEL_ID = re.compile(r"[a-z0-9](?:[a-z0-9_\-.]*[a-z0-9])?")


def check_es_model_id(model_id: str) -> str:
    """``model_id`` if ES takes it as a trained model id (``MlStrings.isValidId``, at most 64
    characters), else a :class:`~es_rerank.errors.ConfigurationError` saying why."""
    if len(model_id) > 64 or not _VALID_MODEL_ID.fullmatch(model_id):
        raise ConfigurationError(
            f"--es-model-id {model_id!r} is not a valid Elasticsearch model id: lower-case "
            "letters, digits, '_', '-' and '.', starting and ending with a letter or digit, "
            "at most 64 characters"
        )
    return model_id


def es_model_id_for(model: str) -> str:
    """eland's rule (``/``, ``\\`` and spaces become ``__``, lower-cased, last 64 characters,
    no leading ``__``), then made a valid ES model id: ES's ``MlStrings`` takes lower-case
    letters, digits, ``_``, ``-`` and ``.``, starting and ending with a letter or digit, so a
    relative path's ``..`` and other characters go.

    >>> es_model_id_for("../shared/models/MiniLM-CE")
    'shared__models__minilm-ce'
    """
    # Same regex as eland.ml.pytorch.transformers.elasticsearch_model_id, without importing
    # torch just to name a model.
    model_id = re.sub(r"[\s\\/]", "__", model).lower()[-64:].removeprefix("__")
    # elastic/elasticsearch x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/ml/
    # utils/MlStrings.java @3f60fb6c: VALID_ID_CHAR_PATTERN
    model_id = re.sub(r"[^a-z0-9_.-]", "_", model_id)
    model_id = re.sub(r"^[^a-z0-9]+|[^a-z0-9]+$", "", model_id)
    if not model_id:
        raise UploadError(f"no valid Elasticsearch model id can be made from {model!r}: give "
                          "--es-model-id")  # fmt: skip
    return model_id


def eland_torch_pin() -> str | None:
    """The torch version eland's ``pytorch`` extra pins (the libtorch ES runs), if readable."""
    try:
        requires = metadata.requires("eland") or []
    except metadata.PackageNotFoundError:
        return None
    for req in requires:
        m = re.match(r"^torch\s*==\s*([\w.+]+)\s*;.*extra\s*==\s*['\"]pytorch['\"]", req)
        if m:
            return m.group(1)
    return None


def torch_version_warning(local: str | None = None, pinned: str | None = None) -> str | None:
    """A warning when the local torch differs from eland's pin, else ``None``.

    >>> torch_version_warning("2.7.1+cpu", "2.7.1") is None
    True
    >>> "2.13.0" in (torch_version_warning("2.13.0", "2.7.1") or "")
    True
    """
    if local is None:
        import torch

        local = str(torch.__version__)
    pinned = pinned if pinned is not None else eland_torch_pin()
    if pinned is None or local.split("+")[0] == pinned:
        return None
    return (
        f"warning: tracing with torch {local}, but eland pins torch {pinned} for "
        "Elasticsearch's libtorch. A model traced with a newer torch may fail to load on an ES "
        f"node whose libtorch is older; if deployment fails, trace with torch=={pinned}."
    )


def require_eland() -> None:
    """Fail in one line, before any work, when the ``eland`` extra is missing."""
    require_extra(
        "eland", "eland", "torch", "transformers", feature="tracing a model for Elasticsearch"
    )


def check_trace_dir(out_dir: str | Path) -> Path:
    """``out_dir`` if it can receive a traced model: absent (it is created) or a directory."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UploadError(f"--trace-only {out}: that is a file; give a directory to write into")
    return out


def _resolve(model: str) -> Path:
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    # A hub id (or a bad path): es_rerank.models looks in the cache, then the hub, and says
    # "--model PATH" when neither works.
    return Path(load_model(model).path)


def check_traceable(path: Path) -> None:
    """Refuse, with the reason, what eland cannot trace for ``text_similarity``."""
    config_file = path / "config.json"
    if not config_file.is_file():
        raise UploadError(f"{path} has no config.json: not a Hugging Face model directory")
    config = json.loads(config_file.read_text())
    archs = config.get("architectures") or []
    if (path / "modules.json").is_file() and not any(
        a.endswith("ForSequenceClassification") for a in archs
    ):
        raise UploadError(
            f"{path} is a sentence-transformers bi-encoder (architectures: {archs or 'none'}); "
            "text_similarity needs a cross-encoder with a sequence-classification head "
            "(e.g. cross-encoder/ms-marco-MiniLM-L6-v2)"
        )
    if any(a.endswith("ForCausalLM") for a in archs) or is_llm_config(config):
        raise UploadError(
            f"{path} is an LLM reranker (architectures: {archs or 'none'}): Elasticsearch's ML "
            "nodes run traced encoder models, not a causal LM in a prompt template. Serve it "
            f"with `inference-shim serve --model {path}` and point a rerank endpoint at the "
            "shim: `es-rerank endpoint create --service custom` (or hugging_face) --url ..."
        )
    if archs and not any(a.endswith("ForSequenceClassification") for a in archs):
        raise UploadError(
            f"{path} has no classification head (architectures: {archs}); text_similarity "
            "needs a *ForSequenceClassification cross-encoder"
        )
    labels = config.get("num_labels") or len(config.get("id2label") or {0: ""})
    if labels != 1:
        raise UploadError(
            f"{path} has {labels} output labels; a reranker for text_similarity has exactly one "
            "relevance logit (num_labels=1)"
        )


def trace_model(
    model: str,
    out_dir: str | Path,
    *,
    quantize: bool = False,
    es_version: tuple[int, int, int] | None = None,
    max_model_input_length: int | None = None,
    progress: TextIO | None = sys.stderr,
) -> TracedModel:
    """Trace ``model`` (local directory first, else a hub id) with eland and save it.

    Writes ``traced_pytorch_model.pt``, ``vocabulary.json`` and :data:`CONFIG_FILE` (the body
    of ``PUT _ml/trained_models/<id>``) into ``out_dir``. No cluster is needed.
    ``max_model_input_length`` is eland's ``--max-model-input-length``: the tokens ES feeds
    the model per pair (``tokenization.*.max_sequence_length``), for tokenizers that do not
    say or to cut shorter.
    """
    if max_model_input_length is not None and max_model_input_length < 1:
        raise UploadError(
            f"--max-model-input-length must be at least 1, got {max_model_input_length}"
        )
    require_eland()
    out = check_trace_dir(out_dir)
    say = _say(progress)
    try:
        path = _resolve(model)
    except ModelLoadError as exc:
        raise UploadError(str(exc)) from None
    check_traceable(path)
    warning = torch_version_warning()
    if warning:
        say(warning)
    out.mkdir(parents=True, exist_ok=True)

    from eland.ml.pytorch.transformers import TransformerModel

    say(f"tracing {path} for text_similarity{' (quantized)' if quantize else ''}")
    try:
        tm = TransformerModel(
            model_id=str(path),
            task_type="text_similarity",
            es_version=es_version,
            quantize=quantize,
            max_model_input_size=max_model_input_length,
        )
        model_path, config, vocab_path = tm.save(str(out))
    except (TypeError, ValueError, OSError, RuntimeError) as exc:
        raise UploadError(f"eland cannot trace {model!r} for text_similarity: {exc}") from None
    except Exception as exc:  # eland's own error types (TaskTypeError, ...) share no base
        raise UploadError(
            f"eland cannot trace {model!r} for text_similarity: {type(exc).__name__}: {exc}"
        ) from None
    config_dict: dict[str, Any] = config.to_dict()
    config_path = out / CONFIG_FILE
    config_path.write_text(json.dumps(config_dict, indent=2))
    traced = TracedModel(
        source=model,
        directory=out,
        model_path=Path(model_path),
        config_path=config_path,
        vocab_path=Path(vocab_path),
        config=config_dict,
        es_model_id=es_model_id_for(model),
    )
    size_mb = traced.model_path.stat().st_size / 1e6
    say(f"saved {traced.model_path.name} ({size_mb:.1f} MB), {CONFIG_FILE}, vocabulary.json")
    return traced


def _check_cluster(client: Elasticsearch) -> tuple[int, int, int]:
    version = cluster_version(client)
    if version[0] < 9:
        raise UploadError(
            f"the cluster runs Elasticsearch {'.'.join(map(str, version))}; eland 9.x uploads "
            "only to 9.x clusters"
        )
    return version


def upload_traced(
    client: Elasticsearch,
    traced: TracedModel,
    *,
    es_model_id: str | None = None,
    clear_previous: bool = False,
    start: bool = False,
    create_endpoint_id: str | None = None,
    num_allocations: int = 1,
    num_threads: int = 1,
    progress: TextIO | None = sys.stderr,
) -> str:
    """Upload a traced model (config, definition in 1 MB parts, vocabulary); optionally start
    its deployment and create a rerank endpoint on it. Returns the ES model id."""
    require_eland()
    from eland.ml.pytorch import PyTorchModel

    say = _say(progress)
    model_id = es_model_id or traced.es_model_id
    if create_endpoint_id and not start:
        raise UploadError("--create-endpoint needs --start: ES validates it against the deployment")
    _check_cluster(client)
    with translated():
        ptm = PyTorchModel(client, model_id)
        exists = (
            client.options(ignore_status=404).ml.get_trained_models(model_id=model_id).meta.status
            == 200
        )
        if exists:
            if not clear_previous:
                raise UploadError(
                    f"trained model [{model_id}] already exists; pass --clear-previous to replace "
                    "it or --es-model-id to upload under another id"
                )
            say(f"stopping and deleting the previous model [{model_id}]")
            client.options(ignore_status=[404, 409]).ml.stop_trained_model_deployment(
                model_id=model_id, force=True
            )
            ptm.delete()
        say(f"creating model [{model_id}]")
        ptm.put_config(path=str(traced.config_path))
        say("uploading model definition")
        ptm.put_model(str(traced.model_path))
        say("uploading vocabulary")
        ptm.put_vocab(str(traced.vocab_path))
        if start:
            say("starting deployment (waits until started)")
            ptm.start()
    if create_endpoint_id:
        body = endpoint_body(
            "elasticsearch",
            model_id=model_id,
            num_allocations=num_allocations,
            num_threads=num_threads,
        )
        create_endpoint(client, inference_id=create_endpoint_id, body=body)
        say(f"created rerank endpoint [{create_endpoint_id}] on model [{model_id}]")
    say(f"model [{model_id}] uploaded{' and started' if start else ''}")
    return model_id


def upload_model(
    client: Elasticsearch,
    model: str,
    *,
    work_dir: str | Path,
    quantize: bool = False,
    max_model_input_length: int | None = None,
    **kwargs: Any,
) -> str:
    """:func:`trace_model` into ``work_dir`` (with the cluster's version), then
    :func:`upload_traced`."""
    if kwargs.get("create_endpoint_id") and not kwargs.get("start"):
        raise UploadError("--create-endpoint needs --start: ES validates it against the deployment")
    require_eland()
    version = _check_cluster(client)
    progress = kwargs.get("progress", sys.stderr)
    _say(progress)(f"uploading {model} to Elasticsearch {'.'.join(map(str, version))}")
    traced = trace_model(
        model,
        work_dir,
        quantize=quantize,
        es_version=version,
        max_model_input_length=max_model_input_length,
        progress=progress,
    )
    return upload_traced(client, traced, **kwargs)
