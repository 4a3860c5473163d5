"""What a check reports."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, order=True, slots=True)
class Finding:
    path: str
    line: int
    col: int  # 0-based, as ast gives it; front ends print col + 1
    code: str
    message: str  # starts with the code, as flake8 wants it
    chain: str = ""

    def as_dict(self) -> dict:
        data = asdict(self)
        data["col"] = self.col + 1
        return data


@dataclass(frozen=True, order=True, slots=True)
class FileError:
    """A file that could not be checked, and why."""

    path: str
    reason: str
