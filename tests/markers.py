"""`# error: GEVnnn` markers in example files, and the findings to compare them with."""
from __future__ import annotations

import io
import os
import re
import tokenize

from lintgevent.config import load_config
from lintgevent.engine import analyse_project
from lintgevent.reporting import reported
from lintgevent.config_files import find_project_root
from lintgevent.sources import python_files

MARKER = re.compile(r"#\s*error:\s*(?P<codes>GEV\d+(?:\s*,\s*GEV\d+)*)(?:\s*\[(?P<severity>low|medium|high)\])?")
MARKER_COMMENT = re.compile(r"[ \t]*#\s*error:\s*GEV\d+(?:\s*,\s*GEV\d+)*")


def _markers(path: str):
    """(line, code, severity or None) of every marker in a file: `# error: GEV101 [low]`."""
    with open(path, "rb") as handle:
        for token in tokenize.tokenize(io.BytesIO(handle.read()).readline):
            if token.type == tokenize.COMMENT:
                match = MARKER.search(token.string)
                if match:
                    for code in re.split(r"\s*,\s*", match.group("codes")):
                        yield token.start[0], code, match.group("severity")


def expected(path: str) -> set[tuple[str, int, str]]:
    """(path, line, code) for every marker in a file."""
    return {(path, line, code) for line, code, _ in _markers(path)}


def expected_in(directory: str) -> set[tuple[str, int, str]]:
    out = set()
    for path in python_files(os.path.abspath(directory), directory, []):
        out |= expected(path)
    return out


def expected_severities_in(directory: str) -> dict[tuple[str, int, str], str]:
    """(path, line, code) -> severity, for the markers that give one."""
    return {(path, line, code): severity for path in python_files(os.path.abspath(directory), directory, [])
            for line, code, severity in _markers(path) if severity}


def reported_in(directory: str, **overrides) -> list:
    """The findings `lintgevent check` reports for the files below a directory, with the whole
    project indexed and GEV002 (unused noqa, off by default) on."""
    directory = os.path.abspath(directory)
    root = find_project_root(directory)
    config = load_config(root, {"extend_select": ["GEV002"], **overrides})
    result = analyse_project(root, config, use_cache=False)
    files = [path for path in result.files if path.startswith(directory + os.sep)]
    return reported(result.findings, files, root, config, result.errors)


def actual_in(directory: str, **overrides) -> set[tuple[str, int, str]]:
    """(path, line, code) of what `reported_in` gives."""
    return {(f.path, f.line, f.code) for f in reported_in(directory, **overrides)}


def unmarked(text: str) -> str:
    return MARKER_COMMENT.sub("", text)


def with_markers(text: str, findings: set[tuple[int, str]]) -> str:
    """The text with a `# error:` comment at the end of each line that has findings."""
    by_line: dict[int, list[str]] = {}
    for line, code in sorted(findings):
        by_line.setdefault(line, []).append(code)
    lines = text.splitlines(keepends=True)
    for line, codes in by_line.items():
        body = lines[line - 1].rstrip("\n")
        lines[line - 1] = f"{body}  # error: {', '.join(codes)}\n"
    return "".join(lines)
