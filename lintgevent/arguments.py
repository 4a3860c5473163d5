"""What a call gives for each parameter of the function it calls."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # summary.py imports what imports this module
    from .summary import Call, Function


def passed_params(function: Function) -> tuple:
    """The parameters a call passes: all but `self` or `cls` of a method."""
    if not function.cls or not function.params or any(d.text == "staticmethod" for d in function.decorators):
        return function.params
    return function.params[1:]


def argument_slot(function: Function, call: Call, name: str) -> int | str:
    """Where a call gives parameter `name`: its position among the call's arguments, else the name
    (a keyword, or nothing)."""
    params = passed_params(function)
    if name in params and params.index(name) < len(call.args):
        return params.index(name)
    return name


def passed(target: Function, call: Call, wanted: str) -> tuple[list, bool]:
    """(descriptors the call gives for parameter `wanted`, whether each is one element of
    `*args`/`**kwargs`); the default when the call leaves it out."""
    params = passed_params(target)
    if wanted == target.star:
        return list(call.args[len(params):]), True
    if wanted == target.double_star:
        return [desc for name, desc in call.kwargs if name not in params], True
    slot = argument_slot(target, call, wanted)
    if type(slot) is int:
        return [call.args[slot]], False
    given = [desc for name, desc in call.kwargs if name == wanted]
    if given:
        return given, False
    return [desc for name, desc in target.defaults if name == wanted], False
