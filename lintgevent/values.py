"""Values that flow into parameters: what the callers pass, worked out when a parameter is asked for.

Context-insensitive and deliberately plain: a parameter takes the union (see index.join) of the
arguments its calls give for it (project objects, catalog types, functions...), and its default
where a call leaves it out; `*args` and `**kwargs` are collections of what the calls pass beyond
the named parameters.  A caller's `*seq` or `**mapping` tells nothing.

Which calls: those that run (at import time or on a request path) when any of them gives the
parameter; else the rest of the program outside tests (startup code: `main()`, app factories,
where objects are wired), found by the callee's name; else the default.  A parameter is computed
on demand, the first time an evaluation needs it (a cycle of parameters feeding each other ends
in unknown), so only the parameters on the way of the analysis cost anything.

New parameter values can make new functions reachable, whose calls give new arguments: the
functions that run and the parameters are recomputed in rounds until the functions that run stay
the same, at most MAX_ROUNDS times.  What does not rest on the parameters (the index's memos,
reach.Site lists, see index.RoundMemo) is worked out once and kept from round to round.

Sizes (GEV3) are values of parameters too, one fact on top of what a parameter holds: no bound,
with the reason and the calls it came through, or nothing known.  Only the calls on request paths
give one (a write of what a startup script passes does not hold a request), in the order of the
shortest chains, and the first caller that passes data with no bound gives the reason: the join
of "no bound" with anything is "no bound".  What a call passes is its Passed record (writes.py)
or, for a parameter of the caller passed on as it is, that parameter's own size, through at most
writes.MAX_HOPS calls.
"""
from __future__ import annotations

import dataclasses
import weakref

from .arguments import argument_slot, passed, passed_params
from .entrypoints import EntryPoints
from .index import ProjectIndex, alternatives, is_test_module, join
from .reach import Reachability
from .summary import Call, FileSummary
from .writes import DATA, MAX_HOPS

MAX_ROUNDS = 4
LITERALS = frozenset({"str", "strs", "const"})  # descriptors that are their own value


class Parameters:
    """What each parameter holds in one round: (path, function qualname, parameter) -> value."""

    def __init__(self, index: ProjectIndex, running: list[tuple], by_hint: dict, constructs: dict,
                 decorated: dict, request_paths: Reachability | None = None):
        # The index holds its parameters: a strong reference back would make every summary part of
        # a reference cycle, left for the cyclic collector to walk (a second on a large code base).
        self.index = weakref.proxy(index)
        # function -> [(caller, call index)] of the calls on the round's request paths: what gives sizes
        self._into = _calls_into(request_paths) if request_paths is not None else {}
        self._sizes: dict[tuple, tuple | None] = {}
        self._sizing: set[tuple] = set()
        self._cut = False  # a search below ended at a cycle or at MAX_HOPS: its "nothing" is not final
        self.running_to: dict[tuple, list] = {}  # function -> [(call, file)] of the calls that run
        for call, fs, callee in running:
            for value in alternatives(callee):
                if value[0] == "func":
                    self.running_to.setdefault(value[1], []).append((call, fs))
        self.ran = {id(call) for call, _, _ in running}
        self.by_hint = by_hint
        self.constructs = constructs
        self._callees: dict[int, tuple | None] = {}
        self._values: dict[tuple, tuple | None] = {}
        self.decorated = decorated
        self.sources: dict[tuple, tuple[str, int]] = {}  # slot -> (path, line) of a call that gave it

    def get(self, slot: tuple):
        if slot not in self._values:
            self._values[slot] = self.index.guarded(("param", slot), lambda: self._compute(slot))
        return self._values[slot]

    def _compute(self, slot: tuple):
        path, qualname, name = slot
        key = (path, qualname)
        target = self.index.function(key)
        if target is None:
            return None
        first = next(iter(passed_params(target)), None)
        decorated = self.decorated.get(key, ()) if name == first else ()
        for calls in (self.running_to.get(key, ()), self._rest_calls(key, qualname)):
            offered, collected = list(decorated), False
            decorated = ()  # decorating runs at import time: with the calls that run
            for call, fs in calls:
                descs, element = passed(target, call, name)
                collected |= element
                for desc in descs:
                    value = desc if desc is None or desc[0] in LITERALS else self.index.evaluate(desc, fs)
                    offered.append(value)
                    if value is not None and slot not in self.sources:
                        self.sources[slot] = (fs.path, call.line)
            if offered or collected:
                value = join(offered)
                return ("many", value) if collected and value is not None else value
        default = next((desc for parameter, desc in target.defaults if parameter == name), None)
        return self.index.evaluate(default, self.index.files[path]) if default is not None else None

    def size(self, key: tuple, param: str, kind: str, hops: int = 0) -> tuple | None:
        """(why parameter `param` of function `key`, judged as `kind` (writes.DATA or COLLECTION),
        has no size bound, [(path, line) of the calls it came through, the first first]) when a
        call on a request path passes it data with no bound; else None."""
        slot = (key, param, kind)
        if slot in self._sizes:
            return self._sizes[slot]
        if slot in self._sizing or hops > MAX_HOPS:
            self._cut = True
            return None
        self._sizing.add(slot)
        outer, self._cut = self._cut, False
        try:
            found = self._size(key, param, kind, hops)
        finally:
            self._sizing.discard(slot)
        if found is not None or not self._cut:
            self._sizes[slot] = found
        self._cut |= outer
        return found

    def _size(self, key: tuple, param: str, kind: str, hops: int) -> tuple | None:
        target = self.index.function(key)
        if target is None:
            return None
        for caller, i in self._into.get(key, ()):
            fs = self.index.files[caller[0]]
            function = fs.functions[caller[1]]
            call = function.calls[i]
            wanted = argument_slot(target, call, param)
            passed = next((p for p in function.passes if p.call == i and p.slot == wanted), None)
            if passed is not None:
                reason = passed.data if kind == DATA else passed.collection
                if reason:
                    return reason, [(fs.path, call.line)]
                source, owner = passed.data_from if kind == DATA else passed.collection_from, caller
            else:  # a parameter of the caller (or of the function around it) passed on as it is
                desc = call.args[wanted] if type(wanted) is int else call.keyword(wanted)
                if desc is None or desc[0] != "param":
                    continue
                source, owner = (desc[2], kind), (fs.path, desc[1])
            if source:
                found = self.size(owner, source[0], source[1], hops + 1)
                if found is not None:
                    return found[0], [*found[1], (fs.path, call.line)]
        return None

    def _rest_calls(self, key: tuple, qualname: str):
        """The calls outside tests that do not run but call the function, found by its name (or its
        classes' names, for an `__init__`)."""
        short = qualname.rsplit(".", 1)[-1]
        hints = self.constructs.get(key, ()) if short == "__init__" else (short,)
        for hint in hints:
            for call, fs in self.by_hint.get(hint, ()):
                if id(call) in self.ran:
                    continue
                if id(call) not in self._callees:
                    self._callees[id(call)] = self.index.callee(self.index.called(call, fs))
                if ("func", key) in alternatives(self._callees[id(call)]):
                    yield call, fs


def _calls_into(reach: Reachability) -> dict[tuple, list]:
    """Function -> (caller, call index) of the calls with arguments on request paths that may run
    it, not offloaded, callers nearer an entry point first."""
    into: dict = {}
    for caller in reach.parent:  # breadth-first
        for i, site in enumerate(reach.sites(caller)):
            if site.offloaded or not (site.call.args or site.call.kwargs):
                continue
            for callee in alternatives(site.callee):
                if callee[0] == "func":
                    into.setdefault(callee[1], []).append((caller, i))
    return into


def _decorations(index: ProjectIndex) -> dict[tuple, list]:
    """Registering decorator -> the functions it decorates (`@register("x")` passes the function
    to what `register("x")` returns), which its first parameter receives."""
    decorated: dict = {}
    for fs in index.files.values():
        for function in fs.functions.values():
            for decorator in function.decorators:
                value = index.evaluate(decorator.func, fs)
                applied = value if decorator.bare else index.call_result(value)
                for alternative in alternatives(applied):
                    # A wrapping decorator calls what it wraps from its wrapper, once per function:
                    # reachability follows that (reach.py), its parameter not.
                    registering = index.function(alternative[1]) if alternative[0] == "func" else None
                    if registering is not None and not registering.nested:
                        decorated.setdefault(alternative[1], []).append(("func", (fs.path, function.qualname)))
    return decorated


def _calls_by_hint(index: ProjectIndex) -> dict[str, list[tuple[Call, FileSummary]]]:
    """Callee name -> (call, its file) for the calls with arguments outside test code."""
    by_hint: dict = {}
    for fs in index.files.values():
        if not is_test_module(fs.module):
            for call in fs.all_calls():
                if call.args or call.kwargs:
                    by_hint.setdefault(call.hint, []).append((call, fs))
    return by_hint


def _constructs(index: ProjectIndex) -> dict[tuple, tuple[str, ...]]:
    """`__init__` -> the names of the classes whose construction runs it (its own, and subclasses')."""
    out: dict = {}
    for fs in index.files.values():
        for qualname in fs.classes:
            init = index.find_method((fs.path, qualname), "__init__")
            if init is not None:
                out.setdefault(init, []).append(qualname.rsplit(".", 1)[-1])
    return {key: tuple(dict.fromkeys(names)) for key, names in out.items()}


def _import_time_calls(index: ProjectIndex) -> list[tuple]:
    """(call, its file, what it calls) for the calls every module makes when it is imported."""
    return [(call, fs, index.callee(index.called(call, fs)))
            for fs in index.files.values() for call in fs.module_calls]


def _reached_calls(index: ProjectIndex, reached: list[Reachability]):
    """(call, its file, what it calls) for the calls of the functions reached, each function once;
    a greenlet or thread started with arguments (`gevent.spawn(handle, sock, store)`) is a call of
    its target with the arguments after the function."""
    seen = set()
    for reach in reached:
        for key in reach.parent:
            if key not in seen:
                seen.add(key)
                fs = index.files[key[0]]
                for site in reach.sites(key):
                    yield site.call, fs, site.callee
                    if site.runner is not None and len(site.call.args) > site.runner[0].arg + 1:
                        runner, target = site.runner
                        started = dataclasses.replace(
                            site.call, args=site.call.args[runner.arg + 1:],
                            kwargs=tuple(k for k in site.call.kwargs if k[0] != runner.keyword))
                        yield started, fs, join(("func", k) for k in reach.entries.callables(target))


def solve(index: ProjectIndex, entries: EntryPoints, found: dict) -> Reachability:
    """Reachability from `found`, with parameters from the calls that run; the index keeps the
    parameters of the last round."""
    by_hint, constructs, decorated = _calls_by_hint(index), _constructs(index), _decorations(index)
    index.learn_parameters(Parameters(index, [], by_hint, constructs, decorated))
    kept: dict = {}  # the sites that hold in every round
    reach = Reachability(index, entries, kept)
    reach.run(found)
    ran = None
    for _ in range(MAX_ROUNDS):
        module_calls = _import_time_calls(index)
        found_at_import = {c[1]: (0, "import") for _, _, callee in module_calls for c in alternatives(callee)
                           if c[0] == "func" and index.function(c[1]) is not None}
        import_time = Reachability(index, entries, kept)
        import_time.run(found_at_import)
        if ran == (set(import_time.parent), set(reach.parent)):
            break
        ran = (set(import_time.parent), set(reach.parent))
        running = [*module_calls, *_reached_calls(index, [import_time, reach])]
        index.learn_parameters(Parameters(index, running, by_hint, constructs, decorated, reach))
        reach = Reachability(index, entries, kept)
        reach.run(found)
    return reach
