"""Configuration: `[tool.lintgevent]` in pyproject.toml, overridden by command-line options."""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, fields

from .deployment import DEPLOYMENTS, PATCH_ALL_DEFAULTS

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

DEFAULT_MAX_FILE_SIZE = 16 * 1024 * 1024


class ConfigError(Exception):
    """A configuration value that cannot be used; the front ends exit with status 2."""


@dataclass
class Config:
    select: list = field(default_factory=lambda: ["GEV"])
    ignore: list = field(default_factory=list)
    entry_points: list = field(default_factory=list)
    deployment: str = "auto"
    unpatched: list = field(default_factory=list)
    exclude: list = field(default_factory=list)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE

    def validate(self) -> Config:
        for name in ("select", "ignore", "entry_points", "unpatched", "exclude"):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"`{name.replace('_', '-')}` must be a list of strings, not {value!r}")
        self.select = [code.upper() for code in self.select]
        self.ignore = [code.upper() for code in self.ignore]
        if self.deployment not in DEPLOYMENTS:
            raise ConfigError(f"`deployment` must be one of {', '.join(DEPLOYMENTS)}, not {self.deployment!r}")
        unknown = sorted(set(self.unpatched) - set(PATCH_ALL_DEFAULTS))
        if unknown:
            raise ConfigError(f"`unpatched` names unknown modules {unknown}; known: {sorted(PATCH_ALL_DEFAULTS)}")
        if not isinstance(self.max_file_size, int) or self.max_file_size <= 0:
            raise ConfigError(f"`max-file-size` must be a positive integer, not {self.max_file_size!r}")
        return self

    def fingerprint(self) -> str:
        """What the analysis depends on (select/ignore filter results later, so they are left out)."""
        data = asdict(self)
        data.pop("select")
        data.pop("ignore")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def load_config(project_root: str, overrides: dict | None = None) -> Config:
    """Read `[tool.lintgevent]` from the project's pyproject.toml, then apply non-None overrides."""
    values: dict = {}
    pyproject = os.path.join(project_root, "pyproject.toml")
    if os.path.isfile(pyproject):
        try:
            with open(pyproject, "rb") as handle:
                table = tomllib.load(handle).get("tool", {}).get("lintgevent", {})
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"{pyproject}: {error}") from None
        known = {f.name for f in fields(Config)}
        for key, value in table.items():
            name = key.replace("-", "_")
            if name not in known:
                raise ConfigError(f"{pyproject}: unknown option `{key}` in [tool.lintgevent]")
            values[name] = value
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
    return Config(**values).validate()
