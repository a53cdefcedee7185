"""``es-rerank upload-model``: trace a cross-encoder with eland for ``text_similarity``, upload
it into Elasticsearch, start it and create its rerank endpoint (or only trace, offline)."""

from __future__ import annotations

import argparse
import os
import tempfile
from typing import Any

from es_rerank import env
from es_rerank.elastic.connection import add_connection_arguments, connection_from_args
from es_rerank.elastic.upload import (
    CONFIG_FILE,
    check_es_model_id,
    check_trace_dir,
    require_eland,
    trace_model,
    upload_model,
)
from es_rerank.errors import ConfigurationError


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "upload-model",
        help="trace a cross-encoder with eland and upload it into Elasticsearch",
        description="Trace a cross-encoder (local directory or hub id) to TorchScript for ES's "
        "text_similarity task with eland, upload it in 1 MB parts, and optionally start it and "
        "create an elasticsearch-service rerank endpoint on it. --trace-only DIR needs no cluster. "
        "eland_import_hub_model's spellings are accepted too (--hub-model-id, --url, -u, -p).",
    )
    p.add_argument(
        "--model",
        "--hub-model-id",
        dest="model",
        required=True,
        metavar="PATH_OR_HUB_ID",
        help="local model directory (used first) or a Hugging Face hub id",
    )
    p.add_argument(
        "--task-type",
        default="text_similarity",
        metavar="TASK",
        help="eland's flag: text_similarity, the task rerank endpoints use (the only one accepted)",
    )
    p.add_argument(
        "--hub-access-token",
        metavar="TOKEN",
        default=env.HUB_ACCESS_TOKEN.value(),
        help="Hugging Face token for a private or gated hub model (eland's flag; default: "
        "$HUB_ACCESS_TOKEN, as eland reads it)",
    )
    p.add_argument(
        "--es-model-id",
        help="id in ES (default: the model name with / as __, lower-cased, as eland does)",
    )
    p.add_argument("--quantize", action="store_true", help="dynamic int8 quantization (CPU)")
    p.add_argument(
        "--max-model-input-length",
        type=int,
        metavar="TOKENS",
        help="tokens ES feeds the model per query-text pair (eland's flag; default: the "
        "tokenizer's model_max_length)",
    )
    p.add_argument("--start", action="store_true", help="start the deployment after upload")
    p.add_argument(
        "--clear-previous", action="store_true", help="stop and delete a model with the same id"
    )
    p.add_argument(
        "--create-endpoint",
        metavar="ID",
        help="create rerank endpoint ID on the model (needs --start)",
    )
    p.add_argument("--num-allocations", type=int, default=1, help="for --create-endpoint")
    p.add_argument("--num-threads", type=int, default=1, help="for --create-endpoint")
    p.add_argument(
        "--trace-only",
        metavar="DIR",
        help=f"only trace: write traced_pytorch_model.pt, {CONFIG_FILE} and vocabulary.json "
        "to DIR; no cluster needed",
    )
    add_connection_arguments(p, eland_aliases=True)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.task_type != "text_similarity":
        raise ConfigurationError(
            f"--task-type {args.task_type}: upload-model uploads rerankers, whose task is "
            "text_similarity; for other tasks use eland_import_hub_model"
        )
    if args.es_model_id is not None:
        check_es_model_id(args.es_model_id)
    require_eland()
    if args.hub_access_token:
        # huggingface_hub reads it where the model is fetched, whichever path fetches it
        os.environ["HF_TOKEN"] = args.hub_access_token
    for flag in ("num_allocations", "num_threads"):
        if getattr(args, flag) < 1:
            raise ConfigurationError(f"--{flag.replace('_', '-')} must be at least 1")
    if args.trace_only:
        check_trace_dir(args.trace_only)
        traced = trace_model(
            args.model,
            args.trace_only,
            quantize=args.quantize,
            max_model_input_length=args.max_model_input_length,
        )
        print(f"traced {args.model} into {traced.directory}")
        print(f"  model:  {traced.model_path}")
        print(f"  config: {traced.config_path} (inference_config.text_similarity)")
        print(f"  vocab:  {traced.vocab_path}")
        print(f"  ES model id when uploaded: {args.es_model_id or traced.es_model_id}")
        return 0
    client = connection_from_args(args).client()
    with tempfile.TemporaryDirectory(prefix="es-rerank-trace-") as work:
        model_id = upload_model(
            client,
            args.model,
            work_dir=work,
            quantize=args.quantize,
            max_model_input_length=args.max_model_input_length,
            es_model_id=args.es_model_id,
            clear_previous=args.clear_previous,
            start=args.start,
            create_endpoint_id=args.create_endpoint,
            num_allocations=args.num_allocations,
            num_threads=args.num_threads,
        )
    print(model_id)
    return 0
