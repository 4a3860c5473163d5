"""How a value that came from afar was known, in the words a finding gives for it.

`self.store.put(...)` in a method says nothing of what `self.store` is; a finding whose chain
goes through it says `self.store: DiskStore, passed at web.py:12`, so that a user can check the
value at its source.  Only values learnt away from the call are explained: parameters (where a
call passed them, or their annotation), attributes set elsewhere, module globals assigned from
other modules, and what a project function returns.
"""
from __future__ import annotations

import os

from .index import ProjectIndex, alternatives
from .positions import mark
from .summary import Call, FileSummary

MAX_DEPTH = 8


def value_name(value) -> str:
    """A value as a reader names it: a class, a function, a catalog type."""
    names = []
    for member in alternatives(value):
        kind = member[0]
        if kind in ("obj", "class", "func"):
            names.append(member[1][1])
        elif kind == "ext":
            names.append(member[1])
        elif kind == "many":
            names.append(f"a collection of {value_name(member[1])}")
    return " or ".join(names) or "?"


def where(index: ProjectIndex, path: str, line: int | None = None) -> str:
    """A file as its import root names it, with a line."""
    relative = os.path.relpath(path, index.root_of.get(path, os.path.dirname(path)))
    return f"{relative}:{mark(path, line)}" if line else relative


def origin(index: ProjectIndex, desc, fs: FileSummary, depth: int = 0) -> str | None:
    """How the value of a descriptor was learnt, when it was learnt away from it; None otherwise."""
    if desc is None or depth > MAX_DEPTH:
        return None
    kind = desc[0]
    if kind == "param":
        slot = (fs.path, desc[1], desc[2])
        source = index.parameters.sources.get(slot) if index.parameters is not None else None
        if source is not None and index.parameters.get(slot) is not None:
            return f"passed at {where(index, *source)}"
        return "annotated" if desc[3] is not None else None
    if kind == "attr":
        receiver = index.evaluate(desc[1], fs)
        if receiver is not None and receiver[0] in ("obj", "class"):
            found = next(index.attr_definitions(receiver[1], desc[2]), None)
            if found is not None:
                owner, attr_desc = found
                return origin(index, attr_desc, index.files[owner[0]], depth + 1) or f"set in {receiver[1][1]}"
        return origin(index, desc[1], fs, depth + 1)
    if kind == "ref":
        return _global_origin(index, desc[1], fs, depth)
    if kind == "call":
        made = index.evaluate(desc[1], fs)
        functions = [m[1] for m in alternatives(made) if m[0] == "func"]
        if functions:
            return f"returned by {functions[0][1]}"
        return origin(index, desc[1], fs, depth + 1)
    if kind in ("enter", "iter", "item", "div"):
        return origin(index, desc[1], fs, depth + 1)
    if kind == "typed":
        return origin(index, desc[1], fs, depth + 1) or "annotated"
    if kind == "inst":
        return "annotated"
    if kind == "one_of":
        return next(filter(None, (origin(index, d, fs, depth + 1) for d in desc[1])), None)
    return None


def _global_origin(index: ProjectIndex, dotted: str, fs: FileSummary, depth: int) -> str | None:
    """A module global's origin: other modules' assignments to it, else its own value's."""
    module, _, name = dotted.rpartition(".")
    home = index.find_module(module, index.root_of[fs.path]) if module else None
    if home is None or name not in home.globals and not index.assigned.get(dotted):
        return None
    assigned = index.assigned.get(dotted)
    if assigned:
        return f"assigned in {where(index, assigned[0][1].path)}"
    return origin(index, home.globals[name], home, depth + 1)


def _receiver(index: ProjectIndex, desc, fs: FileSummary):
    """The descriptor of what a call's method is looked up on, with a dotted name's attributes
    after the module global spelled out (`config.backend` of `config.backend.add_package`)."""
    if desc[0] == "attr":
        return desc[1]
    parts = desc[1].split(".")[:-1]
    root = index.root_of[fs.path]
    for cut in range(len(parts) - 1, 0, -1):
        if index.find_module(".".join(parts[:cut]), root) is not None:
            receiver = ("ref", ".".join(parts[:cut + 1]))
            for name in parts[cut + 1:]:
                receiver = ("attr", receiver, name)
            return receiver
    return None


def explained_receiver(index: ProjectIndex, call: Call, fs: FileSummary) -> str:
    """` (self.store: DiskStore, passed at web.py:12)` for a call on a receiver from afar, else ""."""
    desc = call.func
    if desc is None or desc[0] not in ("attr", "ref") or "." not in call.text or call.text.startswith("("):
        return ""
    receiver = _receiver(index, desc, fs)
    how = origin(index, receiver, fs) if receiver is not None else None
    value = index.evaluate(receiver, fs) if how is not None else None
    return f" ({call.text.rsplit('.', 1)[0]}: {value_name(value)}, {how})" if value is not None else ""
