"""Files opened and used in the same function: `f = open(p)` or `with open(p) as f:`, then
`f.write(data)`, `f.flush()`, `json.dump(rows, f)`.

The summary pairs a call that opens a file (a catalog type of `<file>`, `<archive>` or `<mmap>`)
and binds it to a local name with the later calls of the same function that use that name, as
their receiver or as an argument, until the name is bound again.  The blocking check reports such a
file once, at the open (checks/blocking.py).  A handle that came from elsewhere (a parameter, an
attribute, a nested function's closure) is not paired: its calls keep their own findings.
"""
from __future__ import annotations

import ast

from .syntax import child_nodes

# Nodes whose bodies are other scopes: their names are not this function's.
OTHER_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
END = (1 << 62, 0)  # after every line


def _bindings(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[dict, list, set]:
    """Each name's bindings in the function's own scope as [(line, col)]; the calls bound to a plain
    name: [(name, (line, col) of the binding, the ast.Call)]; and the names it shares with another
    scope (`global`, `nonlocal`)."""
    bound: dict[str, list] = {}
    opened = []
    shared = set()
    stack = list(node.body)
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind in OTHER_SCOPES:
            if kind is not ast.Lambda:
                bound.setdefault(current.name, []).append((current.lineno, current.col_offset))
            continue
        if kind is ast.Name:
            if type(current.ctx) is not ast.Load:
                bound.setdefault(current.id, []).append((current.lineno, current.col_offset))
        elif kind is ast.Assign and len(current.targets) == 1 or kind is ast.AnnAssign:
            target = current.targets[0] if kind is ast.Assign else current.target
            if type(target) is ast.Name and type(current.value) is ast.Call:
                opened.append((target.id, (target.lineno, target.col_offset), current.value))
        elif kind is ast.With or kind is ast.AsyncWith:
            for item in current.items:
                target = item.optional_vars
                if type(target) is ast.Name and type(item.context_expr) is ast.Call:
                    opened.append((target.id, (target.lineno, target.col_offset), item.context_expr))
        elif kind is ast.ExceptHandler and current.name:
            bound.setdefault(current.name, []).append((current.lineno, current.col_offset))
        elif kind is ast.Import or kind is ast.ImportFrom:
            for alias in current.names:
                name = (alias.asname or alias.name).split(".")[0]
                bound.setdefault(name, []).append((current.lineno, current.col_offset))
        elif kind is ast.Global or kind is ast.Nonlocal:
            shared.update(current.names)
        stack.extend(child_nodes(current))
    return bound, opened, shared


def _uses_name(node: ast.Call, name: str) -> bool:
    func = node.func
    if type(func) is ast.Attribute and type(func.value) is ast.Name and func.value.id == name:
        return True
    return any(type(arg) is ast.Name and arg.id == name for arg in (*node.args, *(k.value for k in node.keywords)))


def opened_files(node: ast.FunctionDef | ast.AsyncFunctionDef, calls: list, nodes: dict,
                 hints: frozenset[str]) -> tuple:
    """((opening call, (later calls that use it, ...)), ...), calls as indices in `calls` (the
    function's, in walk order); `nodes` maps id(Call) to its
    ast.Call.  Only calls whose last name is in `hints` open a file."""
    bound, opened, shared = _bindings(node)
    index_of = {id(nodes[id(call)]): i for i, call in enumerate(calls) if id(call) in nodes}
    out = []
    for name, at, value in opened:
        opening = index_of.get(id(value))
        if opening is None or calls[opening].hint not in hints or name in shared:
            continue
        until = min((b for b in bound.get(name, ()) if b > at), default=END)
        uses = tuple(i for i, call in enumerate(calls)
                     if i != opening and at < (call.line, call.col) < until and id(call) in nodes
                     and _uses_name(nodes[id(call)], name))
        if uses:
            out.append((opening, uses))
    return tuple(sorted(out))
