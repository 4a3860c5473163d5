"""Join what ran with what the linter says: which findings explain a stall at a given line."""
from __future__ import annotations

import os
from collections import defaultdict

from ..config import load_config
from ..engine import analyse_project
from ..findings import Finding
from ..rules import RULES
from ..config_files import find_project_root


class StaticFindings:
    """The findings of one project, looked up by file and line."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        self.at: dict = defaultdict(list)
        self.module_wide: dict = defaultdict(list)
        for finding in findings:
            for line in (finding.line, *finding.lines):  # a file's open reports the calls on it too
                self.at[(os.path.realpath(finding.path), line)].append(finding)
            if RULES[finding.code].module_wide:
                self.module_wide[os.path.realpath(finding.path)].append(finding)

    @classmethod
    def of_project(cls, path: str) -> StaticFindings:
        root = find_project_root(path)
        return cls(analyse_project(root, load_config(root, {}), use_cache=False).findings)

    def explaining(self, file: str, line: int) -> list[Finding]:
        """Findings at that line; else the module-wide ones of its file (a late patch_all)."""
        file = os.path.realpath(file)
        return self.at.get((file, line)) or self.module_wide.get(file, [])

    def in_file(self, file: str, code: str) -> list[Finding]:
        file = os.path.realpath(file)
        return sorted(f for f in self.findings if os.path.realpath(f.path) == file and f.code == code)
