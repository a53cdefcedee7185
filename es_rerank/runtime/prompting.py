"""Token ids of (query, document) pairs in an LLM reranker's prompt template, truncated as
the model needs: the template is never cut (its suffix is the position the model scores),
the document is cut before the query.

The template is rendered once per instruction with markers in place of the query and the
document, so a pair is the text ``before + query + middle + document + after``; that string
is tokenized whole (as sentence-transformers tokenizes the rendered template) and the
offsets say which tokens are the query's and the document's. For a pair that fits, the ids
are those of sentence-transformers; for one that does not, they equal what it produces by
cutting the tail and writing the template's suffix back.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from es_rerank.runtime.base import Direction, InputTooLongError
from es_rerank.runtime.families import PromptTemplate

__all__ = ["PromptEncoder"]

# Private-use characters: never in a template, and a tokenizer keeps them apart.
_QUERY, _DOC = "\ue000query\ue000", "\ue001document\ue001"
Parts = tuple[str, str, str]
_CACHED_INSTRUCTIONS = 64


class PromptEncoder:
    """Encodes pairs through ``template`` with ``tokenizer`` (a fast tokenizer)."""

    def __init__(self, tokenizer: Any, template: PromptTemplate) -> None:
        self.tokenizer = tokenizer
        self.template = template
        self._parts: dict[str | None, Parts] = {}
        self._lock = threading.Lock()

    def render(self, query: str, document: str, instruction: str | None) -> str:
        t = self.template
        text: str = self.tokenizer.apply_chat_template(
            t.messages(query, document, instruction),
            tokenize=False,
            chat_template=t.jinja,
            **t.kwargs,
        )
        return text

    def parts(self, instruction: str | None) -> Parts:
        """The template's text before the query, between query and document, and after
        the document, for ``instruction``."""
        with self._lock:
            cached = self._parts.get(instruction)
        if cached is not None:
            return cached
        text = self.render(_QUERY, _DOC, instruction)
        if text.count(_QUERY) != 1 or text.count(_DOC) != 1 or text.find(_QUERY) > text.find(_DOC):
            raise ValueError(
                f"the prompt template ({self.template.name}) must render the query once, then "
                "the document once"
            )
        before, rest = text.split(_QUERY)
        middle, after = rest.split(_DOC)
        probe = self.render("probe query", "probe document", instruction)
        if probe != before + "probe query" + middle + "probe document" + after:
            raise ValueError(
                f"the prompt template ({self.template.name}) changes the query or document text; "
                "only templates that insert them verbatim are supported"
            )
        with self._lock:
            if len(self._parts) >= _CACHED_INSTRUCTIONS:  # requests choose instructions
                self._parts.pop(next(iter(self._parts)))
            self._parts[instruction] = (before, middle, after)
        return before, middle, after

    def __call__(
        self,
        query: str,
        texts: Sequence[str],
        *,
        max_length: int,
        instruction: str | None = None,
        truncate: bool = True,
        direction: Direction = "right",
    ) -> list[list[int]]:
        before, middle, after = self.parts(instruction)
        strings = [before + query + middle + t + after for t in texts]
        enc = self.tokenizer(
            strings,
            add_special_tokens=False,
            return_offsets_mapping=True,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,
        )
        q0 = len(before)
        q1 = q0 + len(query)
        d0 = q1 + len(middle)
        out: list[list[int]] = []
        for i, (ids, offsets) in enumerate(
            zip(enc["input_ids"], enc["offset_mapping"], strict=True)
        ):
            excess = len(ids) - max_length
            if excess <= 0:
                out.append(list(ids))
                continue
            if not truncate:
                raise InputTooLongError(
                    f"texts[{i}] in the prompt with the query is {len(ids)} tokens, above the "
                    f"maximum input length {max_length}; shorten it or send truncate=true",
                    index=i,
                )
            doc = _span(offsets, d0, d0 + len(texts[i]))
            qry = _span(offsets, q0, q1)
            drop: set[int] = set()
            for span in (doc, qry):  # the document first, then the query
                k = min(excess - len(drop), len(span))
                if k > 0:
                    drop.update(span[-k:] if direction == "right" else span[:k])
            if len(ids) - len(drop) > max_length:
                raise InputTooLongError(
                    f"texts[{i}]: the prompt template alone is "
                    f"{len(ids) - len(doc) - len(qry)} tokens, above the maximum input length "
                    f"{max_length}; raise the maximum input length or shorten the instruction",
                    index=i,
                )
            out.append([t for j, t in enumerate(ids) if j not in drop])
        return out


def _span(offsets: Sequence[tuple[int, int]], start: int, end: int) -> list[int]:
    """Indices of the tokens that overlap characters ``start..end``."""
    if end <= start:
        return []
    return [j for j, (s, e) in enumerate(offsets) if s < end and e > start]
