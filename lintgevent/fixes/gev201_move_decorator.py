"""GEV201 fix: move the handle-injecting decorator from the spawning function onto the greenlet's
function, and stop passing the handle.

    @get_dbc                                            def assign(self, user_id):
    def assign(self, dbc, user_id):                         self.pool.spawn(self.write, user_id)
        self.pool.spawn(self.write, dbc, user_id)   ->
                                                        @get_dbc
    def write(self, dbc, user_id): ...                  def write(self, dbc, user_id): ...

The check decides whether it is safe (see checks/handles.py); this module applies the plan and
refuses when the code does not look the way the plan says.  The decorator keeps its arguments and
comments and becomes the innermost decorator of the target, next to the parameters it fills.
"""
from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper

from ..findings import Finding
from .common import CharPositions, QualnameTracker, moved, without
from .options import FixOptions

CHANGED = "the code no longer matches what was analysed"


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    return [*params.posonly_params, *params.params]


def _followed(params: cst.Parameters, in_posonly: bool) -> bool:
    """Whether anything comes after the positional parameters (so the last one keeps its comma)."""
    rest = isinstance(params.star_arg, cst.Param) or bool(params.kwonly_params) or params.star_kwarg is not None
    return rest or (in_posonly and bool(params.params)) or isinstance(params.star_arg, cst.ParamStar)


def _drop_param(params: cst.Parameters, name: str) -> cst.Parameters:
    for field in ("posonly_params", "params"):
        items = getattr(params, field)
        for index, param in enumerate(items):
            if param.name.value == name:
                kept = without(items, index, _followed(params, field == "posonly_params"))
                if field == "posonly_params" and not kept:  # a `/` with nothing before it is a syntax error
                    return params.with_changes(posonly_params=kept, posonly_ind=cst.MaybeSentinel.DEFAULT)
                return params.with_changes(**{field: kept})
    raise KeyError(name)


def _defaults_in_order(params: list[cst.Param]) -> bool:
    """No parameter without a default follows one with a default."""
    return not any(a.default is not None and b.default is None for a, b in zip(params, params[1:]))


class _Survey(QualnameTracker):
    """Pass one, changing nothing: the functions and calls the plans name."""

    def __init__(self, at: CharPositions) -> None:
        super().__init__()
        self.at = at
        self.functions: dict[str, cst.FunctionDef] = {}
        self.calls: dict[tuple[int, int], cst.Call] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        super().visit_FunctionDef(node)
        self.functions.setdefault(".".join(self.names), node)

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.setdefault(self.position(node), node)

    def problem(self, plan: dict) -> str:
        source = self.functions.get(plan["function"])
        target = self.functions.get(plan["target"])
        call = self.calls.get(self.at(plan["call"]))
        if source is None or target is None or call is None:
            return CHANGED
        if plan["decorator"] >= len(source.decorators):
            return CHANGED
        if plan["param"] not in {p.name.value for p in _all_params(source.params)}:
            return CHANGED
        slot = plan["slot"]
        if slot >= len(call.args) or call.args[slot].keyword is not None or call.args[slot].star:
            return CHANGED
        value = call.args[slot].value
        if not isinstance(value, cst.Name) or value.value != plan["param"]:
            return CHANGED
        target_params = _all_params(target.params)
        if plan["arrives_at"] >= len(target_params):
            return CHANGED
        if plan["arrives_at"] != plan["inject_at"]:
            if len(target.params.posonly_params) or plan["inject_at"] >= len(target_params):
                return f"`{plan['target']}` would need its parameters reordered across `/`"
            reordered = list(target.params.params)
            reordered.insert(plan["inject_at"], reordered.pop(plan["arrives_at"]))
            if not _defaults_in_order(reordered):
                return (f"`{plan['target']}` would need `{plan['param']}` moved, which puts a parameter without "
                        "a default after one with a default")
        return ""


class _Move(QualnameTracker):
    def __init__(self, plans: list[dict], decorators: dict[str, list[cst.Decorator]], at: CharPositions):
        super().__init__()
        self.sources = {p["function"]: p for p in plans}
        self.targets = {p["target"]: p for p in plans}
        self.decorators = decorators
        self.calls = {at(p["call"]): p for p in plans}

    def function_left(self, name: str, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        plan = self.sources.get(name)
        if plan is not None:
            kept = [d for i, d in enumerate(updated.decorators) if i != plan["decorator"]]
            updated = updated.with_changes(decorators=kept, params=_drop_param(updated.params, plan["param"]))
        plan = self.targets.get(name)
        if plan is not None:
            updated = updated.with_changes(decorators=[*updated.decorators, *self.decorators[name]])
            if plan["arrives_at"] != plan["inject_at"]:
                params = updated.params.params
                updated = updated.with_changes(params=updated.params.with_changes(
                    params=moved(params, plan["arrives_at"], plan["inject_at"])))
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        plan = self.calls.get(self.position(original))
        if plan is None:
            return updated
        return updated.with_changes(args=without(updated.args, plan["slot"]))


def apply(module: cst.Module, findings: list[Finding], options: FixOptions) -> tuple[cst.Module, dict[Finding, str]]:
    at = CharPositions(module)
    wrapper = MetadataWrapper(module)
    plans = {f: f.fix_plan for f in findings}
    survey = _Survey(at)
    wrapper.visit(survey)
    refused: dict[Finding, str] = {}
    accepted: list[dict] = []
    touched: set[str] = set()
    for finding, plan in plans.items():
        reason = survey.problem(plan)
        if not reason and touched & {plan["function"], plan["target"]}:
            reason = "another fix in this run already changes one of these functions; run the fix again"
        if reason:
            refused[finding] = reason
            continue
        touched |= {plan["function"], plan["target"]}
        accepted.append(plan)
    decorators: dict[str, list[cst.Decorator]] = {}
    for plan in accepted:
        decorator = survey.functions[plan["function"]].decorators[plan["decorator"]]
        # Blank lines stay where they were; comments about the decorator travel with it.
        comments = [line for line in decorator.leading_lines if line.comment is not None]
        decorators.setdefault(plan["target"], []).append(decorator.with_changes(leading_lines=comments))
    if not accepted:
        return module, refused
    return wrapper.visit(_Move(accepted, decorators, at)), refused
