"""Finding, reading and parsing source files; every way a file can be broken becomes a reason string."""
from __future__ import annotations

import ast
import fnmatch
import io
import os
import stat
import sys
import threading
import tokenize
import warnings
from functools import lru_cache
from operator import attrgetter

from .findings import FileError

SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", ".env", "node_modules", "__pycache__", "build",
    "dist", ".eggs", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".lintgevent_cache", "site-packages",
})
# A parse that overflows the C stack at the default recursion limit is retried in a thread with a
# big stack (a 20,000-term expression needs it); beyond that the file is reported as too deep.
DEEP_PARSE_STACK = 512 * 1024 * 1024
DEEP_PARSE_RECURSION = 200_000


class SourceError(Exception):
    """A file that cannot be checked; the message is the reason shown to the user, `line` the
    line it is about (1 when it is about the whole file)."""

    def __init__(self, reason: str, line: int = 1):
        super().__init__(reason)
        self.line = line


def import_root(path: str, packages: dict[str, tuple[str, list[str]]] | None = None) -> tuple[str, str, bool]:
    """(import root, module name, is package) of a file: its first ancestor without __init__.py.
    `packages` keeps what the folders already looked up say, for the next files."""
    path = os.path.abspath(path)
    directory, filename = os.path.split(path)
    stem = filename[:-3] if filename.endswith(".py") else filename
    is_package = stem == "__init__"
    root, parts = _package(directory, {} if packages is None else packages)
    return root, ".".join(parts if is_package else [*parts, stem]), is_package


# The folders' packages as this process first looked them up, like each file's import root below.
_PACKAGES: dict[str, tuple[str, list[str]]] = {}


@lru_cache(maxsize=None)
def module_of(path: str) -> tuple[str, str, bool]:
    """`import_root` of a file as this process first found it: a run asks for every file's, several times."""
    return import_root(path, _PACKAGES)


def _package(directory: str, packages: dict[str, tuple[str, list[str]]]) -> tuple[str, list[str]]:
    """(import root, package names) of a folder: itself and no names when it has no __init__.py."""
    known = packages.get(directory)
    if known is None:
        parent, name = os.path.split(directory)
        if not os.path.isfile(os.path.join(directory, "__init__.py")):
            known = (directory, [])
        elif not name:  # the file system's root is a package
            known = (parent, [""])
        else:
            root, parts = _package(parent, packages)
            known = (root, [*parts, name])
        packages[directory] = known
    return known


def excluded(path: str, root: str, exclude: list[str]) -> bool:
    """Glob patterns relative to the root, or of a file or folder name; a file in an excluded
    folder is excluded too, also when it is named explicitly."""
    if not exclude:
        return False
    relative = os.path.relpath(os.path.abspath(path), root)
    parts = relative.split(os.sep)
    for depth in range(len(parts), 0, -1):
        prefix, name = os.sep.join(parts[:depth]), parts[depth - 1]
        if name != ".." and any(fnmatch.fnmatch(prefix, p) or fnmatch.fnmatch(name, p) for p in exclude):
            return True
    return False


def python_files(directory: str, root: str, exclude: list[str], errors: list[FileError] | None = None) -> list[str]:
    """Every .py file below a directory, skipping virtualenvs, caches, VCS and build folders; the
    folders that cannot be read are added to `errors` (their path ends with a separator).  Symlinks
    to folders are not followed.  In the order of os.walk with sorted names; by hand, because
    os.walk stats every folder twice more (is it a link, does it hold pyvenv.cfg), which the
    folder's own listing tells for free."""
    found = []
    folders = [(directory, True)]
    while folders:
        current, top = folders.pop()
        try:
            with os.scandir(current) as listing:
                entries = sorted(listing, key=attrgetter("name"))
        except OSError as error:
            if errors is not None:
                errors.append(FileError(os.path.join(current, ""), f"cannot read: {error.strerror}"))
            continue
        if not top and any(e.name == "pyvenv.cfg" for e in entries) \
                and os.path.exists(os.path.join(current, "pyvenv.cfg")):
            continue  # a virtualenv
        inner = []
        for entry in entries:
            name = entry.name
            if _is_dir(entry):
                if not (name in SKIP_DIRS or name.endswith(".egg-info") or entry.is_symlink()
                        or excluded(entry.path, root, exclude)):
                    inner.append((entry.path, False))
            elif name.endswith(".py") and not excluded(entry.path, root, exclude):
                found.append(entry.path)
        folders.extend(reversed(inner))
    return found


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def read_source(path: str, max_size: int) -> bytes:
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise SourceError("not a regular file")
        size = info.st_size
        if size > max_size:
            raise SourceError(f"file too large to check ({size:,} bytes; the limit is {max_size:,})")
        # os.read, not open(): a run reads every file of the project, and a file object costs as much again.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            chunks = []
            while chunk := os.read(fd, size + 1 if not chunks else 1 << 20):  # until the end, if it grew
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None


# A config file a launcher names (`gunicorn -c conf/gunicorn.conf`) larger than this is not one.
MAX_CONFIG_FILE = 256 * 1024


def read_config_file(path: str) -> bytes | None:
    """The contents of a config file named by a launcher, read from disk (it may be no file of the
    project's listing); None when there is no such regular file or it is too large to be one."""
    try:
        if os.path.isfile(path) and os.path.getsize(path) <= MAX_CONFIG_FILE:
            with open(path, "rb") as handle:
                return handle.read()
    except OSError:
        pass
    return None


def _quiet_parse(data: bytes, filename: str) -> ast.Module:
    """`ast.parse` without the warnings compiling someone's code gives (an invalid escape in a
    string): they are about that code's style, not about what it blocks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return ast.parse(data, filename)


def _parse_deep(data: bytes, filename: str) -> ast.Module:
    result: dict = {}

    def run() -> None:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(DEEP_PARSE_RECURSION)
        try:
            result["tree"] = _quiet_parse(data, filename)
        except BaseException as error:  # reported by the caller, in the caller's thread
            result["error"] = error
        finally:
            sys.setrecursionlimit(old)

    previous = threading.stack_size(DEEP_PARSE_STACK)
    try:
        worker = threading.Thread(target=run, name="lintgevent-deep-parse")
        worker.start()
        worker.join()
    finally:
        threading.stack_size(previous)
    if "tree" in result:
        return result["tree"]
    raise result["error"]


def parse_source(data: bytes, filename: str) -> ast.Module:
    """Parse bytes into an AST, turning every failure into a SourceError with a readable reason."""
    if b"\0" in data:
        raise SourceError("contains NUL bytes (a binary file?)")
    undecodable = None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        data.decode(encoding)
    except UnicodeDecodeError as error:
        # CPython compiles (and imports) a file whose bad bytes sit only in comments: so do we.
        undecodable = SourceError(f"cannot be decoded as {error.encoding} (byte {error.start}: {error.reason})",
                                  data.count(b"\n", 0, error.start) + 1)
    except (SyntaxError, LookupError) as error:
        try:  # no declaration at all, just bytes that are not UTF-8 in the first two lines
            data.decode("utf-8")
        except UnicodeDecodeError as bad_bytes:
            undecodable = SourceError(f"cannot be decoded as utf-8 (byte {bad_bytes.start}: {bad_bytes.reason})",
                                      data.count(b"\n", 0, bad_bytes.start) + 1)
        else:
            raise SourceError(f"bad encoding declaration: {error}") from None
    try:
        try:
            return _quiet_parse(data, filename)
        except (RecursionError, MemoryError):
            return _parse_deep(data, filename)
    except SyntaxError as error:
        if undecodable:
            raise undecodable from None
        where = f"line {error.lineno}" + (f", column {error.offset}" if error.offset else "")
        newer = " (syntax newer than this Python?)" if sys.version_info < (3, 14) and _looks_newer(data, error) else ""
        raise SourceError(f"syntax error at {where}: {error.msg}{newer}", error.lineno or 1) from None
    except (RecursionError, MemoryError):
        raise SourceError("too deeply nested to parse") from None
    except ValueError as error:
        raise SourceError(f"cannot be parsed: {error}") from None


def _looks_newer(data: bytes, error: SyntaxError) -> bool:
    """A t-string or similar on the failing line: say so, it is not a typo."""
    if not error.lineno:
        return False
    lines = data.splitlines()
    line = lines[error.lineno - 1] if error.lineno <= len(lines) else b""
    return any(prefix in line for prefix in (b't"', b"t'", b'T"', b"T'", b"tr'", b'tr"', b"rt'", b'rt"'))
