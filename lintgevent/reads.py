"""What the global step reads besides the summaries: the contents of the project's files, noting
which (an edit of one of them cannot be relocated, relocation.py), and config files from disk that
no listing holds (`gunicorn -c server/gunicorn.conf`), noting what each held: an input of the
results like any file, which a run from the cache checks again (`unchanged`)."""
from __future__ import annotations

import hashlib

from .sources import read_config_file

ABSENT = ""  # what `elsewhere` records of a path with no config file


class Reads(dict):
    """The contents of the project's files (path -> bytes), noting what the global step reads."""

    def __init__(self, contents: dict[str, bytes]):
        super().__init__(contents)
        self.read: set[str] = set()
        self.elsewhere: dict[str, str] = {}  # path -> digest of the config file there, or ABSENT

    def __getitem__(self, path: str) -> bytes:
        self.read.add(path)
        return super().__getitem__(path)

    def get(self, path: str, default=None):
        if path in self:
            self.read.add(path)
        return super().get(path, default)

    def from_disk(self, path: str) -> bytes | None:
        """A config file outside the contents (read_config_file), recorded even when there is none:
        one made there later changes what the step finds."""
        data = read_config_file(path)
        self.elsewhere[path] = ABSENT if data is None else _digest(data)
        return data


def unchanged(elsewhere: dict[str, str]) -> bool:
    """Whether every config file a run read from disk still holds what it held then."""
    for path, digest in elsewhere.items():
        data = read_config_file(path)
        if (ABSENT if data is None else _digest(data)) != digest:
            return False
    return True


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=20).hexdigest()
