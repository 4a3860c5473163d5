"""What the user chooses about fixes."""
from __future__ import annotations

from dataclasses import dataclass

WRITE_STRATEGIES = ("threadpool", "chunk")


@dataclass(frozen=True)
class FixOptions:
    write_strategy: str = WRITE_STRATEGIES[0]  # GEV301: how an unbounded write lets the hub run
