"""ShimReranker against the real inference shim (its app factory on loopback)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from es_rerank import RerankError, ShimReranker
from tests.helpers.shim import serve_shim

KEY = "conformance-key"


@pytest.fixture(scope="module")
def shim_url() -> Iterator[str]:
    with serve_shim(scorer="tests.conformance.scorers:score_is_text", api_key=KEY) as url:
        yield url


def test_raw_scores_in_input_order_from_the_real_shim(shim_url: str) -> None:
    # the shim answers best first; the client must put scores back in input order
    scores = ShimReranker(shim_url, api_key=KEY).rerank("q", ["-1.5", "3", "0.25"])
    assert scores == [-1.5, 3.0, 0.25]


def test_batches_split_by_the_client_come_back_in_order(shim_url: str) -> None:
    texts = [str(i - 5) for i in range(11)]
    assert ShimReranker(shim_url, api_key=KEY, max_batch=4).rerank("q", texts) == [
        float(t) for t in texts
    ]


def test_wrong_api_key_is_refused(shim_url: str) -> None:
    with pytest.raises(RerankError, match="HTTP 401"):
        ShimReranker(shim_url, api_key="wrong", retries=0).rerank("q", ["1"])
