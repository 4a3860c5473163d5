"""GEV301-GEV302: writes to a real file on a request path that hold the hub for as long as the data is big.

GEV301 is one write whose data has no size bound (writes.py judges it); GEV302 is a loop that writes
once per item of an unbounded iterable and never lets the hub run.  A write is a catalog `[writes]`
call that blocks the hub by GEV101's own entry (a real file, not offloaded, not a FileObjectThread).

Sizes through calls: a write of a parameter (or of `body.encode()`, `zlib.compress(body)`...) that
nothing in its function bounds takes the size the value analysis gives that parameter (see
values.py): one request path that passes the whole request body is enough.
"""
from __future__ import annotations

from collections.abc import Iterator

from ..catalog import WriteCall
from ..deployment import Deployment
from ..findings import Finding
from ..index import ProjectIndex, alternatives
from ..provenance import where
from ..reach import Reachability, Site
from ..rules import RULES
from ..summary import FileSummary, Function
from .blocking import blocking_entry, site_names

SLEEP_ZERO = ("`{text}` does not count: a sleep of zero only switches to greenlets that are already "
              "runnable, and can come back before the hub polls for IO (measured: 1 MiB chunks with "
              "gevent.sleep(0) between them still stalled the hub 1.6 s)")
EFFECTIVE, INEFFECTIVE = "effective", "ineffective"


class _Yields:
    """Which calls let the hub run, in one deployment."""

    def __init__(self, index: ProjectIndex, reach: Reachability, deployment: Deployment):
        self.index = index
        self.reach = reach
        self.deployment = deployment

    def kind(self, site: Site, fs: FileSummary, follow: bool = True) -> str | None:
        """EFFECTIVE, INEFFECTIVE (a sleep of zero), or None for a call that does not yield.  A call
        of a project function yields when that function itself makes an effective yield."""
        functions = [c[1] for c in alternatives(site.callee) if c[0] == "func"]
        if follow and not site.offloaded and functions:
            for key in functions:
                if self.index.function(key) is None:
                    return None
                callee_file = self.index.files[key[0]]
                if not any(self.kind(s, callee_file, follow=False) == EFFECTIVE for s in self.reach.sites(key)):
                    return None
            return EFFECTIVE
        names = site_names(site)
        if not names:
            return None
        name = names[0]
        catalog = self.index.catalog
        entry = catalog.blocking(name)
        if name in catalog.yields_positive:
            if entry is not None and self.deployment.blocks(entry.blocks):
                return None  # an unpatched time.sleep blocks: GEV104 says so
            call = site.call
            if not call.args and not any(keyword == "seconds" for keyword, _ in call.kwargs):
                return INEFFECTIVE  # the default delay is zero
            delay = call.arg(0, "seconds")
            if delay is not None and delay[0] == "const" and not (delay[1] or 0) > 0:
                return INEFFECTIVE
            return EFFECTIVE
        if name in catalog.yields_always:
            return EFFECTIVE
        if entry is not None and not self.deployment.blocks(entry.blocks):
            kind, _, what = entry.blocks.partition(":")
            if kind == "unless" or (kind == "unpatched" and what in catalog.yield_io_modules):
                return EFFECTIVE
        return None

    def iterating(self, loop, fs: FileSummary) -> bool:
        """Whether each item of a `for` loop is waited for cooperatively: it iterates over a streamed
        response, a socket's file, or greenlets finishing (catalog `[yields.iterating]`)."""
        if loop.source is None:
            return False
        waits = self.index.catalog.yields_iterating
        for value in alternatives(self.index.evaluate(loop.source, fs)):
            module = waits.get(value[1]) if value[0] == "ext" else None
            if module is not None and (not module or not self.deployment.blocks("unpatched:" + module)):
                return True
        return False


def _size_reason(index: ProjectIndex, key: tuple, write, spec: WriteCall) -> str:
    """Why the data of a write of a parameter has no size bound, from what the calls on request
    paths pass for it (values.Parameters.size); "" if nothing says."""
    source = write.params[spec.data] if spec.data < len(write.params) else ()
    found = index.parameters.size(key, *source) if source and index.parameters is not None else None
    if found is None:
        return ""
    reason, calls = found
    at = ", then at ".join(where(index, path, line) for path, line in calls)
    param = source[0]
    if reason.startswith("it serialises "):
        return f"`{param}` is a serialisation of {reason[len('it serialises '):]}, passed at {at}"
    if reason.startswith("it "):
        return f"`{param}` {reason[3:]}, passed at {at}"
    if reason.startswith("`") and (" is " in reason or " grows in " in reason):
        return f"`{param}` is passed at {at}, where {reason}"
    return f"`{param}` is {reason}, passed at {at}"


def _position(site: Site) -> tuple[int, int]:
    return site.call.line, site.call.col


def check(index: ProjectIndex, reach: Reachability, deployments: dict[str, Deployment]) -> Iterator[Finding]:
    for key in reach.parent:
        fs = index.files[key[0]]
        function = fs.functions[key[1]]
        if not function.writes:
            continue
        deployment = deployments[fs.path]
        if not deployment.uses_gevent:
            continue
        sites = reach.sites(key)
        real: dict[int, tuple] = {}  # call index -> (Write, WriteCall)
        for write in function.writes:
            site = sites[write.call]
            spec = next((index.catalog.writes[n] for n in site_names(site) if n in index.catalog.writes),
                        None)
            if spec is not None and blocking_entry(site, fs, index, deployment) is not None:
                real[write.call] = (write, spec)
        if not real:
            continue
        chain = reach.chain(key)
        for write, spec in real.values():
            reason = write.unbounded[spec.data] if spec.data < len(write.unbounded) else ""
            if not reason and write.params:
                reason = _size_reason(index, key, write, spec)
            if reason:
                yield _unbounded_write(fs, sites[write.call], spec, write.statement, reason, chain)
        yield from _loops(fs, function, sites, real, _Yields(index, reach, deployment), chain)


def _unbounded_write(fs: FileSummary, site: Site, spec: WriteCall, statement: bool, reason: str,
                     chain: str) -> Finding:
    rule = RULES["GEV301"]
    message = (f"GEV301 {rule.what} `{site.call.text}` on a request path ({chain}): {reason}, and the hub "
               f"cannot run until the write returns; {rule.advice}")
    plan = (("call", _position(site)), ("hint", site.call.hint), ("data", spec.data), ("shape", spec.shape),
            ("statement", statement))
    return Finding(fs.path, site.call.line, site.call.col, "GEV301", message, chain, plan)


def _loops(fs: FileSummary, function: Function, sites: list[Site], real: dict, yields: _Yields,
           chain: str) -> Iterator[Finding]:
    """Innermost loops first: a loop is reported for the writes no loop inside it was reported for."""
    covered: set[int] = set()
    rule = RULES["GEV302"]
    for loop in sorted(function.loops, key=lambda lp: len(lp.calls)):
        writes = [i for i in loop.calls if i in real]
        if not writes or not loop.unbounded:
            continue
        kinds = {i: yields.kind(sites[i], fs) for i in loop.calls}
        if EFFECTIVE in kinds.values() or covered.issuperset(writes) or yields.iterating(loop, fs):
            covered.update(writes)
            continue
        covered.update(writes)
        sleeps = [sites[i] for i, kind in kinds.items() if kind == INEFFECTIVE]
        runs = ("as long as its condition holds" if loop.kind == "while"
                else f"once per item of {loop.unbounded}")
        message = (f"GEV302 {rule.what} on a request path ({chain}): `{sites[writes[0]].call.text}` runs {runs}, "
                   f"and nothing in the loop lets the hub run")
        if sleeps:
            call = sleeps[0].call
            message += "; " + SLEEP_ZERO.format(text=call.text + ("(0)" if call.args or call.kwargs else "()"))
        message += f"; {rule.advice}"
        plan = (("loop", (loop.line, loop.col)), ("counter", loop.counter),
                ("sleeps", tuple(_position(s) for s in sleeps)))
        yield Finding(fs.path, loop.line, loop.col, "GEV302", message, chain, plan)
