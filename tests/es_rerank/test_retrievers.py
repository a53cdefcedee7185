# ruff: noqa: E501  (literal request bodies copied from the ES reference keep their lines)
"""Retriever specs: ES documentation examples, round trips, validation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from es_rerank import (
    KnnRetriever,
    RetrieverValidationError,
    RRFRetriever,
    StandardRetriever,
    TextSimilarityReranker,
    retriever_from_dict,
)

# Request bodies from Elasticsearch's reference, page "Text similarity re-ranker retriever"
# (docs/reference/elasticsearch/rest-apis/retrievers/text-similarity-reranker-retriever.md).
DOC_ELASTIC_RERANK = json.loads("""
{
  "retriever": {
    "text_similarity_reranker": {
      "retriever": {
        "standard": {
          "query": {
            "match": {
              "text": "How often does the moon hide the sun?"
            }
          }
        }
      },
      "field": "text",
      "inference_id": "my-elastic-rerank",
      "inference_text": "How often does the moon hide the sun?",
      "rank_window_size": 100,
      "min_score": 0.5
    }
  }
}
""")
DOC_COHERE = json.loads("""
{
   "retriever": {
      "text_similarity_reranker": {
         "retriever": {
            "standard": {
               "query": {
                  "match_phrase": {
                     "text": "landmark in Paris"
                  }
               }
            }
         },
         "field": "text",
         "inference_id": "my-cohere-rerank-model",
         "inference_text": "Most famous landmark in Paris",
         "rank_window_size": 100,
         "min_score": 0.5
      }
   }
}
""")
DOC_HUGGING_FACE = json.loads("""
{
  "retriever": {
    "text_similarity_reranker": {
      "retriever": {
        "standard": {
          "query": {
            "match": {
              "genre": "drama"
            }
          }
        }
      },
      "field": "plot",
      "inference_id": "my-msmarco-minilm-model",
      "inference_text": "films that explore psychological depths"
    }
  }
}
""")
# Page "Retrievers examples" (docs/reference/elasticsearch/rest-apis/retrievers/
# retrievers-examples.md): "Rerank results of an RRF retriever" (its body has a trailing
# comma after chunk_rescorer in the docs, dropped here to be JSON), "RRF with semantic
# reranker", and "Chaining multiple semantic rerankers".
DOC_RERANK_OVER_RRF = json.loads("""
{
    "retriever": {
        "text_similarity_reranker": {
            "retriever": {
                "rrf": {
                    "retrievers": [
                        {
                            "standard": {
                                "query": {
                                    "query_string": {
                                        "query": "(information retrieval) OR (artificial intelligence)",
                                        "default_field": "text"
                                    }
                                }
                            }
                        },
                        {
                            "knn": {
                                "field": "vector",
                                "query_vector": [0.23, 0.67, 0.89],
                                "k": 3,
                                "num_candidates": 5
                            }
                        }
                    ],
                    "rank_window_size": 10,
                    "rank_constant": 1
                }
            },
            "field": "text",
            "inference_id": "my-rerank-model",
            "inference_text": "What are the state of the art applications of AI in information retrieval?",
            "chunk_rescorer": {
                "size": 1,
                "chunking_settings": {
                    "strategy": "sentence",
                    "max_chunk_size": 300,
                    "sentence_overlap": 0
                }
            }
        }
    },
    "_source": false
}
""")
DOC_RRF_WITH_RERANKER = json.loads("""
{
    "retriever": {
        "rrf": {
            "retrievers": [
                {
                    "knn": {
                        "field": "vector",
                        "query_vector": [0.23, 0.67, 0.89],
                        "k": 3,
                        "num_candidates": 5
                    }
                },
                {
                    "text_similarity_reranker": {
                        "retriever": {
                            "standard": {
                                "query": {
                                    "term": {
                                        "topic": "ai"
                                    }
                                }
                            }
                        },
                        "field": "text",
                        "inference_id": "my-rerank-model",
                        "inference_text": "Can I use generative AI to identify user intent and improve search relevance?"
                    }
                }
            ],
            "rank_window_size": 10,
            "rank_constant": 1
        }
    },
    "_source": false
}
""")
DOC_CHAINED = json.loads("""
{
    "retriever": {
        "text_similarity_reranker": {
            "retriever": {
                "text_similarity_reranker": {
                    "retriever": {
                        "knn": {
                            "field": "vector",
                            "query_vector": [0.23, 0.67, 0.89],
                            "k": 3,
                            "num_candidates": 5
                        }
                    },
                    "rank_window_size": 100,
                    "field": "text",
                    "inference_id": "my-rerank-model",
                    "inference_text": "What are the state of the art applications of AI in information retrieval?"
                }
            },
            "rank_window_size": 10,
            "field": "text",
            "inference_id": "my-other-more-expensive-rerank-model",
            "inference_text": "Applications of Large Language Models in technology and their impact on user satisfaction"
        }
    },
    "_source": false
}
""")

ALL_DOCS = [
    DOC_ELASTIC_RERANK,
    DOC_COHERE,
    DOC_HUGGING_FACE,
    DOC_RERANK_OVER_RRF,
    DOC_RRF_WITH_RERANKER,
    DOC_CHAINED,
]


def test_builds_elastic_rerank_example() -> None:
    spec = TextSimilarityReranker(
        retriever=StandardRetriever(
            query={"match": {"text": "How often does the moon hide the sun?"}}
        ),
        field="text",
        inference_id="my-elastic-rerank",
        inference_text="How often does the moon hide the sun?",
        rank_window_size=100,
        min_score=0.5,
    )
    assert spec.to_dict() == DOC_ELASTIC_RERANK["retriever"]
    # key order as in the docs too, so the JSON text matches byte for byte
    assert json.dumps(spec.to_dict()) == json.dumps(DOC_ELASTIC_RERANK["retriever"])


def test_builds_hugging_face_example_with_defaults_omitted() -> None:
    spec = TextSimilarityReranker(
        retriever=StandardRetriever(query={"match": {"genre": "drama"}}),
        field="plot",
        inference_id="my-msmarco-minilm-model",
        inference_text="films that explore psychological depths",
    )
    assert json.dumps(spec.to_dict()) == json.dumps(DOC_HUGGING_FACE["retriever"])


def test_builds_rerank_over_rrf_example() -> None:
    spec = TextSimilarityReranker(
        retriever=RRFRetriever(
            retrievers=[
                StandardRetriever(
                    query={
                        "query_string": {
                            "query": "(information retrieval) OR (artificial intelligence)",
                            "default_field": "text",
                        }
                    }
                ),
                KnnRetriever(
                    field="vector", query_vector=[0.23, 0.67, 0.89], k=3, num_candidates=5
                ),
            ],
            rank_window_size=10,
            rank_constant=1,
        ),
        field="text",
        inference_id="my-rerank-model",
        inference_text=(
            "What are the state of the art applications of AI in information retrieval?"
        ),
        chunk_rescorer={
            "size": 1,
            "chunking_settings": {
                "strategy": "sentence",
                "max_chunk_size": 300,
                "sentence_overlap": 0,
            },
        },
    )
    assert spec.to_dict() == DOC_RERANK_OVER_RRF["retriever"]


def test_builds_chained_example() -> None:
    inner = TextSimilarityReranker(
        retriever=KnnRetriever(
            field="vector", query_vector=[0.23, 0.67, 0.89], k=3, num_candidates=5
        ),
        rank_window_size=100,
        field="text",
        inference_id="my-rerank-model",
        inference_text=(
            "What are the state of the art applications of AI in information retrieval?"
        ),
    )
    outer = TextSimilarityReranker(
        retriever=inner,
        rank_window_size=10,
        field="text",
        inference_id="my-other-more-expensive-rerank-model",
        inference_text=(
            "Applications of Large Language Models in technology and their impact on user "
            "satisfaction"
        ),
    )
    assert outer.to_dict() == DOC_CHAINED["retriever"]


@pytest.mark.parametrize("doc", ALL_DOCS)
def test_documentation_examples_round_trip(doc: dict[str, Any]) -> None:
    spec = retriever_from_dict(doc["retriever"])
    assert spec.to_dict() == doc["retriever"]
    assert retriever_from_dict(spec.to_dict()) == spec


def test_rrf_with_reranker_example_parses_into_nested_specs() -> None:
    spec = retriever_from_dict(DOC_RRF_WITH_RERANKER["retriever"])
    assert isinstance(spec, RRFRetriever)
    knn, rerank = spec.retrievers
    assert isinstance(knn, KnnRetriever) and knn.k == 3
    assert isinstance(rerank, TextSimilarityReranker)
    assert rerank.effective_rank_window_size == 10
    assert rerank.effective_inference_id == "my-rerank-model"
    assert spec.effective_rank_constant == 1


def test_name_is_sent_as_underscore_name_and_parsed_back() -> None:
    d = {
        "text_similarity_reranker": {
            "retriever": {"standard": {"query": {"match_all": {}}, "_name": "first"}},
            "field": "text",
            "inference_text": "q",
            "filter": [{"term": {"tag": "a"}}],
            "allow_rerank_failures": True,
            "_name": "rerank",
        }
    }
    spec = retriever_from_dict(d)
    assert isinstance(spec, TextSimilarityReranker)
    assert spec.name == "rerank" and spec.allow_rerank_failures is True
    assert spec.to_dict() == d


def test_to_dict_does_not_share_mutable_state() -> None:
    query = {"match": {"text": "a"}}
    spec = StandardRetriever(query=query)
    out = spec.to_dict()
    out["standard"]["query"]["match"]["text"] = "changed"
    assert query == {"match": {"text": "a"}}


@pytest.mark.parametrize(
    ("d", "param", "message"),
    [
        (
            {
                "text_similarity_reranker": {
                    "field": "t",
                    "inference_text": "q",
                    "bogus": 1,
                    "retriever": {"standard": {}},
                }
            },
            "bogus",
            "[text_similarity_reranker] unknown field [bogus]",
        ),
        ({"standard": {"query": {"match_all": {}}, "size": 3}}, "size", "unknown field [size]"),
        ({"script_rank": {}}, "script_rank", "unknown retriever [script_rank]"),
        (
            {"text_similarity_reranker": {"field": "t", "inference_text": "q"}},
            "retriever",
            "[text_similarity_reranker] retriever should have exactly one inner retriever",
        ),
        (
            {
                "text_similarity_reranker": {
                    "retriever": {"standard": {}, "knn": {}},
                    "field": "t",
                    "inference_text": "q",
                }
            },
            "retriever",
            "[text_similarity_reranker] retriever should have exactly one inner retriever",
        ),
        (
            {"text_similarity_reranker": {"retriever": {"standard": {}}, "inference_text": "q"}},
            "field",
            "required field [field] is missing",
        ),
        (
            {
                "text_similarity_reranker": {
                    "retriever": {"standard": {}},
                    "field": "t",
                    "inference_text": "  ",
                }
            },
            "inference_text",
            "Field [query] cannot be empty for task type [rerank]",
        ),
        (
            {
                "text_similarity_reranker": {
                    "retriever": {"standard": {}},
                    "field": "t",
                    "inference_text": "q",
                    "rank_window_size": -5,
                }
            },
            "rank_window_size",
            "[rank_window_size] parameter cannot be negative, found [-5]",
        ),
        (
            {
                "text_similarity_reranker": {
                    "retriever": {"standard": {}},
                    "field": "t",
                    "inference_text": "q",
                    "rank_window_size": "10",
                }
            },
            "rank_window_size",
            "must be an integer",
        ),
        (
            {
                "text_similarity_reranker": {
                    "retriever": {"standard": {}},
                    "field": "t",
                    "inference_text": "q",
                    "min_score": "high",
                }
            },
            "min_score",
            "must be a finite number",
        ),
        (
            {"rrf": {"retrievers": [{"standard": {}}], "rank_constant": 0}},
            "rank_constant",
            "[rank_constant] must be greater than or equal to [1]",
        ),
        ({"rrf": {"retrievers": []}}, "retrievers", "[rrf] must provide [retrievers] or [query]"),
        (
            {"knn": {"field": "v", "query_vector": [1.0], "k": 5, "num_candidates": 2}},
            "num_candidates",
            "[num_candidates] cannot be less than [k]",
        ),
        (
            {"knn": {"field": "v", "k": 5, "num_candidates": 10}},
            "query_vector",
            "exactly one of [query_vector] or [query_vector_builder]",
        ),
        (
            {"standard": {"filter": "tag:a"}},
            "filter",
            "[filter] must be a query or a list of queries",
        ),
    ],
)
def test_invalid_bodies_name_the_parameter(d: dict[str, Any], param: str, message: str) -> None:
    with pytest.raises(RetrieverValidationError) as info:
        retriever_from_dict(d)
    assert info.value.param == param
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_construction_validates_the_child_type() -> None:
    with pytest.raises(RetrieverValidationError, match="exactly one inner retriever"):
        TextSimilarityReranker(
            retriever={"standard": {}},  # type: ignore[arg-type]
            field="t",
            inference_text="q",
        )


def test_specs_are_frozen_and_keyword_only() -> None:
    spec = StandardRetriever(query={"match_all": {}})
    with pytest.raises(AttributeError):
        spec.query = None  # type: ignore[misc]
    with pytest.raises(TypeError):
        StandardRetriever({"match_all": {}})  # type: ignore[misc]
