"""GEV101-GEV105: calls from the catalog that block the hub, on a request path, in this deployment."""
from __future__ import annotations

from collections.abc import Iterator

from ..catalog import BlockingCall
from ..deployment import Deployment
from ..findings import Finding
from ..index import ProjectIndex
from ..inference import ReceiverInference
from ..reach import Reachability, Site
from ..rules import RULES
from ..summary import FileSummary

OPEN_FILE_TAGS = frozenset({"<file>", "<memfile>", "<threadfile>", "<socket>"})
FILE_ARG_KEYWORDS = ("fp", "file", "fsrc", "fdst")
PATH_KEYWORDS = ("filename", "file", "name", "path")


def argument_holds(when: str, site: Site, fs: FileSummary, index: ProjectIndex) -> bool:
    """A catalog entry's `when` narrowing, judged on the call's arguments."""
    if not when:
        return True
    kind, _, spec = when.partition(":")
    call = site.call
    if kind == "path_arg":
        desc = call.arg(0)
        if desc is None:
            desc = next((d for name, d in call.kwargs if name in PATH_KEYWORDS), None)
        if desc is None or desc == ("const", None):
            return False
        value = index.evaluate(desc, fs)
        return not (value and value[0] == "ext" and value[1] in OPEN_FILE_TAGS)
    if kind == "file_arg":
        for position in spec.split(","):
            desc = call.arg(int(position))
            if index.evaluate(desc, fs) == ("ext", "<file>"):
                return True
        return any(name in FILE_ARG_KEYWORDS and index.evaluate(d, fs) == ("ext", "<file>")
                   for name, d in call.kwargs)
    if kind == "arg0_is":
        return index.evaluate(call.arg(0), fs) == ("ext", spec)
    raise ValueError(f"unknown catalog condition {when!r}")


def describe(entry: BlockingCall, site: Site) -> str:
    rule = RULES[entry.code]
    text = f"{rule.what} `{site.call.text}`"
    kind, _, what = entry.blocks.partition(":")
    if kind == "unpatched":
        text += f" while {what} is not monkey-patched"
    return text


def site_name(site: Site, fs: FileSummary, inference: ReceiverInference) -> str | None:
    """The catalog name of a call outside the project that runs on the hub (not offloaded)."""
    if site.offloaded or site.callee is None or site.callee[0] != "ext":
        return None
    name = site.callee[1]
    if name.startswith("<unknown>."):
        name = inference.refine(fs.path, site.call, name)
    return name


def blocking_entry(site: Site, fs: FileSummary, index: ProjectIndex, inference: ReceiverInference,
                   deployment: Deployment) -> BlockingCall | None:
    """The catalog entry by which a call blocks the hub in this deployment, or None."""
    name = site_name(site, fs, inference)
    entry = index.catalog.blocking(name) if name is not None else None
    if entry is None or not deployment.blocks(entry.blocks):
        return None
    return entry if argument_holds(entry.when, site, fs, index) else None


def check(index: ProjectIndex, reach: Reachability, deployments: dict[str, Deployment],
          inference: ReceiverInference) -> Iterator[Finding]:
    for key in reach.parent:
        fs = index.files[key[0]]
        deployment = deployments[index.root_of[fs.path]]
        if not deployment.uses_gevent:
            continue
        chain = None
        # `open(p).read()`: both calls start at one position; one finding there, naming the inner call.
        at_position: dict[tuple, Finding] = {}
        for site in reach.sites(key):
            entry = blocking_entry(site, fs, index, inference, deployment)
            if entry is None:
                continue
            chain = chain or reach.chain(key)
            rule = RULES[entry.code]
            message = f"{entry.code} {describe(entry, site)} on a request path ({chain}); {rule.advice}"
            position = (site.call.line, site.call.col, entry.code)
            at_position[position] = Finding(fs.path, *position, message, chain)
        yield from at_position.values()
