"""`lintgevent fix`: run the engine, apply the codemods of the fixable findings, check and write.

Fixes are worked out in memory, round after round (a fix can make another one possible, and each
round re-analyses the project with the fixed sources), then written: each file only if its new text
parses, atomically (a temporary file beside it, then a rename).
"""
from __future__ import annotations

import ast
import os
import tempfile
from dataclasses import dataclass, field

import libcst as cst

from .config import Config
from .engine import analyse_project
from .findings import FileError, Finding
from .fixes import CODEMODS
from .fixes.options import FixOptions
from .noqa import noqa_map
from .reporting import reported

MAX_ROUNDS = 5


@dataclass
class FixResult:
    originals: dict[str, bytes] = field(default_factory=dict)  # path -> text before the first fix
    fixed: dict[str, bytes] = field(default_factory=dict)  # path -> text after every fix
    refused: dict[tuple, tuple[Finding, str]] = field(default_factory=dict)  # (path, code, message) -> why not
    errors: list[FileError] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        return sorted(p for p, text in self.fixed.items() if text != self.originals[p])


def _wanted(findings: list[Finding], files: set[str], root: str, config: Config,
            sources: dict[str, bytes]) -> list[Finding]:
    """The fixable findings asked for, selected and not silenced by `# noqa`; `sources` gains the
    text of their files (read from disk for those no fix has changed yet)."""
    fixable = [f for f in findings if f.path in files and f.code in CODEMODS]
    paths = sorted({f.path for f in fixable})
    for path in paths:
        if path not in sources:
            with open(path, "rb") as handle:
                sources[path] = handle.read()
    maps = {path: noqa_map(path, sources[path]) for path in paths}
    return [f for f in reported(fixable, paths, root, config, noqa_maps=maps) if f.code in CODEMODS]


def _rewrite(source: bytes, code: str, findings: list[Finding],
             options: FixOptions) -> tuple[bytes, dict[Finding, str]]:
    """The file's text with one rule's fixes applied; the source itself when the result would not parse."""
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        return source, {f: f"libcst cannot parse this file ({error.message})" for f in findings}
    new_module, refused = CODEMODS[code](module, findings, options)
    new = new_module.bytes
    if new == source:
        return source, refused
    try:
        cst.parse_module(new)
        ast.parse(new)
    except (SyntaxError, cst.ParserSyntaxError) as error:
        reason = f"the fixed text would not parse ({error.__class__.__name__}); nothing written"
        return source, {f: refused.get(f, reason) for f in findings}
    return new, refused


def fix_project(root: str, config: Config, files: list[str], options: FixOptions = FixOptions(),
                use_cache: bool = True) -> FixResult:
    """Fixes for the findings in `files` (the project is indexed whole), worked out in memory."""
    result = FixResult()
    wanted_files = set(files)
    # Refusals are reported where the finding was in the files as they are on disk: the first round's.
    first_seen: dict[tuple, Finding] = {}
    for _ in range(MAX_ROUNDS):
        analysis = analyse_project(root, config, use_cache, tuple(files), sources=result.fixed)
        result.errors = [e for e in analysis.errors if e.path in wanted_files]
        current = dict(result.fixed)
        by_path: dict[str, list[Finding]] = {}
        result.refused = {}  # what is left unfixed is what the last round found
        for finding in _wanted(analysis.findings, wanted_files, root, config, current):
            key = (finding.path, finding.code, finding.message)
            first_seen.setdefault(key, finding)
            plan = finding.fix_plan
            if "refuse" in plan:
                result.refused.setdefault(key, (first_seen[key], plan["refuse"]))
            else:
                by_path.setdefault(finding.path, []).append(finding)
        progressed = False
        for path, findings in sorted(by_path.items()):
            # One rule per file per round, so the positions of the others stay true: the first rule,
            # in code order, whose fixes change something.
            source = current[path]
            for code in sorted({f.code for f in findings}):
                new, refused = _rewrite(source, code, [f for f in findings if f.code == code], options)
                for finding, reason in refused.items():
                    key = (finding.path, finding.code, finding.message)
                    result.refused.setdefault(key, (first_seen[key], reason))
                if new != source:
                    result.originals.setdefault(path, source)
                    result.fixed[path] = new
                    progressed = True
                    break
        if not progressed:
            break
    return result


def write_atomically(path: str, data: bytes) -> None:
    """Replace a file's content in one step: never a half-written file, even if interrupted."""
    directory = os.path.dirname(os.path.abspath(path))
    mode = os.stat(path).st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(prefix=".lintgevent-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
