"""`# error: GEVnnn` markers in example files, and the findings to compare them with."""
from __future__ import annotations

import io
import os
import re
import tokenize

from lintgevent.config import load_config
from lintgevent.engine import analyse_project
from lintgevent.sources import find_project_root, python_files

MARKER = re.compile(r"#\s*error:\s*(?P<codes>GEV\d+(?:\s*,\s*GEV\d+)*)")
MARKER_COMMENT = re.compile(r"[ \t]*#\s*error:\s*GEV\d+(?:\s*,\s*GEV\d+)*")


def expected(path: str) -> set[tuple[str, int, str]]:
    """(path, line, code) for every marker in a file."""
    found = set()
    with open(path, "rb") as handle:
        for token in tokenize.tokenize(io.BytesIO(handle.read()).readline):
            if token.type == tokenize.COMMENT:
                match = MARKER.search(token.string)
                if match:
                    for code in re.split(r"\s*,\s*", match.group("codes")):
                        found.add((path, token.start[0], code))
    return found


def expected_in(directory: str) -> set[tuple[str, int, str]]:
    out = set()
    for path in python_files(os.path.abspath(directory), directory, []):
        out |= expected(path)
    return out


def actual_in(directory: str, **overrides) -> set[tuple[str, int, str]]:
    """What the engine reports for the files below a directory, with the whole project indexed."""
    directory = os.path.abspath(directory)
    root = find_project_root(directory)
    result = analyse_project(root, load_config(root, overrides), use_cache=False)
    prefix = directory + os.sep
    return {(f.path, f.line, f.code) for f in result.findings if f.path.startswith(prefix)}


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
