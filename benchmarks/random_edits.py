"""Random edits of a Python project, of the kinds that change what lintgevent concludes: a call
added or removed, a route, an import, a `patch_all`, a decorator added or removed, and a statement
that only moves the lines below it.  Each edit leaves every file parseable.

The test suite (tests/test_incremental.py) and benchmarks/bench_check.py apply a sequence of them
and compare a run that reuses the cache with a run without one after each: an incremental run must
say exactly what a cold run says.  Standard library only.
"""
from __future__ import annotations

import ast
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Calls an edit may add: blocking under gevent (file IO, a sleep) or not.
ADDED_CALLS = ("open(__file__).read()", "__import__('time').sleep(1)", "print('edited')",
               "__import__('subprocess').check_output(['true'])")
ADDED_IMPORTS = ("import time", "import subprocess", "from os import path as _edit_path", "import gevent",
                 "from gevent import monkey")
PATCH_ALL = "from gevent import monkey; monkey.patch_all()"


@dataclass(frozen=True)
class Applied:
    kind: str
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.kind} at {self.path}:{self.line}"


class RandomEdits:
    """Edits the .py files below `root` in place; `rng` decides which and where."""

    def __init__(self, root: Path, rng: random.Random):
        self.root = root
        self.rng = rng
        self.count = 0
        self._files = sorted(p for p in root.rglob("*.py") if _parses(p.read_bytes()))

    def apply(self, kind: str | None = None) -> Applied | None:
        """One edit of `kind` (random if None) in a random file that allows it; None if none does."""
        kind = kind or self.rng.choice(KINDS)
        files = list(self._files)
        self.rng.shuffle(files)
        for path in files:
            source = path.read_text(encoding="utf-8", errors="surrogateescape")
            try:
                tree = ast.parse(source)
            except (SyntaxError, ValueError):
                continue
            lines = source.splitlines(keepends=True)
            if lines and not lines[-1].endswith("\n"):
                lines[-1] += "\n"
            self.count += 1
            edited = EDITS[kind](self, tree, lines)
            if edited is None:
                continue
            new_lines, line = edited
            new_source = "".join(new_lines)
            if not _parses(new_source.encode("utf-8", errors="surrogateescape")):
                continue  # an odd layout (a body on the `def` line, a backslash): try another file
            path.write_text(new_source, encoding="utf-8", errors="surrogateescape")
            return Applied(kind, path.relative_to(self.root), line)
        return None

    # -- the edits: (tree, lines) -> (new lines, 1-based line edited) or None -------------------
    def _functions(self, tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
        return [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and node.body[0].lineno > node.lineno]

    def _pick(self, nodes: list):
        return self.rng.choice(nodes) if nodes else None

    def add_call(self, tree, lines):
        function = self._pick(self._functions(tree))
        if function is None:
            return None
        first = _after_docstring(function.body)
        indent = _indent(lines, first)
        call = self.rng.choice(ADDED_CALLS)
        return _insert(lines, first.lineno - 1, f"{indent}{call}\n"), first.lineno

    def remove_call(self, tree, lines):
        calls = [stmt for function in self._functions(tree) for stmt in function.body
                 if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and stmt.lineno == stmt.end_lineno]
        stmt = self._pick(calls)
        if stmt is None:
            return None
        new = list(lines)
        new[stmt.lineno - 1] = f"{_indent(lines, stmt)}pass\n"
        return new, stmt.lineno

    def add_route(self, tree, lines):
        """A view on a router this file already routes with (`@bp.route(...)`), else on a new Flask app."""
        n = self.count
        routers = sorted({ast.unparse(d.func.value) for node in ast.walk(tree)
                          if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) for d in node.decorator_list
                          if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "route"})
        if routers:
            header, router = "", self.rng.choice(routers)
        else:
            router = f"_edit_app_{n}"
            header = f"\nimport flask as _edit_flask_{n}\n{router} = _edit_flask_{n}.Flask(__name__)\n"
        view = f"\n\n@{router}.route('/edit-{n}')\ndef _edit_view_{n}():\n    return {self.rng.choice(ADDED_CALLS)}\n"
        return [*lines, header + view], len(lines) + 1

    def add_import(self, tree, lines):
        line = _after_module_header(tree)
        return _insert(lines, line, self.rng.choice(ADDED_IMPORTS) + "\n"), line + 1

    def toggle_patch_all(self, tree, lines):
        for number, text in enumerate(lines):
            if text.rstrip("\n") == PATCH_ALL:
                new = list(lines)
                new[number] = "pass\n"
                return new, number + 1
        line = self.rng.choice([0, _after_module_header(tree), len(lines)])
        return _insert(lines, line, PATCH_ALL + "\n"), line + 1

    def add_decorator(self, tree, lines):
        """A decorator this file uses elsewhere (`@app.route(...)`, `@login_required`), on another function."""
        functions = [f for f in self._functions(tree) if f.col_offset == 0 or self.rng.random() < 0.3]
        used = sorted({"".join(lines[d.lineno - 1:d.end_lineno]).strip() for f in functions for d in f.decorator_list
                       if d.lineno == d.end_lineno and lines[d.lineno - 1].lstrip().startswith("@")})
        function = self._pick(functions)
        if function is None:
            return None
        decorator = self.rng.choice(used) if used else "@__import__('functools').lru_cache"
        line = (function.decorator_list[0].lineno if function.decorator_list else function.lineno) - 1
        return _insert(lines, line, " " * function.col_offset + decorator + "\n"), line + 1

    def remove_decorator(self, tree, lines):
        decorators = [d for f in self._functions(tree) for d in f.decorator_list
                      if d.lineno == d.end_lineno and lines[d.lineno - 1].lstrip().startswith("@")]
        decorator = self._pick(decorators)
        if decorator is None:
            return None
        new = list(lines)
        del new[decorator.lineno - 1]
        return new, decorator.lineno

    def shift_lines(self, tree, lines):
        """A statement that moves every line below it and changes nothing else."""
        function = self._pick(self._functions(tree))
        if function is None:
            return None
        last = function.body[-1]
        return _insert(lines, last.end_lineno, f"{_indent(lines, last)}_edit_{self.count} = {self.count}\n"), \
            last.end_lineno + 1


EDITS: dict[str, Callable] = {
    "add call": RandomEdits.add_call,
    "remove call": RandomEdits.remove_call,
    "add route": RandomEdits.add_route,
    "add import": RandomEdits.add_import,
    "toggle patch_all": RandomEdits.toggle_patch_all,
    "add decorator": RandomEdits.add_decorator,
    "remove decorator": RandomEdits.remove_decorator,
    "shift lines": RandomEdits.shift_lines,
}
KINDS = tuple(EDITS)


def _parses(data: bytes) -> bool:
    try:
        ast.parse(data)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


def _insert(lines: list[str], at: int, text: str) -> list[str]:
    return [*lines[:at], text, *lines[at:]]


def _indent(lines: list[str], stmt: ast.stmt) -> str:
    text = lines[stmt.lineno - 1]
    return text[:len(text) - len(text.lstrip())]


def _after_docstring(body: list[ast.stmt]) -> ast.stmt:
    first = body[0]
    if len(body) > 1 and isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str):
        return body[1]
    return first


def _after_module_header(tree: ast.Module) -> int:
    """The line after the module docstring and `from __future__` imports (0-based insert index)."""
    line = 0
    for stmt in tree.body:
        is_docstring = isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and line == 0
        if is_docstring or (isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"):
            line = stmt.end_lineno
        else:
            break
    return line
