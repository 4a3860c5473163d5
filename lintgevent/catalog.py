"""The catalog of blocking calls, value types and function runners, loaded from catalog.toml."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class BlockingCall:
    code: str
    pattern: str
    blocks: str  # "always" | "never" | "unpatched:<module>" | "unless:<flag>"
    why: str
    when: str = ""


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
        self.calls: dict[str, BlockingCall] = {}
        for entry in data["call"]:
            for pattern in entry["match"]:
                self.calls[pattern] = BlockingCall(
                    entry["code"], pattern, entry["blocks"], entry["why"], entry.get("when", ""))
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

    def blocking(self, key: str) -> BlockingCall | None:
        return self._lookup(self.calls, key)

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


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    raw = resources.files("lintgevent").joinpath("catalog.toml").read_bytes()
    return Catalog(tomllib.loads(raw.decode("utf-8")), hashlib.sha256(raw).hexdigest()[:16])
