"""ICU break iterators, read the way Elasticsearch's chunkers read them.

Elasticsearch chunks with ICU4J's ``BreakIterator`` (root locale). PyICU wraps ICU4C, whose
word and sentence rules are the same rule files; ``pyicu-wheels`` bundles ICU 77.1, the
ICU4J version Elasticsearch's build pins. ICU reports positions in UTF-16 code units (as
Java strings do); :func:`word_boundaries` and :func:`sentence_boundaries` translate them to
Python string indices.

>>> b = word_boundaries("Won't you")
>>> b.positions, b.statuses
((0, 5, 6, 9), (0, 200, 0, 200))
>>> sentence_boundaries("One. Two.")
[5, 9]
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from dataclasses import dataclass

import icu  # type: ignore[import-untyped]

__all__ = ["WORD_NONE", "WordBoundaries", "sentence_boundaries", "word_boundaries"]

#: ``BreakIterator.WORD_NONE``: the rule status of a segment that is not a word.
WORD_NONE = 0

_local = threading.local()


def _iterator(kind: str) -> icu.BreakIterator:
    # Break iterators are stateful and not thread-safe: one of each kind per thread.
    it = getattr(_local, kind, None)
    if it is None:
        root = icu.Locale.getRoot()
        if kind == "word":
            it = icu.BreakIterator.createWordInstance(root)
        else:
            it = icu.BreakIterator.createSentenceInstance(root)
        setattr(_local, kind, it)
    return it


def _utf16_to_index(text: str) -> list[int] | None:
    """Map UTF-16 offsets to str indices, or None when they coincide (no astral chars)."""
    if not text or max(text) < "\U00010000":
        return None
    table: list[int] = []
    for i, ch in enumerate(text):
        table.append(i)
        if ch >= "\U00010000":
            table.append(i)  # a low surrogate never starts a boundary
    table.append(len(text))
    return table


@dataclass(frozen=True)
class WordBoundaries:
    """Every ICU word boundary of a text with the rule status of the segment ending there.

    ``positions[0] == 0`` (status 0, as ICU reports before the first ``next()``) and
    ``positions[-1] == len(text)``. The helpers reproduce the walks of Elasticsearch's
    ``ChunkerUtils.countWords`` and ``SentenceBoundaryChunker.skipWords``, both of which
    start at ``preceding(start)`` and therefore also see the status of the boundary just
    before ``start``.
    """

    positions: tuple[int, ...]
    statuses: tuple[int, ...]

    def _preceding(self, start: int) -> int:
        # preceding(0) returns DONE and leaves current() at 0, i.e. index 0 as well
        return max(bisect_left(self.positions, start) - 1, 0)

    def count_words(self, start: int, end: int) -> int:
        """``ChunkerUtils.countWords(start, end, iterator)``."""
        count = 0
        k = self._preceding(start)
        while k < len(self.positions) and self.positions[k] <= end:
            if self.statuses[k] != WORD_NONE:
                count += 1
            k += 1
        return count

    def skip_words(self, start: int, num_words: int) -> int:
        """``SentenceBoundaryChunker.skipWords(start, numWords, iterator)``."""
        count = 0
        k = self._preceding(start)
        while k < len(self.positions) and count < num_words:
            if self.statuses[k] != WORD_NONE:
                count += 1
            k += 1
        return self.positions[k] if k < len(self.positions) else self.positions[-1]


def word_boundaries(text: str) -> WordBoundaries:
    """All word boundaries of ``text`` (ICU root word rules) with their rule statuses."""
    it = _iterator("word")
    it.setText(text)
    table = _utf16_to_index(text)
    positions = [0]
    statuses = [0]
    it.first()
    for pos in it:
        positions.append(pos if table is None else table[pos])
        statuses.append(it.getRuleStatus())
    if positions[-1] != len(text):  # empty text: ICU reports no boundary after 0
        positions.append(len(text))
        statuses.append(0)
    return WordBoundaries(tuple(positions), tuple(statuses))


def sentence_boundaries(text: str) -> list[int]:
    """Sentence ends of ``text`` (ICU root sentence rules): what ``next()`` returns in turn."""
    it = _iterator("sentence")
    it.setText(text)
    table = _utf16_to_index(text)
    it.first()
    return [pos if table is None else table[pos] for pos in it]
