"""GEV203 fix: wrap the spawned function in `flask.copy_current_request_context(...)`.

    gevent.spawn(send_report, user_id)
 -> gevent.spawn(copy_current_request_context(send_report), user_id)

The wrapper is made where the spawn runs, inside the request, so the greenlet gets a copy of that
request's context.  The name is taken from the module's imports when it is already there (`from
flask import copy_current_request_context as copy_ctx`, or `import flask`); otherwise it joins the
module's last `from flask import ...`, or a new import goes after the last module-level import (never
above `monkey.patch_all()`, which must run before the other imports).
"""
from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper

from ..findings import Finding
from .common import CharPositions, Located, bound_name, with_from_import
from .options import FixOptions

MODULE, NAME = "flask", "copy_current_request_context"


class _Wrap(Located):
    def __init__(self, plans: dict[tuple[int, int], tuple[Finding, dict]], wrapper_name: cst.BaseExpression):
        super().__init__()
        self.plans = plans
        self.wrapper_name = wrapper_name
        self.done: set[Finding] = set()

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        found = self.plans.get(self.position(original))
        if found is None:
            return updated
        finding, plan = found
        args = list(updated.args)
        positional = [i for i, a in enumerate(args) if a.keyword is None and not a.star]
        index = next((i for i, a in enumerate(args) if a.keyword and a.keyword.value == plan["keyword"]), None)
        if index is None and plan["arg"] < len(positional) and all(not a.star for a in args[: positional[plan["arg"]]]):
            index = positional[plan["arg"]]
        if index is None:
            return updated
        args[index] = args[index].with_changes(value=cst.Call(self.wrapper_name, [cst.Arg(args[index].value)]))
        self.done.add(finding)
        return updated.with_changes(args=args)


def apply(module: cst.Module, findings: list[Finding], options: FixOptions) -> tuple[cst.Module, dict[Finding, str]]:
    at = CharPositions(module)
    plans = {at(f.fix_plan["call"]): (f, f.fix_plan) for f in findings}
    name = bound_name(module, MODULE, NAME)
    transformer = _Wrap(plans, name or cst.Name(NAME))
    result = MetadataWrapper(module).visit(transformer)
    refused = {f: "the spawned function is not a plain argument of the call" for f in findings
               if f not in transformer.done}
    if transformer.done and name is None:
        result = with_from_import(result, MODULE, NAME)
    return result, refused
