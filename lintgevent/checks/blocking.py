"""GEV101-GEV105: calls from the catalog that block the hub, on a request path, in this deployment."""
from __future__ import annotations

from collections.abc import Iterator

from ..catalog import BlockingCall
from ..deployment import Deployment
from ..findings import Finding
from ..index import ProjectIndex, alternatives
from ..positions import mark_lines
from ..provenance import explained_receiver
from ..readiness import ready_calls
from ..reach import Reachability, Site
from ..rules import RULES, severity_rank
from ..summary import FileSummary

OPEN_FILE_TAGS = frozenset({"<file>", "<memfile>", "<threadfile>", "<socket>"})
FILE_ARG_KEYWORDS = ("fp", "file", "fsrc", "fdst")
PATH_KEYWORDS = ("filename", "file", "name", "path")
A_FILE = ("ext", "<file>")
WRITE_MODES = frozenset("wax+")
FILE_IO = "GEV101"
# The advice for a file opened and used in one function: offloading the open alone would leave its calls on the hub.
TOGETHER = "offload the open and these calls together, in one function run by gevent's threadpool"


def _path_argument(call) -> tuple | None:
    desc = call.arg(0)
    return desc if desc is not None else next((d for name, d in call.kwargs if name in PATH_KEYWORDS), None)


def argument_holds(when: str, site: Site, fs: FileSummary, index: ProjectIndex) -> bool:
    """A catalog entry's `when` narrowing, judged on the call's arguments."""
    if not when:
        return True
    kind, _, spec = when.partition(":")
    call = site.call
    if kind == "literal_read":  # open("settings.json"): a path written out, opened to read
        desc, mode = _path_argument(call), call.arg(1, "mode")
        return desc is not None and desc[0] == "str" and bool(desc[1]) and (
            mode is None or (mode[0] == "str" and not WRITE_MODES.intersection(mode[1])))
    if kind == "path_arg":
        desc = _path_argument(call)
        if desc is None or desc == ("const", None):
            return False
        given = alternatives(index.evaluate(desc, fs))
        return not given or any(v[0] != "ext" or v[1] not in OPEN_FILE_TAGS for v in given)
    if kind == "file_arg":
        descs = [call.arg(int(position)) for position in spec.split(",")]
        descs += [d for name, d in call.kwargs if name in FILE_ARG_KEYWORDS]
        return any(A_FILE in alternatives(index.evaluate(desc, fs)) for desc in descs)
    if kind == "keyword_is":  # keyword_is:use_pure=True
        name, _, value = spec.partition("=")
        return call.keyword(name) == ("const", {"True": True, "False": False}.get(value, value))
    if kind == "arg0_is":
        return ("ext", spec) in alternatives(index.evaluate(call.arg(0), fs))
    raise ValueError(f"unknown catalog condition {when!r}")


def describe(entry: BlockingCall, site: Site) -> str:
    rule = RULES[entry.code]
    text = f"{rule.what} `{site.call.text}`"
    kind, _, what = entry.blocks.partition(":")
    if kind == "unpatched":
        text += f" while {what} is not monkey-patched"
    return text


def site_names(site: Site) -> list[str]:
    """The catalog names of a call outside the project that runs on the hub (not offloaded): one,
    or one per alternative its receiver may be."""
    if site.offloaded:
        return []
    names = []
    for callee in alternatives(site.callee):
        if callee[0] == "ext":
            names.append(callee[1])
    return names


def blocking_entry(site: Site, fs: FileSummary, index: ProjectIndex, deployment: Deployment,
                   ready: bool = False) -> BlockingCall | None:
    """The catalog entry by which a call blocks the hub in this deployment, or None.  An entry with
    `when` holds when its condition does; the first that holds is the call's.  `ready`: a readiness
    check of its descriptor came before it (readiness.py)."""
    for name in site_names(site):
        for entry in index.catalog.entries(name):
            if not argument_holds(entry.when, site, fs, index):
                continue
            if not deployment.blocks(entry.blocks):
                break
            if entry.readiness and ready:
                break
            return entry
    return None


def check(index: ProjectIndex, reach: Reachability, deployments: dict[str, Deployment],
          refined: frozenset = frozenset()) -> Iterator[Finding]:
    """`refined`: the (path, line, col) where a more specific rule reports instead of GEV101 (a
    GEV301 write): such a call is not folded into the finding of the file it writes."""
    for key in reach.parent:
        fs = index.files[key[0]]
        deployment = deployments[fs.path]
        if not deployment.uses_gevent:
            continue
        sites = reach.sites(key)
        function = fs.functions[key[1]]
        ready = ready_calls(function, sites, site_names, index.catalog) \
            if function.readied else frozenset()
        # `open(p).read()`: both calls start at one position; one finding there, naming the inner call.
        found: dict[tuple, tuple[Site, BlockingCall]] = {}
        for position, site in enumerate(sites):
            entry = blocking_entry(site, fs, index, deployment, position in ready)
            if entry is not None:
                found[(site.call.line, site.call.col, entry.code)] = (site, entry)
        if not found:
            continue
        uses = _uses_of_opened(fs.path, function, sites, found, refined)
        folded = {position for positions in uses.values() for position in positions}
        chain = reach.chain(key)
        for position, (site, entry) in found.items():
            if position not in folded:
                yield _finding(index, fs, site, entry, deployment, chain, [found[p] for p in uses.get(position, ())])


def _uses_of_opened(path: str, function, sites: list[Site], found: dict, refined: frozenset) -> dict[tuple, list]:
    """The open's position -> the positions of the calls on its file reported with it (opened.py)."""
    uses: dict[tuple, list] = {}
    taken: set[tuple] = set()
    for opening, used in function.opened:
        call = sites[opening].call
        at = (call.line, call.col, FILE_IO)
        if at not in found:
            continue
        for index in used:
            use = sites[index].call
            position = (use.line, use.col, FILE_IO)
            if position in found and position not in taken and (path, use.line, use.col) not in refined:
                uses.setdefault(at, []).append(position)
                taken.add(position)
    return uses


def _finding(index: ProjectIndex, fs: FileSummary, site: Site, entry: BlockingCall, deployment: Deployment,
             chain: str, uses: list) -> Finding:
    rule = RULES[entry.code]
    how = explained_receiver(index, site.call, fs)
    process = deployment.blocking_in(entry.blocks)
    then = f", then {_operations(fs.path, uses)}," if uses else ""
    advice = TOGETHER if uses else rule.advice
    message = f"{entry.code} {describe(entry, site)}{how}{process}{then} on a request path ({chain}); {advice}"
    lines = tuple(sorted({use.call.line for use, _ in uses} - {site.call.line}))
    return Finding(fs.path, site.call.line, site.call.col, entry.code, message, chain,
                   severity=_severity(entry, [use_entry for _, use_entry in uses]), lines=lines)


def _operations(path: str, uses: list) -> str:
    """`fh.write` and `fh.flush` at lines 14-16"""
    texts = list(dict.fromkeys(f"`{site.call.text}`" for site, _ in uses))
    named = texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " and " + texts[-1]
    lines = {site.call.line for site, _ in uses}
    return f"{named} at line{'s' if len(lines) > 1 else ''} {mark_lines(path, lines)}"


def _severity(opening: BlockingCall, uses: list[BlockingCall]) -> str:
    """The highest of the open's and its uses'.  A file the catalog rates low at its open (named by
    a literal and opened to read) is small: reads of unknown size (medium) on it are low too."""
    severities = [opening.severity] + [u.severity for u in uses if opening.severity != "low" or u.severity == "high"]
    return max(severities, key=severity_rank)
