"""GEV401: monkey.patch_all() after an import that really leaves something unpatched.

Importing a module before patching is not enough: patching replaces the attributes of `socket`,
`time`, `threading`... in place.  What stays unpatched (catalog `[patching]`): ssl imported before
patching (directly, or by a library that imports it at import time), a name bound from a patched
module (`from time import sleep`), and a lock, socket or thread created at import time.  A project
module imported before patching is judged by what its own import runs: its imports and its
top-level calls, transitively.
"""
from __future__ import annotations

from collections.abc import Iterator

from ..deployment import PATCH_ALL, Deployment
from ..findings import Finding
from ..index import ProjectIndex
from ..positions import mark
from ..rules import RULES
from ..summary import FileSummary

MAX_DEPTH = 8  # project modules followed through their imports


class _Effects:
    """What an import leaves unpatched: a direct effect ("imports ssl..."), or the project modules
    it runs and the effect of the last one."""

    def __init__(self, index: ProjectIndex):
        self.index = index
        self.catalog = index.catalog
        self._modules: dict[tuple, tuple] = {}

    def direct(self, module: str, names: tuple, is_from: bool) -> str:
        replaced = sorted(self.catalog.replaced_names.get(module, frozenset()) & set(names)) if is_from else []
        if replaced:
            return f"binds {', '.join(f'`{n}`' for n in replaced)} from {module} before patching replaces it"
        if module == "ssl":
            return "is ssl: its classes stay unpatched"
        parts = module.split(".")
        if any(".".join(parts[:cut]) in self.catalog.ssl_importers for cut in range(len(parts), 0, -1)):
            return "imports ssl, whose classes stay unpatched"
        return ""

    def of_import(self, fs: FileSummary, module: str, names: tuple, is_from: bool, depth: int = 0) -> tuple:
        """((project modules it runs, ...), effect), or ((), "") when it leaves nothing unpatched."""
        effect = self.direct(module, names, is_from)
        if effect or depth >= MAX_DEPTH:
            return (), effect
        for name in ((*(f"{module}.{n}" for n in names), module) if is_from else (module,)):
            found = self.of_module(fs, name, depth + 1)
            if found[1]:
                return found
        return (), ""

    def of_module(self, fs: FileSummary, module: str, depth: int) -> tuple:
        """A project module's import: what its imports and top-level calls leave unpatched."""
        root = self.index.root_of.get(fs.path)
        target = self.index.by_root.get(root, {}).get(module)
        if target is None or target is fs:
            return (), ""
        key = (root, module)
        if key in self._modules:
            return self._modules[key]
        self._modules[key] = ((), "")  # an import cycle adds nothing
        found = ((module,), self.created(target, None))
        for line, name, names, is_from in target.import_lines:
            if found[1]:
                break
            chain, effect = self.of_import(target, name, names, is_from, depth)
            if effect:
                statement = f"{_statement(name, names, is_from)} (line {mark(target.path, line)})"
                how = effect if chain else f"{statement} {effect}"
                found = ((module, *chain), how)
        self._modules[key] = found if found[1] else ((), "")
        return self._modules[key]

    def created(self, fs: FileSummary, before: int | None) -> str:
        """A native lock, socket or thread made at import time (before line `before`, if given)."""
        for call in fs.module_calls:
            if before is not None and call.line >= before:
                continue
            value = self.index.evaluate(call.func, fs)
            if value is not None and value[0] == "ext" and value[1] in self.catalog.created_unpatched:
                return f"`{call.text}()` (line {mark(fs.path, call.line)}), created at import: it stays native"
        return ""


def _statement(module: str, names: tuple, is_from: bool) -> str:
    return f"`from {module} import {', '.join(names)}`" if is_from else f"`import {module}`"


def check(index: ProjectIndex, deployments: dict[str, Deployment]) -> Iterator[Finding]:
    effects = _Effects(index)
    for fs in index.files.values():
        if not fs.imports_gevent or not deployments[fs.path].uses_gevent:
            continue
        for call in fs.module_calls:
            if call.hint != "patch_all" or index.evaluate(call.func, fs) != ("ext", PATCH_ALL):
                continue
            early = []
            for line, module, names, is_from in fs.import_lines:
                if line < call.line and module.split(".")[0] not in ("gevent", "__future__"):
                    chain, effect = effects.of_import(fs, module, names, is_from)
                    if effect:
                        runs = f"which runs {' -> '.join(f'`{m}`' for m in chain)}: " if chain else "which "
                        statement = f"{_statement(module, names, is_from)} (line {mark(fs.path, line)})"
                        early.append(f"{statement}, {runs}{effect}")
            created = effects.created(fs, call.line)
            if created:
                early.append(created)
            if not early:
                continue
            more = f" (and {len(early) - 1} more such import{'s' if len(early) > 2 else ''})" if len(early) > 1 else ""
            message = f"GEV401 `{call.text}()` runs after {early[0]}{more}; {RULES['GEV401'].advice}"
            yield Finding(fs.path, call.line, call.col, "GEV401", message)
