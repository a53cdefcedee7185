"""Server settings: one dataclass, filled from command-line flags whose defaults come from
``SHIM_*`` environment variables (flag > environment > built-in default). Every variable the
shim reads is in one table, :data:`VARIABLES`, derived from the flags and read as
:class:`es_rerank.env.Variable` reads (surrounding blanks dropped; empty is unset).

>>> argv = ["--model", "/models/ce", "--port", "9000"]
>>> s = settings_from_argv(argv, environ={"SHIM_API_KEY": "k"})
>>> s.model, s.port, s.api_key, s.score_mode
('/models/ce', 9000, 'k', None)
>>> [v.name for v in VARIABLES][:3]
['SHIM_MODEL', 'SHIM_SCORER', 'SHIM_HOST']
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from es_rerank.env import Variable, parse_bool
from es_rerank.runtime.base import DTYPES, RUNTIMES
from es_rerank.runtime.batching import CUDA_MAX_BATCH_TOKENS, DEFAULT_MAX_BATCH_TOKENS
from es_rerank.wire import WIRE_FORMATS
from inference_shim.modes import SCORE_MODES, ScoreMode, parse_mode

__all__ = [
    "ENV_PREFIX",
    "MALLOC_ARENA_MAX",
    "MALLOC_MMAP_THRESHOLD",
    "OMP_WAIT_POLICY",
    "PROCESS_VARIABLES",
    "VARIABLES",
    "Settings",
    "add_serve_arguments",
    "settings_from_argv",
]

ENV_PREFIX = "SHIM_"


@dataclass(frozen=True)
class Settings:
    """Everything ``inference-shim serve`` can be told. Limits are per request."""

    model: str | None = None
    scorer: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    api_key: str | None = None
    protect_info: bool = False
    max_batch_tokens: int | None = None  # None: the runtime's default for its device
    max_client_batch_size: int = 1000
    max_input_length: int | None = None
    max_payload_bytes: int = 2_000_000
    max_text_chars: int = 20_000
    max_queue: int = 64
    max_queue_wait: float = 20.0
    request_timeout: float = 30.0
    device: str | None = None
    runtime: str = "torch"
    dtype: str | None = None
    instruction: str | None = None
    score_mode: ScoreMode | None = None  # None: each route's own (es_rerank.wire registry)
    threads: int | None = None
    torch_threads: int | None = None
    drain_timeout: float = 30.0
    max_connections: int = 1000
    idle_timeout: float = 150.0
    header_timeout: float = 10.0
    read_timeout: float = 30.0
    log_format: str = "text"
    log_level: str = "info"

    def public_limits(self) -> dict[str, Any]:
        """The limits a client may want to know (reported by ``GET /info``)."""
        return {
            "max_batch_tokens": self.max_batch_tokens,
            "max_client_batch_size": self.max_client_batch_size,
            "max_input_length": self.max_input_length,
            "max_payload_bytes": self.max_payload_bytes,
            "max_text_chars": self.max_text_chars,
            "max_queue": self.max_queue,
            "max_queue_wait": self.max_queue_wait,
            "request_timeout": self.request_timeout,
        }


def _int(text: str, *, least: int, most: int | None, allowed: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"expected {allowed}, got {text!r}") from None
    if value < least or (most is not None and value > most):
        raise ValueError(f"expected {allowed}, got {value}")
    return value


def _positive_int(text: str) -> int:
    return _int(text, least=1, most=None, allowed="an integer > 0")


def _port(text: str) -> int:
    return _int(text, least=0, most=65535, allowed="a port 0..65535 (0: any free port)")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number > 0, got {text!r}") from None
    if not value > 0:
        raise ValueError(f"expected a number > 0, got {value}")
    return value


def _runtime(text: str) -> str:
    if text not in (*RUNTIMES, "auto"):
        raise ValueError(f"must be one of {', '.join((*RUNTIMES, 'auto'))}, got {text!r}")
    return text


def _dtype(text: str) -> str:
    if text not in DTYPES:
        raise ValueError(f"must be one of {', '.join(DTYPES)}, got {text!r}")
    return text


def _mode(text: str) -> ScoreMode:
    if text not in SCORE_MODES:
        raise ValueError(f"choose one of {', '.join(SCORE_MODES)}, got {text!r}")
    return parse_mode(text, name="--score-mode")


LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")


def _choice(allowed: Sequence[str]) -> Callable[[str], str]:
    def conv(text: str) -> str:
        if text.lower() not in allowed:
            raise ValueError(f"choose one of {', '.join(allowed)}, got {text!r}")
        return text.lower()

    return conv


def _flag_type(conv: Callable[[str], Any]) -> Callable[[str], Any]:
    """``conv`` for argparse: its ``ValueError`` message becomes the error argparse prints
    after the flag's name (instead of "invalid <function name> value")."""

    def convert(text: str) -> Any:
        try:
            return conv(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = getattr(conv, "__name__", "value").lstrip("_")
    return convert


# flag, type, help. The dest and the environment variable follow from the flag name.
_FLAGS: list[tuple[str, Callable[[str], Any], str]] = [
    ("--model", str, "cross-encoder or bi-encoder: a local directory or a hub id"),
    (
        "--scorer",
        str,
        "serve a Python function package.module:function "
        "(query: str, texts: list[str]) -> list[float] of raw scores instead of a model",
    ),
    ("--host", str, "address to listen on; use 0.0.0.0 in a container"),
    ("--port", _port, "TCP port (0: any free port, printed at start)"),
    ("--api-key", str, "require 'Authorization: Bearer KEY' on the rerank routes"),
    (
        "--max-batch-tokens",
        _positive_int,
        f"padded tokens per model forward pass (default: {DEFAULT_MAX_BATCH_TOKENS} on CPU, "
        f"{CUDA_MAX_BATCH_TOKENS} on CUDA); pairs of concurrent requests share batches",
    ),
    (
        "--max-client-batch-size",
        _positive_int,
        "most texts in one request (larger ones get 422; smaller ones are split internally)",
    ),
    (
        "--max-input-length",
        _positive_int,
        "tokens per (query, text) pair; default and upper bound: the model's max length",
    ),
    ("--max-payload-bytes", _positive_int, "largest request body (413 above it)"),
    ("--max-text-chars", _positive_int, "longest text or query in characters (422 above it)"),
    (
        "--max-queue",
        _positive_int,
        "requests waiting or running at once; more get 429 with Retry-After",
    ),
    (
        "--max-queue-wait",
        _positive_float,
        "seconds of queued work (estimated at the recent throughput, this request "
        "included) above which a new request gets 429 with a Retry-After; keep it "
        "below the caller's timeout (Elasticsearch's inference calls: 30 s)",
    ),
    (
        "--request-timeout",
        _positive_float,
        "seconds after which a started request's remaining work is dropped and it gets 503 "
        "Timeout (Elasticsearch has given up on it by then); one that cannot finish within "
        "it (its own work counted twice) behind the queued work at the recent throughput "
        "gets 429 with Retry-After, on arrival or from the queue before its work starts",
    ),
    ("--device", str, "torch device: cpu, cuda, cuda:1 (default: cuda when available)"),
    (
        "--runtime",
        _runtime,
        "model runtime: " + " | ".join((*RUNTIMES, "auto")) + " (auto: score the shipped "
        "calibration set with each runtime that installs, keep those agreeing with fp32, "
        "take the fastest; the choice is cached)",
    ),
    (
        "--dtype",
        _dtype,
        "fp32 (default) | bf16 (torch, openvino; CPUs with bf16) | int8 (onnx, openvino) | "
        "fp16 (torch on CUDA); with --runtime auto it narrows the choice",
    ),
    (
        "--instruction",
        str,
        "the instruction an LLM reranker reads when a request sends none (default: the "
        "model card's, from its prompt template); models without a prompt refuse it",
    ),
    (
        "--score-mode",
        _mode,
        "the score of every route when a request asks for none: "
        + " | ".join(SCORE_MODES)
        + ". Default: each route's own, as its format's clients expect: "
        + "; ".join(
            f"{', '.join(r.path for r in f.routes)} {f.score_mode}"
            + ("" if f.score_mode == "raw" else f" (raw: {f.raw_field})")
            for f in WIRE_FORMATS.values()
        )
        + ". Elasticsearch normalizes raw scores itself; per request: score_mode",
    ),
    (
        "--threads",
        _positive_int,
        "HTTP worker threads (default: --max-queue + 4, so a full "
        "queue is answered with 429 rather than left waiting)",
    ),
    (
        "--torch-threads",
        _positive_int,
        "intra-op threads of the model runtime (default: CPU count)",
    ),
    (
        "--drain-timeout",
        _positive_float,
        "seconds SIGTERM waits for in-flight requests before exiting",
    ),
    (
        "--max-connections",
        _positive_int,
        "open connections at once; at the cap the longest-idle keep-alive ones, then the "
        "slowest-arriving requests, are closed to make room (Elasticsearch keeps up to 20 "
        "per node)",
    ),
    (
        "--idle-timeout",
        _positive_float,
        "seconds before an idle keep-alive connection is closed (above Elasticsearch's "
        "1 min idle eviction, so it closes first)",
    ),
    (
        "--header-timeout",
        _positive_float,
        "seconds a client may take to send a request's headers (slow clients are closed)",
    ),
    (
        "--read-timeout",
        _positive_float,
        "seconds a client may take to send a whole request, headers and body, from its first "
        "byte (slower ones are closed, however often a byte arrives)",
    ),
    ("--log-format", _choice(LOG_FORMATS), "log lines as " + " | ".join(LOG_FORMATS)),
    ("--log-level", _choice(LOG_LEVELS), " | ".join(LOG_LEVELS) + " (access lines: info)"),
]


def _env_name(flag: str) -> str:
    return ENV_PREFIX + flag.lstrip("-").replace("-", "_").upper()


_PROTECT_INFO = Variable(
    _env_name("--protect-info"),
    "also require the API key on /health, /ready, /metrics and /openapi.json "
    "(open by default, as in TEI; /info always needs it)",
)

# What the server sets for its own process when the environment leaves it unset
# (docs/shim-reliability.md, "Cores and memory").
OMP_WAIT_POLICY = Variable(
    "OMP_WAIT_POLICY", "OpenMP's idle threads: PASSIVE (sleep) unless set; read when torch loads"
)
MALLOC_ARENA_MAX = Variable("MALLOC_ARENA_MAX", "glibc malloc arenas: 2 unless set")
MALLOC_MMAP_THRESHOLD = Variable(
    "MALLOC_MMAP_THRESHOLD_", "glibc: blocks this large get their own mapping; 256 KiB unless set"
)

#: Every setting's environment variable: one per flag (its name in capitals after
#: ``SHIM_``), in the flags' order. With :data:`PROCESS_VARIABLES`, all the shim reads;
#: nothing else in the package reads the environment.
VARIABLES: tuple[Variable, ...] = (
    *(Variable(_env_name(flag), text) for flag, _, text in _FLAGS),
    _PROTECT_INFO,
)
#: The process's own variables the server sets when they are unset (the user's value wins).
PROCESS_VARIABLES: tuple[Variable, ...] = (OMP_WAIT_POLICY, MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD)
_BY_NAME = {v.name: v for v in VARIABLES}


def add_serve_arguments(
    parser: argparse.ArgumentParser, *, environ: Mapping[str, str] | None = None
) -> None:
    """Add every setting as a flag; each flag's default is read from its ``SHIM_*`` variable
    (in ``environ``, default ``os.environ``)."""
    defaults = Settings()
    for flag, conv, text in _FLAGS:
        dest = flag.lstrip("-").replace("-", "_")
        var = _env_name(flag)
        default: Any = getattr(defaults, dest)
        given = _BY_NAME[var].value(environ)
        if given is not None:
            try:
                default = conv(given)
            except ValueError as exc:
                parser.error(f"environment variable {var}: {exc}")
        secret = dest == "api_key"  # never echo a key from the environment
        shown = "" if default is None or secret else f"; default {default}"
        parser.add_argument(
            flag,
            dest=dest,
            type=_flag_type(conv),
            default=default,
            help=f"{text} [env {var}{shown}]",
        )
    var = _PROTECT_INFO.name
    try:
        protect = parse_bool(_PROTECT_INFO.text(environ))
    except ValueError as exc:
        parser.error(f"environment variable {var}: {exc}")
    parser.add_argument(
        "--protect-info",
        action=argparse.BooleanOptionalAction,
        default=protect,
        help=f"{_PROTECT_INFO.about} [env {var}]",
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Build :class:`Settings` from parsed arguments; exactly one of model/scorer."""
    values = {f.name: getattr(args, f.name) for f in fields(Settings) if hasattr(args, f.name)}
    settings = Settings(**values)
    if (settings.model is None) == (settings.scorer is None):
        raise ValueError("give exactly one of --model (or SHIM_MODEL) and --scorer (SHIM_SCORER)")
    return settings


def settings_from_argv(
    argv: Sequence[str], *, environ: Mapping[str, str] | None = None
) -> Settings:
    """Parse serve flags (for tests and embedding)."""
    parser = argparse.ArgumentParser(prog="inference-shim serve")
    add_serve_arguments(parser, environ=environ)
    return settings_from_args(parser.parse_args(list(argv)))
