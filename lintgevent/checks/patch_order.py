"""GEV401: monkey.patch_all() after imports that patching cares about."""
from __future__ import annotations

import sys
from collections.abc import Iterator

from ..deployment import PATCH_ALL, Deployment
from ..findings import Finding
from ..index import ProjectIndex
from ..rules import RULES

# Stdlib modules whose import before patching leaves unpatched objects behind (locks, sockets,
# the main thread object, ssl contexts) or that import such modules themselves.
SENSITIVE_STDLIB = frozenset({
    "socket", "ssl", "select", "selectors", "threading", "_thread", "subprocess", "queue", "signal", "http",
    "urllib", "asyncio", "concurrent", "multiprocessing", "logging", "socketserver", "smtplib", "ftplib",
    "xmlrpc", "wsgiref",
})
# Names that patching replaces: `from time import sleep` before patching keeps the blocking one.
PATCHED_NAMES = {"time": {"sleep"}, "os": {"fork", "forkpty", "waitpid"}}
HARMLESS = frozenset({"gevent", "__future__"})


def sensitive(module: str, names: tuple, is_from: bool) -> bool:
    top = module.split(".")[0]
    if not top or top in HARMLESS:
        return False
    if top in SENSITIVE_STDLIB:
        return True
    if top in sys.stdlib_module_names:
        return is_from and bool(PATCHED_NAMES.get(module, set()) & set(names))
    return True  # third-party or project code may import any of the above


def check(index: ProjectIndex, deployments: dict[str, Deployment]) -> Iterator[Finding]:
    for fs in index.files.values():
        if not fs.imports_gevent or not deployments[fs.path].uses_gevent:
            continue
        for call in fs.module_calls:
            if call.hint != "patch_all" or index.evaluate(call.func, fs) != ("ext", PATCH_ALL):
                continue
            early = [(line, module, names, is_from) for line, module, names, is_from in fs.import_lines
                     if line < call.line and sensitive(module, names, is_from)]
            if not early:
                continue
            line, module, names, is_from = early[0]
            statement = f"from {module} import {', '.join(names)}" if is_from else f"import {module}"
            more = f" and {len(early) - 1} more" if len(early) > 1 else ""
            message = (f"GEV401 `{call.text}()` runs after `{statement}` (line {line}){more}: modules imported "
                       f"before patching keep unpatched sockets, locks and sleeps; {RULES['GEV401'].advice}")
            yield Finding(fs.path, call.line, call.col, "GEV401", message)
