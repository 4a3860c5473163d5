"""GEV302 fix: let the hub run in a write loop.

An ineffective `gevent.sleep(0)` (or `sleep()`) in the loop becomes `gevent.idle()`.  Otherwise
`gevent.idle()` goes first in the loop body (first, so a `continue` cannot skip it), every
`EVERY` iterations where the loop already counts:

    for row in rows:               for row in rows:
        out.write(row)       ->        gevent.idle()
                                       out.write(row)

    for i, row in enumerate(rows):      for i, row in enumerate(rows):
        out.write(row)             ->       if i % 100 == 0:
                                                gevent.idle()
                                            out.write(row)

`gevent.idle()` waits until the hub has polled for IO once and costs about 7 microseconds (measured
with gevent 26.9); every 100 iterations that is nothing next to the writes, every iteration it can be
several times the cost of a short line's write, but the hub never waits longer than one item.
"""
from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper

from ..findings import Finding
from .common import CharPositions, Located, gevent_name, with_module_import
from .options import FixOptions

EVERY = 100
NOT_FOUND = "the code no longer matches what was analysed"


class _Yield(Located):
    def __init__(self, loops: dict, sleeps: dict, idle: cst.BaseExpression):
        super().__init__()
        self.loops = loops  # position -> (finding, counter)
        self.sleeps = sleeps  # position -> finding
        self.idle = idle
        self.done: set[Finding] = set()
        self.replaced: set[Finding] = set()

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        finding = self.sleeps.get(self.position(original))
        if finding is None:
            return updated
        self.replaced.add(finding)
        return cst.Call(self.idle, lpar=updated.lpar, rpar=updated.rpar)

    def _leave_loop(self, original: cst.For | cst.While, updated: cst.For | cst.While) -> cst.For | cst.While:
        found = self.loops.get(self.position(original))
        if found is None:
            return updated
        finding, counter = found
        if finding in self.replaced:
            self.done.add(finding)
            return updated
        idle = cst.SimpleStatementLine([cst.Expr(cst.Call(self.idle))])
        first = idle
        if counter:
            first = cst.If(cst.parse_expression(f"{counter} % {EVERY} == 0"), cst.IndentedBlock([idle]))
        body = updated.body
        if isinstance(body, cst.SimpleStatementSuite):  # `for x in y: out.write(x)`
            block = cst.IndentedBlock([first, cst.SimpleStatementLine(body.body)], header=body.trailing_whitespace)
        else:
            block = body.with_changes(body=[first, *body.body])
        self.done.add(finding)
        return updated.with_changes(body=block)

    def leave_For(self, original: cst.For, updated: cst.For) -> cst.For:
        return self._leave_loop(original, updated)

    def leave_While(self, original: cst.While, updated: cst.While) -> cst.While:
        return self._leave_loop(original, updated)


def apply(module: cst.Module, findings: list[Finding], options: FixOptions) -> tuple[cst.Module, dict[Finding, str]]:
    at = CharPositions(module)
    loops, sleeps = {}, {}
    for finding in findings:
        plan = finding.fix_plan
        loops[at(plan["loop"])] = (finding, plan["counter"])
        sleeps.update((at(position), finding) for position in plan["sleeps"])
    idle, needs_import = gevent_name(module, "idle")
    transformer = _Yield(loops, sleeps, idle)
    result = MetadataWrapper(module).visit(transformer)
    if needs_import and transformer.done:
        result = with_module_import(result, "gevent")
    return result, {f: NOT_FOUND for f in findings if f not in transformer.done}
