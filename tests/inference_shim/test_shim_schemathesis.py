"""Property-based requests generated from the committed OpenAPI document, sent to the real
server over loopback with the API key: no server error, and every response matches the
status codes, content types and schemas the document declares."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from tests.helpers.shim import ROOT, ShimProcess
from tests.inference_shim import battery

pytestmark = pytest.mark.slow

# Bounded so the suite stays quick; the seed makes a failure reproducible. Hypothesis'
# speed health check is off: the machine may be shared, and slowness is not a failure here.
CONFIG = f"""
seed = 20240613
suppress-health-check = ["too_slow"]
headers = {{ Authorization = "Bearer {battery.KEY}" }}

[generation]
mode = "all"
max-examples = 40

[checks]
enabled = false
not_a_server_error.enabled = true
status_code_conformance.enabled = true
content_type_conformance.enabled = true
response_schema_conformance.enabled = true

[phases.stateful]
enabled = false
"""


# The committed document, which the server serves as /openapi.json (tested elsewhere).
schema = schemathesis.openapi.from_path(
    ROOT / "inference_shim" / "openapi.json", config=SchemathesisConfig.from_str(CONFIG)
)


@schema.parametrize()
def test_openapi_conformance(case: schemathesis.Case, keyed_shim: ShimProcess) -> None:
    case.call_and_validate(base_url=keyed_shim.url)


def test_no_server_error_was_answered(keyed_shim: ShimProcess) -> None:
    """Over everything this session sent to the server (the battery included): many
    answers, not one 5xx. (/ready answers 503 by design while the model warms up, when the
    test harness polls it.)"""
    text = httpx.get(keyed_shim.url + "/metrics").text
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("shim_requests_total{") and 'route="/ready"' not in line:
            status = line.split('status="')[1][:3]
            totals[status] = totals.get(status, 0.0) + float(line.rsplit(" ", 1)[1])
    assert sum(totals.values()) >= 100, totals
    assert not [s for s in totals if s.startswith("5")], totals
