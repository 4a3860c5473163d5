"""GEV201, GEV202: a handle handed to a greenlet that outlives the code that closes it.

GEV201: a decorator injects a handle into the function it wraps and releases it when that function
returns; the function hands the handle to a greenlet it does not join (seed 000).
GEV202: a value bound by `with` is handed to a greenlet that is not joined before the block ends.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..deployment import Deployment
from ..entrypoints import EntryPoints
from ..findings import Finding
from ..handles import Flow, Injection
from ..index import ProjectIndex, alternatives
from ..positions import mark
from ..rules import RULES
from ..summary import Call, FileSummary, Function


@dataclass(frozen=True, slots=True)
class Escape:
    """A rooted value reaching a greenlet through a call of the function that holds it."""

    flow: Flow
    call: Call
    root: tuple  # ("param", name) or ("with", line, name)
    slot: int | str | None  # where the value sits in the call: argument index, keyword, None = captured
    exact: bool  # the argument is the root's name itself, not a value derived from it
    targets: tuple  # function keys the greenlet runs
    runner_arg: int  # index of the greenlet's function among the call's arguments
    via: str  # "" when the call spawns the greenlet; else the helper the value is passed to

    def joined_between(self, first: int, last: int) -> bool:
        return any(first <= line <= last for line in self.flow.joins)

    def joined_after(self, first: int) -> bool:
        return any(first <= line for line in self.flow.joins)


class HandleEscapes:
    """Which rooted values of a function reach greenlets that are not waited for, directly or
    through the functions they are passed to."""

    def __init__(self, index: ProjectIndex, entries: EntryPoints, deployments: dict[str, Deployment]):
        self.index = index
        self.entries = entries
        self.deployments = deployments
        self._memo: dict[tuple, list[Escape]] = {}

    def of(self, key: tuple) -> list[Escape]:
        if key not in self._memo:
            self._memo[key] = []  # a recursive helper adds nothing while it is being computed
            self._memo[key] = list(self._compute(key))
        return self._memo[key]

    def _compute(self, key: tuple) -> Iterator[Escape]:
        index = self.index
        fs = index.files[key[0]]
        escapes = fs.escapes.get(key[1])
        if escapes is None:
            return
        function = fs.functions[key[1]]
        calls_at = _calls_by_position(function)
        uses_gevent = self.deployments[fs.path].uses_gevent
        for flow in escapes.flows:
            call = calls_at.get((flow.line, flow.col))
            if call is None:
                continue
            value = index.evaluate(call.func, fs)
            found = self.entries.runner_of(call, fs, value)
            if found is not None:
                runner, target = found
                if runner.kind != "greenlet" or runner.waits or not uses_gevent:
                    continue
                targets = tuple(self.entries.callables(target))
                for root, slot, exact in flow.roots:
                    if slot != runner.arg:
                        yield Escape(flow, call, root, slot, exact, targets, runner.arg, "")
                    elif not exact:  # a lambda, a partial or a closure holding the value
                        yield Escape(flow, call, root, None, False, targets, runner.arg, "")
                continue
            helper = index.callee(value)
            if helper is None or helper[0] != "func" or helper[1] == key:
                continue
            yield from self._through_helper(flow, call, helper[1], fs)

    def _through_helper(self, flow: Flow, call: Call, helper: tuple, fs: FileSummary) -> Iterator[Escape]:
        """Values this call passes to a helper whose parameter escapes into a greenlet."""
        function = self.index.function(helper)
        inner = [e for e in self.of(helper) if e.root[0] == "param" and not e.joined_after(e.flow.line)]
        if not inner:
            return
        offset = self.bound_offset(call, function, fs)
        for root, slot, exact in flow.roots:
            if type(slot) is int:
                position = slot + offset
                name = function.params[position] if position < len(function.params) else None
            else:
                name = slot
            for escape in inner:
                if name is not None and escape.root == ("param", name):
                    yield Escape(flow, call, root, slot, exact, escape.targets, -1, helper[1])
                    break

    def bound_offset(self, call: Call, function: Function, fs: FileSummary) -> int:
        """1 when the call goes through an instance (or a class, for a classmethod): the function's
        first parameter is then not among the call's arguments."""
        if not function.cls:
            return 0
        kinds = {d.text for d in function.decorators}
        if "staticmethod" in kinds:
            return 0
        desc = call.func
        if desc is None:
            return 0
        if desc[0] == "attr":
            receiver = self.index.evaluate(desc[1], fs)
        elif desc[0] == "ref":
            receiver = self.index.resolve_global(desc[1].rsplit(".", 1)[0], self.index.root_of[fs.path])
        else:
            return 0
        if receiver is not None and receiver[0] == "class" and "classmethod" not in kinds:
            return 0
        return 1


def _calls_by_position(function: Function) -> dict[tuple[int, int], Call]:
    """Call sites by where they start; `Group().spawn(...)` and `Group()` start at the same place,
    and the outer call, recorded first, is the one a position names."""
    calls: dict[tuple[int, int], Call] = {}
    for call in function.calls:
        calls.setdefault((call.line, call.col), call)
    return calls


def injector_of(index: ProjectIndex, decorator: Call, fs: FileSummary) -> Injection | None:
    """What a decorator injects, when its definition (a function, a factory, a class or an instance)
    shows it; None when it cannot be resolved."""
    value = index.evaluate(decorator.func, fs)
    if value is None or value[0] not in ("func", "class", "obj"):
        return None
    path, qualname = value[1]
    owner = index.files[path]
    if value[0] == "func":
        if decorator.bare:
            return owner.injectors.get(qualname)
        for nested in index.nested_functions(value[1]):  # a factory: the decorator is defined inside
            if nested[1] in owner.injectors:
                return owner.injectors[nested[1]]
        return None
    if value[0] == "class" and decorator.bare:  # an instance wraps the function: `self.func(...)`
        return owner.injectors.get(qualname)
    method = index.find_method(value[1], "__call__")  # an instance's `__call__(self, func)` decorates
    return index.files[method[0]].injectors.get(method[1]) if method else None


def _target_text(escape: Escape) -> str:
    if escape.via:
        return f"a greenlet (through `{escape.via.rsplit('.', 1)[-1]}`)"
    texts = escape.flow.args
    return f"greenlet `{texts[escape.runner_arg]}`" if 0 <= escape.runner_arg < len(texts) else "a greenlet"


def check(index: ProjectIndex, entries: EntryPoints, deployments: dict[str, Deployment]) -> Iterator[Finding]:
    escapes = HandleEscapes(index, entries, deployments)
    callers = TargetCallers(index, entries)
    for fs in index.files.values():
        if not deployments[fs.path].uses_gevent:
            continue
        for qualname in fs.escapes:
            key = (fs.path, qualname)
            found = escapes.of(key)
            if not found:
                continue
            function = fs.functions[qualname]
            yield from _decorator_handles(index, fs, function, found, callers)
            yield from _with_handles(index, fs, function, found)


def _decorator_handles(index: ProjectIndex, fs: FileSummary, function: Function, found: list[Escape],
                       callers: TargetCallers) -> Iterator[Finding]:
    """GEV201."""
    reported = set()
    name = function.qualname.rsplit(".", 1)[-1]
    for position, decorator in enumerate(function.decorators):
        injection = injector_of(index, decorator, fs)
        if injection is None:
            continue
        if injection.position is not None:
            param = function.params[injection.position] if injection.position < len(function.params) else None
        else:
            param = injection.keyword if injection.keyword in function.params else None
        if param is None:
            continue
        for escape in found:
            where = (escape.call.line, escape.call.col)
            if escape.root != ("param", param) or escape.joined_after(escape.flow.line) or where in reported:
                continue
            reported.add(where)
            message = (f"GEV201 `@{decorator.text}` releases `{param}` ({injection.release}) when `{name}` "
                       f"returns, but `{name}` hands `{param}` to {_target_text(escape)}, which runs after "
                       f"that, on a released handle; {RULES['GEV201'].advice}")
            plan = _move_decorator_plan(index, fs, function, position, decorator, injection, param, escape, callers)
            yield Finding(fs.path, *where, "GEV201", message, "", plan)


def _move_decorator_plan(index: ProjectIndex, fs: FileSummary, function: Function, position: int, decorator: Call,
                         injection: Injection, param: str, escape: Escape, callers: TargetCallers) -> tuple:
    """What the GEV201 codemod does, or why it must not: see fixes/gev201_move_decorator.py."""
    def refuse(reason: str) -> tuple:
        return (("refuse", reason),)

    if escape.via:
        return refuse(f"the handle reaches the greenlet through `{escape.via}`, not a spawn in this function")
    if type(escape.slot) is not int or not escape.exact:
        return refuse(f"`{param}` is handed over inside another value, not as a plain argument of the spawn")
    uses = dict(fs.escapes[function.qualname].uses).get(param, 0)
    if uses != 1:
        return refuse(f"`{function.qualname}` still uses `{param}` for something else")
    if len(escape.targets) != 1:
        return refuse("the greenlet's function is not a function of this project")
    target_key = escape.targets[0]
    if target_key[0] != fs.path:
        return refuse(f"the greenlet's function `{target_key[1]}` is defined in another file")
    if callers.count(target_key) > 1:
        return refuse(f"`{target_key[1]}` has other callers, which pass their own handle")
    target = index.function(target_key)
    if any(d.text == decorator.text for d in target.decorators):
        return refuse(f"`{target_key[1]}` already has `@{decorator.text}`")
    receiver_offset = 1 if target.cls and "staticmethod" not in {d.text for d in target.decorators} else 0
    arrives_at = escape.slot - escape.runner_arg - 1 + receiver_offset
    if not 0 <= arrives_at < len(target.params):
        return refuse(f"cannot tell which parameter of `{target_key[1]}` receives `{param}`")
    if injection.position is not None:
        inject_at = injection.position
    elif injection.keyword == target.params[arrives_at]:
        inject_at = arrives_at
    else:
        return refuse(f"`@{decorator.text}` passes the handle as `{injection.keyword}=`, "
                      f"which `{target_key[1]}` does not take")
    return (("function", function.qualname), ("decorator", position), ("param", param),
            ("call", (escape.call.line, escape.call.col)), ("slot", escape.slot),
            ("target", target_key[1]), ("arrives_at", arrives_at), ("inject_at", inject_at))


def _with_handles(index: ProjectIndex, fs: FileSummary, function: Function, found: list[Escape]) -> Iterator[Finding]:
    """GEV202."""
    blocks = {w.line: w for w in fs.escapes[function.qualname].withs}
    calls_at = _calls_by_position(function)
    reported = set()
    for escape in found:
        if escape.root[0] != "with":
            continue
        block = blocks.get(escape.root[1])
        where = (escape.call.line, escape.call.col)
        if block is None or where in reported or escape.joined_between(escape.flow.line, block.end):
            continue
        if not _is_resource(index, fs, calls_at.get((block.call_line, block.call_col))):
            continue
        reported.add(where)
        message = (f"GEV202 `{block.name}` (from `with {block.text}` at line {mark(fs.path, block.line)}) is handed to "
                   f"{_target_text(escape)}, which is not joined before the block ends and then uses a "
                   f"closed resource; {RULES['GEV202'].advice}")
        yield Finding(fs.path, *where, "GEV202", message)


def _is_resource(index: ProjectIndex, fs: FileSummary, call: Call | None) -> bool:
    """A `with` expression that makes something the end of the block closes or releases."""
    if call is None:
        return False
    catalog = index.catalog
    result = index.call_result(index.evaluate(call.func, fs))
    if result is not None and result[0] == "ext" and result[1].startswith("<"):
        return result[1] in catalog.handle_tags
    return call.hint in catalog.handle_acquirers


class TargetCallers:
    """How many call sites (and greenlet spawns) in the project may run a function: those that
    resolve to it, and those that do not resolve but call something of the same name (a codemod
    changing its signature must not guess they are someone else).  Built on first use."""

    def __init__(self, index: ProjectIndex, entries: EntryPoints):
        self.index = index
        self.entries = entries
        self._counts: dict = {}

    def count(self, key: tuple) -> int:
        if not self._counts:
            index = self.index
            for fs in index.files.values():
                for call in fs.all_calls():
                    value = index.evaluate(call.func, fs)
                    callee = index.callee(value)
                    keys = [c[1] for c in alternatives(callee) if c[0] == "func"]
                    if callee is None or (callee[0] == "ext" and callee[1].startswith("<unknown>.")):
                        keys = [call.hint]
                    runner = self.entries.runner_of(call, fs, value)
                    if runner is not None:
                        keys += self.entries.callables(runner[1])
                    for found in keys:
                        self._counts[found] = self._counts.get(found, 0) + 1
        return self._counts.get(key, 0) + self._counts.get(key[1].rsplit(".", 1)[-1], 0)
