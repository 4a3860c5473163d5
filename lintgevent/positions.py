"""Line numbers in the text of findings, deployments and processes, kept as marks until a run ends.

The checks write a line of a file into a message as `mark(path, line)`, never as a bare number, and
a set of lines as `mark_lines(path, lines)`.  The engine renders the marks once the run's results
are complete; until then they say which file a number belongs to, so that the results of a run can
be moved to the lines of a file that changed by lines only (relocation.py).
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable

_START, _SEP, _END = "\x1f", "\x1e", "\x1d"
_MARK = re.compile("\x1f([^\x1e\x1f\x1d]*)\x1e([0-9,]*)(\x1es)?\x1d")


def mark(path: str, line: int) -> str:
    """A line of `path`, rendered as its number."""
    return f"{_START}{path}{_SEP}{line}{_END}"


def mark_lines(path: str, lines: Iterable[int]) -> str:
    """Lines of `path`, rendered as spans: `3-5, 9`."""
    return f"{_START}{path}{_SEP}{','.join(map(str, sorted(set(lines))))}{_SEP}s{_END}"


def _spans(lines: list[int]) -> str:
    runs: list[list[int]] = []
    for line in lines:
        if runs and line == runs[-1][-1] + 1:
            runs[-1].append(line)
        else:
            runs.append([line])
    return ", ".join(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)


def render(text: str) -> str:
    """The text as it is shown: every mark replaced by its numbers."""
    if _START not in text:
        return text
    return _MARK.sub(lambda m: _spans([int(n) for n in m.group(2).split(",")]) if m.group(3) else m.group(2), text)


def moved(text: str, move: Callable[[str, int], int | None]) -> str | None:
    """The text with the line of every mark moved by `move(path, line)`, which gives the new line,
    the same line when that file did not change, or None when it cannot tell: then None."""
    if _START not in text:
        return text
    failed = False

    def replace(match: re.Match) -> str:
        nonlocal failed
        path = match.group(1)
        lines = [move(path, int(n)) for n in match.group(2).split(",")]
        if None in lines:
            failed = True
            return ""
        return f"{_START}{path}{_SEP}{','.join(map(str, lines))}{match.group(3) or ''}{_END}"

    result = _MARK.sub(replace, text)
    return None if failed else result


def rendered_results(findings: list, deployments: dict, processes: list) -> list:
    """The findings with their marks rendered; the deployments' and processes' texts are rendered
    in place (a Deployment may be shared by several of them)."""
    for deployment in [*deployments.values(), *(p.deployment for p in processes)]:
        deployment.source[:] = [render(text) for text in deployment.source]
    for process in processes:
        process.where = render(process.where)
    return [dataclasses.replace(f, message=render(f.message), chain=render(f.chain))
            if _START in f.message or _START in f.chain else f for f in findings]
