"""ES's ``rerank.csv-spec`` natively on a real cluster (ES|QL ``RERANK`` calling a shim that
serves ES's ``test_reranker`` rule, 1/UTF-16 length) and on the external path against the
same cluster (the commands before ``RERANK`` run there, the rerank here): both answers must
be equal, and equal to ES's expected one for the cases that pass locally. Skipped without
a cluster (see conftest.py); needs ES 9.2+ (``RERANK``) and a trial or Enterprise license."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from es_rerank.elastic import bulk_index, create_endpoint, delete_endpoint, endpoint_body
from es_rerank.elastic.esql import ElasticsearchEsql
from es_rerank.esql import EsqlQuery, Rerank, run_external, run_native
from es_rerank.esql.table import EsqlResult
from tests.conformance.esql.cases import CASES, mismatch, refusal
from tests.conformance.esql.csv_spec import SpecCase
from tests.conformance.esql.es_test_reranker import inverse_length
from tests.conformance.esql.mini_esql import DATA, books
from tests.conformance.esql.test_rerank_csv_spec import LISTED
from tests.elasticsearch.conftest import Cluster
from tests.helpers.shim import shim_for_cluster

pytestmark = pytest.mark.elasticsearch
KEY = "esql-rerank"
# Cases whose query needs more than ES 9.2's ES|QL or data this index lacks.
NOT_NATIVE = {
    "reranker using a sparse input field": "books.csv read here has no `collection` column",
    "combine-Ignore": "ignored by ES's own suite",
}


@pytest.fixture(scope="module")
def setup(cluster: Cluster) -> Iterator[tuple[ElasticsearchEsql, str, str]]:
    client = cluster.client
    version = tuple(int(x) for x in client.info()["version"]["number"].split(".")[:2])
    if version < (9, 2):
        pytest.skip(f"ES|QL RERANK needs Elasticsearch 9.2+, the cluster is {version}")
    index = cluster.unique("es-rerank-books")
    mapping = {"mappings": json.loads((DATA / "mapping-books.json").read_text())}
    docs = [{k: v for k, v in doc.items() if not k.endswith(".keyword")} for doc in books().docs]
    result = bulk_index(client, index, docs, id_field="_id", mapping=mapping, progress=False)
    assert result.indexed == len(docs) and not result.rejected
    shim = shim_for_cluster(
        ["--scorer", "tests.conformance.esql.es_test_reranker:inverse_length"], api_key=KEY
    )
    inference_id = cluster.unique("es-rerank-test-reranker")
    body = endpoint_body("hugging_face", url=shim.url_for(cluster.shim_host), api_key=KEY)
    try:
        create_endpoint(client, inference_id=inference_id, body=body)
        yield ElasticsearchEsql(client), index, inference_id
    finally:
        delete_endpoint(client, inference_id=inference_id, force=True)
        shim.terminate()
        client.indices.delete(index=index, ignore_unavailable=True)


def _on_cluster(case: SpecCase, index: str, inference_id: str) -> EsqlQuery:
    text = case.query.replace("FROM books", f"FROM {index}", 1)
    return EsqlQuery.parse(text.replace('"test_reranker"', json.dumps(inference_id)))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_native_and_external_agree(case: SpecCase, setup: tuple[Any, str, str]) -> None:
    if case.name in NOT_NATIVE:
        pytest.skip(NOT_NATIVE[case.name])
    source, index, inference_id = setup
    query = _on_cluster(case, index, inference_id)
    at = query.rerank_at
    assert at is not None and isinstance(query.commands[at], Rerank)
    if refusal(query) is None:
        native, external = (
            run_native(query, source=source),
            run_external(query, source=source, reranker=inverse_length),
        )
    else:  # compare up to RERANK, where the external path stops
        head = EsqlQuery(query.source, query.commands[: at + 1])
        native = run_native(head, source=source)
        external = run_external(head, source=source, reranker=inverse_length)
    assert native.names == external.names
    assert sorted(native.values, key=repr) == sorted(external.values, key=repr)
    if case.name not in LISTED and refusal(query) is None:
        assert mismatch(case, EsqlResult(native.columns, native.values)) is None
