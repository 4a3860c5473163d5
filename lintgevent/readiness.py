"""Reads and writes that follow a readiness check of their descriptor, in the same function.

`select.select([fd], ...)`, `gevent.socket.wait_read(fd)` or `os.set_blocking(fd, False)` (the
catalog's `[[ready]]` calls) mean the next `os.read(fd, n)` or `sys.stdin.read()` returns at once.
The summary pairs them by the text that names the descriptor (`fd`, `self.stdin`, `sys.stdin`,
`x.fileno()` as `x`), since two descriptors from `os.pipe()` have the same value to the value
analysis; the check confirms the first call is a catalog readiness call with what it requires.
A name assigned again between the two is not noticed.
"""
from __future__ import annotations

import ast

from .catalog import Catalog
from .syntax import dotted


def _named(node: ast.AST) -> str:
    """The text naming a descriptor: `fd`, `self.fd`; `x.fileno()` names x."""
    if type(node) is ast.Call and not node.args and type(node.func) is ast.Attribute and node.func.attr == "fileno":
        node = node.func.value
    return dotted(node)


def readied_calls(calls: list, nodes: dict, hints: frozenset, readied: frozenset) -> tuple:
    """((readiness call, its argument position, later call), ...): a later call of the function,
    one whose last name is in `readied` (`read`, `recv`...), whose first argument or receiver is
    named as that argument of a possible readiness call (one whose last name is in `hints`).
    `calls` are in walk order; `nodes` maps id(Call) to its ast.Call."""
    pairs = []
    for first, call in enumerate(calls):
        if call.hint not in hints:
            continue
        node = nodes.get(id(call))
        if node is None:
            continue
        named = []
        for position, arg in enumerate(node.args):
            elements = arg.elts if type(arg) in (ast.List, ast.Tuple) else (arg,)
            named.extend((position, text) for text in map(_named, elements) if text)
        if not named:
            continue
        for later in range(first + 1, len(calls)):
            later_node = nodes.get(id(calls[later])) if calls[later].hint in readied else None
            if later_node is None:
                continue
            used = {_named(later_node.args[0]) if later_node.args else "",
                    dotted(later_node.func.value) if type(later_node.func) is ast.Attribute else ""} - {""}
            pairs.extend((first, position, later) for position, text in named if text in used)
    return tuple(pairs)


def ready_calls(function, sites: list, names, catalog: Catalog) -> frozenset[int]:
    """The calls of a function that a readiness check made ready: `names(site)` gives a site's
    catalog names."""
    ready = set()
    for first, position, later in function.readied:
        call = sites[first].call
        for name in names(sites[first]):
            spec = catalog.readiness.get(name)
            if spec is not None and position in spec.descriptors \
                    and all(call.arg(at) == given for at, given in spec.requires):
                ready.add(later)
                break
    return frozenset(ready)
