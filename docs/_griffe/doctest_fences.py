"""A griffe extension for the API reference: the ``>>>`` examples in the package's
docstrings are shown as Python code blocks (Markdown would read ``>`` as a quote and
``[...]`` as a link)."""

from __future__ import annotations

from typing import Any

import griffe


def fence_doctests(text: str) -> str:
    """Wrap each run of ``>>>`` lines and their expected output in a ``pycon`` fence.

    >>> fence_doctests("Intro.\\n\\n>>> 1 + 1\\n2\\n\\nAfter.").splitlines()
    ['Intro.', '', '```pycon', '>>> 1 + 1', '2', '```', '', 'After.']
    """
    out: list[str] = []
    fence = False
    for line in text.splitlines():
        starts = line.lstrip().startswith(">>>")
        if starts and not fence:
            out.append("```pycon")
            fence = True
        elif fence and not line.strip():
            out.append("```")
            fence = False
        out.append(line)
    if fence:
        out.append("```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Rewrites every object's docstring with :func:`fence_doctests` as it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
