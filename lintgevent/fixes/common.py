"""What the codemods share: finding nodes by the position the engine reported, and list surgery
that keeps commas and comments where they belong."""
from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
from libcst.metadata import PositionProvider


def char_column(lines: Sequence[str], line: int, byte_col: int) -> int:
    """The engine reports ast's columns, which count UTF-8 bytes; libcst counts characters."""
    if not 0 < line <= len(lines):
        return byte_col
    return len(lines[line - 1].encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


class Located(cst.CSTTransformer):
    """A transformer that knows where each original node starts."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def position(self, node: cst.CSTNode) -> tuple[int, int]:
        start = self.get_metadata(PositionProvider, node).start
        return start.line, start.column


class QualnameTracker(Located):
    """Knows the qualified name (`Class.method`, `outer.inner`) of each function it leaves, the way
    the engine's summaries name functions."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.names.append(node.name.value)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.names.pop()
        return updated

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.names.append(node.name.value)

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        qualname = ".".join(self.names)
        self.names.pop()
        return self.function_left(qualname, original, updated)

    def function_left(self, qualname: str, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        return updated


def without(items: Sequence, index: int, followed: bool = False) -> list:
    """The list without one element; when the last one goes, the one before takes its comma (so no
    dangling comma appears where there was none)."""
    items = list(items)
    removed = items.pop(index)
    if index == len(items) and index > 0 and not followed:
        items[-1] = items[-1].with_changes(comma=removed.comma)
    return items


def moved(items: Sequence, source: int, destination: int) -> list:
    """The list with one element moved; commas follow positions, not elements."""
    commas = [item.comma for item in items]
    items = list(items)
    items.insert(destination, items.pop(source))
    return [item.with_changes(comma=comma) for item, comma in zip(items, commas)]
