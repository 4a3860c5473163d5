"""Baselines: record today's findings, then report only new ones.

A finding is matched by its file, code, enclosing function and normalised source line, never by
line number, so edits elsewhere that shift lines do not bring recorded findings back.  The same
key may be recorded several times (two identical calls in one function); that many are accepted.
"""
from __future__ import annotations

import ast
import io
import json
import os
import tokenize
from collections import Counter

from .findings import Finding
from .lines import decode_source, split_lines

FORMAT_VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be read."""


def _normalised(line: str) -> str:
    """The line's code without its comment and with runs of whitespace made one space."""
    code = line
    try:
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            if token.type == tokenize.COMMENT:
                code = line[:token.start[1]]
                break
    except (tokenize.TokenError, SyntaxError):
        pass  # a line of a longer statement: keep it whole
    return " ".join(code.split())


def _functions(source: str) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function and class, outer ones first."""
    spans: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                spans.append((child.lineno, child.end_lineno or child.lineno, name))
                visit(child, name + ".")
            else:
                visit(child, prefix)

    try:
        visit(ast.parse(source), "")
    except (SyntaxError, ValueError, RecursionError):
        return []
    return spans


class SourceKeys:
    """The baseline key of findings, reading each file once."""

    def __init__(self, root: str):
        self.root = root
        self.files: dict[str, tuple[list[str], list]] = {}

    def _file(self, path: str) -> tuple[list[str], list]:
        if path not in self.files:
            try:
                with open(path, "rb") as handle:
                    source = decode_source(handle.read())
            except OSError:
                source = ""
            self.files[path] = (split_lines(source), _functions(source))
        return self.files[path]

    def key(self, finding: Finding) -> tuple[str, str, str, str]:
        lines, functions = self._file(finding.path)
        enclosing = [name for first, last, name in functions if first <= finding.line <= last]
        text = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
        relative = os.path.relpath(finding.path, self.root).replace(os.sep, "/")
        return relative, finding.code, enclosing[-1] if enclosing else "", _normalised(text)


def write_baseline(path: str, findings: list[Finding]) -> None:
    keys = SourceKeys(os.path.dirname(os.path.abspath(path)))
    counts = Counter(keys.key(f) for f in findings)
    entries = [{"path": p, "code": c, "function": fn, "source": s, "count": n}
               for (p, c, fn, s), n in sorted(counts.items())]
    data = {"tool": "lintgevent", "version": FORMAT_VERSION, "findings": entries}
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
    os.replace(temporary, path)


def read_baseline(path: str) -> Counter:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return Counter({(e["path"], e["code"], e["function"], e["source"]): int(e.get("count", 1))
                        for e in data["findings"]})
    except OSError as error:
        raise BaselineError(f"cannot read baseline {path}: {error.strerror}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise BaselineError(f"{path} is not a lintgevent baseline ({type(error).__name__}: {error})") from None


def new_findings(path: str, recorded: Counter, findings: list[Finding]) -> list[Finding]:
    """The findings that the baseline read from `path` does not account for."""
    remaining = Counter(recorded)
    keys = SourceKeys(os.path.dirname(os.path.abspath(path)))
    new = []
    for finding in findings:
        key = keys.key(finding)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            new.append(finding)
    return new
