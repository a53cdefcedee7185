"""docker/compose.yml against the Compose Specification's JSON schema, and the references
between services, Dockerfile, env defaults and CLI that no schema can check."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from es_rerank.cli import build_parser
from tests.helpers import ROOT

DOCKER = ROOT / "docker"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DOCKER / "compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_validates_against_compose_spec(compose: dict[str, Any], shared_dir: Path) -> None:
    import jsonschema

    schema_file = shared_dir / "schemas" / "compose-spec.json"
    if not schema_file.is_file():
        pytest.skip(f"{schema_file} is absent")
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    # The schema really bites: a typo'd key fails it.
    broken = {**compose, "services": {"es": {"image": "x", "helthcheck": {}}}}
    assert list(validator.iter_errors(broken))


def test_service_references_and_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"elasticsearch", "shim", "setup"}
    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if cond.get("condition") == "service_healthy":
                assert "healthcheck" in services[dep], f"{dep} has no healthcheck"
        for vol in svc.get("volumes", []):
            source = vol.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in (compose.get("volumes") or {}), f"undeclared volume {source}"
        build = svc.get("build")
        if build:
            assert (DOCKER / build["context"] / build["dockerfile"]).resolve().is_file()
    # Long-running services have healthchecks; the one-shot setup waits for both.
    assert services["elasticsearch"]["healthcheck"]["test"]
    assert "/ready" in json.dumps(services["shim"]["healthcheck"]["test"])
    assert services["setup"]["restart"] == "no"
    assert set(services["setup"]["depends_on"]) == {"elasticsearch", "shim"}


def test_elasticsearch_settings(compose: dict[str, Any]) -> None:
    es = compose["services"]["elasticsearch"]
    assert re.search(r"elasticsearch:\$\{ES_VERSION:-9\.\d+\.\d+\}$", es["image"])
    env = es["environment"]
    assert env["discovery.type"] == "single-node"
    assert env["xpack.license.self_generated.type"] == "trial"
    assert env["xpack.security.enabled"] == "true"
    assert env["ELASTIC_PASSWORD"].startswith("${ELASTIC_PASSWORD")
    # The healthcheck authenticates with the password the container got ($$: not compose's).
    assert "$${ELASTIC_PASSWORD}" in json.dumps(es["healthcheck"]["test"])


def test_setup_talks_to_services_by_name(compose: dict[str, Any]) -> None:
    services = compose["services"]
    setup = services["setup"]
    env = setup["environment"]
    assert env["ES_URL"] == "http://elasticsearch:9200"
    script = " ".join(setup["entrypoint"][2:])
    assert "docker/seed.py" in script
    # Every es-rerank command the setup runs parses with the real CLI.
    parser = build_parser()
    commands = re.findall(r"es-rerank ([^;&|]+)", script.replace("$${INFERENCE_ID}", "x"))
    assert len(commands) == 3
    for cmd in commands:
        args = parser.parse_args(shlex.split(cmd.replace('"', "")))
        if getattr(args, "action", None) == "create":
            host = re.match(r"https?://([^:/]+)", args.url)
            assert host and host.group(1) in services, "ES must reach the shim by service name"
    shim_env = services["shim"]["environment"]
    assert shim_env["SHIM_HOST"] == "0.0.0.0"
    assert shim_env["SHIM_SCORE_MODE"] == "${SHIM_SCORE_MODE:-raw}"  # hugging_face gets raw
    assert services["shim"]["ports"][0].endswith(":" + shim_env["SHIM_PORT"])


def test_env_example_covers_required_variables(compose: dict[str, Any]) -> None:
    text = (DOCKER / "compose.yml").read_text()
    required = set(re.findall(r"(?<!\$)\$\{(\w+):\?", text))
    example = (DOCKER / "env.example").read_text()
    declared = set(re.findall(r"^(\w+)=", example, re.MULTILINE))
    assert required and required <= declared
    assert required <= set(re.findall(r"([A-Z][A-Z_]+)=", (ROOT / "Makefile").read_text()))


def test_dockerfile() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    torch = next(i for i, ln in enumerate(lines) if "download.pytorch.org/whl/cpu" in ln)
    project = next(i for i, ln in enumerate(lines) if 'pip install ".[shim]"' in ln)
    assert torch < project, "CPU torch must be installed before the project"
    assert "ARG TORCH_VERSION=2.13.0" in lines
    user = next(ln for ln in lines if ln.startswith("USER "))
    assert user.split()[1] not in ("root", "0")
    assert any(ln.startswith("HEALTHCHECK") for ln in lines) and "/ready" in text
    assert lines[-1] == 'ENTRYPOINT ["inference-shim", "serve"]'
    for ln in lines:
        if ln.startswith("COPY "):
            for src in ln.split()[1:-1]:
                assert (ROOT / src).exists(), f"COPY source {src} missing"
