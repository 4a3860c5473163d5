"""What the codemods share: finding nodes by the position the engine reported, and list surgery
that keeps commas and comments where they belong."""
from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
from libcst.metadata import PositionProvider

from ..lines import character_column, split_lines


class CharPositions:
    """Fix plans hold (line, ast column), and ast's columns count UTF-8 bytes; libcst counts
    characters.  Called with a plan's position, gives the libcst one in this module."""

    def __init__(self, module: cst.Module):
        self.lines = split_lines(module.code)

    def __call__(self, position: Sequence[int]) -> tuple[int, int]:
        line, byte_col = position
        if not 0 < line <= len(self.lines):
            return line, byte_col
        return line, character_column(self.lines[line - 1], byte_col)


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


# -- names and imports ---------------------------------------------------------------------------
def _import_lines(module: cst.Module) -> list[int]:
    return [i for i, statement in enumerate(module.body)
            if isinstance(statement, cst.SimpleStatementLine)
            and all(isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body)]


def _from_package(small: cst.BaseSmallStatement, package: str) -> bool:
    return (isinstance(small, cst.ImportFrom) and small.relative == () and small.module is not None
            and cst.helpers.get_full_name_for_node(small.module) == package
            and not isinstance(small.names, cst.ImportStar))


def bound_name(module: cst.Module, package: str, name: str) -> cst.BaseExpression | None:
    """An expression for `package.name` made of the module's own top-level imports (`from package
    import name as alias`, `import package`), or None when it imports neither."""
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if _from_package(small, package):
                for alias in small.names:
                    if cst.helpers.get_full_name_for_node(alias.name) == name:
                        return cst.Name(alias.evaluated_alias or name)
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    if cst.helpers.get_full_name_for_node(alias.name) == package:
                        return cst.Attribute(cst.Name(alias.evaluated_alias or package), cst.Name(name))
    return None


def _after_imports(module: cst.Module, statement: cst.SimpleStatementLine) -> cst.Module:
    """A new statement after the last top-level import (so never above `monkey.patch_all()`, which
    must run before the other imports), or after the docstring when there is none."""
    body = list(module.body)
    imports = _import_lines(module)
    if imports:
        body.insert(imports[-1] + 1, statement)
    else:
        docstring = bool(body) and isinstance(body[0], cst.SimpleStatementLine) and \
            isinstance(body[0].body[0], cst.Expr) and isinstance(body[0].body[0].value, cst.SimpleString)
        body.insert(1 if docstring else 0, statement)
    return module.with_changes(body=body)


def _bare(whitespace: cst.BaseParenthesizableWhitespace) -> cst.BaseParenthesizableWhitespace:
    """The whitespace without its comment or blank lines: a line break copied to a new item."""
    if isinstance(whitespace, cst.ParenthesizedWhitespace):
        return whitespace.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    return whitespace


def _between_names(small: cst.ImportFrom) -> cst.BaseParenthesizableWhitespace:
    """What separates two imported names: the previous pair's, or the line break after `(` when the
    import has one name per line."""
    names = small.names
    if len(names) > 1 and isinstance(names[-2].comma, cst.Comma):
        return _bare(names[-2].comma.whitespace_after)
    if small.lpar is not None and isinstance(small.lpar.whitespace_after, cst.ParenthesizedWhitespace):
        return _bare(small.lpar.whitespace_after)
    return cst.SimpleWhitespace(" ")


def _with_name(small: cst.ImportFrom, name: str) -> cst.ImportFrom:
    """The import with `name` after its last name, in its layout (one name per line, indentation,
    trailing comma); a comment on the last name's line stays there."""
    names = list(small.names)
    last = names[-1]
    trailing = isinstance(last.comma, cst.Comma)
    # What follows the last name up to `)`: after its comma when it has one.
    tail = last.comma.whitespace_after if trailing else small.rpar.whitespace_before if small.rpar else None
    between = _between_names(small)
    if isinstance(tail, cst.ParenthesizedWhitespace) and isinstance(between, cst.ParenthesizedWhitespace):
        between, tail = between.with_changes(first_line=tail.first_line), _bare(tail)
    comma = last.comma if trailing else cst.Comma()
    names[-1] = last.with_changes(comma=comma.with_changes(whitespace_after=between))
    if trailing:
        names.append(cst.ImportAlias(cst.Name(name), comma=last.comma.with_changes(whitespace_after=tail)))
        return small.with_changes(names=names)
    names.append(cst.ImportAlias(cst.Name(name)))
    if small.rpar is None:
        return small.with_changes(names=names)
    return small.with_changes(names=names, rpar=small.rpar.with_changes(whitespace_before=tail))


def with_from_import(module: cst.Module, package: str, name: str) -> cst.Module:
    """`name` added to the module's last `from package import ...`, or a new such import."""
    body = list(module.body)
    for i in reversed(_import_lines(module)):
        for j, small in enumerate(body[i].body):
            if _from_package(small, package):
                smalls = list(body[i].body)
                smalls[j] = _with_name(small, name)
                body[i] = body[i].with_changes(body=smalls)
                return module.with_changes(body=body)
    return _after_imports(module, cst.parse_statement(f"from {package} import {name}\n"))


def with_module_import(module: cst.Module, package: str) -> cst.Module:
    """`import package` after the module's imports."""
    return _after_imports(module, cst.parse_statement(f"import {package}\n"))


def gevent_name(module: cst.Module, name: str) -> tuple[cst.BaseExpression, bool]:
    """An expression for `gevent.<name>`, and whether `import gevent` must be added for it."""
    found = bound_name(module, "gevent", name)
    if found is not None:
        return found, False
    return cst.Attribute(cst.Name("gevent"), cst.Name(name)), True
