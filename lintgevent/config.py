"""One configuration for both front ends, resolved the same way whatever paths are passed.

From lowest to highest precedence: the defaults, the project's `[tool.lintgevent]` table (or the
file of `--config`), the `lintgevent-*` options of its flake8 configuration file, and the command
line (lintgevent's own options, or flake8's `--lintgevent-*`).  Each value remembers where it came
from, for `--show-settings` and for error messages.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field, fields

from flake8.exceptions import ExecutionError
from flake8.utils import parse_comma_separated_list, parse_files_to_codes_mapping

from .config_files import ConfigError, Table, config_file_table, flake8_table, lintgevent_table
from .deployment import DEPLOYMENTS, PATCH_ALL_DEFAULTS
from .rules import SEVERITIES
from .selection import Selection, known_codes_hint, unknown_codes

JOBS_AUTO = "auto"  # `jobs`: one worker process per core
DEFAULT_MAX_FILE_SIZE = 16 * 1024 * 1024
CODE_LISTS = ("select", "ignore", "extend_select", "extend_ignore")
STRING_LISTS = (*CODE_LISTS, "entry_points", "unpatched", "exclude", "index_exclude")
EXTENDING = ("extend_select", "extend_ignore")
OVERRIDE_SOURCES = ("command line", "flake8 options")
# What the analysis depends on; the rest only filters what is reported.
ANALYSIS = ("entry_points", "deployment", "unpatched", "index_exclude", "max_file_size", "test_entry_points")
BOOLEANS = ("test_entry_points",)


@dataclass
class Config:
    select: list | None = None  # None: every GEV code but those off by default
    ignore: list | None = None
    extend_select: list = field(default_factory=list)
    extend_ignore: list = field(default_factory=list)
    per_file_ignores: dict = field(default_factory=dict)  # glob -> [codes]
    entry_points: list = field(default_factory=list)
    deployment: str = "auto"
    unpatched: list = field(default_factory=list)
    exclude: list = field(default_factory=list)  # not reported, still indexed
    index_exclude: list = field(default_factory=list)  # left out of the analysis entirely
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    test_entry_points: bool = False  # routes and greenlet targets in test code start request paths too
    min_severity: str = "low"  # findings below it are not reported
    jobs: int | str = JOBS_AUTO  # worker processes that summarise files: a number, or "auto" (every core)
    sources: dict = field(default_factory=dict, compare=False)  # option -> where its value came from
    _selections: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def fingerprint(self) -> str:
        data = {name: getattr(self, name) for name in ANALYSIS}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def selection(self, root: str, **options) -> Selection:
        """Made once per root and options: the flake8 plugin asks for every file."""
        key = (root, *sorted(options.items()))
        if key not in self._selections:
            self._selections[key] = Selection(root, self.select, self.ignore, self.extend_select,
                                              self.extend_ignore, self.per_file_ignores, **options)
        return self._selections[key]


OPTIONS = {f.name for f in fields(Config) if f.compare}  # the settings, not their bookkeeping


def option_name(name: str, source: str) -> str:
    """How the user wrote an option in that source."""
    dashed = name.replace("_", "-")
    if source == "command line":
        return f"--{dashed}"
    if source == "flake8 options":
        return f"--lintgevent-{dashed}"
    if source.endswith("[flake8]"):
        return f"lintgevent-{dashed}"
    return dashed


def _problem(name: str, value) -> str | None:
    """What is wrong with an option's value, None when it can be used."""
    if name in STRING_LISTS:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"must be a list of strings, not {value!r}"
        if name in CODE_LISTS:
            unknown = unknown_codes([v.strip().upper() for v in value])
            if unknown:
                return f"unknown code or prefix {', '.join(map(repr, unknown))}; {known_codes_hint()}"
        if name == "unpatched":
            unknown = sorted(set(value) - set(PATCH_ALL_DEFAULTS))
            if unknown:
                return f"unknown module {', '.join(map(repr, unknown))}; known: {', '.join(sorted(PATCH_ALL_DEFAULTS))}"
    elif name == "per_file_ignores":
        if not isinstance(value, dict):
            return f"must be a table of glob = [codes], not {value!r}"
        for pattern, codes in value.items():
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                return f"{pattern!r} must map to a list of codes, not {codes!r}"
            unknown = unknown_codes([c.strip().upper() for c in codes])
            if unknown:
                return f"{pattern!r}: unknown code or prefix {', '.join(map(repr, unknown))}; {known_codes_hint()}"
    elif name == "deployment":
        if value not in DEPLOYMENTS:
            return f"must be one of {', '.join(DEPLOYMENTS)}, not {value!r}"
    elif name == "min_severity":
        if value not in SEVERITIES:
            return f"must be one of {', '.join(SEVERITIES)}, not {value!r}"
    elif name == "jobs":
        if value != JOBS_AUTO and (type(value) is not int or value <= 0):
            return f"must be a positive number of processes or \"{JOBS_AUTO}\", not {value!r}"
    elif name == "max_file_size":
        if type(value) is not int or value <= 0:
            return f"must be a positive number of bytes, not {value!r}"
    elif name in BOOLEANS:
        if type(value) is not bool:
            return f"must be true or false, not {value!r}"
    return None


def _normalised(name: str, value):
    if name in CODE_LISTS:
        return [code.strip().upper() for code in value]
    if name == "per_file_ignores":
        return {pattern: [code.strip().upper() for code in codes] for pattern, codes in value.items()}
    return value


def parse_per_file_ignores(text: str, source: str) -> dict[str, list[str]]:
    """flake8's spelling, `glob:CODE,CODE glob2:CODE`, parsed by flake8 itself."""
    table: dict[str, list[str]] = {}
    try:
        mapping = parse_files_to_codes_mapping(text)
    except ExecutionError:
        raise ConfigError(f"{source}: `{option_name('per_file_ignores', source)}`: cannot read {text.strip()!r}; "
                          "write it as 'GLOB:CODE,CODE GLOB:CODE'") from None
    for pattern, codes in mapping:
        table.setdefault(pattern, []).extend(codes)
    return table


def from_flake8_strings(values: dict[str, str], source: str) -> dict:
    """flake8-style string values (`a, b`) as the typed values of the table."""
    typed = {}
    for key, text in values.items():
        name = key.replace("-", "_")
        if name in STRING_LISTS:
            typed[key] = parse_comma_separated_list(text)
        elif name == "per_file_ignores":
            typed[key] = parse_per_file_ignores(text, source)
        elif name in ("max_file_size", "jobs"):
            typed[key] = int(text) if text.strip().isdigit() else text.strip()
        elif name in BOOLEANS:  # flake8's spelling of a flag in a configuration file
            word = text.strip().lower()
            typed[key] = True if word in ("true", "yes", "1", "on") else False if word in ("false", "no", "0", "off") \
                else text
        else:
            typed[key] = text.strip()
    return typed


def _apply(values: dict, sources: dict, table: Table) -> None:
    for key, value in table.values.items():
        name = key.replace("-", "_")
        if name not in OPTIONS:
            raise ConfigError(f"{table.source}: unknown option `{option_name(name, table.source)}`")
        problem = _problem(name, value)
        if problem:
            raise ConfigError(f"{table.source}: `{option_name(name, table.source)}`: {problem}")
        value = _normalised(name, value)
        if name in EXTENDING and name in values and table.source in OVERRIDE_SOURCES:
            values[name] = [*values[name], *value]  # `--extend-ignore X` adds to the configured ones
            sources[name] = f"{sources[name]} + {table.source}"
        else:
            values[name] = value
            sources[name] = table.source


def load_config(root: str, overrides: dict | None = None, config_file: str | None = None,
                isolated: bool = False, overrides_source: str = "command line") -> Config:
    """The resolved configuration of the project at `root`; `overrides` are the front end's own
    options (None: not given)."""
    values: dict = {}
    sources: dict = {}
    if not isolated:
        if config_file:
            _apply(values, sources, config_file_table(config_file))
        else:
            pyproject = os.path.join(root, "pyproject.toml")
            table = lintgevent_table(pyproject) if os.path.isfile(pyproject) else None
            if table:
                _apply(values, sources, table)
        flake8 = flake8_table(root)
        if flake8:
            _apply(values, sources, Table(from_flake8_strings(flake8.values, flake8.source), flake8.source))
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    if given:
        _apply(values, sources, Table(given, overrides_source))
    config = Config(**values)
    config.sources = {name: sources.get(name, "default") for name in sorted(OPTIONS)}
    return config


def describe(config: Config) -> list[str]:
    """`--show-settings`: one line per option, with its value and where it came from."""
    lines = []
    for name in sorted(OPTIONS):
        value = getattr(config, name)
        lines.append(f"{name.replace('_', '-')} = {json.dumps(value)}  # {config.sources.get(name, 'default')}")
    return lines
