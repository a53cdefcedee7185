"""Every retriever body on Elasticsearch's retriever reference pages and examples page,
as data.

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
    "retrievers-examples.md": "676c3e985a541a68db6676787a5088734eb6b47e",
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

_QUERY_STRING: dict[str, Any] = {
    "standard": {
        "query": {
            "query_string": {
                "query": "(information retrieval) OR (artificial intelligence)",
                "default_field": "text",
            }
        }
    }
}
_KNN_EXAMPLE: dict[str, Any] = {
    "knn": {"field": "vector", "query_vector": [0.23, 0.67, 0.89], "k": 3, "num_candidates": 5}
}
_RRF_EXAMPLE: dict[str, Any] = {
    "rrf": {"retrievers": [_QUERY_STRING, _KNN_EXAMPLE], "rank_window_size": 10, "rank_constant": 1}
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
    (
        "retrievers-examples.md",
        "combining-standard-knn-retrievers-with-rrf, collapsing, highlighting",
        _RRF_EXAMPLE,
    ),
    (
        "retrievers-examples.md",
        "expanded format with weights",
        {
            "rrf": {
                "retrievers": [
                    {"retriever": _QUERY_STRING, "weight": 2.0},
                    {"retriever": _KNN_EXAMPLE, "weight": 1.0},
                ],
                "rank_window_size": 10,
                "rank_constant": 1,
            }
        },
    ),
    (
        "retrievers-examples.md",
        "linear-retriever",
        {
            "linear": {
                "retrievers": [
                    {"retriever": _QUERY_STRING, "weight": 2, "normalizer": "minmax"},
                    {"retriever": _KNN_EXAMPLE, "weight": 1.5, "normalizer": "minmax"},
                ],
                "rank_window_size": 10,
            }
        },
    ),
    (
        "retrievers-examples.md",
        "linear-retriever with function_score and sort",
        {
            "linear": {
                "retrievers": [
                    {
                        "retriever": {
                            "standard": {
                                "query": {
                                    "function_score": {
                                        "query": {"term": {"topic": "ai"}},
                                        "functions": [
                                            {
                                                "script_score": {
                                                    "script": {
                                                        "source": "doc['timestamp'].value.millis"
                                                    }
                                                }
                                            }
                                        ],
                                        "boost_mode": "replace",
                                    }
                                },
                                "sort": {"timestamp": {"order": "asc"}},
                            }
                        },
                        "weight": 2,
                        "normalizer": "minmax",
                    },
                    {"retriever": _KNN_EXAMPLE, "weight": 1.5},
                ],
                "rank_window_size": 10,
            }
        },
    ),
    (
        "retrievers-examples.md",
        "rrf-multi-field-query-format",
        {"rrf": {"query": "artificial intelligence"}},
    ),
    (
        "retrievers-examples.md",
        "rrf-multi-field-query-format with fields",
        {"rrf": {"query": "artificial intelligence", "fields": ["text", "text_semantic"]}},
    ),
    (
        "retrievers-examples.md",
        "linear-multi-field-query-format",
        {
            "linear": {
                "query": "artificial intelligence",
                "fields": ["text", "text_semantic", "topic^2"],
                "normalizer": "minmax",
            }
        },
    ),
    (
        "retrievers-examples.md",
        "inner-hits-retriever-results",
        {
            "rrf": {
                "retrievers": [
                    {
                        "standard": {
                            "query": {
                                "nested": {
                                    "path": "nested_field",
                                    "inner_hits": {
                                        "name": "nested_vector",
                                        "_source": False,
                                        "fields": ["nested_field.paragraph_id"],
                                    },
                                    "query": {
                                        "knn": {
                                            "field": "nested_field.nested_vector",
                                            "query_vector": [1, 0, 0.5],
                                            "k": 10,
                                        }
                                    },
                                }
                            }
                        }
                    },
                    {"standard": {"query": {"term": {"topic": "ai"}}}},
                ],
                "rank_window_size": 10,
                "rank_constant": 1,
            }
        },
    ),
    (
        "retrievers-examples.md",
        "rrf-and-aggregations",
        {
            "rrf": {
                "retrievers": [
                    {"standard": {"query": {"range": {"year": {"gt": 2023}}}}},
                    {"standard": {"query": {"term": {"topic": "elastic"}}}},
                ],
                "rank_window_size": 10,
                "rank_constant": 1,
            }
        },
    ),
    (
        "retrievers-examples.md",
        "nested-retrievers-min-score",
        {
            "rrf": {
                "retrievers": [
                    {
                        "rrf": {
                            "retrievers": [
                                {
                                    "linear": {
                                        "min_score": 0.5,
                                        "retrievers": [
                                            {
                                                "retriever": {
                                                    "standard": {
                                                        "query": {
                                                            "query_string": {
                                                                "query": "artificial intelligence",
                                                                "default_field": "text",
                                                            }
                                                        }
                                                    }
                                                }
                                            }
                                        ],
                                        "rank_window_size": 100,
                                        "normalizer": "minmax",
                                    }
                                }
                            ],
                            "rank_window_size": 50,
                        }
                    }
                ],
                "rank_window_size": 20,
            }
        },
    ),
    (
        "retrievers-examples.md",
        "explain-multiple-rrf",
        {
            "rrf": {
                "retrievers": [
                    {"standard": {"query": {"term": {"topic": "elastic"}}}},
                    _RRF_EXAMPLE,
                ],
                "rank_window_size": 10,
                "rank_constant": 1,
            }
        },
    ),
    (
        "retrievers-examples.md",
        "text-similarity-reranker-on-top-of-rrf",
        {
            "text_similarity_reranker": {
                "retriever": _RRF_EXAMPLE,
                "field": "text",
                "inference_id": "my-rerank-model",
                "inference_text": "What are the state of the art applications of AI in "
                "information retrieval?",
                "chunk_rescorer": {
                    "size": 1,
                    "chunking_settings": {
                        "strategy": "sentence",
                        "max_chunk_size": 300,
                        "sentence_overlap": 0,
                    },
                },
            }
        },
    ),
    (
        "retrievers-examples.md",
        "rrf-ranking-on-text-similarity-reranker-results",
        {
            "rrf": {
                "retrievers": [
                    _KNN_EXAMPLE,
                    {
                        "text_similarity_reranker": {
                            "retriever": {"standard": {"query": {"term": {"topic": "ai"}}}},
                            "field": "text",
                            "inference_id": "my-rerank-model",
                            "inference_text": "Can I use generative AI to identify user intent "
                            "and improve search relevance?",
                        }
                    },
                ],
                "rank_window_size": 10,
                "rank_constant": 1,
            }
        },
    ),
    (
        "retrievers-examples.md",
        "chaining-text-similarity-reranker-retrievers",
        {
            "text_similarity_reranker": {
                "retriever": {
                    "text_similarity_reranker": {
                        "retriever": _KNN_EXAMPLE,
                        "rank_window_size": 100,
                        "field": "text",
                        "inference_id": "my-rerank-model",
                        "inference_text": "What are the state of the art applications of AI "
                        "in information retrieval?",
                    }
                },
                "rank_window_size": 10,
                "field": "text",
                "inference_id": "my-other-more-expensive-rerank-model",
                "inference_text": "Applications of Large Language Models in technology and "
                "their impact on user satisfaction",
            }
        },
    ),
]
