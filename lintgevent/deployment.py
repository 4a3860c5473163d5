"""What gevent patches in a deployment: gunicorn's gevent worker, monkey.patch_all() flags, and more;
and a Process, one program that runs the project's code under one deployment (processes.py finds them)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import ClassVar

# monkey.patch_all()'s defaults (gevent 26): what a gunicorn gevent worker patches.
PATCH_ALL_DEFAULTS = {
    "socket": True, "dns": True, "time": True, "select": True, "thread": True, "os": True, "ssl": True,
    "subprocess": True, "sys": False, "signal": True, "queue": True,
}
SINGLE_PATCHES = {f"gevent.monkey.patch_{name}": name for name in PATCH_ALL_DEFAULTS}
PATCH_ALL = "gevent.monkey.patch_all"
PSYCOGREEN = ("psycogreen.gevent.patch_psycopg",)
GRPC_GEVENT = ("grpc.experimental.gevent.init_gevent",)
ORACLE_THICK = ("oracledb.init_oracle_client",)
# Drivers' own switches that a process's code turns on, as Deployment flags.
DRIVER_FLAGS = ("psycogreen", "grpc_gevent", "oracle_thick")
DEPLOYMENTS = ("auto", "gunicorn-gevent", "patched", "unpatched", "none")

_GEVENT_WORKER = (r"(?:gevent(?:_wsgi|_pywsgi)?\b"
                  r"|[\w.]*(?:ggevent\.\w+|GeventWebSocketWorker|GeventWorker|GeventPyWSGIWorker))")
GEVENT_WORKER = re.compile(_GEVENT_WORKER)
# `-k gevent`, `-kgevent`, `--worker-class=gevent`, in a shell command line or in an exec-form
# (JSON) one: `CMD ["gunicorn", "-k", "gevent", ...]`; `worker_class = "gevent"` in a config file,
# or the default of a setting read from the environment: `os.environ.get("WORKER_CLASS", "gevent")`.
GUNICORN_GEVENT = re.compile(
    rf"""(?:(?:^|[\s"'\[,])(?:-k|--worker-class)["']?(?:\s*,\s*["']|\s+["']?|=["']?|(?=g))"""
    rf"""{_GEVENT_WORKER}|worker[_-]class\s*[=:]\s*"""
    rf"""(?:[\w.]*(?:getenv|environ\.get)\(\s*["'][^"']*["']\s*,\s*)?["']?{_GEVENT_WORKER})""",
    re.MULTILINE,
)
UWSGI_GEVENT = re.compile(r"(?:--gevent[\s=]\d|^\s*gevent\s*[=:]\s*\d)", re.MULTILINE)
UWSGI_MONKEY = re.compile(r"gevent[-_]monkey[-_]patch|gevent-early-monkey-patch")

DEPLOYMENT_FILE = re.compile(
    r"""^(?:Procfile(?:\..*)?|Dockerfile(?:\..*)?|.*\.dockerfile|docker-compose.*\.ya?ml|compose\.ya?ml
    |.*\.sh|.*\.ini|.*\.cfg|.*\.conf|.*\.env|\.env(?:\..*)?|Makefile|.*\.service|app\.ya?ml|.*gunicorn.*\.py
    |.*\.toml|supervisord.*|.*\.ya?ml)$""",
    re.VERBOSE,
)
DEPLOYMENT_DIRS = ("deploy", "deployment", "docker", "scripts", "bin", "config", "conf", "etc", "ops")
MAX_DEPLOYMENT_FILE = 256 * 1024


@dataclass
class Deployment:
    """What one import root runs under."""

    uses_gevent: bool = False
    patched: set = field(default_factory=set)
    psycogreen: bool = False
    grpc_gevent: bool = False
    oracle_thick: bool = False  # python-oracledb in Thick mode (init_oracle_client): Oracle's C client
    source: list = field(default_factory=list)  # human-readable reasons
    # A file run by processes that patch differently: ((process label, its Deployment), ...);
    # then this one blocks where any of them blocks (see processes.judged).
    alternatives: ClassVar[tuple] = ()

    def patch_all(self, flags: dict) -> None:
        for name, default in PATCH_ALL_DEFAULTS.items():
            if flags.get(name, default):
                self.patched.add(name)

    def describe(self) -> str:
        """One line for `lintgevent check --show-deployment`."""
        if not self.uses_gevent:
            return "no gevent: not checked"
        unpatched = sorted(set(PATCH_ALL_DEFAULTS) - self.patched)
        text = "gevent, " + ("nothing patched" if not self.patched else
                             "patched: " + ", ".join(sorted(self.patched))
                             + (f"; not patched: {', '.join(unpatched)}" if unpatched else ""))
        extras = [name for name in DRIVER_FLAGS if getattr(self, name)]
        if extras:
            text += "; " + ", ".join(extras)
        return text + (f" ({'; '.join(dict.fromkeys(self.source))})" if self.source else "")

    def same_patching(self, other: Deployment) -> bool:
        return (self.uses_gevent, self.patched, *(getattr(self, f) for f in DRIVER_FLAGS)) == \
            (other.uses_gevent, other.patched, *(getattr(other, f) for f in DRIVER_FLAGS))

    def blocking_in(self, condition: str) -> str:
        """The processes in which a condition holds, said when it does not hold in all of them ("" if it does)."""
        where = [label for label, d in self.alternatives if d.blocks(condition)]
        if not where or len(where) == len(self.alternatives):
            return ""
        return " in the process " + " and in the process ".join(where)

    def blocks(self, condition: str) -> bool:
        """Does a catalog `blocks` condition hold here (in one of its processes, at least)?
        `a|b` holds where either does."""
        if self.alternatives:
            return any(d.blocks(condition) for _, d in self.alternatives)
        if "|" in condition:
            return any(self.blocks(part) for part in condition.split("|"))
        if condition == "always":
            return True
        if condition == "never":
            return False
        kind, _, what = condition.partition(":")
        if kind == "unpatched":
            return what not in self.patched
        if kind == "unless":
            return not getattr(self, what)
        if kind == "if":
            return getattr(self, what)
        raise ValueError(f"unknown blocks condition {condition!r}")


def deployment_files(directory: str) -> list[str]:
    """Files in a directory (and its usual deployment subfolders) that may start gunicorn or uwsgi."""
    found = []
    for folder in (directory, *(os.path.join(directory, d) for d in DEPLOYMENT_DIRS)):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if DEPLOYMENT_FILE.match(entry.name) and entry.is_file(follow_symlinks=False):
                found.append(entry.path)
    return sorted(found)


def read_deployment_files(directories: list[str]) -> dict[str, dict[str, bytes]]:
    """Directory -> {path: content} of its deployment files (oversized ones are left out)."""
    found: dict[str, dict[str, bytes]] = {}
    for directory in directories:
        contents = found[directory] = {}
        for path in deployment_files(directory):
            try:
                if os.path.getsize(path) <= MAX_DEPLOYMENT_FILE:
                    with open(path, "rb") as handle:
                        contents[path] = handle.read()
            except OSError:
                continue
    return found


def is_gevent_worker(worker_class: str) -> bool:
    """A gunicorn `worker_class` value that runs the app under gevent."""
    return GEVENT_WORKER.fullmatch(worker_class) is not None


def apply_override(deployment: Deployment, mode: str, unpatched: list[str]) -> None:
    """Config wins over detection."""
    if mode == "gunicorn-gevent" or mode == "patched":
        deployment.uses_gevent = True
        deployment.patch_all({})
        deployment.source.append(f"configured: {mode}")
    elif mode == "unpatched":
        deployment.uses_gevent = True
        deployment.patched.clear()
        deployment.source.append("configured: unpatched")
    elif mode == "none":
        deployment.uses_gevent = False
        deployment.source.append("configured: none")
    for name in unpatched:
        deployment.patched.discard(name)


@dataclass
class Process:
    """One program: how it starts, where that is written, what it patches, and the roots it runs."""

    launcher: str  # "gunicorn (gevent worker)", "python tools/worker.py", "python -m pkg"
    where: str  # "deploy/Dockerfile:12", relative to the project root
    deployment: Deployment
    roots: list = field(default_factory=list)  # import roots it runs code of

    def label(self) -> str:
        return f"`{self.launcher}` ({self.where})"
