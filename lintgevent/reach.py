"""Reachability from entry points: which functions run on a request path, and by which shortest chain."""
from __future__ import annotations

import builtins
import io
from collections import deque
from dataclasses import dataclass

from .branches import pruned_calls
from .entrypoints import EntryPoints
from .index import ProjectIndex, alternatives
from .provenance import explained_receiver
from .summary import Call


# A call on an unknown receiver reaches a project method by its name only when at most this many
# classes define it and the name is not one that many kinds of object have.
MAX_NAMESAKES = 2
COMMON_NAMES = frozenset(
    {n for t in (dict, list, str, bytes, set, io.IOBase, io.BufferedIOBase, object) for n in dir(t)}
    | set(dir(builtins))
    | {"get", "post", "put", "patch", "delete", "head", "options", "save", "load", "run", "start", "stop",
       "close", "open", "read", "write", "send", "recv", "handle", "process", "execute", "call", "apply",
       "dispatch", "render", "validate", "clean", "setup", "teardown", "init", "reset", "flush", "connect",
       "commit", "rollback", "query", "fetch", "create", "update", "remove", "add", "append", "insert",
       "emit", "notify", "log", "info", "debug", "warning", "error", "exception", "parse", "serialize",
       "to_dict", "as_dict", "json", "data", "wait", "join", "kill", "spawn", "submit", "result", "done",
       "cancel", "sort", "next", "send_message", "on_message", "callback", "func", "main", "close_all",
       "set", "name", "value", "check", "test", "build", "make", "new", "list", "delete_all", "exists"})


def reached_by_name(index: ProjectIndex, callee) -> tuple:
    """The project methods a call on a receiver of unknown type may run, by the method's name
    alone: when one or two classes define it and the name is not common.  A receiver of unknown
    type is an unknown value, or an attribute or item of something outside the project that the
    catalog does not know (`current_app.extensions["search"]`, where apps keep their objects).
    These edges are weaker: the chain says so."""
    if callee is None or callee[0] != "ext" or "." not in callee[1]:
        return ()
    catalog = index.catalog
    receiver, name = callee[1].rsplit(".", 1)
    if receiver != "<unknown>" and (receiver.startswith("<") or receiver.endswith("()")
                                    or catalog.blocking(callee[1]) is not None
                                    or catalog.runner(callee[1]) is not None):
        return ()  # a catalog type, or what a library's function returns: the library's own object
    if len(name) < 4 or name.startswith("_") or name in COMMON_NAMES:
        return ()
    found = index.methods_named(name)
    return found if len(found) <= MAX_NAMESAKES else ()


@dataclass(slots=True)
class Site:
    """A call site of a function, resolved."""

    call: Call
    callee: tuple | None  # resolved value (see index.py)
    runner: tuple | None  # (Runner, target value) when it hands a function to a greenlet/thread/threadpool
    offloaded: bool  # written inside the arguments of a threadpool offload


class Reachability:
    def __init__(self, index: ProjectIndex, entries: EntryPoints, kept: dict | None = None):
        """`kept`: the sites that hold whatever the parameters, shared by the rounds of values.solve."""
        self.index = index
        self.entries = entries
        self.parent: dict[tuple, tuple | None] = {}
        self.via: dict[tuple, Call | None] = {}  # function -> the call in its parent that runs it
        self.roots: dict[tuple, str] = {}  # entry point -> its label
        self.by_name: set[tuple] = set()  # functions first reached through a call resolved by name only
        # (what, function) -> its sites, what runs on the hub when it is called, or its edges:
        # this round's, and those that hold in every round (shared by the rounds of values.solve)
        self._worked_out: dict[tuple, object] = {}
        self._kept: dict[tuple, object] = {} if kept is None else kept

    def _per_round(self, what: str, key: tuple, compute):
        """compute(), once for this round, or once for every round when it does not rest on the
        parameters; a value that rests on them passes that on to what is computed from it."""
        slot = (what, key)
        if slot in self._worked_out:
            self.index.rests_on_round()
            return self._worked_out[slot]
        if slot in self._kept:
            return self._kept[slot]
        value, holds = self.index.holds_every_round(compute)
        (self._kept if holds else self._worked_out)[slot] = value
        return value

    def sites(self, key: tuple) -> list[Site]:
        return self._per_round("sites", key, lambda: self._resolved_sites(key))

    def _resolved_sites(self, key: tuple) -> list[Site]:
        fs = self.index.files[key[0]]
        function = fs.functions[key[1]]
        out: list[Site] = []
        pruned = pruned_calls(key, function, fs, self.index) if function.guards else frozenset()
        for position, call in enumerate(function.calls):
            if position in pruned:  # a branch every caller rules out (branches.py): it runs nothing
                out.append(Site(call, None, None, False))
                continue
            value = self.index.called(call, fs)
            runner = self.entries.runner_of(call, fs, value)
            parent = out[call.parent] if call.parent >= 0 else None
            offloaded = parent is not None and (
                parent.offloaded or (parent.runner is not None and parent.runner[0].kind == "offload"))
            out.append(Site(call, self.index.callee(value), runner, offloaded))
        return out

    def on_hub(self, key: tuple) -> tuple:
        """What runs on the hub when `key` is called: the function itself, or, when a decorator's
        wrapper hands it to an offload runner (gevent's threadpool, a real OS thread), the
        decorators' wrappers instead: its own body runs off the hub."""
        return self._per_round("on hub", key, lambda: self._decorated_on_hub(key))

    def _decorated_on_hub(self, key: tuple) -> tuple:
        index = self.index
        function, fs = index.function(key), index.files[key[0]]
        if function is None or not function.decorators:
            return (key,)
        wrappers, offloads = [], False
        for decorator in function.decorators:
            for value in alternatives(index.called(decorator, fs)):
                if value[0] == "func":
                    nested = index.nested_functions(value[1])
                    wrappers.extend(nested)
                    offloads |= any(self._offloads_parameter(inner, (value[1], *nested)) for inner in nested)
        return tuple(dict.fromkeys(wrappers)) if offloads else (key,)

    def _offloads_parameter(self, key: tuple, owners: tuple) -> bool:
        """Whether a function hands a parameter of one of `owners` (a decorator and its nested
        functions: the function it wraps) to an offload runner."""
        fs = self.index.files[key[0]]
        names = {owner[1] for owner in owners}
        for call in self.index.function(key).calls:
            found = self.entries.runner_of(call, fs, self.index.called(call, fs))
            if found is None:
                continue
            runner = found[0]
            if runner.kind == "offload" or (runner.kind == "thread" and not self.entries.threads_patched(key[0])):
                target = call.arg(runner.arg, runner.keyword or None)
                while target is not None and target[0] == "partial":
                    target = target[1]
                if target is not None and target[0] == "param" and target[1] in names:
                    return True
        return False

    def successors(self, key: tuple, hops: bool = True):
        """Functions that run when `key` runs, on the same hub; without `hops`, only those that run
        in the same greenlet (no spawned targets)."""
        return (nxt for nxt, _, _ in (self.edges(key) if hops else self._edges(key, hops)))

    def edges(self, key: tuple) -> tuple:
        """(function, the call that runs it or None for a decorator's wrapper, whether the call was
        resolved by the method's name alone) for each successor."""
        return self._per_round("edges", key, lambda: tuple(self._edges(key)))

    def _edges(self, key: tuple, hops: bool = True):
        index = self.index
        fs = index.files[key[0]]
        function = fs.functions[key[1]]
        for decorator in function.decorators:
            for value in alternatives(index.called(decorator, fs)):
                if value[0] == "func":  # @decorator or @factory(...): its inner functions wrap the call
                    yield from ((nested, None, False) for nested in index.nested_functions(value[1]))
                elif value[0] in ("class", "obj"):
                    method = index.find_method(value[1], "__call__")
                    if method:
                        yield method, None, False
        threads_patched = self.entries.threads_patched(key[0])
        for site in self.sites(key):
            if site.offloaded:
                continue
            for callee in alternatives(site.callee):
                if callee[0] == "func":
                    yield from ((nxt, site.call, False) for nxt in self.on_hub(callee[1]))
            for method in reached_by_name(index, site.callee):
                yield from ((nxt, site.call, True) for nxt in self.on_hub(method))
            if hops and site.runner is not None:
                runner, target = site.runner
                kind = runner.kind
                if kind in ("greenlet", "server") or (kind == "thread" and threads_patched):
                    yield from ((nxt, site.call, False) for key in self.entries.callables(target)
                                for nxt in self.on_hub(key))

    def run(self, found: dict[tuple, tuple[int, str]]) -> None:
        """Breadth-first from every entry point at once, so each function keeps its shortest chain."""
        ordered = []
        for key in sorted(found, key=lambda k: (found[k][0], k)):
            for root in self.on_hub(key):
                if root not in self.roots:
                    self.roots[root] = found[key][1] if root == key else f"{found[key][1]}, whose body a decorator offloads"
                    ordered.append(root)
        queue = deque(ordered)
        for key in ordered:
            self.parent[key] = None
        while queue:
            key = queue.popleft()
            for nxt, call, weak in self.edges(key):
                if nxt not in self.parent and self.index.function(nxt) is not None:
                    self.parent[nxt] = key
                    self.via[nxt] = call
                    if weak:
                        self.by_name.add(nxt)
                    queue.append(nxt)

    def chain(self, key: tuple) -> str:
        """`route POST /x -> Class.method -> helper` for a reachable function; a hop through a
        value from afar says how it was known (`Store.put (self.store: Store, passed at web.py:9)`)."""
        hops = []
        while self.parent.get(key) is not None:
            parent, call = self.parent[key], self.via.get(key)
            if key in self.by_name:
                how = f" (by its name: `{call.text}` on a receiver of unknown type)"
            else:
                how = explained_receiver(self.index, call, self.index.files[parent[0]]) if call is not None else ""
            hops.append(key[1] + how)
            key = parent
        return " -> ".join([self.roots[key], *reversed(hops)])
