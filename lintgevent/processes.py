"""Processes: the programs that run the project's code, each a launcher, what it imports, and one patching.

A process is started by a launcher written in a deployment file (gunicorn, uWSGI, Celery: see
launchers.py), by a gunicorn or Celery config module, or by a module run as a program that patches
or starts a gevent server.  It runs the import roots its deployment file sits above (as a server
loads code through settings no import shows) and the modules its app module and script import,
transitively, with the ones loaded by name (`importlib.import_module("plugins." + name)`).

Each file is judged under every process that runs it; a finding says which process it is for when
they disagree.  A root whose own code patches at import time and that no server launcher runs is
also judged under that code's patching (some launcher we cannot see imports it).  A file that no
process runs keeps what its root's own code says.
"""
from __future__ import annotations

import os

from .config import Config
from .deployment import (GRPC_GEVENT, ORACLE_THICK, PATCH_ALL, PSYCOGREEN, SINGLE_PATCHES, Deployment, Process,
                         apply_override, is_gevent_worker)
from .index import ProjectIndex, is_test_module
from .launchers import CELERY, GUNICORN, UWSGI, Launcher, launchers_in_text
from .positions import mark
from .reads import Reads
from .summary import FileSummary

DEPLOYMENT_HINTS = frozenset({"patch_all", "patch_psycopg", "init_gevent", "init_oracle_client",
                              *(k.rsplit(".", 1)[1] for k in SINGLE_PATCHES)})
GEVENT_SERVERS = frozenset({"gevent.pywsgi.WSGIServer", "gevent.server.StreamServer", "gevent.server.DatagramServer",
                            "gevent.baseserver.BaseServer", "gevent.wsgi.WSGIServer"})
SERVER_HINTS = frozenset(name.rsplit(".", 1)[1] for name in GEVENT_SERVERS)
CELERY_POOL_SETTINGS = ("worker_pool", "CELERYD_POOL")
# Libraries that call monkey.patch_all() when imported (locust does, in its __init__).
PATCH_ON_IMPORT = ("locust",)
CELERY_WORKER = "Celery worker (gevent pool)"
LAUNCHER_NAMES = {GUNICORN: "gunicorn (gevent worker)", UWSGI: "uWSGI (gevent loop)", CELERY: CELERY_WORKER}


def judged(processes: list[Process]) -> Deployment:
    """One Deployment for a file run by these processes: it blocks where any of them blocks, and
    names the processes a condition holds in when they disagree (Deployment.blocking_in)."""
    if len(processes) == 1:
        return processes[0].deployment
    first = processes[0].deployment
    if all(p.deployment.same_patching(first) for p in processes[1:]):
        return first
    joined = Deployment(uses_gevent=any(p.deployment.uses_gevent for p in processes),
                        patched=set.intersection(*(p.deployment.patched for p in processes)),
                        psycogreen=all(p.deployment.psycogreen for p in processes),
                        grpc_gevent=all(p.deployment.grpc_gevent for p in processes),
                        oracle_thick=any(p.deployment.oracle_thick for p in processes))
    joined.alternatives = [(p.label(), p.deployment) for p in processes]
    return joined


class ProcessFinder:
    """Finds a project's processes and judges each file under them."""

    def __init__(self, index: ProjectIndex, project_root: str, config: Config,
                 deployment_texts: dict[str, dict[str, bytes]], contents: Reads):
        self.index, self.project_root, self.config = index, project_root, config
        self.deployment_texts, self.contents = deployment_texts, contents
        self._relative_names: dict[str, dict[str, FileSummary]] = {}
        self._patch_calls: dict[str, list] = {}

    def patch_calls(self, fs: FileSummary) -> list:
        """The calls of a file that may be gevent's (or a driver's) patching: read once per run."""
        found = self._patch_calls.get(fs.path)
        if found is None:
            found = self._patch_calls[fs.path] = [c for c in fs.all_calls() if c.hint in DEPLOYMENT_HINTS]
        return found

    def where(self, path: str, line: int) -> str:
        return f"{os.path.relpath(path, self.project_root)}:{mark(path, line)}"

    # -- the processes -------------------------------------------------------------------------
    def processes(self) -> tuple[list[Process], dict[int, set]]:
        """The processes, and the paths each runs (by position in the list)."""
        found: list[tuple[Process, set]] = []
        for launcher, directory in self._file_launchers():
            found.append(self._server_process(launcher, directory))
        for fs in self.index.files.values():
            if not is_test_module(fs.module) and self._is_program(fs):
                script = self._script_process(fs)
                if script is not None:
                    found.append(script)
        for process, _ in found:
            apply_override(process.deployment, self.config.deployment, self.config.unpatched)
        return [p for p, _ in found], {i: paths for i, (_, paths) in enumerate(found)}

    def _file_launchers(self) -> list[tuple[Launcher, str]]:
        """(launcher, the directory whose roots it runs) from deployment files and config modules."""
        seen: dict[tuple, tuple[Launcher, str]] = {}
        for directory, files in self.deployment_texts.items():
            for path, data in files.items():
                for launcher in launchers_in_text(path, data):
                    seen.setdefault((path, launcher.line), (launcher, directory))
        for fs in self.index.files.values():
            if is_test_module(fs.module) or not self._is_config_module(fs):
                continue
            for launcher in launchers_in_text(fs.path, self.contents.get(fs.path, b"")) or \
                    [Launcher(GUNICORN, fs.path, 1, True, True)]:
                if launcher.kind != UWSGI:
                    seen.setdefault((fs.path, launcher.line), (launcher, self.index.root_of[fs.path]))
        followed, configs = [], set()
        for launcher, directory in seen.values():
            launcher, config = self._followed(launcher)
            configs.add(config)
            if launcher is not None:
                followed.append((launcher, directory))
        # a config file that a command line names is part of that launcher, not one of its own
        return sorted(((launcher, directory) for launcher, directory in followed if launcher.path not in configs),
                      key=lambda pair: (pair[0].path, pair[0].line))

    def _is_config_module(self, fs: FileSummary) -> bool:
        worker = fs.globals.get("worker_class")
        if worker and worker[0] == "str" and is_gevent_worker(worker[1]):
            return True
        return any((pool := fs.globals.get(name)) and pool == ("str", "gevent") for name in CELERY_POOL_SETTINGS)

    def _followed(self, launcher: Launcher) -> tuple[Launcher | None, str]:
        """(the launcher with what its `-c` config file says: worker class, app; or None if it runs no
        gevent), and the path of that config file ("" if none is found)."""
        found = self._config_file(launcher) if launcher.config else None
        if found is None:
            return (launcher if launcher.gevent else None), ""
        path, data = found
        said = [other for other in launchers_in_text(path, data) if other.kind == GUNICORN]
        gevent = launcher.gevent or any(other.gevent for other in said)
        app = launcher.app or next((other.app for other in said if other.app), "")
        if not gevent:
            return None, path
        return Launcher(launcher.kind, launcher.path, launcher.line, True, True, app, launcher.config), path

    def _config_file(self, launcher: Launcher) -> tuple[str, bytes] | None:
        """The config file a launcher names: `python:pkg.conf`, a path from its file, the project
        root, or the end of a path inside an image (`/app/config/gunicorn.py`)."""
        name = launcher.config
        if name.startswith("python:"):
            module = self.index.by_name.get(name[len("python:"):], [])
            return (module[0].path, self.contents.get(module[0].path, b"")) if module else None
        parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
        bases = (os.path.dirname(launcher.path), self.project_root)
        for start in range(len(parts)):
            for base in bases:
                path = os.path.join(base, *parts[start:])
                if path in self.contents:
                    return path, self.contents[path]
                data = self.contents.from_disk(path)
                if data is not None:
                    return path, data
        return None

    def _server_process(self, launcher: Launcher, directory: str) -> tuple[Process, set]:
        roots = [r for r in self.index.by_root if r == directory or r.startswith(directory + os.sep)]
        paths = {fs.path for r in roots for fs in self.index.by_root[r].values()}
        app = self._module(launcher.app, roots) if launcher.app else None
        if app is not None:
            paths |= self.closure(app)
        d = Deployment(uses_gevent=True)
        where = self.where(launcher.path, launcher.line)
        if launcher.patches:
            d.patch_all({})
            d.source.append(f"{LAUNCHER_NAMES[launcher.kind]} at {where}")
        else:
            d.source.append(f"{LAUNCHER_NAMES[launcher.kind]} at {where}, without monkey patching")
        self._add_patching(d, paths, launcher=None)
        covered = sorted({self.index.root_of[p] for p in paths})
        return Process(LAUNCHER_NAMES[launcher.kind], where, d, covered), paths

    def _is_program(self, fs: FileSummary) -> bool:
        return bool(fs.main_blocks) or fs.module.rsplit(".", 1)[-1] == "__main__"

    def _script_process(self, fs: FileSummary) -> tuple[Process, set] | None:
        """A module run as a program that patches or starts a gevent server."""
        starts = self.patch_calls(fs) + [call for call in fs.all_calls() if call.hint in SERVER_HINTS]
        first = next((call for call in starts if self._gevent_name(call, fs) is not None), None)
        if first is None:
            return None
        paths = self.closure(fs)
        d = Deployment(uses_gevent=True)
        self._add_patching(d, paths, launcher=fs)
        if not d.source:
            d.source.append(f"gevent server at {self.where(fs.path, first.line)}, nothing patched")
        if fs.module.endswith("__main__"):
            package = fs.module.rsplit(".", 1)[0]
            name = f"python -m {package}" if package != fs.module else f"python {os.path.relpath(fs.path, self.project_root)}"
        else:
            name = f"python {os.path.relpath(fs.path, self.project_root)}"
        covered = sorted({self.index.root_of[p] for p in paths})
        return Process(name, self.where(fs.path, first.line), d, covered), paths

    def _gevent_name(self, call, fs: FileSummary) -> str | None:
        value = self.index.evaluate(call.func, fs)
        name = value[1] if value and value[0] == "ext" else ""
        if name == PATCH_ALL or name in SINGLE_PATCHES or name in GEVENT_SERVERS:
            return name
        return None

    def _add_patching(self, d: Deployment, paths: set, launcher: FileSummary | None) -> None:
        """The patch calls of the process's modules; `if __name__ == "__main__":` blocks only the launcher's."""
        for path in sorted(paths):
            fs = self.index.files[path]
            if is_test_module(fs.module):
                continue
            _patching_imports(d, fs, self.project_root)
            for call in self.patch_calls(fs):
                if fs is launcher or not _in_main_block(call, fs):
                    apply_patch_call(self.index, d, call, fs, self.where(fs.path, call.line))

    # -- what a module imports -----------------------------------------------------------------
    def _module(self, name: str, roots: list[str]) -> FileSummary | None:
        for root in roots:
            found = self.index.find_module(name, root)
            if found is not None:
                return found
        found = self.index.by_name.get(name, [])
        return found[0] if len(found) == 1 else None

    def closure(self, start: FileSummary) -> set:
        """The paths of `start` and every module of the project it imports, transitively: import
        statements anywhere in a file, their packages' `__init__`s, and modules loaded by name."""
        seen, todo = {start.path}, [start]
        while todo:
            fs = todo.pop()
            root = self.index.root_of[fs.path]
            for found in self._imports_of(fs, root):
                if found.path not in seen:
                    seen.add(found.path)
                    todo.append(found)
        return seen

    def _imports_of(self, fs: FileSummary, root: str):
        names = set(fs.imported)
        parts = fs.module.split(".")
        names.update(".".join(parts[:n]) for n in range(1, len(parts)))  # its packages run first
        for name, exact in fs.loads:
            if exact:
                names.add(name)
            else:
                yield from self._loaded_by_prefix(name, root)
        for name in names:
            found = self.index.find_module(name, root)
            if found is not None:
                yield found

    def _loaded_by_prefix(self, prefix: str, root: str):
        """Modules whose name, as the project's modules or as folders below the loader's root, starts
        with `prefix` (a plugin folder without `__init__.py` is a root of its own)."""
        for fs in self.index.files.values():
            if fs.module.startswith(prefix) and fs.module != prefix.rstrip("."):
                yield fs
        for name, fs in self._names_below(root).items():
            if name.startswith(prefix) and name != prefix.rstrip("."):
                yield fs

    def _names_below(self, root: str) -> dict[str, FileSummary]:
        if root not in self._relative_names:
            names = {}
            for path, fs in self.index.files.items():
                if path.startswith(root + os.sep):
                    relative = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
                    names[relative.removesuffix(".__init__")] = fs
            self._relative_names[root] = names
        return self._relative_names[root]

    # -- files judged -------------------------------------------------------------------------
    def judge(self) -> tuple[list[Process], dict[str, Deployment], dict[str, Deployment]]:
        """(processes, file path -> its Deployment, import root -> what its own code says)."""
        processes, runs = self.processes()
        own = {root: self._own_code(root, modules) for root, modules in self.index.by_root.items()}
        served = {root for i, p in enumerate(processes) if p.launcher in LAUNCHER_NAMES.values() for root in p.roots
                  if all(fs.path in runs[i] for fs in self.index.by_root[root].values())}
        of_path: dict[str, list[int]] = {}
        for i, paths in runs.items():
            for path in paths:
                of_path.setdefault(path, []).append(i)
        implicit: dict[str, Process] = {}
        for root, (d, patched_at_import) in own.items():
            if patched_at_import and root not in served:
                implicit[root] = Process("whatever imports it (its own code patches)",
                                         os.path.relpath(root, self.project_root), d, [root])
        memo: dict[tuple, Deployment] = {}
        judgements: dict[str, Deployment] = {}
        for path in self.index.files:
            root = self.index.root_of[path]
            mine = [processes[i] for i in of_path.get(path, ())]
            if root in implicit and mine:
                mine.append(implicit[root])
            if not mine:
                judgements[path] = own[root][0]
                continue
            key = tuple(map(id, mine))
            if key not in memo:
                memo[key] = judged(mine)
            judgements[path] = memo[key]
        for root, (d, _) in own.items():
            if not any(root in p.roots for p in processes):
                d.source.append("no process found that runs it: judged by its own code")
        return processes, judgements, {root: d for root, (d, _) in own.items()}

    def _own_code(self, root: str, modules: dict[str, FileSummary]) -> tuple[Deployment, bool]:
        """What a root's own code says (the behaviour for a root no process runs), and whether it
        patches at import time outside `if __name__ == "__main__":` blocks."""
        d = Deployment()
        held_back = []  # patch calls of `if __name__ == "__main__":` blocks
        patched_elsewhere = False  # gevent's patching called outside them
        for fs in modules.values():
            d.uses_gevent |= fs.imports_gevent
            where = os.path.relpath(fs.path, self.project_root)
            if is_test_module(fs.module):  # tests patch for themselves, not for the program
                if self.patch_calls(fs):
                    d.source.append(f"not counted: the patching of test code in {where}")
                continue
            if self._is_config_module(fs):
                d.uses_gevent = True
                d.patch_all({})
                d.source.append(f"worker settings in {where}")
            patched_elsewhere |= _patching_imports(d, fs, self.project_root)
            for call in self.patch_calls(fs):
                place = f"{where}:{mark(fs.path, call.line)}"
                if _in_main_block(call, fs):
                    held_back.append((call, fs, place))
                else:
                    patched_elsewhere |= apply_patch_call(self.index, d, call, fs, place)
        if held_back and not patched_elsewhere:
            for call, fs, where in held_back:  # a script's own patching, when nothing else patches
                apply_patch_call(self.index, d, call, fs, where)
        elif held_back:
            d.source.append("not counted: the patching under `if __name__ == \"__main__\":` in "
                            + ", ".join(sorted({where.rsplit(":", 1)[0] for _, _, where in held_back})))
        apply_override(d, self.config.deployment, self.config.unpatched)
        return d, patched_elsewhere


def _patching_imports(d: Deployment, fs: FileSummary, project_root: str) -> bool:
    """A library imported that patches everything on import (PATCH_ON_IMPORT); whether there is one."""
    library = next((n for n in fs.imported if n.split(".")[0] in PATCH_ON_IMPORT), None)
    if library is None:
        return False
    d.uses_gevent = True
    d.patch_all({})
    d.source.append(f"{library.split('.')[0]} patches on import in {os.path.relpath(fs.path, project_root)}")
    return True


def _in_main_block(call, fs: FileSummary) -> bool:
    return any(first <= call.line <= last for first, last in fs.main_blocks)


def apply_patch_call(index: ProjectIndex, d: Deployment, call, fs: FileSummary, where: str) -> bool:
    """What one call of gevent's patching (or of a driver's) patches; whether it is gevent's."""
    value = index.evaluate(call.func, fs)
    name = value[1] if value and value[0] == "ext" else ""
    if name == PATCH_ALL:
        flags = {k: v[1] for k, v in call.kwargs if v and v[0] == "const"}
        d.uses_gevent = True
        d.patch_all(flags)
        d.source.append(f"patch_all at {where}")
    elif name in SINGLE_PATCHES:
        d.patched.add(SINGLE_PATCHES[name])
    elif name in PSYCOGREEN:
        d.psycogreen = True
    elif name in GRPC_GEVENT:
        d.grpc_gevent = True
    elif name in ORACLE_THICK:
        d.oracle_thick = True
    return name == PATCH_ALL or name in SINGLE_PATCHES
