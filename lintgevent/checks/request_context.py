"""GEV203: a greenlet spawned from a request handler reads Flask's request or application context.

Flask keeps its contexts in context variables; a new greenlet starts with an empty context, so
`request`, `session`, `g` or `current_app` read in it raise "Working outside of request context"
unless the function is wrapped in `copy_current_request_context` or pushes a context itself.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from ..deployment import Deployment
from ..entrypoints import VIEW, EntryPoints
from ..findings import Finding
from ..index import ProjectIndex
from ..positions import mark
from ..reach import Reachability
from ..rules import RULES

COPY_CONTEXT = "flask.copy_current_request_context"
# What a function pushes for the code it calls: 2 = a request context (with its application
# context), 1 = an application context only.
PUSHES = {"test_request_context": 2, "request_context": 2, "app_context": 1}
NEEDS = {"request": 2, "app": 1}
ERRORS = {"request": "Working outside of request context", "app": "Working outside of application context"}
# A copied request context comes with a new application context: its `g` is empty.
NEW_IN_A_COPY = frozenset({"flask.g", "flask.globals.g"})


def _pushes(index: ProjectIndex, key: tuple) -> int:
    function = index.function(key)
    return max((PUSHES.get(c.hint, 0) for c in function.calls), default=0)


def _wrapped_in_copy(index: ProjectIndex, key: tuple) -> bool:
    fs = index.files[key[0]]
    for decorator in index.function(key).decorators:
        value = index.evaluate(decorator.func, fs)
        if value == ("ext", COPY_CONTEXT):
            return True
    return False


class ContextReads:
    """The first read of a context the greenlet does not have, in what a greenlet's function runs."""

    def __init__(self, index: ProjectIndex, reach: Reachability):
        self.index = index
        self.reach = reach
        self._memo: dict[tuple, tuple | None] = {}

    def missing(self, start: tuple) -> list[tuple]:
        """(function key, line, name) of every read that needs more context than is pushed on the way
        to it, nearest first."""
        if start in self._memo:
            return self._memo[start]
        context = self.index.catalog.context
        found = []
        seen = {(start, 0)}
        queue = deque([(start, 0)])
        while queue:
            key, pushed = queue.popleft()
            pushed = max(pushed, _pushes(self.index, key))
            found.extend((key, line, name) for line, _, name in self.index.function(key).context_reads
                         if NEEDS[context[name]] > pushed)
            for nxt in self.reach.successors(key):
                if (nxt, pushed) not in seen and self.index.function(nxt) is not None:
                    seen.add((nxt, pushed))
                    queue.append((nxt, pushed))
        self._memo[start] = found
        return found


def _request_functions(index: ProjectIndex, reach: Reachability, entries: EntryPoints) -> dict[tuple, tuple]:
    """Functions that run in a request's own greenlet, with the entry point that runs them."""
    first = {key: key for key, (priority, _) in entries.found.items() if priority <= VIEW}
    queue = deque(first)
    while queue:
        key = queue.popleft()
        for nxt in reach.successors(key, hops=False):
            if nxt not in first and index.function(nxt) is not None:
                first[nxt] = first[key]
                queue.append(nxt)
    return first


def check(index: ProjectIndex, reach: Reachability, entries: EntryPoints,
          deployments: dict[str, Deployment]) -> Iterator[Finding]:
    reads = ContextReads(index, reach)
    for key, entry in _request_functions(index, reach, entries).items():
        fs = index.files[key[0]]
        if not deployments[fs.path].uses_gevent:
            continue
        for site in reach.sites(key):
            if site.offloaded or site.runner is None or site.runner[0].kind != "greenlet":
                continue
            runner, target_value = site.runner
            for target in entries.callables(target_value):
                if _wrapped_in_copy(index, target):
                    continue
                missing = reads.missing(target)
                if not missing:
                    continue
                reader, line, name = missing[0]
                where = "" if reader == target else f" in `{reader[1]}`"
                fresh = sorted({n for _, _, n in missing if n in NEW_IN_A_COPY})
                advice = RULES["GEV203"].advice
                if fresh:
                    advice = (f"pass what it needs from `{fresh[0]}` as arguments: a copied request context "
                              f"comes with a new, empty `g`")
                message = (f"GEV203 greenlet `{target[1]}`, spawned from a request handler "
                           f"({entries.found[entry][1]}), reads `{name}`{where} at line {mark(reader[0], line)} "
                           f"without its "
                           f"context: it raises \"{ERRORS[index.catalog.context[name]]}\"; {advice}")
                if fresh:
                    plan = (("refuse", f"the greenlet reads `{fresh[0]}`, which a copied request context "
                                       "does not carry over"),)
                else:
                    plan = (("call", (site.call.line, site.call.col)), ("arg", runner.arg),
                            ("keyword", runner.keyword))
                yield Finding(fs.path, site.call.line, site.call.col, "GEV203", message, "", plan)
                break
