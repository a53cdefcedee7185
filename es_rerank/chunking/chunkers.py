"""Elasticsearch's chunkers, step for step: offsets of each chunk in the original text.

Ports of ``WordBoundaryChunker``, ``SentenceBoundaryChunker``, ``RecursiveChunker`` and
``NoopChunker`` (x-pack core, ``org.elasticsearch.xpack.core.inference.chunking``). Words
and sentences are ICU's (see :mod:`es_rerank.chunking.breaks`); a "word" is a segment whose
rule status is not ``WORD_NONE``, so punctuation and spaces are not counted. Chunks cover
the text without gaps: whitespace and punctuation after a word's end start the next chunk.

>>> text = "Comma, separated"
>>> [text[s:e] for s, e in chunk_offsets(text, WordChunking(max_chunk_size=10, overlap=1))]
['Comma, separated']
>>> [text[s:e] for s, e in word_chunks(text, 1, 0)]
['Comma', ', separated']
"""

from __future__ import annotations

import re

from es_rerank.chunking.breaks import (
    WORD_NONE,
    WordBoundaries,
    sentence_boundaries,
    word_boundaries,
)
from es_rerank.chunking.settings import (
    ChunkingSettings,
    NoneChunking,
    RecursiveChunking,
    SentenceChunking,
    WordChunking,
)

__all__ = ["chunk_offsets", "recursive_chunks", "sentence_chunks", "word_chunks"]

Offset = tuple[int, int]


def _word_chunk_positions(text: str, chunk_size: int, overlap: int) -> list[tuple[Offset, int]]:
    """``WordBoundaryChunker.chunkPositions``: (offsets, word count) per chunk."""
    if overlap > 0 and overlap > chunk_size // 2:
        raise ValueError(
            f"Invalid chunking parameters, overlap [{overlap}] must be < chunk size / 2 "
            f"[{chunk_size} / 2 = {chunk_size // 2}]"
        )
    if overlap < 0:
        raise ValueError(f"Invalid chunking parameters, overlap [{overlap}] must be >= 0")
    chunks: list[tuple[Offset, int]] = []
    size_less_overlap = chunk_size - overlap
    words_in_chunk = 0  # includes the words carried over from the previous chunk
    next_window_start = 0
    window_start = 0
    words_since_mark = 0
    words = word_boundaries(text)
    for boundary, status in zip(words.positions[1:], words.statuses[1:], strict=True):
        if status == WORD_NONE:
            continue
        words_in_chunk += 1
        words_since_mark += 1
        if words_in_chunk >= chunk_size:
            chunks.append(((window_start, boundary), words_in_chunk))
            words_in_chunk = overlap
            if overlap == 0:
                next_window_start = boundary
            window_start = next_window_start
        if words_since_mark == size_less_overlap:
            next_window_start = boundary
            words_since_mark = 0
    # the short tail, unless it holds only the overlap; an input without words is one chunk
    if words_in_chunk > overlap or not chunks:
        chunks.append(((window_start, len(text)), words_in_chunk))
    return chunks


def word_chunks(text: str, chunk_size: int, overlap: int) -> list[Offset]:
    """``WordBoundaryChunker.chunk(input, chunkSize, overlap)``.

    >>> word_chunks("", 10, 5)
    [(0, 0)]
    """
    return [offsets for offsets, _ in _word_chunk_positions(text, chunk_size, overlap)]


def _overlap_for_chunk_size(chunk_size: int) -> int:
    return min(20, (chunk_size - 1) // 2)


def _max_words_in_overlap(max_words: int) -> int:
    return min(max_words // 2, 20)


def sentence_chunks(text: str, max_words: int, include_preceding_sentence: bool) -> list[Offset]:
    """``SentenceBoundaryChunker.chunk(input, maxNumberWordsPerChunk, includePrecedingSentence)``.

    Sentences are added greedily while the chunk stays within ``max_words``; a sentence
    longer than that is cut by the word chunker (overlap ``min(20, (max - 1) / 2)``
    words) and its last, partial piece starts the next chunk.

    >>> t = "One two three. Four five."
    >>> [t[s:e] for s, e in sentence_chunks(t, 3, False)]
    ['One two three. ', 'Four five.']
    """
    chunks: list[Offset] = []
    words = word_boundaries(text)
    chunk_start = chunk_end = sentence_start = chunk_word_count = 0
    words_in_preceding_sentence = previous_sentence_start = 0
    for sentence_end in sentence_boundaries(text):
        words_in_sentence = words.count_words(sentence_start, sentence_end)
        if chunk_word_count + words_in_sentence > max_words:
            next_chunk_word_count = words_in_sentence
            if chunk_word_count > 0:
                chunks.append((chunk_start, chunk_end))
                if include_preceding_sentence:
                    if words_in_preceding_sentence + words_in_sentence > max_words:
                        # keep only the tail of the previous sentence
                        limit = _max_words_in_overlap(max_words)
                        skip = max(words_in_preceding_sentence - limit, 0)
                        chunk_start = words.skip_words(previous_sentence_start, skip)
                        chunk_word_count = words_in_preceding_sentence - skip + words_in_sentence
                    else:
                        chunk_word_count = words_in_preceding_sentence + words_in_sentence
                        chunk_start = previous_sentence_start
                    next_chunk_word_count = chunk_word_count
                else:
                    chunk_start = chunk_end
                    chunk_word_count = words_in_sentence
            if next_chunk_word_count > max_words:
                # split the sentence (and any overlap) on words; offsets are relative
                splits = _word_chunk_positions(
                    text[chunk_start:sentence_end], max_words, _overlap_for_chunk_size(max_words)
                )
                for (start, end), _ in splits[:-1]:
                    chunks.append((chunk_start + start, chunk_start + end))
                (last_start, _), last_count = splits[-1]
                chunk_start += last_start
                chunk_word_count = last_count
        else:
            chunk_word_count += words_in_sentence
        if include_preceding_sentence:
            previous_sentence_start = sentence_start
            words_in_preceding_sentence = words_in_sentence
        sentence_start = chunk_end = sentence_end
    if chunk_word_count > 0:
        chunks.append((chunk_start, len(text)))
    if not chunks:
        chunks.append((0, len(text)))  # the input did not chunk: all of it
    return chunks


def _split_by_separator(
    text: str, words: WordBoundaries, start: int, end: int, separator: str
) -> list[tuple[Offset, int]]:
    # Java's matcher.region(start, end) has opaque, anchoring bounds: the same as matching
    # the slice. re.ASCII: Java's \s, \w, \d, \b and (?i) are ASCII-only by default.
    pattern = re.compile(separator, re.MULTILINE | re.ASCII)
    pieces: list[tuple[Offset, int]] = []
    chunk_start = start
    for match in pattern.finditer(text[start:end]):
        chunk_end = start + match.start()
        if chunk_start < chunk_end:
            pieces.append(((chunk_start, chunk_end), words.count_words(chunk_start, chunk_end)))
        chunk_start = chunk_end
    if chunk_start < end:
        pieces.append(((chunk_start, end), words.count_words(chunk_start, end)))
    return pieces


def _merge_up_to(pieces: list[tuple[Offset, int]], max_words: int) -> list[tuple[Offset, int]]:
    """``mergeChunkOffsetsUpToMaxChunkSize``: join neighbours while their counts fit."""
    if len(pieces) < 2:
        return pieces
    merged: list[tuple[Offset, int]] = []
    current = pieces[0]
    for i in range(1, len(pieces)):
        (start, _), count = current
        (_, end), more = pieces[i]
        candidate = ((start, end), count + more)
        if candidate[1] <= max_words:
            current = candidate
        else:
            merged.append(current)
            current = pieces[i]
        if i == len(pieces) - 1:
            merged.append(current)
    return merged


def recursive_chunks(text: str, max_words: int, separators: tuple[str, ...]) -> list[Offset]:
    """``RecursiveChunker.chunk``: split on each separator in turn, merge neighbours that
    fit, recurse into pieces that do not; past the last separator the sentence chunker
    (no overlap) cuts what is left.

    >>> s = "Ten words in this sentence, and the tenth is here."
    >>> recursive_chunks(s + chr(10) + s, 10, (chr(10),))
    [(0, 50), (50, 101)]
    """
    words = word_boundaries(text)

    def run(start: int, end: int, index: int) -> list[Offset]:
        if start == end or words.count_words(start, end) <= max_words:
            return [(start, end)]
        if index >= len(separators):
            return [
                (s + start, e + start)
                for s, e in sentence_chunks(text[start:end], max_words, False)
            ]
        out: list[Offset] = []
        pieces = _split_by_separator(text, words, start, end, separators[index])
        for (s, e), count in _merge_up_to(pieces, max_words):
            if count <= max_words:
                out.append((s, e))
            else:
                out.extend(run(s, e, index + 1))
        return out

    return run(0, len(text), 0)


def chunk_offsets(text: str, settings: ChunkingSettings) -> list[Offset]:
    """The chunks ES cuts ``text`` into under ``settings``, as ``(start, end)`` indices."""
    if isinstance(settings, WordChunking):
        return word_chunks(text, settings.max_chunk_size, settings.overlap)
    if isinstance(settings, SentenceChunking):
        return sentence_chunks(text, settings.max_chunk_size, settings.sentence_overlap > 0)
    if isinstance(settings, RecursiveChunking):
        return recursive_chunks(text, settings.max_chunk_size, settings.separators)
    if isinstance(settings, NoneChunking):
        return [(0, len(text))]
    raise TypeError(f"unknown chunking settings {settings!r}")
