"""Elasticsearch 9.2's ``chunk_rescorer``, reproduced for one document at a time.

``text_similarity_reranker`` with ``chunk_rescorer`` (ES 9.2+, beta in 9.2) does not send
a whole field value to the reranker: it cuts the value into chunks, keeps the ``size``
chunks that best match ``inference_text`` lexically (BM25), sends those, and scores the
document by its best chunk. This package is that core, with no I/O:

- :class:`ChunkRescorer` (``size``, ``chunking_settings``) parsed and validated with ES's
  rules and messages; :func:`chunking_settings_from_dict` for the settings alone.
- :func:`chunk_offsets`: the word / sentence / recursive / none chunkers.
- :func:`score_chunks`: ``MemoryIndexChunkScorer`` (Lucene ``StandardAnalyzer`` + BM25).
- :func:`best_chunks`, :func:`rerank_inputs`: what ES sends for a document / a window.
- :func:`document_score`, :func:`document_scores`: chunk scores back to document scores.

>>> from es_rerank.chunking import ChunkRescorer, best_chunks, document_score
>>> rescorer = ChunkRescorer.from_dict({"size": 1, "chunking_settings": {"max_chunk_size": 20}})
>>> tides = "The tide rises twice a day. " * 5
>>> text = tides + "A solar eclipse happens when the moon hides the sun."
>>> [c.text for c in best_chunks(text, "How often does the moon hide the sun?", rescorer)]
['A solar eclipse happens when the moon hides the sun.']
>>> document_score([-3.0, 1.25])  # raw reranker scores of the chunks sent
1.25

What ES 9.2 does, and where it says so
--------------------------------------
Read in the elastic/elasticsearch repository (several stored versions of each file; the
9.2 behaviour was told apart from 9.3+ by the YAML tests' ``cluster_features`` and by the
pull requests that changed it: #133576 added ``chunk_rescorer``, #135198 took it out from
behind its feature flag for 9.2, #133718 removed the 300-word cap on chunk sizes before
9.2, #137249 (explain) and #137397 (per-endpoint chunking defaults, ``max_chunk_size``
333 for the test endpoint) are 9.3):

- ``x-pack/plugin/inference/.../rank/textsimilarity/TextSimilarityRankRetrieverBuilder.java``
  (stored commit 02e4497b): ``chunk_rescorer`` is parsed by a *lenient* object parser
  (unknown keys ignored) with ``size`` (int) and ``chunking_settings`` (object or null);
  ``size < 1`` fails with ``size must be greater than 0, was: N`` (HTTP 400).
- ``.../rank/textsimilarity/ChunkScorerConfig.java`` (01d3845d): ``DEFAULT_SIZE = 1``,
  ``DEFAULT_CHUNK_SIZE = 300``; no settings, ``null`` or ``{}`` give sentence chunks of
  300 words with ``sentence_overlap`` **0**; ``{"max_chunk_size": N}`` alone gives sentence
  chunks of N words, overlap 0 (checked with ``validate()``: ``max_chunk_size[N] must be
  above 20`` when N < 20); anything else goes to ``ChunkingSettingsBuilder.fromMap(map,
  false)``, where a full ``{"strategy": "sentence", ...}`` defaults ``sentence_overlap`` to
  **1**.
- ``x-pack/plugin/core/.../inference/chunking/`` (``ChunkingSettingsBuilder`` 389b11fb,
  ``SentenceBoundaryChunkingSettings`` 0ed3c44e, ``WordBoundaryChunkingSettings`` 6c6d3a37,
  ``RecursiveChunkingSettings`` 051530e1, ``SeparatorGroup`` b5a1f146, ``NoneChunkingSettings``,
  core ``InferenceUtils`` for the messages): strategies ``word``, ``sentence``,
  ``recursive``, ``none`` (exact, lower case; else ``Invalid chunkingStrategy X``; no
  ``strategy`` key: ``Can't generate Chunker without ChunkingStrategy provided``).
  ``word``: ``max_chunk_size >= 10`` and ``overlap`` **required**, 1 to
  ``max_chunk_size / 2`` (0 is refused as not positive); ``sentence``:
  ``max_chunk_size >= 20``, ``sentence_overlap`` 0 or 1; ``recursive``:
  ``max_chunk_size >= 10`` and ``separator_group`` (``plaintext`` | ``markdown``) or
  ``separators`` (Java regexes), default plaintext; no upper limit on ``max_chunk_size``.
  Messages come as ES's ``Validation Failed: 1: ...;2: ...;``.
- Chunkers (core ``WordBoundaryChunker`` a1322b89, ``SentenceBoundaryChunker`` a97ef3c2,
  ``RecursiveChunker`` 1eb026b9, ``ChunkerUtils`` 3caa25b3, ``NoopChunker``): ICU4J
  ``BreakIterator`` (root locale). A word is a segment whose rule status is not
  ``WORD_NONE``. Word chunks end right after their last word; the following whitespace
  and punctuation start the next chunk; ``overlap`` words are repeated. Sentence chunks
  take whole sentences while they fit; with ``sentence_overlap: 1`` the next chunk
  restarts at the previous sentence (cut to its last ``min(max / 2, 20)`` words); a
  sentence longer than a chunk is cut by the word chunker with ``min(20, (max - 1) / 2)``
  words of overlap. Quirk kept: word counts start at the boundary *before* a sentence,
  so a sentence that follows a bare line break also counts the last word of the line
  above. An input with no words is one chunk (the whole text, even ``""``).
- ``x-pack/plugin/core/.../common/chunks/MemoryIndexChunkScorer.java`` (3842054422 /
  1a2375f1): one in-memory Lucene index per document, field ``content`` with
  ``StandardAnalyzer``, ``QueryBuilder.createBooleanQuery(content, inference_text,
  SHOULD)``, ``searcher.search(query, min(size, chunks))``, BM25 defaults. Only chunks
  that match at least one query term are returned (so a document can send fewer than
  ``size`` chunks), best first, ties to the earlier chunk; if **none** matches, the first
  ``min(size, chunks)`` chunks in text order are sent with score 0 (``backfillResults``,
  YAML test "will send in first chunk if no text matches found").
- ``.../rank/textsimilarity/TextSimilarityRerankingRankFeaturePhaseRankShardContext.java``
  (011b4e73): the field's first value, ``toString()``, is chunked; the kept chunks, in
  BM25 order, are the document's feature data; documents without the field send nothing
  and are dropped.
- ``.../rank/textsimilarity/TextSimilarityRankFeaturePhaseRankCoordinatorContext.java``
  (the ``ChunkScorerConfig`` versions 4169706041 and 34489280417; the 9.2 code has the
  same scoring part): **one** rerank call for the whole window, ``query`` =
  ``inference_text``, ``input`` = every document's kept chunks, document after document;
  so a window of W documents sends between W and ``W * size`` inputs.
  ``extractScoresFromRankedChunks`` maps each result by its ``index`` to its document and
  keeps the **max**; a document with no result gets raw 0.0; it does **not** normalize.
  ``preprocess`` then keeps documents whose raw max is ``>= min_score`` and normalizes
  them once (``max(s, 0) + min(exp(s), 1)``), as for unchunked documents. An older,
  feature-flagged "snippets" version of that method (stored commit 0196a7c3) mapped
  results by their *position* and normalized inside, so ``preprocess`` normalized twice
  and compared ``min_score`` with a normalized score; it never shipped as
  ``chunk_rescorer`` and is not reproduced.
- YAML REST tests: ``x-pack/plugin/inference/src/yamlRestTest/resources/rest-api-spec/
  test/inference/70_text_similarity_rank_retriever.yml`` (0128e306), the cases guarded by
  ``text_similarity_reranker_snippets`` ("introduced in 9.2.0").

For the executor
----------------
``ChunkRescorer.from_dict(spec.chunk_rescorer)`` turns the retriever's mapping into the
typed value. Per window: read the field as for unchunked reranking (documents without it
are dropped and send nothing), ``rerank_inputs(values, inference_text, rescorer)``, one
rerank call on ``.texts``, ``document_scores(.owners, raw, len(values))``, then the usual
``min_score`` on raw and normalization. ICU finds no sentence end before a lower-case
word, so in all-lower-case text (cranfield) a "sentence" is often the whole abstract and
the sentence chunker falls back to word windows inside it, as ES does.

Divergences from Java, and why
------------------------------
- Word and sentence boundaries come from ICU4C through ``pyicu-wheels`` (ICU 77.1, the
  version ``build-tools-internal/version.properties`` pins for ICU4J; the 9.2 build may
  pin an older 7x release). The rules are the same files, so boundaries and statuses
  match; Java's UTF-16 offsets are converted to Python indices (``Chunk.start/end``
  index the Python string, so they differ from ES's numbers only after an astral
  character such as an emoji).
- ``StandardTokenizer`` is Lucene's JFlex UAX#29 grammar; here it is ICU's word break
  with Lucene's tailoring applied (each Han and Hiragana character a token, runs of
  Thai/Lao/Khmer/Myanmar one token, emoji sequences kept, tokens cut at 255 characters,
  ``Character.toLowerCase`` per code point). Latin, Cyrillic, Greek, Arabic and the like
  tokenize identically; Unicode-version differences (ICU 77 is Unicode 16, Lucene's
  grammar is older) can differ on recent characters.
- BM25 is computed in float32 in Lucene 10's order of operations, so first-stage scores
  should equal Lucene's bit for bit in ordinary cases; ``math.log`` and Java's
  ``Math.log`` may differ in the last bit of the double before it is rounded to float.
- A query with no terms after analysis (only punctuation, say): 9.2 hands Lucene a null
  query and the shard fails; later ES versions backfill; this package backfills.
- Recursive separators are Java regexes run with Python's ``re`` (``MULTILINE | ASCII``,
  which matches Java's ASCII ``\\s``/``\\w``/``\\d`` and region bounds); Java-only syntax
  (``\\p{...}``, ``\\z``) is refused when parsed instead of at search time, ``.`` and ``$``
  treat only ``\\n`` as a line end, and ES's read-limit guard against runaway patterns is
  not reproduced.
- ``chunk_rescorer`` keys other than ``size`` and ``chunking_settings`` are refused
  (ES ignores them); a non-integer ``max_chunk_size`` in the shorthand form is a clear
  error (ES fails with a ClassCastException).
- :func:`document_scores` refuses a score list whose length differs from the inputs'
  (ES would give the documents left without a score raw 0.0).
"""

from es_rerank.chunking.bm25 import ScoredChunk, analyze, score_chunks
from es_rerank.chunking.chunkers import chunk_offsets
from es_rerank.chunking.endpoint_defaults import default_chunk_size, for_cluster
from es_rerank.chunking.rescore import (
    Chunk,
    RerankInputs,
    best_chunks,
    document_score,
    document_scores,
    rerank_inputs,
)
from es_rerank.chunking.settings import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_SIZE,
    ChunkingSettings,
    ChunkRescorer,
    NoneChunking,
    RecursiveChunking,
    SentenceChunking,
    WordChunking,
    chunking_settings_from_dict,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_SIZE",
    "Chunk",
    "ChunkRescorer",
    "ChunkingSettings",
    "NoneChunking",
    "RecursiveChunking",
    "RerankInputs",
    "ScoredChunk",
    "SentenceChunking",
    "WordChunking",
    "analyze",
    "best_chunks",
    "chunk_offsets",
    "chunking_settings_from_dict",
    "default_chunk_size",
    "document_score",
    "document_scores",
    "for_cluster",
    "rerank_inputs",
    "score_chunks",
]
