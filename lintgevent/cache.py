"""On-disk cache in `.lintgevent_cache/` at the project root, keyed by content hashes.

Entries are written to a temporary file and renamed into place, so concurrent flake8 workers never
see half an entry; an unreadable entry is a miss.  The folder ignores itself for git.
"""
from __future__ import annotations

import os
import pickle
import tempfile

CACHE_DIR = ".lintgevent_cache"


class Cache:
    def __init__(self, project_root: str, enabled: bool = True):
        self.directory = os.path.join(project_root, CACHE_DIR)
        self.enabled = enabled
        self._prepared = False

    def _path(self, kind: str, key: str) -> str:
        return os.path.join(self.directory, kind, key[:2], key + ".pickle")

    def get(self, kind: str, key: str):
        if not self.enabled:
            return None
        try:
            with open(self._path(kind, key), "rb") as handle:
                return pickle.load(handle)
        except Exception:  # missing, truncated by a crash, or from an incompatible version
            return None

    def put(self, kind: str, key: str, value) -> None:
        if not self.enabled:
            return
        path = self._path(kind, key)
        try:
            self._prepare()
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except OSError:
            return  # a read-only tree still gets its findings, just no cache

    def _prepare(self) -> None:
        if self._prepared:
            return
        os.makedirs(self.directory, exist_ok=True)
        ignore = os.path.join(self.directory, ".gitignore")
        if not os.path.exists(ignore):
            with open(ignore, "w") as handle:
                handle.write("# Created by lintgevent; safe to delete.\n*\n")
        tag = os.path.join(self.directory, "CACHEDIR.TAG")
        if not os.path.exists(tag):
            with open(tag, "w") as handle:
                handle.write("Signature: 8a477f597d28d172789f06886806bc55\n# lintgevent cache\n")
        self._prepared = True
