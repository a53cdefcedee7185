"""Interpret one YAML REST case against a target (see targets.py): its ``do`` steps and the
assertions ES's YAML runner knows (``match``, ``length``, ``close_to``, ``is_true``,
``is_false``, ``gt``/``gte``/``lt``/``lte``, ``contains``), ``catch`` and ``set``/``$name``
included.

What the runner does not check is listed in ``exclusions.yml`` (``not_applicable``), and
every case that meets such an assertion or request parameter records it: the summary says
how many were set aside and why. Nothing is dropped silently.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

import yaml

from es_rerank.errors import ConfigurationError, ElasticsearchNotFoundError, EsRerankError
from tests.conformance.es_rest.suite import HERE, Case

__all__ = [
    "CaseOutcome",
    "NotApplicableError",
    "Rules",
    "Target",
    "UnsupportedStepError",
    "error_body",
    "load_rules",
    "run_case",
]

_ASSERTIONS = {"match", "length", "close_to", "is_true", "is_false", "gt", "gte", "lt", "lte",
               "contains"}  # fmt: skip
_IGNORED_STEPS = {"skip", "requires"}  # ES version/feature gates: the newest ES is followed
_IGNORED_DO_KEYS = {"headers", "warnings", "allowed_warnings", "node_selector"}


class UnsupportedStepError(Exception):
    """A step or API the runner does not interpret (the case fails, naming it)."""


class NotApplicableError(Exception):
    """A request the target cannot make at all (e.g. it reads a field of a type the local
    index lacks); such cases are listed in exclusions.yml with their reason."""


class Target(Protocol):
    name: str

    def call(self, api: str, args: Mapping[str, Any]) -> Any:
        """Run one API call (``indices.create``, ``bulk``, ``search``...) and return its
        response body; raise on failure as the client would."""
        ...


@dataclass(frozen=True)
class Rules:
    """``exclusions.yml``: request keys and assertion paths not checked, and per-case status."""

    request_keys: Mapping[str, str]
    assertion_paths: tuple[tuple[re.Pattern[str], str], ...]
    #: "file::name" -> {excluded: why} | {gap, owner} | {set_aside: {path: why}}, [targets]
    cases: Mapping[str, Mapping[str, Any]]

    def assertion_reason(self, path: str) -> str | None:
        return next((why for pattern, why in self.assertion_paths if pattern.search(path)), None)


@cache
def load_rules() -> Rules:
    data = yaml.safe_load((HERE / "exclusions.yml").read_text())
    na = data["not_applicable"]
    cases = {
        f"{file}::{name}": entry
        for file, entries in (data.get("cases") or {}).items()
        for name, entry in (entries or {}).items()
    }
    return Rules(
        request_keys=dict(na["request"]),
        assertion_paths=tuple((re.compile(a["path"]), a["reason"]) for a in na["assertions"]),
        cases=cases,
    )


@dataclass
class CaseOutcome:
    passed: bool
    failure: str | None = None
    #: (what, why) for every request key or assertion set aside
    set_aside: list[tuple[str, str]] = field(default_factory=list)
    searches: int = 0
    assertions: int = 0


def error_body(exc: BaseException) -> dict[str, Any]:
    """An ES-shaped error response for ``exc``: what assertions after a ``catch`` read."""
    status = getattr(exc, "status", None)
    if status is None:
        status = (
            400
            if isinstance(exc, ConfigurationError)
            else 404
            if isinstance(exc, ElasticsearchNotFoundError)
            else 500
        )
    reason = getattr(exc, "reason", None) or str(exc)
    kind = getattr(exc, "error_type", "") or None
    cause: dict[str, Any] = {"type": kind, "reason": reason}
    failures = getattr(exc, "failures", None)
    if failures:  # a compound node's children's failures: each a search whose shard failed
        cause["suppressed"] = [
            {
                "type": None,
                "reason": "all shards failed",
                "failed_shards": [{"shard": 0, "reason": error_body(f)["error"]}],
            }
            for f in failures
        ]
    return {"status": status, "error": {**cause, "root_cause": [cause], "caused_by": cause}}


_CATCH_STATUS = {"bad_request": 400, "unauthorized": 401, "forbidden": 403, "missing": 404,
                 "conflict": 409, "unavailable": 503}  # fmt: skip


def _check_catch(catch: str, exc: BaseException) -> None:
    body = error_body(exc)
    if catch.startswith("/") and catch.endswith("/"):
        if not re.search(catch[1:-1], str(exc)):
            raise AssertionError(f"catch {catch}: the error does not match: {exc!r}")
    elif catch == "request":
        if not isinstance(exc, EsRerankError | ValueError) or body["status"] == 500:
            raise AssertionError(f"catch request: expected a request error, got {exc!r}")
    elif catch in _CATCH_STATUS:
        if body["status"] != _CATCH_STATUS[catch]:
            raise AssertionError(
                f"catch {catch}: expected status {_CATCH_STATUS[catch]}, got "
                f"{body['status']} from {exc!r}"
            )
    else:
        raise UnsupportedStepError(f"catch value {catch!r}")


def lookup(response: Any, path: str) -> Any:
    """ES's ObjectPath: dot-separated keys (``\\.`` escapes a dot), list indices; missing
    parts give None."""
    value = response
    for part in re.split(r"(?<!\\)\.", path):
        part = part.replace("\\.", ".")
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _match(actual: Any, expected: Any) -> bool:
    text = expected.strip() if isinstance(expected, str) else ""
    if len(text) > 2 and text.startswith("/") and text.endswith("/"):
        # ES's MatchAssertion: Pattern.COMMENTS (whitespace in the pattern is ignored), find()
        return isinstance(actual, str) and re.search(text[1:-1], actual, re.VERBOSE) is not None
    if isinstance(actual, bool) != isinstance(expected, bool):
        return False  # Java: Boolean.TRUE never equals 1
    numbers = (actual, expected)
    if all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
        return float(actual) == float(expected)
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        same = all(_match(actual[k], expected[k]) for k in expected)
        return set(expected) == set(actual) and same
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(_match, actual, expected))
    return bool(actual == expected)


def _truthy(value: Any) -> bool:
    return value not in (None, "", False, "false", 0) and value != []


def _assert(kind: str, spec: Mapping[str, Any], response: Any) -> None:
    for path, expected in spec.items():
        actual = lookup(response, path)
        if kind == "match":
            ok = _match(actual, expected)
        elif kind == "length":
            ok = isinstance(actual, list | dict | str) and len(actual) == expected
        elif kind == "close_to":
            ok = isinstance(actual, int | float) and math.isclose(
                actual, expected["value"], rel_tol=0, abs_tol=expected["error"]
            )
        elif kind == "is_true":
            ok = _truthy(actual)
        elif kind == "is_false":
            ok = not _truthy(actual)
        elif kind in ("gt", "gte", "lt", "lte"):
            ok = isinstance(actual, int | float) and {
                "gt": actual > expected, "gte": actual >= expected,
                "lt": actual < expected, "lte": actual <= expected,
            }[kind]  # fmt: skip
        elif isinstance(actual, list) and isinstance(expected, Mapping):  # contains
            # ES: some item has every expected entry
            ok = any(
                isinstance(item, Mapping)
                and all(_match(item.get(k), v) for k, v in expected.items())
                for item in actual
            )
        else:  # contains
            ok = expected in actual if isinstance(actual, list | str) else False
        if not ok:
            raise AssertionError(f"{kind} {path}: expected {expected!r}, got {actual!r}")


def run_case(case: Case, target: Target, rules: Rules | None = None) -> CaseOutcome:
    """Run ``case``'s setup and steps on ``target``; never raises for a failing case."""
    rules = rules or load_rules()
    outcome = CaseOutcome(passed=False)
    response: Any = None
    stash: dict[str, Any] = {}
    try:
        for step in (*case.setup, *case.steps):
            ((kind, spec),) = step.items()
            if kind in _IGNORED_STEPS:
                continue
            own = rules.cases.get(case.id, {}).get("set_aside", {})
            if kind == "do":
                response = _do(spec, target, rules, outcome, own)
                continue
            if kind == "set":  # stash values for later `$name` references
                stash.update({name: lookup(response, path) for path, name in spec.items()})
                continue
            if kind not in _ASSERTIONS:
                raise UnsupportedStepError(f"step {kind!r}")
            if isinstance(spec, str):  # is_true/is_false name a path alone
                spec = {spec: None}
            for path, expected in spec.items():
                why = own.get(path) or rules.assertion_reason(path)
                if why is not None:
                    outcome.set_aside.append((f"{kind} {path}", why))
                    continue
                outcome.assertions += 1
                if isinstance(expected, str) and expected.startswith("$"):
                    expected = stash[expected[1:]]
                _assert(kind, {path: expected}, response)
    except (AssertionError, UnsupportedStepError, NotApplicableError) as exc:
        outcome.failure = f"{type(exc).__name__}: {exc}"
        return outcome
    except Exception as exc:  # an error no catch expected: the request failed
        outcome.failure = f"unexpected {type(exc).__name__}: {exc}"
        return outcome
    outcome.passed = True
    return outcome


def _do(
    spec: Mapping[str, Any],
    target: Target,
    rules: Rules,
    outcome: CaseOutcome,
    set_aside: Mapping[str, str],
) -> Any:
    spec = dict(spec)
    catch = spec.pop("catch", None)
    for key in _IGNORED_DO_KEYS:
        spec.pop(key, None)
    ((api, args),) = spec.items()
    args = dict(args or {})
    if api == "search":
        outcome.searches += 1
        body = dict(args.get("body") or {})
        for key in list(body):
            if key in rules.request_keys:
                outcome.set_aside.append((f"search body {key}", rules.request_keys[key]))
                body.pop(key)
        args["body"] = body
    try:
        response = target.call(api, args)
    except (UnsupportedStepError, NotApplicableError):
        raise
    except Exception as exc:
        if catch is None:
            raise
        why = set_aside.get("catch")
        if why is not None and str(catch).startswith("/"):
            # the regex names ES's exception class: only the refusal (a 4xx) is checked
            outcome.set_aside.append((f"catch {catch}", why))
            _check_catch("request", exc)
        else:
            _check_catch(str(catch), exc)
        return error_body(exc)
    if catch is not None:
        raise AssertionError(f"catch {catch}: the request succeeded: {response!r}")
    return response
