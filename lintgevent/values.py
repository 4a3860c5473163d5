"""Values that flow into parameters: what the callers on the request paths pass.

Context-insensitive and deliberately plain: a parameter takes the one value that every argument
given for it (at import time, or on a request path) agrees on (a project object, a catalog type, a function...); arguments that disagree,
or cannot be told, leave it unknown.  Defaults and `*args`/`**kwargs` contribute nothing.  New
parameter values can make new functions reachable, whose calls pass new arguments: reachability
and the parameters are recomputed in rounds until nothing changes, at most MAX_ROUNDS times.
"""
from __future__ import annotations

from .entrypoints import EntryPoints
from .index import ProjectIndex, agreed
from .reach import Reachability

MAX_ROUNDS = 4


def _bound_offset(function) -> int:
    """How many leading parameters a call does not pass: `self` or `cls` of a method."""
    if not function.cls or not function.params:
        return 0
    return 0 if any(d.text == "staticmethod" for d in function.decorators) else 1


def _import_time_calls(index: ProjectIndex) -> list[tuple]:
    """(call, its file, what it calls) for the calls every module makes when it is imported."""
    return [(call, fs, index.callee(index.evaluate(call.func, fs)))
            for fs in index.files.values() for call in fs.module_calls]


def _import_time(index: ProjectIndex, entries: EntryPoints, module_calls: list[tuple]) -> Reachability:
    """What runs when the modules are imported: the functions their top-level calls reach
    (`store = AuditedStore(Disk())` runs `AuditedStore.__init__` and what it calls)."""
    found = {callee[1]: (0, "import") for _, _, callee in module_calls
             if callee is not None and callee[0] == "func" and index.function(callee[1]) is not None}
    reach = Reachability(index, entries)
    reach.run(found)
    return reach


def _reached_calls(index: ProjectIndex, reached: list[Reachability]):
    """(call, its file, what it calls) for the calls of the functions reached, each function once."""
    seen = set()
    for reach in reached:
        for key in reach.parent:
            if key not in seen:
                seen.add(key)
                fs = index.files[key[0]]
                yield from ((site.call, fs, site.callee) for site in reach.sites(key))


def argument_values(index: ProjectIndex, calls) -> dict:
    """(path, qualname, parameter) -> the value all these calls agree on passing for it."""
    offered: dict = {}
    for call, fs, callee in calls:
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
            offered.setdefault((callee[1][0], target.qualname, name), set()).add(value)
    agreed_on = {slot: agreed(values) for slot, values in offered.items()}
    return {slot: value for slot, value in agreed_on.items() if value is not None}


def solve(index: ProjectIndex, entries: EntryPoints, found: dict) -> Reachability:
    """Reachability from `found`, with the parameters the calls that run fill; the index keeps
    the parameters of the last round."""
    reach = Reachability(index, entries)
    reach.run(found)
    for _ in range(MAX_ROUNDS):
        module_calls = _import_time_calls(index)
        import_time = _import_time(index, entries, module_calls)
        parameters = argument_values(index, [*module_calls, *_reached_calls(index, [import_time, reach])])
        if parameters == index.parameters:
            break
        index.learn_parameters(parameters)
        reach = Reachability(index, entries)
        reach.run(found)
    return reach
