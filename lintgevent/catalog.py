"""The catalog of blocking calls, value types and function runners, loaded from catalog.toml."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache

from .rules import SEVERITIES

# Tags of the types that an opened file is folded into (opened.py pairs such a file with its uses).
OPENED_TAGS = frozenset({"<file>", "<archive>", "<mmap>"})

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class BlockingCall:
    code: str
    pattern: str
    blocks: str  # "always" | "never" | "unpatched:<module>" | "unless:<flag>" | "if:<flag>", or "a|b"
    why: str
    severity: str  # one of SEVERITIES: how long the call may hold the hub
    when: str = ""
    # A readiness check on its descriptor just before it (select, wait_read, O_NONBLOCK) means it
    # does not wait: the descriptor is a pipe, terminal or socket, which such a check makes ready.
    readiness: bool = False


@dataclass(frozen=True)
class Readiness:
    """A call after which the descriptors it is given do not make a read or write wait: a readiness
    check (`select.select([fd], ...)`, `gevent.socket.wait_read(fd)`) or a switch to non-blocking mode."""
    pattern: str
    descriptors: tuple  # the positional arguments that hold descriptors (or lists of them)
    requires: tuple  # ((position, summary descriptor), ...) that the call must also be given


@dataclass(frozen=True)
class Runner:
    kind: str  # "greenlet" | "server" | "offload" | "thread"
    pattern: str
    arg: int
    keyword: str
    waits: bool = False  # returns only once the greenlets are done (Pool.map)


@dataclass(frozen=True)
class WriteCall:
    pattern: str
    data: int  # the positional argument that holds what is written
    shape: str  # "data" | "lines" | "object"


class Catalog:
    def __init__(self, data: dict, digest: str):
        self.digest = digest
        self.types: dict[str, str] = data["types"]
        # the last names of the calls that give an opened file: `open`, `ZipFile`, `mmap`...
        self.opener_hints = frozenset(key[:-2].rsplit(".", 1)[-1] for key, tag in self.types.items()
                                      if key.endswith("()") and tag in OPENED_TAGS)
        # pattern -> its entries, the ones with a `when` condition first (in file order), then the one without
        calls: dict[str, list[BlockingCall]] = {}
        for entry in data["call"]:
            if entry["severity"] not in SEVERITIES:
                raise ValueError(f"catalog entry {entry['match']}: severity must be one of {SEVERITIES}")
            for pattern in entry["match"]:
                calls.setdefault(pattern, []).append(BlockingCall(
                    entry["code"], pattern, entry["blocks"], entry["why"], entry["severity"],
                    entry.get("when", ""), entry.get("readiness", False)))
        self.calls: dict[str, tuple[BlockingCall, ...]] = {
            pattern: tuple(sorted(entries, key=lambda e: not e.when)) for pattern, entries in calls.items()}
        self.readiness: dict[str, Readiness] = {}
        for entry in data["ready"]:
            requires = tuple((int(position), _summary_desc(value)) for position, value in entry.get("requires", {}).items())
            for pattern in entry["match"]:
                self.readiness[pattern] = Readiness(pattern, tuple(entry["descriptors"]), requires)
        self.readiness_hints = frozenset(pattern.rsplit(".", 1)[-1] for pattern in self.readiness)
        # the last names of the calls a readiness check makes ready (entries with `readiness = true`)
        self.readied_hints = frozenset(e.pattern.rsplit(".", 1)[-1] for entries in self.calls.values()
                                       for e in entries if e.readiness)
        self.runners: dict[str, Runner] = {}
        for entry in data["runner"]:
            overrides = entry.get("arg_for", {})
            for pattern in entry["match"]:
                self.runners[pattern] = Runner(entry["kind"], pattern, overrides.get(pattern, entry["arg"]),
                                               entry.get("keyword", ""), entry.get("waits", False))
        self.greenlet_hints = frozenset(
            pattern.rsplit(".", 1)[-1] for pattern, runner in self.runners.items() if runner.kind == "greenlet")
        self.handle_tags = frozenset(data["handles"]["tags"])
        self.handle_acquirers = frozenset(data["handles"]["acquire"])
        self.context: dict[str, str] = {name: needs for needs, names in data["context"].items() for name in names}
        self.writes = {pattern: WriteCall(pattern, entry["data"], entry["shape"])
                       for pattern, entry in data["writes"].items()}
        yields = data["yields"]
        self.yields_always = frozenset(yields["always"])
        self.yields_positive = frozenset(yields["positive"])
        self.yield_io_modules = frozenset(yields["io_modules"])
        # a loop over one of these values waits for the next item cooperatively where its module is patched
        self.yields_iterating: dict[str, str] = yields["iterating"]
        patching = data["patching"]
        self.ssl_importers = frozenset(patching["ssl_importers"])
        self.created_unpatched = frozenset(patching["created"])  # objects that stay native if made before patching
        self.replaced_names: dict[str, frozenset] = {m: frozenset(n) for m, n in patching["replaced"].items()}

    @staticmethod
    def _lookup(table: dict, key: str):
        """Exact match first, then the longest `prefix.*` wildcard."""
        hit = table.get(key)
        if hit is not None:
            return hit
        cut = len(key)
        while True:
            cut = key.rfind(".", 0, cut)
            if cut <= 0:
                return None
            hit = table.get(key[:cut] + ".*")
            if hit is not None:
                return hit

    def entries(self, key: str) -> tuple[BlockingCall, ...]:
        """The entries of a call: the conditional ones first, to be tried in order."""
        return self._lookup(self.calls, key) or ()

    def blocking(self, key: str) -> BlockingCall | None:
        """The entry of a call that holds whatever its arguments (the last one)."""
        found = self._lookup(self.calls, key)
        return found[-1] if found else None

    def runner(self, key: str) -> Runner | None:
        return self.runners.get(key)

    def fold(self, value: str) -> str:
        """Fold a value into its type tag where the catalog knows one (`gzip.open()` -> `<file>`)."""
        tag = self.types.get(value)
        if tag is not None:
            return tag
        if value.startswith("<") and value.endswith("()"):
            head = value[: value.find(">") + 1]
            if value.find(".", len(head)) == len(head):
                return self.types.get(head + ".*()", value)
        return value


def _summary_desc(value):
    """A catalog value as the summary describes it in a call's arguments: `false` -> ("const", False),
    "fcntl.F_SETFL" -> ("ref", "fcntl.F_SETFL")."""
    return ("ref", value) if isinstance(value, str) else ("const", value)


@lru_cache(maxsize=1)
def _catalog_bytes() -> bytes:
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalog.toml"), "rb") as handle:
        return handle.read()


@lru_cache(maxsize=1)
def catalog_digest() -> str:
    """What the cache keys hold of the catalog: a run whose results are cached does not parse it."""
    return hashlib.sha256(_catalog_bytes()).hexdigest()[:16]


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    return Catalog(tomllib.loads(_catalog_bytes().decode("utf-8")), catalog_digest())
