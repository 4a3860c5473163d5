"""GEV301 fix: let the hub run while one big write happens.

Strategy `threadpool` (the default) runs the same call in gevent's native threadpool; the greenlet
waits for it cooperatively, and gets its result or its exception:

    fh.write(data)                 -> gevent.get_hub().threadpool.apply(fh.write, (data,))
    json.dump(rows, out, indent=2) -> gevent.get_hub().threadpool.apply(json.dump, (rows, out), {"indent": 2})

Strategy `chunk` writes fixed-size slices with `gevent.idle()` after each (only for a `.write(data)`
statement, whose value is unused):

    fh.write(data)  ->  for offset in range(0, len(data), 1024 * 1024):
                            fh.write(data[offset:offset + 1024 * 1024])
                            gevent.idle()

Both write the same bytes as before.  Measured on the seed's write (benchmarks/bench_writes.py):
the write itself no longer holds the hub with the threadpool, and holds it for about one chunk's
time (0.05 s at gzip level 9) with chunks; building the data stays on the hub either way.
"""
from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper

from ..findings import Finding
from .common import CharPositions, Located, gevent_name, with_module_import
from .options import FixOptions

CHUNK = "1024 * 1024"
# Flask's context-bound names: a generator is consumed where the write runs, in the thread.
CONTEXT_NAMES = frozenset({"request", "session", "g", "current_app"})
NOT_FOUND = "the code no longer matches what was analysed"
NOT_A_STATEMENT = "the chunk strategy needs the write as a statement on a line of its own (its value unused)"


def _hint(call: cst.Call) -> str:
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def _free_name(taken: set[str], base: str) -> str:
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base}_{number}"
    taken.add(name)
    return name


def _parenthesised(value: cst.BaseExpression) -> cst.BaseExpression:
    """A generator expression that was a call's only argument needs its own parentheses in a tuple."""
    if isinstance(value, cst.GeneratorExp) and not value.lpar:
        return value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return value


class _Names(cst.CSTVisitor):
    """Every name a function's code uses: a new local must not shadow any of them."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


def _names_in(node: cst.CSTNode) -> set[str]:
    names = _Names()
    node.visit(names)
    return names.names


def _reads_context(node: cst.CSTNode) -> bool:
    return bool(_names_in(node) & CONTEXT_NAMES)


class _Offload(Located):
    """Strategy threadpool: rewrite the call in place."""

    def __init__(self, plans: dict, get_hub: cst.BaseExpression):
        super().__init__()
        self.plans = plans
        self.get_hub = get_hub
        self.done: dict[Finding, str] = {}  # finding -> "" when fixed, else why not

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        found = self.plans.get((*self.position(original), _hint(original)))
        if found is None:
            return updated
        finding, _ = found
        if any(arg.star for arg in updated.args):
            self.done[finding] = "the call unpacks `*args` or `**kwargs`"
            return updated
        if any(_reads_context(arg.value) for arg in updated.args if isinstance(arg.value, cst.GeneratorExp)):
            self.done[finding] = ("a generator argument reads Flask's context, and it would run in another thread "
                                  "without it")
            return updated
        positional = [arg.value for arg in updated.args if arg.keyword is None]
        keywords = [(arg.keyword.value, arg.value) for arg in updated.args if arg.keyword is not None]
        elements = [cst.Element(_parenthesised(value), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                    for value in positional]
        if elements:
            last = elements[-1]
            elements[-1] = last.with_changes(comma=cst.Comma() if len(elements) == 1 else cst.MaybeSentinel.DEFAULT)
        args = [cst.Arg(updated.func), cst.Arg(cst.Tuple(elements))]
        if keywords:
            args.append(cst.Arg(cst.Dict([cst.DictElement(cst.SimpleString(f'"{name}"'), value)
                                          for name, value in keywords])))
        apply = cst.Attribute(cst.Attribute(cst.Call(self.get_hub), cst.Name("threadpool")), cst.Name("apply"))
        self.done[finding] = ""
        return cst.Call(apply, args, lpar=updated.lpar, rpar=updated.rpar)


class _Chunk(Located):
    """Strategy chunk: replace the `.write(data)` statement by a loop over fixed-size slices."""

    def __init__(self, plans: dict, idle: cst.BaseExpression, module_names: set[str]):
        super().__init__()
        self.plans = plans
        self.idle = idle
        self.taken = [module_names]  # the names of the module, then of each enclosing function
        self.done: dict[Finding, str] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.taken.append(_names_in(node))

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        self.taken.pop()
        return updated

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine):
        calls = [(i, small.value) for i, small in enumerate(original.body)
                 if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)]
        for i, call in calls:
            found = self.plans.get((*self.position(call), _hint(call)))
            if found is None:
                continue
            finding, plan = found
            reason = self._refusal(original, updated.body[i].value, plan)
            if reason:
                self.done[finding] = reason
                return updated
            self.done[finding] = ""
            return cst.FlattenSentinel(self._loop(updated, updated.body[i].value))
        return updated

    @staticmethod
    def _refusal(line: cst.SimpleStatementLine, call: cst.Call, plan: dict) -> str:
        if plan["shape"] != "data" or _hint(call) != "write" or not isinstance(call.func, cst.Attribute):
            return "the chunk strategy splits only `.write(data)` calls; the threadpool strategy fixes this one"
        if len(line.body) != 1:
            return "the write shares its line with other statements"
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            return "the write does not take its data as its one argument"
        return ""

    def _loop(self, line: cst.SimpleStatementLine, call: cst.Call) -> list[cst.BaseStatement]:
        data = call.args[0].value
        before = []
        if not isinstance(data, cst.Name):
            name = _free_name(self.taken[-1], "data")
            before.append(cst.SimpleStatementLine(
                [cst.Assign([cst.AssignTarget(cst.Name(name))], data)], leading_lines=line.leading_lines))
            data = cst.Name(name)
        offset = _free_name(self.taken[-1], "offset")
        write = call.with_changes(args=[cst.Arg(cst.parse_expression(f"{data.value}[{offset}:{offset} + {CHUNK}]"))])
        loop = cst.For(
            target=cst.Name(offset),
            iter=cst.parse_expression(f"range(0, len({data.value}), {CHUNK})"),
            body=cst.IndentedBlock([
                cst.SimpleStatementLine([cst.Expr(write)], trailing_whitespace=line.trailing_whitespace),
                cst.SimpleStatementLine([cst.Expr(cst.Call(self.idle))]),
            ]),
            leading_lines=() if before else line.leading_lines,
        )
        return [*before, loop]


def apply(module: cst.Module, findings: list[Finding], options: FixOptions) -> tuple[cst.Module, dict[Finding, str]]:
    at = CharPositions(module)
    plans = {(*at(f.fix_plan["call"]), f.fix_plan["hint"]): (f, f.fix_plan) for f in findings}
    if options.write_strategy == "chunk":
        idle, needs_import = gevent_name(module, "idle")
        transformer = _Chunk(plans, idle, _names_in(module))
    else:
        get_hub, needs_import = gevent_name(module, "get_hub")
        transformer = _Offload(plans, get_hub)
    result = MetadataWrapper(module).visit(transformer)
    not_found = NOT_FOUND if options.write_strategy != "chunk" else NOT_A_STATEMENT
    refused = {f: transformer.done.get(f, not_found) for f in findings if transformer.done.get(f) != ""}
    if needs_import and len(refused) < len(findings):
        result = with_module_import(result, "gevent")
    return result, refused
