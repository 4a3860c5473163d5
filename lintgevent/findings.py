"""What a check reports."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .rules import RULES


@dataclass(frozen=True, order=True, slots=True)
class Finding:
    path: str
    line: int
    col: int  # 0-based, in characters (the engine converts ast's UTF-8 bytes); front ends print col + 1
    code: str
    message: str  # starts with the code, as flake8 wants it
    chain: str = ""
    # What `lintgevent fix` needs: ((name, value), ...); ("refuse", reason) when it cannot fix it safely.
    # Positions in it stay ast's (line, UTF-8 byte column): the codemods convert them for libcst.
    fix: tuple = ()
    # "low" | "medium" | "high": the catalog entry's for a blocking call, else the rule's
    severity: str = ""
    # the other lines it reports on (the calls on a file it opens): `# noqa` on any of them silences it
    lines: tuple = ()

    def __post_init__(self):
        if not self.severity:
            object.__setattr__(self, "severity", RULES[self.code].severity if self.code in RULES else "high")

    @property
    def shown(self) -> str:
        """The message as text output and flake8 show it: with its severity."""
        return f"{self.message} [{self.severity}]"

    def as_dict(self) -> dict:
        data = asdict(self)
        data["col"] = self.col + 1
        del data["fix"]
        return data

    @property
    def fix_plan(self) -> dict:
        return dict(self.fix)


@dataclass(frozen=True, order=True, slots=True)
class FileError:
    """A file that could not be checked, and why."""

    path: str
    reason: str
    line: int = 1  # where a finding about it goes: the syntax error's line, else the first
