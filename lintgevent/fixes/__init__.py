"""libcst codemods, one module per rule they fix.

Each codemod takes a parsed module and the findings of its rule in that file (their `fix` plans come
from the rule's check) and returns the new module and, for each finding it left alone, the reason.
"""
from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from ..findings import Finding
from . import gev201_move_decorator, gev203_copy_request_context

Codemod = Callable[[cst.Module, list[Finding]], tuple[cst.Module, dict[Finding, str]]]

CODEMODS: dict[str, Codemod] = {
    "GEV201": gev201_move_decorator.apply,
    "GEV203": gev203_copy_request_context.apply,
}
