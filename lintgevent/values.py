"""Values that flow into parameters: what the callers on the request paths pass.

Context-insensitive and deliberately plain: a parameter takes the union (see index.join) of the
arguments given for it at import time or on a request path (project objects, catalog types,
functions...), and its default where a call leaves it out; `*args` and `**kwargs` are collections
of what the calls pass beyond the named parameters.  A caller's `*seq` or `**mapping` tells
nothing.  New parameter values can make new functions reachable, whose calls pass new arguments:
reachability and the parameters are recomputed in rounds until nothing changes, at most
MAX_ROUNDS times.  Each round only adds alternatives until a slot has more than the join keeps.
"""
from __future__ import annotations

from .entrypoints import EntryPoints
from .index import ProjectIndex, alternatives, is_test_module, join
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


def _program_calls(index: ProjectIndex) -> list[tuple]:
    """(call, its file, what it calls) for the calls anywhere outside test code that may call a
    project function: startup code (`main()`, an app factory) is where objects are wired."""
    names = {qualname.rsplit(".", 1)[-1] for fs in index.files.values() for qualname in (*fs.functions, *fs.classes)}
    return [(call, fs, index.callee(index.evaluate(call.func, fs)))
            for fs in index.files.values() if not is_test_module(fs.module)
            for call in fs.all_calls() if call.hint in names and (call.args or call.kwargs)]


def _reached_calls(index: ProjectIndex, reached: list[Reachability]):
    """(call, its file, what it calls) for the calls of the functions reached, each function once."""
    seen = set()
    for reach in reached:
        for key in reach.parent:
            if key not in seen:
                seen.add(key)
                fs = index.files[key[0]]
                yield from ((site.call, fs, site.callee) for site in reach.sites(key))


def _passed(target, call) -> list[tuple[str, object, bool]]:
    """(parameter, argument descriptor, whether it is one element of `*args`/`**kwargs`) for a call."""
    params = target.params[_bound_offset(target):]
    passed = [(name, desc, False) for name, desc in zip(params, call.args)]
    if target.star:
        passed += [(target.star, desc, True) for desc in call.args[len(params):]]
    for name, desc in call.kwargs:
        if name in params or not target.double_star:
            passed.append((name, desc, False))
        else:
            passed.append((target.double_star, desc, True))
    given = {name for name, _, _ in passed}
    passed += [(name, desc, False) for name, desc in target.defaults if name not in given]
    return passed


def argument_values(index: ProjectIndex, calls) -> dict:
    """(path, qualname, parameter) -> the union of what these calls pass for it (its default when a
    call leaves it out, or when no call is seen), None when that is unknown; `*args` and
    `**kwargs` are collections of it."""
    offered: dict = {}
    collected: set = set()
    called: set = set()
    for call, fs, callee in calls:
        for alternative in alternatives(callee):
            target = index.function(alternative[1]) if alternative[0] == "func" else None
            if target is None:
                continue
            path = alternative[1][0]
            called.add(alternative[1])
            for name, desc, element in _passed(target, call):
                slot = (path, target.qualname, name)
                offered.setdefault(slot, []).append(index.evaluate(desc, fs) if desc is not None else None)
                if element:
                    collected.add(slot)
    for fs in index.files.values():
        for function in fs.functions.values():
            if function.defaults and (fs.path, function.qualname) not in called:
                for name, desc in function.defaults:
                    offered.setdefault((fs.path, function.qualname, name), []).append(index.evaluate(desc, fs))
    joined = {slot: join(values) for slot, values in offered.items()}
    joined.update({slot: ("many", joined[slot]) for slot in collected if joined[slot] is not None})
    return joined


def solve(index: ProjectIndex, entries: EntryPoints, found: dict) -> Reachability:
    """Reachability from `found`, with the parameters the calls that run fill; the index keeps
    the parameters of the last round.  A parameter that no call that runs fills takes what the
    rest of the program (outside tests) passes."""
    reach = Reachability(index, entries)
    reach.run(found)
    for _ in range(MAX_ROUNDS):
        module_calls = _import_time_calls(index)
        import_time = _import_time(index, entries, module_calls)
        offered = argument_values(index, _program_calls(index))
        offered.update(argument_values(index, [*module_calls, *_reached_calls(index, [import_time, reach])]))
        parameters = {slot: value for slot, value in offered.items() if value is not None}
        if parameters == index.parameters:
            break
        index.learn_parameters(parameters)
        reach = Reachability(index, entries)
        reach.run(found)
    return reach
