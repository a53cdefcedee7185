"""Lucene's ``SimpleQueryParser``, the grammar of ES's ``simple_query_string``.

``+`` (AND), ``|`` (OR), ``-`` (NOT), ``"phrase"`` with ``~N`` slop, ``term*`` (prefix),
``term~N`` (fuzzy), ``( )`` precedence, ``\\`` escape, whitespace between terms; operators
switched off by ``flags``. The tree is built exactly as Lucene builds it
(apache/lucene ``lucene/queryparser/src/java/org/apache/lucene/queryparser/simple/
SimpleQueryParser.java``): a change of operator wraps what came before in a new boolean,
``-x`` is ``(x MUST_NOT, match_all SHOULD)``, and a clause whose text analyses to nothing
is dropped. The leaves are built by the caller (:class:`Leaves`), so scoring stays the
translator's.

>>> class Show:
...     def default(self, text): return text
...     def phrase(self, text, slop): return f'"{text}"~{slop}'
...     def prefix(self, text): return text + "*"
...     def fuzzy(self, text, edits): return f"{text}~{edits}"
>>> parse_simple("a b", Show(), default_operator="should")
Bool(clauses=[('should', 'a'), ('should', 'b')])
>>> parse_simple('a +"b c"~2 -d*', Show(), default_operator="should")
Bool(clauses=[('should', Bool(clauses=[('must', 'a'), ('must', '"b c"~2')])), \
('should', Bool(clauses=[('must_not', 'd*'), ('should', MatchAll())]))])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = ["Bool", "Leaves", "MatchAll", "MatchNone", "parse_flags", "parse_simple"]

Occur = Literal["must", "should", "must_not"]

_FLAG_BITS = {
    "AND": 1,
    "NOT": 2,
    "OR": 4,
    "PREFIX": 8,
    "PHRASE": 16,
    "PRECEDENCE": 32,
    "ESCAPE": 64,
    "WHITESPACE": 128,
    "FUZZY": 256,
    "NEAR": 512,
    "SLOP": 512,
}
_ALL = 0xFFFF


def parse_flags(flags: Any) -> int:
    """ES's ``flags``: ``ALL`` (the default), ``NONE`` or names joined by ``|``."""
    if flags is None:
        return _ALL
    if isinstance(flags, int) and not isinstance(flags, bool):
        return flags
    if not isinstance(flags, str):
        raise ValueError(f"simple_query_string: flags must be a string, got {flags!r}")
    bits = 0
    for name in flags.upper().split("|"):
        name = name.strip()
        if name == "ALL":
            bits |= _ALL
        elif name in ("NONE", ""):
            continue
        elif name in _FLAG_BITS:
            bits |= _FLAG_BITS[name]
        else:
            raise ValueError(f"simple_query_string: unknown flag [{name}] in flags [{flags}]")
    return bits


@dataclass
class MatchAll:
    """Lucene's ``MatchAllDocsQuery`` (score 1)."""


@dataclass
class MatchNone:
    """Lucene's ``MatchNoDocsQuery``."""


@dataclass
class Bool:
    clauses: list[tuple[Occur, Any]] = field(default_factory=list)


class Leaves(Protocol):
    """Builds the leaf queries; None drops the clause (text that analyses to nothing)."""

    def default(self, text: str) -> Any: ...
    def phrase(self, text: str, slop: int) -> Any: ...
    def prefix(self, text: str) -> Any: ...
    def fuzzy(self, text: str, edits: int) -> Any: ...


_SPACE = " \t\n\r"


class _State:
    def __init__(self, data: str, start: int, end: int) -> None:
        self.data, self.index, self.length = data, start, end
        self.top: Any = None
        self.current: Occur | None = None
        self.previous: Occur | None = None
        self.nots = 0


class _Parser:
    def __init__(self, leaves: Leaves, flags: int, default_operator: Occur) -> None:
        self.leaves, self.flags, self.default = leaves, flags, default_operator

    def on(self, name: str) -> bool:
        return bool(self.flags & _FLAG_BITS[name])

    def parse_sub(self, st: _State) -> None:
        while st.index < st.length:
            c = st.data[st.index]
            if c == "(" and self.on("PRECEDENCE"):
                self.sub_query(st)
            elif c == ")" and self.on("PRECEDENCE"):
                st.index += 1
            elif c == '"' and self.on("PHRASE"):
                self.phrase(st)
            elif c == "+" and self.on("AND"):
                if st.current is None and st.top is not None:
                    st.current = "must"
                st.index += 1
            elif c == "|" and self.on("OR"):
                if st.current is None and st.top is not None:
                    st.current = "should"
                st.index += 1
            elif c == "-" and self.on("NOT"):
                st.nots += 1
                st.index += 1
                continue
            elif c in _SPACE and self.on("WHITESPACE"):
                st.index += 1
            else:
                self.token(st)
            st.nots = 0

    def build(self, st: _State, branch: Any) -> None:
        if branch is None:
            return
        if st.nots % 2 == 1:
            branch = Bool([("must_not", branch), ("should", MatchAll())])
        if st.top is None:
            st.top = branch
        else:
            if st.current is None:
                st.current = self.default
            if st.previous != st.current:
                st.top = Bool([(st.current, st.top)])
            st.top = Bool([*st.top.clauses, (st.current, branch)])
            st.previous = st.current
        st.current = None

    def enclosed(self, st: _State, closes: Callable[[str], bool]) -> list[str] | None:
        """Scan from the opening character to the one ``closes`` accepts, unescaping; None
        (the opening character then ignored, or an empty pair skipped) when there is none."""
        start = st.index = st.index + 1
        buf: list[str] = []
        escaped = False
        while st.index < st.length:
            c = st.data[st.index]
            if not escaped:
                if c == "\\" and self.on("ESCAPE"):
                    escaped = True
                    st.index += 1
                    continue
                if closes(c):
                    break
            escaped = False
            buf.append(c)
            st.index += 1
        if st.index == st.length:
            st.index = start  # never closed: the opening character is ignored
            return None
        if st.index == start:  # empty: the operator before it is dropped
            st.current = None
            st.index += 1
            return None
        return buf

    def sub_query(self, st: _State) -> None:
        start, depth = st.index + 1, 1

        def closes(c: str) -> bool:
            nonlocal depth
            depth += {"(": 1, ")": -1}.get(c, 0)
            return depth == 0

        if self.enclosed(st, closes) is not None:
            sub = _State(st.data, start, st.index)  # re-read with its escapes
            self.parse_sub(sub)
            self.build(st, sub.top)
            st.index += 1

    def phrase(self, st: _State) -> None:
        has_slop = False

        def closes(c: str) -> bool:
            nonlocal has_slop
            if c != '"':
                return False
            if st.length > st.index + 1 and st.data[st.index + 1] == "~" and self.on("NEAR"):
                st.index += 1
                has_slop = st.length > st.index + 1
            return True

        buf = self.enclosed(st, closes)
        if buf is not None:
            slop = self.fuzziness(st) if has_slop else 0
            self.build(st, self.leaves.phrase("".join(buf), slop))
            st.index += 1

    def finished(self, st: _State) -> bool:
        c = st.data[st.index]
        return (
            (c == '"' and self.on("PHRASE"))
            or (c == "|" and self.on("OR"))
            or (c == "+" and self.on("AND"))
            or (c in "()" and self.on("PRECEDENCE"))
            or (c in _SPACE and self.on("WHITESPACE"))
        )

    def token(self, st: _State) -> None:
        buf: list[str] = []
        escaped = prefix = fuzzy = False
        while st.index < st.length:
            c = st.data[st.index]
            if not escaped:
                if c == "\\" and self.on("ESCAPE"):
                    escaped, prefix = True, False
                    st.index += 1
                    continue
                if self.finished(st):
                    break
                if buf and c == "~" and self.on("FUZZY"):
                    fuzzy = True
                    break
                prefix = bool(buf) and c == "*" and self.on("PREFIX")
            escaped = False
            buf.append(c)
            st.index += 1
        if not buf:
            return
        text = "".join(buf)
        if fuzzy:
            edits = min(self.fuzziness(st), 2)  # LevenshteinAutomata's maximum
            branch = self.leaves.default(text) if edits == 0 else self.leaves.fuzzy(text, edits)
        elif prefix:
            branch = self.leaves.prefix(text[:-1])
        else:
            branch = self.leaves.default(text)
        self.build(st, branch)

    def fuzziness(self, st: _State) -> int:
        if st.data[st.index] != "~":
            return 0
        digits: list[str] = []
        while st.index < st.length:
            st.index += 1
            if st.index < st.length:
                if self.finished(st):
                    break
                digits.append(st.data[st.index])
        text = "".join(digits)
        if not text:
            return 2
        try:
            return max(int(text), 0)
        except ValueError:
            return 0


def parse_simple(text: str, leaves: Leaves, *, default_operator: Occur, flags: int = _ALL) -> Any:
    """The query tree of ``text`` (``MatchNone`` for text with no clause at all)."""
    if text.strip() == "*":
        return MatchAll()
    st = _State(text, 0, len(text))
    _Parser(leaves, flags, default_operator).parse_sub(st)
    return MatchNone() if st.top is None else st.top
