"""inference_shim: serve a cross-encoder as a rerank inference endpoint Elasticsearch can call."""

__version__ = "0.1.0"
