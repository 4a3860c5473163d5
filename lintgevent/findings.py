"""What a check reports."""
from __future__ import annotations

from dataclasses import asdict, dataclass


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
