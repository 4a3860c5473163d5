"""`lintgevent verify --events FILE [PATHS]`: join a staging recording with the static findings.

A recording names files as they were on the server (/srv/app/views.py); each is matched with the
local file whose path has the longest common tail with it (views.py, app/views.py...).
"""
from __future__ import annotations

import os
import sys
from collections import defaultdict

from ..config_files import find_project_root
from ..sources import python_files
from .blocking_events import read_events
from .report import table
from .static_join import StaticFindings


def local_file(recorded: str, local_files: list[str]) -> str | None:
    """The local file whose path ends with most of the recorded path's components."""
    wanted = recorded.replace("\\", "/").split("/")
    best, best_score = None, 0
    for path in local_files:
        parts = path.split(os.sep)
        score = 0
        while score < min(len(parts), len(wanted)) and parts[-1 - score] == wanted[-1 - score]:
            score += 1
        if score > best_score:
            best, best_score = path, score
    return best


def join_recording(events_path: str, paths: list[str]) -> tuple[dict, int]:
    """Exit code 1 when a blocking line of the recording is not reported by the linter."""
    try:
        events = read_events(events_path)
    except OSError as error:
        print(f"lintgevent verify: error: cannot read {events_path}: {error.strerror}", file=sys.stderr)
        return {}, 2
    local_files, findings = [], []
    for root in sorted({find_project_root(p) for p in paths}):
        local_files.extend(os.path.realpath(f) for f in python_files(root, root, []))
        findings.extend(StaticFindings.of_project(root).findings)
    statics = StaticFindings(findings)
    grouped: dict = defaultdict(list)
    unblamed = 0
    for event in events:
        where = event.get("blamed")
        if not where:
            unblamed += 1
            continue
        grouped[(where["file"], where["line"], where.get("function", ""))].append(event["time"])
    stalls, seen = [], set()
    for (recorded, line, function), times in sorted(grouped.items(), key=lambda kv: -len(kv[1])):
        local = local_file(recorded, local_files)
        explaining = statics.explaining(local, line) if local else []
        seen.update(explaining)
        codes = sorted({f.code for f in explaining})
        stalls.append({"file": os.path.relpath(local) if local else recorded, "recorded_file": recorded,
                       "line": line, "function": function, "events": len(times),
                       "first": min(times), "last": max(times), "static": codes})
    missed = [s for s in stalls if not s["static"]]
    print(f"{len(events)} blocking events, {unblamed} in library code only")
    if stalls:
        print(table([[f"{s['file']}:{s['line']}", s["function"], str(s["events"]),
                      ", ".join(s["static"]) or "MISSED: not reported"] for s in stalls],
                    ["blamed line", "function", "events", "static"]))
    print(f"\n{len(seen)} of {len(statics.findings)} findings seen blocking; "
          f"{len(missed)} blocking line(s) the linter does not report")
    data = {"events": len(events), "unblamed_events": unblamed, "stalls": stalls,
            "findings_seen": len(seen), "findings": len(statics.findings), "missed": len(missed)}
    return data, 1 if missed else 0
