"""How `lintgevent check` prints findings: text, JSON, SARIF 2.1.0, GitHub annotations, statistics."""
from __future__ import annotations

import json
import os
from collections import Counter
from urllib.parse import quote
from collections.abc import Sequence

from . import __version__
from .findings import FileError, Finding
from .ruledocs import rule_doc, what_it_does
from .rules import NOT_ANALYSED, RULES

FORMATS = ("text", "json", "sarif", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def display_path(path: str) -> str:
    """Relative to the current directory when below it, else absolute; a folder keeps its
    trailing separator."""
    relative = os.path.relpath(path)
    if relative.startswith(".."):
        return path
    return relative + os.sep if path.endswith(os.sep) and relative != "." else relative


# How each severity shows where a format has levels: SARIF's `level` and `rank` (0-100, higher
# first), GitHub's annotation kind.
SARIF_LEVELS = {"high": "error", "medium": "warning", "low": "note"}
SARIF_RANKS = {"high": 90.0, "medium": 50.0, "low": 10.0}
GITHUB_KINDS = {"high": "error", "medium": "warning", "low": "notice"}


def text(findings: list[Finding]) -> str:
    return "".join(f"{display_path(f.path)}:{f.line}:{f.col + 1}: {f.shown}\n" for f in findings)


def as_json(findings: list[Finding], errors: Sequence[FileError] = (), notices: Sequence[str] = ()) -> str:
    return json.dumps({
        "findings": [dict(f.as_dict(), path=display_path(f.path)) for f in findings],
        "errors": [{"path": display_path(e.path), "line": e.line, "reason": e.reason} for e in errors],
        "notices": list(notices),
    }, indent=2) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(findings: list[Finding], errors: Sequence[FileError] = (), notices: Sequence[str] = ()) -> str:
    """GitHub Actions workflow commands: each finding, and each file that could not be checked,
    becomes an annotation on the pull request (once: a GEV001 finding is that annotation)."""
    annotated = {f.path for f in findings if f.code == NOT_ANALYSED}
    lines = [f"::{GITHUB_KINDS[f.severity]} file={_escape_property(display_path(f.path))},line={f.line},"
             f"col={f.col + 1},title={f.code}::{_escape_data(f.message)}\n" for f in findings]
    lines += [f"::error file={_escape_property(display_path(e.path))},line={e.line},title=lintgevent::"
              f"{_escape_data('could not be checked: ' + e.reason)}\n" for e in errors if e.path not in annotated]
    lines += [f"::notice::{_escape_data(notice)}\n" for notice in notices]
    return "".join(lines)


def repository_root() -> str:
    """The top of the git work tree around the current directory, else the current directory."""
    current = os.getcwd()
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return os.getcwd()
        current = parent


def _uri_path(path: str) -> str:
    """A path as URI text: its bytes as the OS gives them, percent-encoded where a URI needs it."""
    return quote(os.fsencode(path).replace(os.fsencode(os.sep), b"/"), safe="/")


def _artifact_location(path: str, root: str) -> dict:
    """Relative to the repository root; a file URI for a file outside it."""
    relative = os.path.relpath(os.path.abspath(path), root)
    if relative.startswith(".."):
        return {"uri": "file://" + _uri_path(os.path.abspath(path))}
    return {"uri": _uri_path(relative), "uriBaseId": "SRCROOT"}


def _sarif_rule(code: str) -> dict:
    rule = RULES[code]
    doc = rule_doc(code) or ""
    summary = what_it_does(doc) or rule.title
    entry = {"id": code, "name": rule.title, "shortDescription": {"text": rule.title},
             "fullDescription": {"text": summary},
             "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity], "rank": SARIF_RANKS[rule.severity]}}
    if doc:
        entry["help"] = {"text": f"{summary} Run `lintgevent explain {code}` for the whole documentation.",
                         "markdown": doc}
    return entry


def sarif(findings: list[Finding], errors: Sequence[FileError] = (), notices: Sequence[str] = ()) -> str:
    root = repository_root()
    codes = sorted({f.code for f in findings})
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for f in findings:
        artifact = _artifact_location(f.path, root)
        result = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": SARIF_LEVELS[f.severity],
            "rank": SARIF_RANKS[f.severity],
            "message": {"text": f.message},
            "properties": {"severity": f.severity},
            "locations": [{"physicalLocation": {
                "artifactLocation": artifact,
                "region": {"startLine": f.line, "startColumn": f.col + 1},
            }}],
        }
        if f.lines:  # the calls on the file it opens
            result["relatedLocations"] = [{"id": number, "physicalLocation": {
                "artifactLocation": artifact, "region": {"startLine": line}}} for number, line in enumerate(f.lines)]
        results.append(result)
    notifications = [{
        "level": "error",
        "message": {"text": f"could not be checked: {e.reason}"},
        "locations": [{"physicalLocation": {"artifactLocation": _artifact_location(e.path, root),
                                            "region": {"startLine": e.line}}}],
    } for e in errors]
    notifications += [{"level": "warning", "message": {"text": notice}} for notice in notices]
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "lintgevent", "version": __version__, "semanticVersion": __version__,
                            "rules": [_sarif_rule(c) for c in codes]}},
        "invocations": [{"executionSuccessful": not errors, "toolExecutionNotifications": notifications}],
        "originalUriBaseIds": {"SRCROOT": {"uri": "file://" + _uri_path(root).rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }]}
    return json.dumps(log, indent=2) + "\n"


def render(findings: list[Finding], output_format: str, errors: Sequence[FileError] = (),
           notices: Sequence[str] = ()) -> str:
    """The findings in a format; the machine-read formats also carry the files that could not be
    checked and the CLI's notices (text leaves both to stderr)."""
    if output_format == "text":
        return text(findings)
    return {"json": as_json, "sarif": sarif, "github": github}[output_format](findings, errors, notices)


def statistics(findings: list[Finding]) -> str:
    """flake8's --statistics: one line per code, with its count and title."""
    counts = Counter(f.code for f in findings)
    return "".join(f"{counts[code]:<5} {code} {RULES[code].title}\n" for code in sorted(counts))
