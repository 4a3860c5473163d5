"""Where a project's configuration lives: the project root, its `[tool.lintgevent]` table, and the
`lintgevent-*` options of its flake8 configuration file.

The root is found from the checked files themselves, never from the paths a caller happened to
pass: the nearest ancestor whose pyproject.toml has a `[tool.lintgevent]` table, else the top of
the repository (`.git` or `.hg`), else the nearest folder with a project marker.  So `check .` and
`check svc` (what pre-commit passes) read the same configuration and index the same files.
"""
from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from functools import lru_cache

from .sources import SKIP_DIRS, import_root

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git", "tox.ini", ".flake8")
REPOSITORY_MARKERS = (".git", ".hg")
# flake8 reads the first of these that has a [flake8] section.
FLAKE8_FILES = ("setup.cfg", "tox.ini", ".flake8")
FLAKE8_PREFIX = "lintgevent-"
# The options the flake8 plugin registers; `no-cache` only changes how flake8 runs.
FLAKE8_OPTIONS = ("entry-points", "deployment", "unpatched", "index-exclude", "test-entry-points", "min-severity")
FLAKE8_ONLY = ("no-cache",)


class ConfigError(Exception):
    """A configuration value that cannot be used; the front ends exit with status 2."""


@dataclass(frozen=True)
class Table:
    """Options read from one file, and how to name that file in messages."""

    values: dict
    source: str


def shown(path: str) -> str:
    """A file as messages name it: relative to the current directory when below it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def read_toml(path: str, data: bytes | None = None) -> dict:
    """A TOML file's document (from `data` when the file was read already)."""
    if data is None:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as error:
            raise ConfigError(f"{shown(path)}: cannot read: {error.strerror or error}") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ConfigError(f"{shown(path)}: not UTF-8 (byte {error.start}: {error.reason})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{shown(path)}: not valid TOML: {error}") from None


def _table_of(document: dict, path: str) -> dict | None:
    tool = document.get("tool")
    if tool is None:
        return None
    if not isinstance(tool, dict):
        raise ConfigError(f"{shown(path)}: `tool` must be a table, not {type(tool).__name__}")
    table = tool.get("lintgevent")
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{shown(path)}: `tool.lintgevent` must be a table, not {type(table).__name__}")
    return table


def lintgevent_table(pyproject: str) -> Table | None:
    """The `[tool.lintgevent]` table of a pyproject.toml, None when it has none.  A file that never
    mentions lintgevent is not parsed, so an unrelated broken pyproject.toml is not our error."""
    try:
        with open(pyproject, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    if b"lintgevent" not in data:
        return None
    table = _table_of(read_toml(pyproject, data), pyproject)
    return None if table is None else Table(table, f"{shown(pyproject)} [tool.lintgevent]")


def config_file_table(path: str) -> Table:
    """`--config FILE`: a pyproject.toml's `[tool.lintgevent]`, or a TOML file of lintgevent options."""
    if not os.path.isfile(path):
        raise ConfigError(f"--config: no such file: {path}")
    document = read_toml(path)
    if os.path.basename(path) == "pyproject.toml":
        table = _table_of(document, path)
        if table is None:
            raise ConfigError(f"{shown(path)}: --config names a pyproject.toml with no [tool.lintgevent] table")
        return Table(table, f"{shown(path)} [tool.lintgevent]")
    return Table(document, shown(path))


def flake8_table(root: str) -> Table | None:
    """The `lintgevent-*` options of the flake8 configuration file at the root (names without the
    prefix, values as flake8 would read them: strings)."""
    for name in FLAKE8_FILES:
        path = os.path.join(root, name)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        if b"[flake8" not in data:
            continue
        parser = configparser.RawConfigParser()
        try:
            parser.read_string(data.decode("utf-8"), source=path)
        except (configparser.Error, UnicodeDecodeError) as error:
            raise ConfigError(f"{shown(path)}: cannot be read: {str(error).splitlines()[0]}") from None
        if not parser.has_section("flake8"):
            continue
        source = f"{shown(path)} [flake8]"
        values = {}
        for key, value in parser.items("flake8"):
            key = key.replace("_", "-")
            if not key.startswith(FLAKE8_PREFIX) or key[len(FLAKE8_PREFIX):] in FLAKE8_ONLY:
                continue
            if key[len(FLAKE8_PREFIX):] not in FLAKE8_OPTIONS:
                raise ConfigError(f"{source}: unknown option `{key}`; the flake8 options of lintgevent are "
                                  f"{', '.join(FLAKE8_PREFIX + o for o in (*FLAKE8_OPTIONS, *FLAKE8_ONLY))}")
            values[key[len(FLAKE8_PREFIX):]] = value
        return Table(values, source) if values else None
    return None


def find_project_root(path: str) -> str:
    """The root whose configuration applies to `path` (see the module's docstring).  The search for
    a table stops at the top of the repository: a pyproject.toml above it belongs to no project."""
    start = os.path.abspath(path)
    return _root_of_folder(start if os.path.isdir(start) else os.path.dirname(start))


@lru_cache(maxsize=None)
def _root_of_folder(start: str) -> str:
    """Once per folder: flake8 asks for every file it checks."""
    nearest_marker = None
    current = start
    while True:
        pyproject = os.path.join(current, "pyproject.toml")
        if os.path.isfile(pyproject) and lintgevent_table(pyproject) is not None:
            return current
        if any(os.path.exists(os.path.join(current, m)) for m in REPOSITORY_MARKERS):
            return current
        if nearest_marker is None and any(os.path.exists(os.path.join(current, m)) for m in PROJECT_MARKERS):
            nearest_marker = current
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    if nearest_marker:
        return nearest_marker
    return import_root(start)[0] if os.path.isfile(os.path.join(start, "__init__.py")) else start


def nested_roots(directory: str) -> list[str]:
    """Folders below `directory` that are roots of their own (a pyproject.toml with a
    `[tool.lintgevent]` table, or a nested repository)."""
    found = []
    for current, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        if current == directory:
            continue
        if ("pyproject.toml" in files and lintgevent_table(os.path.join(current, "pyproject.toml")) is not None) \
                or any(os.path.exists(os.path.join(current, m)) for m in REPOSITORY_MARKERS):
            found.append(os.path.abspath(current))
    return found
