"""Branches the callers rule out: calls under a test of a parameter that every caller's literal
argument makes false.

    def hash_file(data, op=False):         refresh(XC, url)  with  XC = "static" a module constant
        if op:                             def refresh(kind, url):
            write_index(data)   # pruned       if kind == XC:
                                                   return cached(url)
                                               fetch_and_store(url)   # pruned: after the early return

The summary records, for each call of a function, the tests of the function's own parameters that
it sits under (`if p:`, `if not p:`, `if p == CONST:`, `!=`, `is`, `is not`, an `and` of them), and
the tests of an `if` whose body ends in `return` or `raise` for the calls after it.  Once the
callers that run are known (values.Parameters), a call is pruned when each of them passes a literal
(or a module constant that is one, or leaves the parameter to a literal default) that makes one of
its tests false.  One call deep: a parameter passed on by the caller, a `*args` or `**kwargs`
caller, or any caller whose argument is not a literal keeps the call.  Not pruned: tests of
locals, attributes, calls, `or`, `in`, comparisons other than equality and identity.
"""
from __future__ import annotations

import ast

from .arguments import passed
from .syntax import child_nodes, dotted

TERMINATORS = (ast.Return, ast.Raise)
SKIPPED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
LITERAL_KINDS = frozenset({"str", "const"})


def _operand(node: ast.AST, imports: dict, module: str) -> tuple | None:
    """A comparison's other side as a summary descriptor: a literal or a global name."""
    if type(node) is ast.Constant:
        value = node.value
        if isinstance(value, str):
            return ("str", value)
        if value is None or isinstance(value, (bool, int, float)):
            return ("const", value)
        return None
    name = dotted(node)
    if not name:
        return None
    head, _, rest = name.partition(".")
    base = imports.get(head, f"{module}.{head}")
    return ("ref", f"{base}.{rest}" if rest else base)


def tested_names(test: ast.AST) -> list[str]:
    """The names an `if` test may test in a way `_tests` reads (cheap: the summary asks at every `if`)."""
    kind = type(test)
    if kind is ast.Name:
        return [test.id]
    if kind is ast.UnaryOp:
        return [test.operand.id] if type(test.operand) is ast.Name else []
    if kind is ast.Compare:
        return [side.id for side in (test.left, *test.comparators) if type(side) is ast.Name]
    if kind is ast.BoolOp:
        return [name for value in test.values for name in tested_names(value)]
    return []


def _tests(test: ast.AST, params: frozenset, imports: dict, module: str) -> list[tuple]:
    """(param, op, operand, outcome when true) for each supported test that must hold for `test`
    to be true: one, or each side of an `and`."""
    kind = type(test)
    if kind is ast.BoolOp and type(test.op) is ast.And:
        return [t for value in test.values for t in _tests(value, params, imports, module)]
    if kind is ast.Name and test.id in params:
        return [(test.id, "truth", None, True)]
    if kind is ast.UnaryOp and type(test.op) is ast.Not and type(test.operand) is ast.Name \
            and test.operand.id in params:
        return [(test.operand.id, "truth", None, False)]
    if kind is ast.Compare and len(test.ops) == 1:
        op = type(test.ops[0])
        left, right = test.left, test.comparators[0]
        if type(left) is not ast.Name or left.id not in params:
            left, right = right, left
        if type(left) is ast.Name and left.id in params and op in (ast.Eq, ast.NotEq, ast.Is, ast.IsNot):
            operand = _operand(right, imports, module)
            if operand is not None:
                return [(left.id, "is" if op in (ast.Is, ast.IsNot) else "eq", operand, op in (ast.Eq, ast.Is))]
    return []


def call_guards(node: ast.FunctionDef | ast.AsyncFunctionDef, calls: list, params: frozenset, imports: dict,
                module: str) -> tuple:
    """((call index, ((param, op, operand, required outcome), ...)), ...) for the calls of a function
    body that sit under tests of its parameters."""
    index = {}
    for i, call in enumerate(calls):
        index.setdefault((call.line, call.col), i)
    found: dict[int, tuple] = {}

    def record(tree: ast.AST, active: tuple) -> None:
        stack = [tree]
        while stack:
            current = stack.pop()
            if isinstance(current, SKIPPED):
                continue
            if type(current) is ast.Call:
                i = index.get((current.lineno, current.col_offset))
                if i is not None:
                    found[i] = active
            stack.extend(child_nodes(current))

    # An explicit stack of [statements, tests they run under]: nesting deeper than Python's own
    # recursion limit is walked too.
    frames: list[list] = [[iter(node.body), ()]]
    while frames:
        frame = frames[-1]
        statement = next(frame[0], None)
        if statement is None:
            frames.pop()
            continue
        active = frame[1]
        if isinstance(statement, SKIPPED):
            continue
        if type(statement) is ast.If:
            record(statement.test, active)
            tests = tuple(_tests(statement.test, params, imports, module))
            negated = tuple((p, op, operand, not outcome) for p, op, operand, outcome in tests) \
                if len(tests) == 1 else ()  # not (a and b) is no single test
            if negated and statement.body and isinstance(statement.body[-1], TERMINATORS) and not statement.orelse:
                frame[1] = active + negated  # what follows runs only when the test was false
            frames.append([iter(statement.orelse), active + negated])
            frames.append([iter(statement.body), active + tests])
        elif isinstance(statement, (ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)):
            for field in ("iter", "test", "items", "target"):
                part = getattr(statement, field, None)
                for piece in part if isinstance(part, list) else (part,) if part is not None else ():
                    record(piece, active)
            for handler in getattr(statement, "handlers", []):
                frames.append([iter(handler.body), active])
            for field in ("finalbody", "orelse", "body"):
                frames.append([iter(getattr(statement, field, []) or []), active])
        elif active:
            record(statement, active)
    return tuple((i, guards) for i, guards in sorted(found.items()) if guards)


def _outcome(op: str, value: tuple, operand: tuple | None) -> bool | None:
    """A test's outcome for a literal value of its parameter; None when it cannot be told."""
    if op == "truth":
        return bool(value[1])
    if operand is None or operand[0] not in LITERAL_KINDS:
        return None
    if op == "eq":
        return value == operand
    return value[0] == "const" and operand[0] == "const" and value[1] is operand[1]  # `is`


def pruned_calls(key: tuple, function, fs, index) -> frozenset[int]:
    """The calls of a function that every caller that runs rules out (see the module's docstring)."""
    parameters = index.parameters
    callers = parameters.running_to.get(key, ()) if parameters is not None else ()
    if not callers:
        return frozenset()
    given: dict[str, list | None] = {}

    def literals(name: str) -> list | None:
        if name not in given:
            values = []
            for call, caller_fs in callers:
                if any(keyword == "**" for keyword, _ in call.kwargs):
                    values = None
                    break
                descs, element = passed(function, call, name)
                value = descs[0] if len(descs) == 1 and not element else None
                if value is not None and value[0] == "ref":
                    value = index.evaluate(value, caller_fs)
                if value is None or value[0] not in LITERAL_KINDS:
                    values = None
                    break
                values.append(value)
            given[name] = values
        return given[name]

    pruned = set()
    for i, guards in function.guards:
        for param, op, operand, required in guards:
            values = literals(param)
            if not values:
                continue
            if operand is not None and operand[0] == "ref":
                operand = index.evaluate(operand, fs)
            outcomes = {_outcome(op, value, operand) for value in values}
            if outcomes == {not required}:
                pruned.add(i)
                break
    return frozenset(pruned)
