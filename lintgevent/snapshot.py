"""What the last run of a project saw and concluded: where the next run starts from after an edit
(relocation.py)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Snapshot:
    files: dict  # path -> the key of its summary (a digest of its contents)
    inputs: str  # a digest of the deployment files the run read
    text_read: set  # paths whose contents the global step read
    results: tuple  # (findings, parse errors, deployments, processes, config files read: reads.py):
    # marks unrendered, byte columns
    noqa: dict  # path -> the `# noqa` comments (noqa.NoqaMap) of each file the results report on
