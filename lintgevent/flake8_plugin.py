"""The flake8 front end (`GEV` codes).  flake8 hands over one file at a time; the project index is
built once per process (and cached on disk), and each file gets its share of the findings."""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from . import __version__
from .config import load_config
from .deployment import DEPLOYMENTS
from .engine import ProjectResult, analyse_project
from .findings import Finding
from .sources import find_project_root

_projects: dict[tuple, tuple[ProjectResult, dict[str, list[Finding]]]] = {}


def _project(root: str, overrides: dict, use_cache: bool,
             extra: tuple[str, ...]) -> tuple[ProjectResult, dict[str, list[Finding]]]:
    """The project's result and its findings by path, computed once per process."""
    key = (root, repr(sorted(overrides.items())), use_cache, extra)
    if key not in _projects:
        result = analyse_project(root, load_config(root, overrides), use_cache=use_cache, extra_files=extra)
        by_path: dict[str, list[Finding]] = {}
        for finding in result.findings:
            by_path.setdefault(finding.path, []).append(finding)
        _projects[key] = result, by_path
    return _projects[key]


class Plugin:
    name = "lintgevent"
    version = __version__
    overrides: dict = {}
    use_cache = True

    def __init__(self, tree: Any, filename: str):
        self.filename = filename

    @classmethod
    def add_options(cls, manager: Any) -> None:
        manager.add_option("--lintgevent-entry-points", parse_from_config=True, comma_separated_list=True,
                           default=None, help="extra entry points: dotted names or globs")
        manager.add_option("--lintgevent-deployment", parse_from_config=True, default=None,
                           choices=DEPLOYMENTS, help="override deployment detection")
        manager.add_option("--lintgevent-unpatched", parse_from_config=True, comma_separated_list=True,
                           default=None, help="modules gevent does not patch in this deployment")
        manager.add_option("--lintgevent-no-cache", parse_from_config=True, action="store_true", default=False,
                           help="neither read nor write .lintgevent_cache/")

    @classmethod
    def parse_options(cls, options: Any) -> None:
        cls.overrides = {
            "entry_points": options.lintgevent_entry_points or None,
            "deployment": options.lintgevent_deployment,
            "unpatched": options.lintgevent_unpatched or None,
        }
        cls.use_cache = not options.lintgevent_no_cache

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        if self.filename in ("stdin", "-", None):
            return
        path = os.path.abspath(self.filename)
        root = find_project_root(path)
        result, by_path = _project(root, self.overrides, self.use_cache, ())
        if path not in result.files:
            result, by_path = _project(root, self.overrides, self.use_cache, (path,))
        for finding in by_path.get(path, ()):
            yield finding.line, finding.col, finding.message, type(self)
