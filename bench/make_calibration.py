"""Regenerate ``es_rerank/runtime/calibration.jsonl``: the calibration set shipped with the
package for ``--runtime auto`` and int8 quantization.

Passages are cut from ``pydoc_data.topics`` (CPython's own help texts) to about 60 words;
the queries below are written for them. Each query gets its 5 best BM25 passages from the
demo's local index and 3 passages drawn at random (seeded), so the set holds both close
calls and clear misses: 40 queries x 8 = 320 pairs.

Run: ``.venv/bin/python bench/make_calibration.py``
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERIES = [
    "how do I catch an exception and raise a different one",
    "loop over a sequence and stop early",
    "what happens when a with statement exits",
    "compare two objects for equality in my own class",
    "define a function with default argument values",
    "how does a for loop get an iterator",
    "what is the difference between is and ==",
    "make an object callable like a function",
    "how are keyword-only parameters declared",
    "what does the global statement do",
    "how to write a generator that yields values",
    "format a number with a fixed number of decimals",
    "slice a list with a step",
    "what is operator precedence for boolean operators",
    "how does python look up attributes on a class",
    "import a module from a package with a relative import",
    "what does the assert statement check",
    "delete an item from a dictionary",
    "how do decorators wrap a function",
    "use a lambda expression as a key function",
    "what are the rules for truth value testing",
    "how to define a class with a custom constructor",
    "string literal prefixes like raw and bytes",
    "what does the nonlocal keyword change",
    "how is a try finally block executed",
    "conditional expression with if and else on one line",
    "unpack a tuple into several variables",
    "how are integers divided and rounded",
    "what methods make an object a context manager",
    "comprehension syntax for building a dictionary",
    "how does await work in a coroutine",
    "pass a variable number of arguments to a function",
    "what does the return statement do in a generator",
    "how are dunder methods used for arithmetic operators",
    "when is the else clause of a loop executed",
    "how do I write a match statement with patterns",
    "what is the scope of a name defined in a class body",
    "compare chained comparisons like a < b < c",
    "how do augmented assignments like += work",
    "what happens when an object is garbage collected",
]
WORDS = 60
TOP = 5
RANDOM = 3


def main() -> int:
    from es_rerank.backends.local import LocalIndex
    from es_rerank.demo import pydoc_passages

    passages = list(pydoc_passages(words_per_passage=WORDS))
    for p in passages:  # paragraph-aligned chunks can run long: cut to the word budget
        p["text"] = " ".join(p["text"].split()[: WORDS + 20])
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        index = LocalIndex(Path(tmp), mapping="passages")
        index.add(passages, progress=False)
        by_id = {p["_id"]: p["text"] for p in passages}
        out = ROOT / "es_rerank" / "runtime" / "calibration.jsonl"
        with out.open("w") as fh:
            for q in QUERIES:
                query = {"multi_match": {"query": q, "fields": ["title", "text"]}}
                top = [h.id for h in index.search_query(query, size=TOP)]
                rest = [i for i in by_id if i not in top]
                chosen = top + rng.sample(rest, TOP + RANDOM - len(top))
                fh.write(json.dumps({"query": q, "passages": [by_id[i] for i in chosen]}) + "\n")
    print(f"wrote {out}: {len(QUERIES)} queries x {TOP + RANDOM} passages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
