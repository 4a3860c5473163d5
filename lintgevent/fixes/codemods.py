"""Each rule's codemod: what `lintgevent fix` applies to a file's findings of that rule."""
from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from ..findings import Finding
from . import gev201_move_decorator, gev203_copy_request_context, gev301_offload_write, gev302_yield_in_loop
from .options import FixOptions

Codemod = Callable[[cst.Module, list[Finding], FixOptions], tuple[cst.Module, dict[Finding, str]]]

CODEMODS: dict[str, Codemod] = {
    "GEV201": gev201_move_decorator.apply,
    "GEV203": gev203_copy_request_context.apply,
    "GEV301": gev301_offload_write.apply,
    "GEV302": gev302_yield_in_loop.apply,
}
