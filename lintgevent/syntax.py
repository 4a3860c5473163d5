"""Code as written: the text of a callee or a dotted name, for messages and matching; the child
nodes of a node, for the walks."""
from __future__ import annotations

import ast

# Callee texts longer than this many parts are shortened to "...".
MAX_PARTS = 40
# Fields that never hold a node worth walking: names and flags, and the contexts and operators
# (`Load`, `Add`, `Eq`...), one node per expression that says nothing a walk uses.
NOT_CHILDREN = frozenset({"ctx", "op", "ops", "id", "attr", "arg", "name", "asname", "names", "module", "level",
                          "conversion", "is_async", "simple", "kind", "type_comment", "tag", "rest", "kwd_attrs"})
# Node type -> its fields that may hold nodes; a literal's value is not one.
_child_fields: dict[type, tuple[str, ...]] = {ast.Constant: (), ast.MatchSingleton: ()}


def callee_text(node: ast.AST) -> tuple[str, str]:
    """The callee as written (`self.pool.spawn`) and its last name (`spawn`)."""
    kind = type(node)
    if kind is ast.Name:  # the commonest callees first: `name(...)` and `name.attr(...)`
        return node.id, node.id
    if kind is ast.Attribute and type(node.value) is ast.Name:
        return f"{node.value.id}.{node.attr}", node.attr
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


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """The child nodes of a node in the order ast.iter_child_nodes gives them, but for contexts and
    operators (see NOT_CHILDREN).  Several times cheaper: the fields that may hold nodes are
    worked out once per node type."""
    kind = type(node)
    fields = _child_fields.get(kind)
    if fields is None:
        fields = _child_fields[kind] = tuple(f for f in kind._fields if f not in NOT_CHILDREN)
    out = []
    for field in fields:
        value = getattr(node, field, None)
        if type(value) is list:
            out.extend(v for v in value if v is not None)
        elif value is not None:
            out.append(value)
    return out
