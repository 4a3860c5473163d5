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
from .common import Located, char_column

MODULE, NAME = "flask", "copy_current_request_context"


def _bound_name(module: cst.Module) -> cst.BaseExpression | None:
    """An expression naming flask.copy_current_request_context with the module's own imports."""
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if _from_flask(small):
                for alias in small.names:
                    if cst.helpers.get_full_name_for_node(alias.name) == NAME:
                        return cst.Name(alias.evaluated_alias or NAME)
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    if cst.helpers.get_full_name_for_node(alias.name) == MODULE:
                        return cst.Attribute(cst.Name(alias.evaluated_alias or MODULE), cst.Name(NAME))
    return None


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


def apply(module: cst.Module, findings: list[Finding]) -> tuple[cst.Module, dict[Finding, str]]:
    lines = module.code.splitlines()
    plans = {}
    for finding in findings:
        plan = finding.fix_plan
        line, col = plan["call"]
        plans[(line, char_column(lines, line, col))] = (finding, plan)
    name = _bound_name(module)
    transformer = _Wrap(plans, name or cst.Name(NAME))
    result = MetadataWrapper(module).visit(transformer)
    refused = {f: "the spawned function is not a plain argument of the call" for f in findings
               if f not in transformer.done}
    if transformer.done and name is None:
        result = _with_import(result)
    return result, refused


def _is_import_line(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body)


def _from_flask(small: cst.BaseSmallStatement) -> bool:
    return (isinstance(small, cst.ImportFrom) and small.relative == () and small.module is not None
            and cst.helpers.get_full_name_for_node(small.module) == MODULE
            and not isinstance(small.names, cst.ImportStar))


def _with_import(module: cst.Module) -> cst.Module:
    body = list(module.body)
    imports = [i for i, statement in enumerate(body) if _is_import_line(statement)]
    for i in reversed(imports):
        for j, small in enumerate(body[i].body):
            if _from_flask(small):
                names = list(small.names)
                last = names[-1]
                if isinstance(last.comma, cst.MaybeSentinel):
                    names[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                    names.append(cst.ImportAlias(cst.Name(NAME)))
                else:  # a trailing comma: the new name follows the same layout
                    names.append(cst.ImportAlias(cst.Name(NAME), comma=last.comma))
                smalls = list(body[i].body)
                smalls[j] = small.with_changes(names=names)
                body[i] = body[i].with_changes(body=smalls)
                return module.with_changes(body=body)
    statement = cst.parse_statement(f"from {MODULE} import {NAME}\n")
    if imports:
        body.insert(imports[-1] + 1, statement)
    else:
        docstring = bool(body) and isinstance(body[0], cst.SimpleStatementLine) and \
            isinstance(body[0].body[0], cst.Expr) and isinstance(body[0].body[0].value, cst.SimpleString)
        body.insert(1 if docstring else 0, statement)
    return module.with_changes(body=body)
