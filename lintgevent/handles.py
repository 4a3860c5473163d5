"""Handles and greenlets, read from a function's syntax: the facts the GEV2xx rules and fixes need.

Two kinds of facts, kept as plain data in the file summary:

* an Injection: a decorator whose wrapper acquires a value (by a call or a `with`), passes it to the
  wrapped function as an extra argument, and releases it after the wrapped call (`close()`, `put()`
  back into a pool, the end of the `with`);
* a Flow: a call that receives a value rooted in one of the function's parameters or `with`
  targets, directly, derived from it (`dbc.cursor()`), in a tuple, through `functools.partial`, or
  captured by a lambda or a nested function; with the lines where the call's result (a greenlet),
  its receiver (a pool) or every greenlet is joined.

Roots are ("param", name) and ("with", line, name).  The index resolves what the calls are later.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from .syntax import callee_text, dotted as _dotted

# Method results that are data rather than the handle itself: passing them on passes no handle.
DATA_METHODS = frozenset({
    "fetchone", "fetchall", "fetchmany", "fetchval", "fetchrow", "scalar", "scalars", "scalar_one", "first",
    "one", "one_or_none", "all", "count", "read", "readline", "readlines", "getvalue", "decode", "encode",
    "json", "text", "content", "keys", "values", "items", "copy", "format", "strip", "split", "lower",
    "upper", "rowcount", "lastrowid", "description", "name", "closed",
})
# `handle.close()`, and `pool.put(handle)`: what gives a handle back when the wrapper is done.
RELEASE_METHODS = frozenset({"close", "release", "dispose", "disconnect", "remove", "shutdown", "__exit__",
                             "terminate", "detach"})
GIVE_BACK_METHODS = frozenset({"put", "putconn", "release", "return_connection", "close", "giveback",
                               "release_connection", "put_connection", "free"})
# `g.join()`, `g.get()`, `gevent.joinall(gs)`, `gevent.wait(gs)`; with the number of positional
# arguments from which on one is a timeout (a timed wait can return while the greenlet still runs).
RELEASE_HINTS = RELEASE_METHODS | GIVE_BACK_METHODS
JOIN_METHODS = {"join": 1, "get": 2, "wait": 1}
WAIT_ALL = {"joinall": 2, "wait": 2, "iwait": 2}
MAX_ARG_TEXTS = 4
COLLECT_METHODS = frozenset({"append", "extend", "add", "appendleft"})
PARTIALS = frozenset({"partial"})


@dataclass(frozen=True, slots=True)
class Injection:
    line: int  # of the wrapped call inside the wrapper
    position: int | None  # index among the wrapped function's parameters; None when unknown
    keyword: str  # the keyword it is passed by, or ""
    acquire: str  # how it is acquired, as written: "sqlite3.connect(...)"
    release: str  # how it is given back: "dbc.close()" or "the end of `with`"


@dataclass(frozen=True, slots=True)
class Flow:
    line: int  # the receiving call; the same position as its Call in Function.calls
    col: int
    roots: tuple  # ((root, slot, exact), ...): slot = argument index or keyword name; exact = the
    #               argument is the root's own name (not derived, captured or wrapped)
    joins: tuple  # lines where this call's result greenlet, its pool or every greenlet is joined
    args: tuple  # the first positional arguments as written (a spawn's function is one of them)


@dataclass(frozen=True, slots=True)
class WithBlock:
    line: int
    end: int
    name: str  # the `as` target
    call_line: int  # the context expression, when it is a call (else 0)
    call_col: int
    text: str  # the context expression as written


@dataclass(frozen=True, slots=True)
class Escapes:
    flows: tuple  # (Flow, ...)
    withs: tuple  # (WithBlock, ...)
    uses: tuple  # ((parameter or `with` name, number of reads in the function), ...) for flowing names


def _text(node: ast.AST) -> str:
    if type(node) is ast.Call:
        return callee_text(node.func)[0] + "(...)"
    if type(node) is ast.Lambda:
        return "lambda"
    return callee_text(node)[0]


def _last_name(func: ast.AST) -> str:
    if type(func) is ast.Attribute:
        return func.attr
    return func.id if type(func) is ast.Name else ""


def _body_nodes(statements: list):
    """Every node of a function body in source order, nested functions, classes and lambdas left out."""
    stack = list(reversed(statements))
    while stack:
        node = stack.pop()
        yield node
        if type(node) in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _loads(node: ast.AST, exclude: frozenset = frozenset()) -> set[str]:
    return {n.id for n in ast.walk(node) if type(n) is ast.Name and n.id not in exclude}


def parameters(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> list[str]:
    a = node.args
    names = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
    names += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
    return names


class _Origins:
    """Which roots each local name holds, updated in source order."""

    def __init__(self, roots: dict[str, frozenset]):
        self.names = roots
        self.closures: dict[str, frozenset] = {}

    def of(self, node: ast.AST | None) -> frozenset:
        found: set = set()
        stack = [node]
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is ast.Name:
                found |= self.names.get(node.id, frozenset()) | self.closures.get(node.id, frozenset())
            elif kind in (ast.Starred, ast.Await, ast.NamedExpr):
                stack.append(node.value)
            elif kind in (ast.Tuple, ast.List, ast.Set):
                stack.extend(node.elts)
            elif kind is ast.Dict:
                stack.extend(node.values)
            elif kind is ast.IfExp:
                stack.extend((node.body, node.orelse))
            elif kind is ast.BoolOp:
                stack.extend(node.values)
            elif kind is ast.Lambda:
                found |= self.captured(node.body, frozenset(parameters(node)))
            elif kind is ast.Call and _last_name(node.func) in PARTIALS:
                stack.extend(node.args)
                stack.extend(k.value for k in node.keywords)
            elif kind in (ast.Call, ast.Attribute):
                base, name, steps = node, "", 0
                while type(base) in (ast.Call, ast.Attribute) and steps < 8:
                    if type(base) is ast.Attribute:
                        name = name or base.attr
                        base = base.value
                    else:
                        base = base.func
                    steps += 1
                if type(base) is ast.Name and name not in DATA_METHODS:
                    stack.append(base)
        return frozenset(found)

    def captured(self, body: ast.AST, own: frozenset) -> frozenset:
        out: set = set()
        for name in _loads(body, own):
            out |= self.names.get(name, frozenset())
        return frozenset(out)


def function_escapes(node: ast.FunctionDef | ast.AsyncFunctionDef, is_method: bool) -> Escapes | None:
    """The flows and `with` blocks of one function; None when no rooted value reaches a call."""
    params = parameters(node)
    rooted = params[1:] if is_method and params else params
    origins = _Origins({p: frozenset({("param", p)}) for p in rooted})
    flows, withs, joins = [], [], []
    results: dict[int, str] = {}  # id(call) -> the name its result is stored in
    joined_inline: set[int] = set()
    pending: list = []  # (call node, roots)
    stack: list = list(reversed(node.body))
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is tuple:  # a deferred binding: ("bind", name, roots)
            origins.names[current[1]] = current[2]
            continue
        if kind in (ast.FunctionDef, ast.AsyncFunctionDef):
            origins.closures[current.name] = origins.captured(current, frozenset(parameters(current)))
            continue
        if kind in (ast.ClassDef, ast.Lambda):
            continue
        if kind is ast.Assign and len(current.targets) == 1 and type(current.targets[0]) is ast.Name:
            name = current.targets[0].id
            for inner in ast.walk(current.value):
                if type(inner) is ast.Call:
                    results.setdefault(id(inner), name)
            stack.append(("bind", name, origins.of(current.value)))
        elif kind in (ast.For, ast.AsyncFor):
            for target in _loads(current.target):
                stack.append(("bind", target, frozenset()))
        elif kind in (ast.With, ast.AsyncWith):
            stack.extend(reversed(current.body))
            for item in reversed(current.items):
                expr, target = item.context_expr, item.optional_vars
                if type(target) is ast.Name:
                    is_call = type(expr) is ast.Call
                    withs.append(WithBlock(current.lineno, current.end_lineno, target.id,
                                           expr.lineno if is_call else 0, expr.col_offset if is_call else 0,
                                           _text(expr)))
                    # bound once the context expression ran, before the body runs
                    stack.append(("bind", target.id, origins.of(expr) | {("with", current.lineno, target.id)}))
                stack.append(expr)
            continue
        elif kind is ast.Call:
            _note_call(current, origins, results, joined_inline, joins, pending)
        stack.extend(reversed(list(ast.iter_child_nodes(current))))
    for call, roots in pending:
        func = call.func
        receiver = _dotted(func.value) if type(func) is ast.Attribute else ""
        result = results.get(id(call), "")
        lines = [call.lineno] if id(call) in joined_inline else []
        lines += [line for line, names, joined_receiver, every in joins
                  if every or (result and result in names) or (receiver and receiver == joined_receiver)]
        texts = tuple(_text(a) for a in call.args[:MAX_ARG_TEXTS])
        flows.append(Flow(call.lineno, call.col_offset, roots, tuple(sorted(set(lines))), texts))
    if not flows:
        return None
    flowing = {root[1] for flow in flows for (root, _, _) in flow.roots if root[0] == "param"}
    flowing |= {w.name for w in withs}
    counts: dict[str, int] = {}
    for inner in ast.walk(node):
        if type(inner) is ast.Name and inner.id in flowing and type(inner.ctx) is ast.Load:
            counts[inner.id] = counts.get(inner.id, 0) + 1
    return Escapes(tuple(flows), tuple(withs), tuple(sorted(counts.items())))


def _note_call(call: ast.Call, origins: _Origins, results: dict, joined_inline: set, joins: list,
               pending: list) -> None:
    func = call.func
    name = _last_name(func)
    receiver = _dotted(func.value) if type(func) is ast.Attribute else ""
    if receiver and name in COLLECT_METHODS and type(func.value) is ast.Name:
        for arg in call.args:
            for inner in ast.walk(arg):
                if type(inner) is ast.Call:
                    results.setdefault(id(inner), receiver)
    timed = any(k.arg == "timeout" for k in call.keywords)
    if name in WAIT_ALL and (type(func) is ast.Name or receiver.split(".")[0] == "gevent"):
        if not (timed or len(call.args) >= WAIT_ALL[name]):
            waited = call.args[0] if call.args else None
            for inner in ast.walk(waited) if waited is not None else ():
                if type(inner) is ast.Call:
                    joined_inline.add(id(inner))
            names = frozenset(_loads(waited)) if waited is not None else frozenset()
            joins.append((call.lineno, names, "", waited is None))
    elif type(func) is ast.Attribute and name in JOIN_METHODS:
        if not (timed or len(call.args) >= JOIN_METHODS[name]):
            if type(func.value) is ast.Call:
                joined_inline.add(id(func.value))
            elif receiver:
                joins.append((call.lineno, frozenset({receiver}), receiver, False))
    _note_flow(call, origins, pending)


def _is_root_itself(node: ast.AST, root: tuple) -> bool:
    return type(node) is ast.Name and node.id == root[-1]


def _note_flow(call: ast.Call, origins: _Origins, pending: list) -> None:
    roots = []
    for index, arg in enumerate(call.args):
        for root in origins.of(arg):
            roots.append((root, index, _is_root_itself(arg, root)))
    for keyword in call.keywords:
        for root in origins.of(keyword.value):
            roots.append((root, keyword.arg, _is_root_itself(keyword.value, root)))
    if roots:
        pending.append((call, tuple(sorted(set(roots), key=repr))))


# -- decorators ------------------------------------------------------------------------------------
def wrapper_injection(wrapper: ast.FunctionDef | ast.AsyncFunctionDef, wrapped: frozenset[str],
                      via_self: frozenset[str]) -> tuple[str, Injection] | None:
    """The injection a wrapper performs on the function it wraps: a call to one of `wrapped` (names
    of the enclosing functions' parameters) or to `self.<attr>` for an attr in `via_self`; with the
    name of what it wraps (`func` or `self.func`)."""
    acquired: dict[str, str] = {}  # local name -> how it was acquired
    derived_from: dict[str, str] = {}
    with_spans: dict[str, tuple[int, int]] = {}
    calls = []
    for node in _body_nodes(wrapper.body):
        kind = type(node)
        if kind is ast.Assign and len(node.targets) == 1 and type(node.targets[0]) is ast.Name:
            value = node.value
            if type(value) is ast.Await:
                value = value.value
            if type(value) is ast.Call:
                name = node.targets[0].id
                acquired[name] = _text(value)
                base = _base_name(value)
                if base in acquired:
                    derived_from[name] = base
        elif kind in (ast.With, ast.AsyncWith):
            for item in node.items:
                if type(item.optional_vars) is ast.Name and type(item.context_expr) is ast.Call:
                    name = item.optional_vars.id
                    acquired[name] = _text(item.context_expr)
                    with_spans[name] = (node.lineno, node.end_lineno)
        elif kind is ast.Call:
            calls.append(node)
    for call in calls:
        func = call.func
        if type(func) is ast.Name:
            if func.id not in wrapped:
                continue
        elif not (type(func) is ast.Attribute and type(func.value) is ast.Name and func.value.id == "self"
                  and func.attr in via_self):
            continue
        for handle, position, keyword in _handle_arguments(call, acquired):
            release = _release(handle, call, calls, derived_from, with_spans)
            if release:
                return _dotted(func), Injection(call.lineno, position, keyword, acquired[handle], release)
    return None


def _base_name(call: ast.Call) -> str:
    node = call.func
    while type(node) in (ast.Attribute, ast.Call):
        node = node.value if type(node) is ast.Attribute else node.func
    return node.id if type(node) is ast.Name else ""


def _handle_arguments(call: ast.Call, acquired: dict):
    """(name, position or None, keyword) of each acquired local passed to the wrapped call."""
    starred = False
    for index, arg in enumerate(call.args):
        if type(arg) is ast.Starred:
            starred = True
        elif type(arg) is ast.Name and arg.id in acquired:
            yield arg.id, None if starred else index, ""
    for keyword in call.keywords:
        if keyword.arg and type(keyword.value) is ast.Name and keyword.value.id in acquired:
            yield keyword.value.id, None, keyword.arg


def _release(handle: str, wrapped_call: ast.Call, calls: list, derived_from: dict, with_spans: dict) -> str:
    """How the handle (or what it was derived from) is given back after the wrapped call, or ""."""
    names = [handle]
    while names[-1] in derived_from and len(names) < 8:
        names.append(derived_from[names[-1]])
    for name in names:
        span = with_spans.get(name)
        if span and span[0] <= wrapped_call.lineno <= span[1]:
            return f"the end of `with ... as {name}`"
    for call in calls:
        if call.lineno < wrapped_call.end_lineno or call is wrapped_call:
            continue
        func = call.func
        if type(func) is not ast.Attribute:
            continue
        if type(func.value) is ast.Name and func.value.id in names and func.attr in RELEASE_METHODS:
            return f"{func.value.id}.{func.attr}()"
        if func.attr in GIVE_BACK_METHODS and any(type(a) is ast.Name and a.id in names for a in call.args):
            return f"{_dotted(func) or func.attr}(...)"
    return ""


def class_wrapped_attrs(cls: ast.ClassDef) -> frozenset[str]:
    """Attributes `__init__` sets from its own parameters: `self.func = func`."""
    for stmt in cls.body:
        if type(stmt) in (ast.FunctionDef, ast.AsyncFunctionDef) and stmt.name == "__init__":
            params = set(parameters(stmt)[1:])
            return frozenset(
                t.attr for node in ast.walk(stmt) if type(node) is ast.Assign and type(node.value) is ast.Name
                and node.value.id in params for t in node.targets
                if type(t) is ast.Attribute and type(t.value) is ast.Name and t.value.id == "self")
    return frozenset()
