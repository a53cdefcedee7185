"""Upload the tiny cross-encoder with eland into a real cluster, start it, create its
``elasticsearch``-service rerank endpoint, and compare ES's scores with the model's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from es_rerank.elastic import delete_endpoint, rerank
from es_rerank.elastic.upload import upload_model
from es_rerank.models import load_model
from tests.elasticsearch.conftest import Cluster

pytestmark = pytest.mark.elasticsearch

QUERY = "how many people live in berlin"
TEXTS = ["berlin has 3 million people", "the cat is fast", "paris is a city on a river"]


@pytest.mark.slow
def test_upload_start_and_rerank(
    cluster: Cluster, tiny_cross_encoder: Path, tmp_path: Path
) -> None:
    model_id = cluster.unique("es-rerank-tiny-ce")
    inference_id = cluster.unique("es-rerank-eland")
    upload_model(
        cluster.client,
        str(tiny_cross_encoder),
        work_dir=tmp_path,
        es_model_id=model_id,
        start=True,
        create_endpoint_id=inference_id,
        progress=None,
    )
    try:
        ranked = rerank(cluster.client, inference_id=inference_id, query=QUERY, texts=TEXTS)
        expected = load_model(tiny_cross_encoder).score(QUERY, TEXTS)
        assert sorted(r.index for r in ranked) == [0, 1, 2]
        for r in ranked:
            assert r.score == pytest.approx(float(expected[r.index]), abs=1e-4)
    finally:
        delete_endpoint(cluster.client, inference_id=inference_id, force=True)
        cluster.client.options(ignore_status=[404, 409]).ml.stop_trained_model_deployment(
            model_id=model_id, force=True
        )
        cluster.client.options(ignore_status=404).ml.delete_trained_model(
            model_id=model_id, force=True
        )
