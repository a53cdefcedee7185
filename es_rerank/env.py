"""Reading settings from environment variables, the same way for every command.

>>> parse_bool("Yes"), parse_bool(""), parse_bool("0")
(True, False, False)
"""

from __future__ import annotations

__all__ = ["parse_bool"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def parse_bool(text: str) -> bool:
    """A boolean environment value (unset or empty is false); ``ValueError`` otherwise."""
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"expected true or false (1/0, yes/no, on/off), got {text!r}")
