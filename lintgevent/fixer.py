"""`lintgevent fix`: run the engine, apply the codemods of the fixable findings, check and write.

Each file of the project is read once; every round analyses those texts (a fix can make another one
possible, and each round re-analyses the project with the fixed sources), so the fixes are worked
out in memory from one consistent view.  Several paths that are one file (symlinks) are fixed once,
under one of them.  Then each file is written only if its new text parses, only if it is still what
was read, atomically (a temporary file beside it, then a rename), keeping its owner and mode; a file
that cannot be written that way is refused with the reason, and the others are still written.
"""
from __future__ import annotations

import ast
import dataclasses
import os
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field

import libcst as cst

from .config import Config
from .engine import analyse_project, project_files
from .findings import FileError, Finding
from .fixes.codemods import CODEMODS
from .fixes.options import FixOptions
from .noqa import noqa_map
from .reporting import reported
from .sources import SourceError, read_source

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


def _read_project(root: str, config: Config, files: list[str]) -> dict[str, bytes]:
    """The text of every file the engine analyses, read once (the files the engine cannot read are
    left to it: it reports them)."""
    texts = {}
    for path in project_files(root, config, files):
        try:
            texts[path] = read_source(path, config.max_file_size)
        except SourceError:
            pass
    return texts


def _canonical_paths(paths: Iterable[str]) -> dict[str, str]:
    """For the paths that are one file (symlinks, hard links): path -> the one whose findings are
    fixed, the file's own path when the project has it."""
    groups: dict[tuple[int, int], list[str]] = {}
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            continue
        groups.setdefault((info.st_dev, info.st_ino), []).append(path)
    canonical: dict[str, str] = {}
    for group in (g for g in groups.values() if len(g) > 1):
        chosen = min(group, key=lambda p: (os.path.realpath(p) != p, p))
        canonical.update(dict.fromkeys(group, chosen))
    return canonical


def _wanted(findings: list[Finding], files: set[str], root: str, config: Config,
            sources: dict[str, bytes], canonical: dict[str, str]) -> list[Finding]:
    """The fixable findings asked for, selected and not silenced by `# noqa`, each under the path
    that stands for its file (once, when several of its paths report it).  A file this run could
    not read, but the engine then could, is left for the next run."""
    fixable = [f for f in findings if f.path in files and f.code in CODEMODS and f.path in sources]
    paths = sorted({f.path for f in fixable})
    maps = {path: noqa_map(path, sources[path]) for path in paths}
    unique: dict[tuple, Finding] = {}
    for finding in reported(fixable, paths, root, config, noqa_maps=maps):
        if finding.code in CODEMODS:
            finding = dataclasses.replace(finding, path=canonical.get(finding.path, finding.path))
            unique.setdefault((finding.path, finding.code, finding.line, finding.col), finding)
    return list(unique.values())


def _failure(error: Exception) -> str:
    detail = str(error).strip().splitlines()
    return f"the fix failed ({error.__class__.__name__}{': ' + detail[0] if detail else ''})"


def _run(module: cst.Module, code: str, findings: list[Finding], options: FixOptions) -> tuple[bytes, dict]:
    new_module, refused = CODEMODS[code](module, findings, options)
    return new_module.bytes, refused


def _codemod(module: cst.Module, code: str, findings: list[Finding],
             options: FixOptions) -> tuple[bytes, dict[Finding, str]]:
    """The new text with one rule's fixes applied.  A fix that raises is refused with the error,
    and the others are still applied."""
    try:
        return _run(module, code, findings, options)
    except Exception as error:  # a codemod bug must cost its own finding, not the run
        failing = {}
        for finding in findings:
            try:
                _run(module, code, [finding], options)
            except Exception as alone:
                failing[finding] = _failure(alone)
        rest = [f for f in findings if f not in failing]
        if not failing or not rest:  # they fail only together, or all of them alone
            return module.bytes, {f: failing.get(f, _failure(error)) for f in findings}
        new, refused = _codemod(module, code, rest, options)
        return new, {**failing, **refused}


def _rewrite(source: bytes, code: str, findings: list[Finding],
             options: FixOptions) -> tuple[bytes, dict[Finding, str]]:
    """The file's text with one rule's fixes applied; the source itself when the result would not parse."""
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        return source, {f: f"libcst cannot parse this file ({error.message})" for f in findings}
    new, refused = _codemod(module, code, findings, options)
    if new == source:
        return source, refused
    try:
        cst.parse_module(new)
        ast.parse(new)
    except (SyntaxError, cst.ParserSyntaxError) as error:
        reason = f"the fixed text would not parse ({error.__class__.__name__}); nothing written"
        return source, {f: refused.get(f, reason) for f in findings}
    return new, refused


def _sources(texts: dict[str, bytes], fixed: dict[str, bytes], canonical: dict[str, str]) -> dict[str, bytes]:
    """What the engine analyses: the texts as read, with the fixes so far under every path of a file."""
    sources = {**texts, **fixed}
    for path, chosen in canonical.items():
        if chosen in fixed:
            sources[path] = fixed[chosen]
    return sources


def fix_project(root: str, config: Config, files: list[str], options: FixOptions = FixOptions(),
                use_cache: bool = True) -> FixResult:
    """Fixes for the findings in `files` (the project is indexed whole), worked out in memory."""
    result = FixResult()
    wanted_files = set(files)
    texts = _read_project(root, config, files)
    canonical = _canonical_paths(texts)
    # Refusals are reported where the finding was in the files as they are on disk: the first round's.
    first_seen: dict[tuple, Finding] = {}
    for _ in range(MAX_ROUNDS):
        current = _sources(texts, result.fixed, canonical)
        analysis = analyse_project(root, config, use_cache, tuple(files), sources=current)
        result.errors = [e for e in analysis.errors if e.path in wanted_files]
        by_path: dict[str, list[Finding]] = {}
        result.refused = {}  # what is left unfixed is what the last round found
        for finding in _wanted(analysis.findings, wanted_files, root, config, current, canonical):
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


# -- writing ---------------------------------------------------------------------------------------
CHANGED_ON_DISK = "the file changed on disk after lintgevent read it; run fix again"


class _Refused(Exception):
    """Why a file is not written; the message is shown to the user."""


def write_atomically(path: str, data: bytes, expected: bytes) -> str | None:
    """Replace a file's content in one step (never a half-written file, even if interrupted), if it
    is still `expected`.  Through a symlink, its target is written.  None when written, else the
    reason nothing was."""
    target = os.path.realpath(path)
    try:
        _write(target, data, expected)
    except _Refused as refusal:
        return str(refusal)
    except OSError as error:
        return f"cannot write the file: {error.strerror or error}"
    return None


def _write(target: str, data: bytes, expected: bytes) -> None:
    before = os.stat(target)
    _check_writable(target, before)
    temporary = _temporary_copy(target, data, before)
    try:
        _check_unchanged(target, expected, before)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    _sync_directory(os.path.dirname(target))


def _check_writable(target: str, info: os.stat_result) -> None:
    mode = stat.S_IMODE(info.st_mode)
    if not stat.S_ISREG(info.st_mode):
        raise _Refused("not a regular file")
    if info.st_nlink > 1:
        # A rename would split the links, and a write in place would not be atomic.
        raise _Refused(f"the file has {info.st_nlink} hard links: writing it by rename would split them, and "
                       "writing it in place could leave it half-written; fix it by hand or break the links")
    if not mode & 0o222:
        raise _Refused(f"the file is read-only (mode {mode:04o})")
    if not os.access(target, os.W_OK):
        raise _Refused(f"you may not write to the file (mode {mode:04o}, owner uid {info.st_uid})")


def _temporary_copy(target: str, data: bytes, info: os.stat_result) -> str:
    """A file beside the target with the new text and the target's owner and mode, on disk."""
    handle, temporary = tempfile.mkstemp(prefix=".lintgevent-", suffix=".tmp", dir=os.path.dirname(target))
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            _keep_owner(temporary, info)
            os.chmod(temporary, stat.S_IMODE(info.st_mode))  # after chown, which clears set-id bits
            os.fsync(out.fileno())
    except BaseException:
        os.unlink(temporary)
        raise
    return temporary


def _keep_owner(temporary: str, info: os.stat_result) -> None:
    made = os.stat(temporary)
    if (made.st_uid, made.st_gid) == (info.st_uid, info.st_gid):
        return
    try:
        os.chown(temporary, info.st_uid, info.st_gid)
    except PermissionError:
        raise _Refused(f"the file belongs to uid {info.st_uid} gid {info.st_gid}, and the rewritten file could "
                       "not keep that owner; run fix as that user") from None


def _stamp(info: os.stat_result) -> tuple:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_mode, info.st_uid, info.st_gid,
            info.st_nlink)


def _check_unchanged(target: str, expected: bytes, before: os.stat_result) -> None:
    """The file is still the text that was fixed, and the one whose owner and mode were copied.
    The stat just before the rename narrows what can slip through to a write in the microseconds
    until the rename, or one that keeps the size within the file system's timestamp granularity."""
    with open(target, "rb") as handle:
        seen = os.fstat(handle.fileno())
        current = handle.read()
    if current != expected or _stamp(seen) != _stamp(before):
        raise _Refused(CHANGED_ON_DISK)
    if _stamp(os.stat(target)) != _stamp(before):
        raise _Refused(CHANGED_ON_DISK)


def _sync_directory(directory: str) -> None:
    """Put the rename itself on disk.  Best effort: the file is already replaced, and some systems
    cannot open a directory."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
