"""From the engine's findings to what a front end reports: the files asked for, less `exclude`,
the selected codes (with per-file ignores), `# noqa`, and GEV002 for the comments that silence
nothing.  `check`, `fix` and the flake8 plugin all filter through here."""
from __future__ import annotations

from collections import defaultdict

from .config import Config
from .findings import FileError, Finding
from .noqa import NoqaMap, noqa_map, unused_directives
from .rules import NOT_ANALYSED, UNUSED_NOQA, severity_rank
from .sources import excluded


def asked_for(files: list[str], root: str, config: Config) -> list[str]:
    """The files to report on: `exclude` and `index-exclude` apply to files named explicitly too,
    as flake8's `exclude` does."""
    return [path for path in files if not excluded(path, root, config.exclude)
            and not excluded(path, root, config.index_exclude)]


def not_analysed(error: FileError) -> Finding:
    """GEV001: a file that could not be analysed, so that every output format and gate sees it."""
    return Finding(error.path, error.line, 0, NOT_ANALYSED,
                   f"{NOT_ANALYSED} could not be analysed: {error.reason}; nothing in it was checked")


def reported(findings: list[Finding], files: list[str], root: str, config: Config,
             errors: list[FileError] = (), noqa_maps: dict[str, NoqaMap] | None = None,
             flake8_decides: bool | None = None, flake8_noqa: bool = True) -> list[Finding]:
    """The findings in `files` a user sees, with GEV001 for the files of `errors`.  Through flake8
    (`flake8_decides`: whether its own selection wants GEV002), flake8 applies the codes that are
    off by default and `# noqa` on a finding's line itself; the comments on the other lines a
    finding reports on are applied here unless flake8 has `--disable-noqa` (`flake8_noqa` False).
    Findings below `min-severity` are left out (GEV001 is high: a file nothing was checked in
    always shows).  `noqa_maps` gives the comments of some files; the others are read from disk."""
    lowest = severity_rank(config.min_severity)
    findings = [f for f in [*findings, *(not_analysed(e) for e in errors)] if severity_rank(f.severity) >= lowest]
    selection = config.selection(root, default_ignored=()) if flake8_decides is not None else config.selection(root)
    wanted = set(files)
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.path in wanted:
            by_path[finding.path].append(finding)
    given = noqa_maps or {}
    look_for_unused = selection.wants_anywhere(UNUSED_NOQA) if flake8_decides is None else flake8_decides
    through_flake8 = flake8_decides is not None
    out = []
    for path in (files if look_for_unused else by_path):
        here = by_path.get(path, [])
        if not here and not look_for_unused:
            continue
        noqa = given.get(path)
        if noqa is None:
            noqa = noqa_map(path)
        candidates = here + (unused_directives(path, noqa, here) if look_for_unused else [])
        out.extend(f for f in candidates if selection.wants(f.code, path)
                   and not ((flake8_noqa or not through_flake8) and noqa.silences(f, through_flake8)))
    return sorted(out)
