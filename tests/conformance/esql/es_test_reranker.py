"""The scores of ES's ``test_reranker`` endpoint, which ``rerank.csv-spec`` runs against.

ES's ES|QL tests create it with ``service: test_reranking_service`` and ``task_settings:
{"use_text_length": true}`` (``CsvTestsDataLoader.createRerankInferenceEndpoint``); that
service (x-pack/plugin/inference/qa/test-service-plugin, ``TestRerankingServiceExtension
.makeResultFromTextInput``) scores each input ``1f / inputText.length()``: a Java float
over the text's UTF-16 length, whatever the query."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def inverse_length(query: str, texts: Sequence[str]) -> list[float]:
    return [float(np.float32(1.0) / np.float32(len(t.encode("utf-16-le")) // 2)) for t in texts]
