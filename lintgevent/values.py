"""Values that flow into parameters: what the callers on the request paths pass.

Context-insensitive and deliberately plain: a parameter takes the one value that every argument
given for it (at import time, or on a request path) agrees on (a project object, a catalog type, a function...); arguments that disagree,
or cannot be told, leave it unknown.  Defaults and `*args`/`**kwargs` contribute nothing.  New
parameter values can make new functions reachable, whose calls pass new arguments: reachability
and the parameters are recomputed in rounds until nothing changes, at most MAX_ROUNDS times.
"""
from __future__ import annotations

from .entrypoints import EntryPoints
from .index import ProjectIndex
from .reach import Reachability

MAX_ROUNDS = 4
UNKNOWN = object()


def _bound_offset(function) -> int:
    """How many leading parameters a call does not pass: `self` or `cls` of a method."""
    if not function.cls or not function.params:
        return 0
    return 0 if any(d.text == "staticmethod" for d in function.decorators) else 1


def _calls(index: ProjectIndex, reached: list[Reachability]):
    """(call, its file, what it calls) for the calls that run: at import time in every module, and
    in the functions reached."""
    for fs in index.files.values():
        for call in fs.module_calls:
            yield call, fs, index.callee(index.evaluate(call.func, fs))
    seen = set()
    for reach in reached:
        for key in reach.parent:
            if key in seen:
                continue
            seen.add(key)
            fs = index.files[key[0]]
            for site in reach.sites(key):
                yield site.call, fs, site.callee


def _import_time(index: ProjectIndex, entries: EntryPoints) -> Reachability:
    """What runs when the modules are imported: the functions their top-level calls reach
    (`store = AuditedStore(Disk())` runs `AuditedStore.__init__` and what it calls)."""
    found = {}
    for fs in index.files.values():
        for call in fs.module_calls:
            callee = index.callee(index.evaluate(call.func, fs))
            if callee is not None and callee[0] == "func" and index.function(callee[1]) is not None:
                found.setdefault(callee[1], (0, "import"))
    reach = Reachability(index, entries)
    reach.run(found)
    return reach


def argument_values(index: ProjectIndex, reached: list[Reachability]) -> dict:
    """(path, qualname, parameter) -> the value all the calls that run pass for it."""
    offered: dict = {}
    for call, fs, callee in _calls(index, reached):
        if callee is None or callee[0] != "func":
            continue
        target = index.function(callee[1])
        if target is None:
            continue
        params = target.params
        passed = list(zip(params[_bound_offset(target):], call.args))
        passed += [(name, desc) for name, desc in call.kwargs if name in params]
        for name, desc in passed:
            value = index.evaluate(desc, fs) if desc is not None else None
            slot = (callee[1][0], target.qualname, name)
            previous = offered.get(slot, value)
            offered[slot] = value if previous == value else UNKNOWN
    return {slot: value for slot, value in offered.items() if value is not None and value is not UNKNOWN}


def solve(index: ProjectIndex, entries: EntryPoints, found: dict) -> Reachability:
    """Reachability from `found`, with the parameters the reached callers fill; the index keeps
    the parameters of the last round."""
    reach = Reachability(index, entries)
    reach.run(found)
    for _ in range(MAX_ROUNDS):
        parameters = argument_values(index, [_import_time(index, entries), reach])
        if parameters == index.parameters:
            break
        index.learn_parameters(parameters)
        reach = Reachability(index, entries)
        reach.run(found)
    return reach
