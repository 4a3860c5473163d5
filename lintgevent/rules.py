"""The rule catalog: codes, titles and message parts.  Long docs live in rules/<CODE>/README.md."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    what: str  # how a finding names the call: "blocking file IO"
    advice: str
    # Rules this one refines: at the position of one of its findings, theirs are not reported.
    supersedes: tuple = ()
    # Its finding is about the whole module: a stall anywhere in that module may be its effect.
    module_wide: bool = False
    # How long its findings may hold the hub, unless the catalog entry of the call says (GEV1):
    # "high", "medium" or "low" (docs/rules.md, "Severity").
    severity: str = "high"


RULES = {rule.code: rule for rule in (
    Rule("GEV001", "file that could not be analysed", "could not be analysed",
         "nothing in it was checked"),
    Rule("GEV002", "`# noqa` comment that silences no lintgevent finding", "unused noqa",
         "remove the code from the comment", severity="low"),
    Rule("GEV101", "regular-file IO on a request path", "blocking file IO",
         "offload it with gevent's threadpool", severity="medium"),
    Rule("GEV102", "process call that blocks the hub", "blocking process call",
         "use gevent.subprocess (patched subprocess) instead"),
    Rule("GEV103", "C database or network driver that blocks the hub", "blocking driver call",
         "use a gevent-friendly driver (PyMySQL, psycogreen, zmq.green) or gevent's threadpool"),
    Rule("GEV104", "call that blocks because its module is not monkey-patched", "blocking call",
         "call gevent.monkey.patch_all() first thing, or use gevent's own API"),
    Rule("GEV105", "file lock, pipe or terminal read that waits for another process", "blocking call",
         "offload it with gevent's threadpool, or wait for the descriptor with gevent.socket.wait_read first"),
    Rule("GEV201", "decorator-injected handle passed to a greenlet", "handle injected by a decorator",
         "put the decorator on the greenlet's function and stop passing the handle"),
    Rule("GEV202", "`with`-bound resource passed to a greenlet that outlives the block", "resource bound by `with`",
         "join the greenlet inside the block, or let the greenlet open its own"),
    Rule("GEV203", "greenlet reads Flask's request context it does not have", "request context",
         "wrap the spawned function in flask.copy_current_request_context"),
    Rule("GEV301", "one write of data with no size bound on a request path", "unbounded write",
         "run it in gevent's threadpool, or write fixed-size chunks with gevent.idle() between them",
         supersedes=("GEV101",)),
    Rule("GEV302", "write loop over an unbounded iterable that never lets the hub run",
         "write loop with no effective yield", "call gevent.idle() in the loop"),
    Rule("GEV401", "monkey.patch_all() after other imports", "late patching",
         "call monkey.patch_all() before any other import", module_wide=True, severity="medium"),
)}


SEVERITIES = ("low", "medium", "high")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


# Off unless selected explicitly (`--extend-select GEV002`), as flake8 does with its default ignores.
NOT_ANALYSED = "GEV001"
UNUSED_NOQA = "GEV002"
DEFAULT_IGNORED = (UNUSED_NOQA,)


def without_superseded(findings: list) -> list:
    """Drop the findings that a more specific rule reports at the same position."""
    refined = {(f.path, f.line, f.col, old) for f in findings for old in RULES[f.code].supersedes}
    return [f for f in findings if (f.path, f.line, f.col, f.code) not in refined]
