"""One-line snippets of a passage for terminal output: the sentence that shares most words
with the query, cut to a width around its first match, so a person can judge a hit without
opening the document.

>>> one_line("  several\\n lines   of text ", 12)
'several l...'
>>> text = ("The try statement specifies handlers. An except clause catches an exception; "
...         "raise with from chains a different one.")
>>> snippet(text, "catch an exception and raise a different one", 60)
'An except clause catches an exception; raise with from c...'
"""

from __future__ import annotations

import re

__all__ = ["one_line", "snippet"]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# reStructuredText heading underlines ("=====", "*****") flattened into a passage end a
# sentence too; they are never shown.
_RULE = re.compile(r"\s*[=*~^#-]{3,}\s*")
_WORD = re.compile(r"\w+")
_WORD_START = re.compile(r"(?<!\w)\w")
# Words that say nothing about what a passage is about.
# fmt: off
_STOP = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how",
    "i", "in", "is", "it", "its", "my", "of", "on", "or", "our", "own", "the", "their", "this",
    "to", "two", "what", "when", "where", "which", "why", "will", "with", "you", "your",
})
# fmt: on
_LEAD = 20  # characters kept before the first match when a sentence must be cut


def one_line(text: str, width: int) -> str:
    """``text`` on one line (runs of whitespace become one space), at most ``width``
    characters, ending in ``...`` when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(width - 3, 0)] + "..."


def _stem(word: str) -> str:
    # "exceptions" and "exception", "catches" and "catch" should meet.
    return word[:5] if len(word) > 5 else word


def _terms(query: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(query.lower()) if w not in _STOP}


def snippet(text: str, query: str, width: int = 100) -> str:
    """The sentence of ``text`` with the most distinct query words (the first on a tie; the
    start of the text when none has any), and the text after it, on one line of at most
    ``width`` characters; a sentence longer than that is shown from a little before its
    first query word, from a word start."""
    flat = " ".join(_RULE.sub(". ", text).split()).removeprefix(". ")
    terms = _terms(query)
    sentences = [s for s in _SENTENCE_END.split(flat) if s.strip(". ")] or [flat]

    def hits(sentence: str) -> int:
        return len(terms & {_stem(w) for w in _WORD.findall(sentence.lower())})

    best = max(range(len(sentences)), key=lambda i: (hits(sentences[i]), -i))
    if hits(sentences[best]) == 0:
        return one_line(flat, width)
    # a short sentence (a heading) goes on with the ones after it, up to the width
    chosen = sentences[best]
    for following in sentences[best + 1 :]:
        if len(chosen) >= width:
            break
        chosen += " " + following
    if len(sentences[best]) > width:
        first = min(
            (m.start() for m in _WORD.finditer(chosen) if _stem(m.group().lower()) in terms),
            default=0,
        )
        # a little before the first match, but never so late that the line is left short
        start = max(0, min(first - _LEAD, len(chosen) - (width - 3)))
        if start > 0 and first > width - _LEAD:
            word = _WORD_START.search(chosen, start)
            start = word.start() if word and word.start() <= first else first
            chosen = "..." + chosen[start:]
    return one_line(chosen, width)
