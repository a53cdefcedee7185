"""Extract the ``inference.put_*`` / ``inference.rerank`` request types from
elastic/elasticsearch-specification's generated ``output/typescript/types.ts`` into
``inference_types.json`` (the compiled ``output/schema/schema.json`` is a large file the
mirror does not hold; ``types.ts`` is generated from the same specification).

    python -m tests.spec.extract_inference_types /path/to/elasticsearch-specification

The JSON names the commit it was read from. Types are kept as a small AST (``ref``,
``prim``, ``literal``, ``union``, ``array``, ``record``, ``object``) for
:mod:`tests.spec.spec_types`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("inference_types.json")
ROOTS = ("InferencePutRequest", "InferenceRerankRequest")
ROOT_PATTERN = re.compile(r"^InferencePut\w+Request$")
PRIMITIVES = {"string", "integer", "long", "float", "double", "number", "boolean", "any", "null"}
_TOKEN = re.compile(
    r"\s*('(?:[^'\\]|\\.)*'|-?\d+(?:\.\d+)?|[A-Za-z_][\w.]*|\[\]|[|<>,(){}:?;]|\[|\])"
)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[str] = [t for t in _TOKEN.findall(text) if t.strip()]
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.tokens[self.i]
        if expected is not None and tok != expected:
            raise ValueError(f"expected {expected!r}, got {tok!r} at {self.tokens[self.i :][:8]}")
        self.i += 1
        return tok

    def union(self) -> dict[str, Any]:
        options = [self.postfix()]
        while self.peek() == "|":
            self.take("|")
            options.append(self.postfix())
        return options[0] if len(options) == 1 else {"kind": "union", "of": options}

    def postfix(self) -> dict[str, Any]:
        node = self.primary()
        while self.peek() == "[]":
            self.take("[]")
            node = {"kind": "array", "of": node}
        return node

    def primary(self) -> dict[str, Any]:
        tok = self.take()
        if tok == "(":
            node = self.union()
            self.take(")")
            return node
        if tok == "{":
            return {"kind": "object", "fields": self.fields("}")}
        if tok.startswith("'"):
            return {"kind": "literal", "value": tok[1:-1]}
        if re.fullmatch(r"-?\d+(?:\.\d+)?", tok):
            return {"kind": "literal", "value": float(tok) if "." in tok else int(tok)}
        if tok in ("true", "false"):
            return {"kind": "literal", "value": tok == "true"}
        if tok in ("Record", "Partial", "Dictionary"):
            self.take("<")
            if tok == "Partial":
                inner = self.union()
                self.take(">")
                return {**inner, "partial": True}
            key = self.union()
            self.take(",")
            value = self.union()
            self.take(">")
            return {"kind": "record", "key": key, "value": value}
        if tok in PRIMITIVES:
            return {"kind": "prim", "name": tok}
        if self.peek() == "<":  # generic we do not model (e.g. SpecUtilsWithNullValue<T>)
            self.take("<")
            inner = self.union()
            self.take(">")
            return inner
        return {"kind": "ref", "name": tok}

    def fields(self, end: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while self.peek() != end:
            name = self.take()
            required = True
            if self.peek() == "?":
                self.take("?")
                required = False
            self.take(":")
            out[name] = {"required": required, "type": self.union()}
            if self.peek() == ";":
                self.take(";")
        self.take(end)
        return out


def parse_types(text: str) -> dict[str, Any]:
    interfaces: dict[str, Any] = {}
    aliases: dict[str, Any] = {}
    blocks = re.split(r"\n(?=export )", text)
    for block in blocks:
        block = block.strip()
        m = re.match(r"export interface (\w+)(?:<[^>]*>)?(?: extends ([\w, <>]+))? \{", block)
        if m:
            parser = _Parser(block[m.end() :])
            try:
                fields = parser.fields("}")
            except (ValueError, IndexError):
                continue  # a construct this subset does not model; not on our path
            parents = [p.strip() for p in (m.group(2) or "").split(",") if p.strip()]
            interfaces[m.group(1)] = {"extends": parents, "fields": fields}
            continue
        m = re.match(r"export type (\w+)(?:<[^>]*>)? = ", block)
        if m:
            try:
                aliases[m.group(1)] = _Parser(block[m.end() :]).union()
            except (ValueError, IndexError):
                continue
    return {"interfaces": interfaces, "aliases": aliases}


def reachable(types: dict[str, Any], roots: list[str]) -> dict[str, Any]:
    keep: dict[str, dict[str, Any]] = {"interfaces": {}, "aliases": {}}
    todo = list(roots)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("kind") == "ref":
                todo.append(node["name"])
            for v in node.values():
                visit(v)
        elif isinstance(node, list):
            for v in node:
                visit(v)

    while todo:
        name = todo.pop()
        for kind in ("interfaces", "aliases"):
            if name in types[kind] and name not in keep[kind]:
                keep[kind][name] = types[kind][name]
                visit(types[kind][name])
                for parent in types[kind][name].get("extends", []) if kind == "interfaces" else []:
                    todo.append(parent)
    return keep


def main(argv: list[str]) -> int:
    repo = Path(argv[0])
    git = (
        ["git", f"--git-dir={repo / '.git'}"]
        if (repo / ".git").exists()
        else ["git", f"--git-dir={repo}"]
    )
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    text = subprocess.run(
        [*git, "show", "HEAD:output/typescript/types.ts"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    types = parse_types(text)
    roots = [*ROOTS, *(n for n in types["interfaces"] if ROOT_PATTERN.match(n))]
    out = {
        "source": "elastic/elasticsearch-specification output/typescript/types.ts",
        "commit": commit.stdout.strip(),
        **reachable(types, roots),
    }
    OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"{OUT}: {len(out['interfaces'])} interfaces, {len(out['aliases'])} aliases")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
