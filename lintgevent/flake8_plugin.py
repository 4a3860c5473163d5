"""The flake8 front end (`GEV` codes).  flake8 hands over one file at a time; the project index is
built once per process (and cached on disk), and each file gets its share of the findings.

The plugin reads the project's `[tool.lintgevent]` like `lintgevent check` does, with flake8's
`--lintgevent-*` options on top; its configuration is checked once, before flake8 starts its
workers, and only when a GEV code is selected: a run that did not ask for GEV is never broken.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from flake8.style_guide import Decision, DecisionEngine

from . import __version__
from .config import Config, load_config
from .config_files import ConfigError, find_project_root, nested_roots
from .deployment import DEPLOYMENTS
from .engine import ProjectResult, analyse_project
from .reporting import asked_for, reported
from .rules import DEFAULT_IGNORED, RULES, SEVERITIES, UNUSED_NOQA
from .selection import opted_in

OVERRIDES_SOURCE = "flake8 options"
_projects: dict[tuple, tuple[Config, ProjectResult, dict[str, tuple[list, list]]]] = {}
_configs: dict[str, Config] = {}
_broken: set[str] = set()


def _config(root: str, overrides: dict) -> Config:
    if root not in _configs:
        _configs[root] = load_config(root, overrides, overrides_source=OVERRIDES_SOURCE)
    return _configs[root]


def _project(root: str, overrides: dict, use_cache: bool,
             extra: tuple[str, ...]) -> tuple[Config, ProjectResult, dict[str, tuple[list, list]]]:
    """The project's configuration, result, and (findings, errors) by path, computed once per process."""
    key = (root, use_cache, extra)
    if key not in _projects:
        config = _config(root, overrides)
        result = analyse_project(root, config, use_cache=use_cache, extra_files=extra)
        by_path: dict[str, tuple[list, list]] = {}
        for finding in result.findings:
            by_path.setdefault(finding.path, ([], []))[0].append(finding)
        for error in result.errors:
            by_path.setdefault(error.path, ([], []))[1].append(error)
        _projects[key] = config, result, by_path
    return _projects[key]


def _roots_of(filenames: Sequence[str]) -> list[str]:
    roots = []
    for name in filenames or ["."]:
        if name == "-" or not os.path.exists(name):
            continue
        roots.append(find_project_root(name))
        if os.path.isdir(name):
            roots.extend(nested_roots(name))
    return sorted(set(roots))


class Plugin:
    name = "lintgevent"
    version = __version__
    overrides: dict = {}
    use_cache = True
    wanted = True  # is any GEV code selected in this flake8 run?
    unused_noqa = False  # is the unused-noqa report selected?
    noqa = True  # does flake8 honour `# noqa` (no `--disable-noqa`)?

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
        manager.add_option("--lintgevent-index-exclude", parse_from_config=True, comma_separated_list=True,
                           default=None, help="globs of files to leave out of lintgevent's analysis entirely")
        manager.add_option("--lintgevent-test-entry-points", parse_from_config=True, action="store_true",
                           default=None, help="let routes and greenlet targets in test code start request paths")
        manager.add_option("--lintgevent-min-severity", parse_from_config=True, default=None,
                           choices=SEVERITIES, help="report only findings of this severity or higher")
        manager.add_option("--lintgevent-no-cache", parse_from_config=True, action="store_true", default=False,
                           help="neither read nor write lintgevent's cache")
        manager.extend_default_ignore(list(DEFAULT_IGNORED))

    @classmethod
    def parse_options(cls, manager: Any, options: Any, filenames: Sequence[str]) -> None:
        cls.overrides = {
            "entry_points": options.lintgevent_entry_points or None,
            "deployment": options.lintgevent_deployment,
            "unpatched": options.lintgevent_unpatched or None,
            "index_exclude": options.lintgevent_index_exclude or None,
            "test_entry_points": options.lintgevent_test_entry_points,
            "min_severity": options.lintgevent_min_severity,
        }
        cls.use_cache = not options.lintgevent_no_cache
        cls.noqa = not options.disable_noqa
        decisions = DecisionEngine(options)
        cls.wanted = any(decisions.decision_for(code) is Decision.Selected for code in RULES)
        cls.unused_noqa = (decisions.decision_for(UNUSED_NOQA) is Decision.Selected
                           and opted_in(UNUSED_NOQA, options.select, options.extend_select))
        if not cls.wanted:
            return
        try:
            for root in _roots_of(filenames):
                _config(root, cls.overrides)
        except ConfigError as error:
            # flake8 has no clean way out of a plugin; exit as argparse does on a bad option.
            print(f"flake8: error: lintgevent: {error}", file=sys.stderr)
            raise SystemExit(2) from None

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        if not self.wanted or self.filename in ("stdin", "-", None):
            return
        path = os.path.abspath(self.filename)
        root = find_project_root(path)
        if root in _broken:
            return
        try:
            config, result, by_path = _project(root, self.overrides, self.use_cache, ())
            if path not in result.files:
                config, result, by_path = _project(root, self.overrides, self.use_cache, (path,))
        except ConfigError as error:  # a root below none of flake8's arguments: said once, here
            _broken.add(root)
            print(f"flake8: error: lintgevent: {error}; {root} not checked", file=sys.stderr)
            return
        if not asked_for([path], root, config):
            return
        findings, broken = by_path.get(path, ([], []))
        for finding in reported(findings, [path], root, config, broken, result.noqa,
                                flake8_decides=self.unused_noqa, flake8_noqa=self.noqa):
            yield finding.line, finding.col, finding.shown, type(self)
