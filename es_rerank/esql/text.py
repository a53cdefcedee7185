"""ES|QL lexical rules the builder and the parser share: how strings and names are quoted,
and where a query splits into commands (``|``) and a command into items (``,``).

ES|QL's lexer (``EsqlBaseLexer.g4``) takes ``"..."`` strings with the escapes ``\\t \\n \\r
\\" \\\\`` (a raw newline is not allowed inside), ``\"\"\"...\"\"\"`` strings taken verbatim, and
names either bare (letters, digits, ``_``, ``@``, dots between parts) or in backticks,
where a backtick is doubled.

>>> print(quote_string('say "hi"\\n'))
"say \\"hi\\"\\n"
>>> quote_identifier("title"), quote_identifier("my field"), quote_identifier("a`b")
('title', '`my field`', '`a``b`')
>>> split_top_level('FROM b | WHERE t:"a | b" | LIMIT 3', "|")
['FROM b ', ' WHERE t:"a | b" ', ' LIMIT 3']
"""

from __future__ import annotations

import re

__all__ = [
    "find_keyword",
    "masked",
    "quote_identifier",
    "quote_string",
    "split_top_level",
    "unquote_identifier",
    "unquote_string",
]

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNESCAPES = {"t": "\t", "n": "\n", "r": "\r", '"': '"', "\\": "\\"}
# One part of a bare name; ``_score`` and ``@timestamp`` need no quotes.
_BARE_PART = re.compile(r"[A-Za-z@_][A-Za-z0-9_@]*\Z")


def quote_string(value: str) -> str:
    """``value`` as an ES|QL string literal."""
    if not isinstance(value, str):
        raise TypeError(f"an ES|QL string must be a str, got {type(value).__name__}")
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in value) + '"'


def unquote_string(literal: str) -> str:
    """The value of an ES|QL string literal (``"..."`` or ``\"\"\"...\"\"\"``).

    >>> unquote_string('"a\\\\"b"'), unquote_string('\"\"\"x "y"\"\"\"')
    ('a"b', 'x "y"')
    """
    if literal.startswith('"""') and literal.endswith('"""') and len(literal) >= 6:
        return literal[3:-3]
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        raise ValueError(f"not an ES|QL string literal: {literal}")
    out: list[str] = []
    chars = iter(literal[1:-1])
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            if nxt not in _UNESCAPES:
                raise ValueError(f"invalid escape \\{nxt} in ES|QL string {literal}")
            out.append(_UNESCAPES[nxt])
        else:
            out.append(ch)
    return "".join(out)


def quote_identifier(name: str) -> str:
    """``name`` as ES|QL writes a column name: bare when every dotted part may be, else in
    backticks (a backtick inside doubled)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a column name must be a non-empty string, got {name!r}")
    if all(_BARE_PART.match(part) for part in name.split(".")):
        return name
    return "`" + name.replace("`", "``") + "`"


def unquote_identifier(text: str) -> str:
    """A column name as written (bare or in backticks) back to the name.

    >>> unquote_identifier("`a``b`"), unquote_identifier(" title ")
    ('a`b', 'title')
    """
    text = text.strip()
    if text.startswith("`") and text.endswith("`") and len(text) >= 2:
        return text[1:-1].replace("``", "`")
    return text


def masked(text: str) -> str:
    """``text`` with what a keyword or separator search must skip blanked out (same length):
    string and backtick contents, comments, and everything inside brackets.

    >>> masked('a "b|c" (d, e) | f')
    'a ##### (####) | f'
    """
    out = list(text)
    depth = 0
    i = 0
    n = len(text)

    def blank(start: int, end: int) -> None:
        out[start:end] = "#" * (end - start)

    while i < n:
        ch = text[i]
        end = i + 1
        if text.startswith('"""', i):
            close = text.find('"""', i + 3)
            end = n if close < 0 else close + 3
        elif ch == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            end = min(end + 1, n)
        elif ch == "`":
            end = i + 1
            while end < n and not (text[end] == "`" and not text.startswith("``", end)):
                end += 2 if text.startswith("``", end) else 1
            end = min(end + 1, n)
        elif text.startswith("//", i):
            close = text.find("\n", i)
            end = n if close < 0 else close
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            end = n if close < 0 else close + 2
        elif ch in "([{":
            depth += 1
            if depth > 1:
                out[i] = "#"
            i += 1
            continue
        elif ch in ")]}":
            depth -= 1
            if depth > 0:
                out[i] = "#"
            i += 1
            continue
        else:
            if depth > 0:
                out[i] = "#"
            i += 1
            continue
        blank(i, end)
        i = end
    return "".join(out)


def split_top_level(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside strings, backticks, comments and brackets."""
    mask = masked(text)
    parts: list[str] = []
    start = 0
    for i, ch in enumerate(mask):
        if ch == separator:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def find_keyword(text: str, keyword: str) -> int:
    """Where the word ``keyword`` (any case) first stands outside strings and brackets, or -1.

    >>> find_keyword('"a ON b" ON title', "on")
    9
    """
    match = re.search(rf"(?<![\w`]){re.escape(keyword)}(?![\w`])", masked(text), re.IGNORECASE)
    return -1 if match is None else match.start()
