"""Every retriever body on Elasticsearch's retriever reference pages, as data.

From elastic/elasticsearch, ``docs/reference/elasticsearch/rest-apis/retrievers/<page>``
at the commit named per page; the ``retriever`` object of each example request, with the
``<n>`` callout markers of the docs removed and nothing else changed.

Left out, with the reason: rrf-retriever.md's "mix weighted and non-weighted formats"
note uses ``{...}`` placeholders (not JSON). diversify-retriever.md's example lacks the
comma after ``"size": 3`` (a typo in the page: not JSON as printed); it is here with the
comma added.
"""

from __future__ import annotations

from typing import Any

REPO = "elastic/elasticsearch"
DOCS = "docs/reference/elasticsearch/rest-apis/retrievers"

#: page -> commit the bodies were read at
COMMITS = {
    "standard-retriever.md": "40d7df31d7127a002ca83900da28eaac68567fd3",
    "knn-retriever.md": "849eadc238946af931be59785fae50c47b4795b6",
    "linear-retriever.md": "bd6fc7e4b9aa1beded22c129c3fd06b07f9c131b",
    "rrf-retriever.md": "d5f298bd1e62e7c3555e4d32f75035eff0c68a29",
    "text-similarity-reranker-retriever.md": "57fb9c4baab35bf03f91ccada9a1fc014dce7907",
    "rescorer-retriever.md": "4b92da00e8e4e4549ee3ea81bb5ff7d7e6468b44",
    "rule-retriever.md": "33dfb8dbe1568a2f18c3e41cdc742d4aa6717935",
    "pinned-retriever.md": "d1fa2a1ef0336d3ffa27bad70a4f987b0b931d27",
    "diversify-retriever.md": "b8ac224dd4b90ce525406b4e6e21c94989d1a7d9",
}

_MULTI_MATCH_SEARCH_TEXT: dict[str, Any] = {
    "standard": {"query": {"multi_match": {"query": "search text", "fields": ["field1", "field2"]}}}
}
_KNN_123: dict[str, Any] = {
    "knn": {"field": "vector", "query_vector": [1, 2, 3], "k": 10, "num_candidates": 50}
}
_KNN_RESTAURANTS: dict[str, Any] = {
    "knn": {"field": "vector", "query_vector": [10, 22, 77], "k": 10, "num_candidates": 10}
}
_SPARSE_PLOT: dict[str, Any] = {
    "standard": {
        "query": {
            "sparse_vector": {
                "field": "plot_embedding",
                "inference_id": "my-elser-model",
                "query": "films that explore psychological depths",
            }
        }
    }
}
_CRIME: dict[str, Any] = {
    "standard": {"query": {"multi_match": {"query": "crime", "fields": ["plot", "title"]}}}
}

#: (page, example, retriever body)
EXAMPLES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "standard-retriever.md",
        "standard-retriever-example",
        {
            "standard": {
                "query": {
                    "bool": {
                        "should": [{"match": {"region": "Austria"}}],
                        "filter": [{"term": {"year": "2019"}}],
                    }
                }
            }
        },
    ),
    ("knn-retriever.md", "knn-retriever-example", _KNN_RESTAURANTS),
    (
        "linear-retriever.md",
        "example",
        {
            "linear": {
                "retrievers": [
                    {
                        "retriever": {
                            "knn": {
                                "field": "title_vector",
                                "query_vector": [0.1, 0.2, 0.3],
                                "k": 10,
                                "num_candidates": 100,
                            }
                        },
                        "weight": 5,
                    },
                    {
                        "retriever": {"standard": {"query": {"match": {"title": "elasticsearch"}}}},
                        "weight": 1.5,
                    },
                ],
                "normalizer": "minmax",
            }
        },
    ),
    (
        "rrf-retriever.md",
        "direct format",
        {"rrf": {"retrievers": [_MULTI_MATCH_SEARCH_TEXT, _KNN_123]}},
    ),
    (
        "rrf-retriever.md",
        "wrapped format with custom weights",
        {
            "rrf": {
                "retrievers": [
                    {"retriever": _MULTI_MATCH_SEARCH_TEXT, "weight": 2.0},
                    {"retriever": _KNN_123, "weight": 1.0},
                ]
            }
        },
    ),
    (
        "rrf-retriever.md",
        "rrf-retriever-example-hybrid",
        {
            "rrf": {
                "retrievers": [
                    {
                        "standard": {
                            "query": {
                                "multi_match": {"query": "Austria", "fields": ["city", "region"]}
                            }
                        }
                    },
                    _KNN_RESTAURANTS,
                ],
                "rank_constant": 1,
                "rank_window_size": 50,
            }
        },
    ),
    (
        "rrf-retriever.md",
        "rrf-retriever-example-weighted",
        {
            "rrf": {
                "retrievers": [
                    {
                        "retriever": {
                            "standard": {
                                "query": {
                                    "multi_match": {
                                        "query": "Austria",
                                        "fields": ["city", "region"],
                                    }
                                }
                            }
                        },
                        "weight": 2.0,
                    },
                    {"retriever": _KNN_RESTAURANTS, "weight": 1.0},
                ],
                "rank_constant": 60,
                "rank_window_size": 50,
            }
        },
    ),
    (
        "rrf-retriever.md",
        "rrf-retriever-example-hybrid-sparse",
        {"rrf": {"retrievers": [_SPARSE_PLOT, _CRIME, _KNN_RESTAURANTS]}},
    ),
    (
        "text-similarity-reranker-retriever.md",
        "text-similarity-reranker-retriever-example-elastic-rerank",
        {
            "text_similarity_reranker": {
                "retriever": {
                    "standard": {
                        "query": {"match": {"text": "How often does the moon hide the sun?"}}
                    }
                },
                "field": "text",
                "inference_id": "my-elastic-rerank",
                "inference_text": "How often does the moon hide the sun?",
                "rank_window_size": 100,
                "min_score": 0.5,
            }
        },
    ),
    (
        "text-similarity-reranker-retriever.md",
        "text-similarity-reranker-retriever-example-cohere",
        {
            "text_similarity_reranker": {
                "retriever": {
                    "standard": {"query": {"match_phrase": {"text": "landmark in Paris"}}}
                },
                "field": "text",
                "inference_id": "my-cohere-rerank-model",
                "inference_text": "Most famous landmark in Paris",
                "rank_window_size": 100,
                "min_score": 0.5,
            }
        },
    ),
    (
        "text-similarity-reranker-retriever.md",
        "text-similarity-reranker-retriever-example-eland",
        {
            "text_similarity_reranker": {
                "retriever": {"standard": {"query": {"match": {"genre": "drama"}}}},
                "field": "plot",
                "inference_id": "my-msmarco-minilm-model",
                "inference_text": "films that explore psychological depths",
            }
        },
    ),
    (
        "rescorer-retriever.md",
        "rescorer-retriever-example",
        {
            "rescorer": {
                "rescore": {
                    "window_size": 50,
                    "query": {
                        "rescore_query": {
                            "script_score": {
                                "query": {"match_all": {}},
                                "script": {
                                    "source": "cosineSimilarity(params.queryVector, "
                                    "'product-vector_final_stage') + 1.0",
                                    "params": {"queryVector": [-0.5, 90.0, -10, 14.8, -156.0]},
                                },
                            }
                        }
                    },
                },
                "retriever": {
                    "rrf": {
                        "rank_window_size": 100,
                        "retrievers": [_SPARSE_PLOT, _CRIME, _KNN_RESTAURANTS],
                    }
                },
            }
        },
    ),
    (
        "rule-retriever.md",
        "rule-retriever-example",
        {
            "rule": {
                "match_criteria": {"query_string": "harry potter"},
                "ruleset_ids": ["my-ruleset"],
                "retriever": {"standard": {"query": {"query_string": {"query": "harry potter"}}}},
            }
        },
    ),
    (
        "rule-retriever.md",
        "rule-retriever-example-rrf",
        {
            "rule": {
                "match_criteria": {"query_string": "harry potter"},
                "ruleset_ids": ["my-ruleset"],
                "retriever": {
                    "rrf": {
                        "retrievers": [
                            {
                                "standard": {
                                    "query": {"query_string": {"query": "sorcerer's stone"}}
                                }
                            },
                            {
                                "standard": {
                                    "query": {"query_string": {"query": "chamber of secrets"}}
                                }
                            },
                        ]
                    }
                },
            }
        },
    ),
    (
        "pinned-retriever.md",
        "pinned-retriever-example-documents",
        {
            "pinned": {
                "docs": [{"_id": "doc1", "_index": "my-index"}, {"_id": "doc2"}],
                "retriever": {"standard": {"query": {"match": {"title": "elasticsearch"}}}},
            }
        },
    ),
    (
        "diversify-retriever.md",
        "example (comma added after size)",
        {
            "diversify": {
                "type": "mmr",
                "field": "my_dense_vector_field",
                "lambda": 0.7,
                "size": 3,
                "query_vector": [0.1, 0.2, 0.3],
                "retriever": {"standard": {"query": {"match": {"title": "elasticsearch"}}}},
            }
        },
    ),
]
