"""Code as written: the text of a callee or a dotted name, for messages and matching."""
from __future__ import annotations

import ast

# Callee texts longer than this many parts are shortened to "...".
MAX_PARTS = 40


def callee_text(node: ast.AST) -> tuple[str, str]:
    """The callee as written (`self.pool.spawn`) and its last name (`spawn`)."""
    parts = []
    hint = ""
    while True:
        kind = type(node)
        if kind is ast.Attribute:
            parts.append("." + node.attr)
            hint = hint or node.attr
            node = node.value
        elif kind is ast.Call:
            parts.append("(...)")
            node = node.func
        elif kind is ast.Subscript:
            parts.append("[...]")
            node = node.value
        else:
            break
        if len(parts) > MAX_PARTS:
            return "...", hint
    if type(node) is ast.Name:
        parts.append(node.id)
        hint = hint or node.id
    else:
        parts.append("(...)")
    return "".join(reversed(parts)), hint


def dotted(node: ast.AST) -> str:
    """`self.g_pool` for a chain of names and attributes, "" for anything else."""
    parts = []
    while type(node) is ast.Attribute:
        parts.append(node.attr)
        node = node.value
    if type(node) is not ast.Name:
        return ""
    parts.append(node.id)
    return ".".join(reversed(parts))
