"""The packaged all-MiniLM-L6-v2 bi-encoder encodes each distinct text once: passages that
come back in the windows of several queries are scored from cached embeddings, with the
same scores as encoding them afresh."""

from __future__ import annotations

import numpy as np
import pytest

from es_rerank.models import packaged_bi_encoder_path
from es_rerank.runtime import load_runtime
from es_rerank.runtime.batching import score_pairs
from es_rerank.runtime.function_runtime import BiEncoderRuntime

pytestmark = pytest.mark.slow

PASSAGES = [
    "the lift of a swept wing at low speed",
    "heat transfer in a hypersonic boundary layer",
    "shock waves on a wing at high mach number",
    "pressure distribution over a slender cone",
    "laminar flow separation behind a step",
]


def test_each_text_is_encoded_once_and_scores_do_not_change() -> None:
    rt = load_runtime(packaged_bi_encoder_path())
    assert isinstance(rt, BiEncoderRuntime)
    first = score_pairs(rt, rt.tokenize("wing lift", PASSAGES))
    assert rt.encoded == 1 + len(PASSAGES)
    again = score_pairs(rt, rt.tokenize("boundary layer heat", PASSAGES[::-1]))
    assert rt.encoded == 2 + len(PASSAGES)  # only the new query was encoded
    repeat = score_pairs(rt, rt.tokenize("wing lift", PASSAGES))
    assert rt.encoded == 2 + len(PASSAGES)
    np.testing.assert_array_equal(first, repeat)

    # The same numbers as the model's own cosine similarity, computed without the cache.
    emb = rt.model.encode(
        ["wing lift", "boundary layer heat", *PASSAGES], normalize_embeddings=True
    )
    np.testing.assert_allclose(first, emb[2:] @ emb[0], atol=1e-5)
    np.testing.assert_allclose(again, (emb[2:] @ emb[1])[::-1], atol=1e-5)
    assert int(np.argmax(first)) == 0 and int(np.argmax(again)) == 3


def test_the_cache_is_bounded() -> None:
    rt = load_runtime(packaged_bi_encoder_path())
    assert isinstance(rt, BiEncoderRuntime)
    rt._cache_size = 3
    rt.forward(rt.tokenize("wing", PASSAGES))  # one batch: the query and five passages
    assert len(rt._embeddings) == 3 and rt.encoded == 6
    # the three most recent (the last passages) are kept; the query went first
    rt.forward(rt.tokenize("wing", PASSAGES[-1:]))
    assert rt.encoded == 7
    rt.forward(rt.tokenize("wing", PASSAGES[:1]))  # the query is cached now, p0 was evicted
    assert rt.encoded == 8 and len(rt._embeddings) == 3
