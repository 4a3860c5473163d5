"""The on-disk cache, in the user's cache directory: $LINTGEVENT_CACHE_DIR, else the platform's
(`~/.cache/lintgevent` on Linux).  Keys hash everything an entry is made from, so one store
serves every project.

Nothing read from it is trusted.  An entry, `<kind>/<key[:2]>/<key>.entry`, is a keyed BLAKE2b MAC
and then data only (codec.py).  The MAC key is made at random in the cache root on first use, so
only entries written with it count: anything else is a miss, silently.  A root or subfolder that is
a symlink (or, on POSIX, a root owned by someone else) turns caching off for the run.  Entries are
written to a temporary file and renamed into place, so concurrent flake8 workers never see half an
entry.  A hit refreshes the entry's mtime; a run that wrote entries prunes the least recently used
ones, at most once an hour, to keep the store under its limit.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import tempfile
import time

import platformdirs

from . import codec

DEFAULT_MAX_MB = 512
PRUNE_EVERY = 3600  # seconds
PRUNE_TO = 0.75  # of the limit
STALE_TEMPORARY = 3600  # seconds: a temporary file this old was left by a killed run
KEY_SIZE = 32
KEY_WAITS = 20  # polls, 5 ms apart, for a key that another process has just created
ENTRY = ".entry"
TEMPORARY = ".tmp-"
CACHEDIR_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                "# This file is a cache directory tag created by lintgevent.\n"
                "# For information about cache directory tags, see https://bford.info/cachedir/\n")

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # so that opening a FIFO put in place of a file cannot hang
_READ = os.O_RDONLY | _NOFOLLOW | _BINARY | _NONBLOCK
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY


def cache_dir() -> str:
    """Where the cache lives."""
    return os.path.abspath(os.environ.get("LINTGEVENT_CACHE_DIR")
                           or platformdirs.user_cache_dir("lintgevent", appauthor=False))


def max_bytes() -> int:
    """The size the store is kept under: $LINTGEVENT_CACHE_MAX_MB mebibytes (default 512)."""
    try:
        megabytes = float(os.environ.get("LINTGEVENT_CACHE_MAX_MB", DEFAULT_MAX_MB))
    except ValueError:
        megabytes = DEFAULT_MAX_MB
    return int((megabytes if megabytes > 0 else DEFAULT_MAX_MB) * 1024 * 1024)


class Cache:
    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.directory = cache_dir()
        self.limit = max_bytes()
        self.wrote = False
        self._key: bytes | None = None
        self._off = False
        self._folders: set[str] = set()  # checked to be real folders

    def get(self, kind: str, key: str):
        """The value stored under (kind, key), or None."""
        secret = self._secret(create=False)
        if secret is None or not self._entry_folder(kind, key, create=False):
            return None
        path = self._path(kind, key)
        try:
            fd = os.open(path, _READ)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as handle:
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode) or info.st_size > self.limit:
                    return None
                mac, payload = handle.read(KEY_SIZE), handle.read()
            except OSError:
                return None
            if not hmac.compare_digest(mac, _mac(secret, kind, key, payload)):
                return None
            try:
                value = codec.loads(kind, payload)
            except ValueError:
                return None
            _touch(fd, path)
        return value

    def put(self, kind: str, key: str, value) -> bool:
        """Store a value, and say whether it was; a cache that cannot be written is left as it is."""
        secret = self._secret(create=True)
        if secret is None:
            return False
        try:
            payload = codec.dumps(kind, value)
        except (TypeError, ValueError, RecursionError):  # not data the codec knows: computed again next time
            return False
        if KEY_SIZE + len(payload) > self.limit:
            return False  # it could never be read back
        path = self._path(kind, key)
        try:
            if not self._entry_folder(kind, key, create=True):
                return False
            fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=TEMPORARY)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(_mac(secret, kind, key, payload))
                    handle.write(payload)
                os.replace(temporary, path)
            except BaseException:
                _remove(temporary)
                raise
        except OSError:
            return False  # a read-only or full disk still gets its findings, just no cache
        if not self.wrote:
            self.wrote = True
            try:
                _create(os.path.join(self.directory, "CACHEDIR.TAG"), CACHEDIR_TAG.encode())
            except OSError:
                pass
        return True

    def prune(self) -> None:
        """After a run that wrote entries, at most once an hour: delete the least recently used
        entries until the store is under PRUNE_TO of its limit."""
        if not self.wrote:
            return
        stamp = os.path.join(self.directory, "pruned")
        try:
            if time.time() - os.lstat(stamp).st_mtime < PRUNE_EVERY:
                return
        except FileNotFoundError:
            pass
        except OSError:
            return
        try:
            fd = os.open(stamp, os.O_WRONLY | os.O_CREAT | _NOFOLLOW | _NONBLOCK, 0o600)
        except OSError:
            return
        _touch(fd, stamp)  # before pruning, so that workers finishing together do not all prune
        os.close(fd)
        prune_store(self.directory, self.limit)

    def _path(self, kind: str, key: str) -> str:
        return os.path.join(self.directory, kind, key[:2], key + ENTRY)

    def _secret(self, create: bool) -> bytes | None:
        """The MAC key; None when caching is off, or when reading and there is no cache yet."""
        if not self.enabled or self._off:
            return None
        if self._key is None:
            try:
                self._key = self._open(create)
            except _Unsafe:
                self._off = True
            except OSError:
                self._off = create  # nothing can be written here; reading may work later
        return self._key

    def _open(self, create: bool) -> bytes | None:
        if create:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
        elif not os.path.lexists(self.directory):
            return None
        if not _real_folder(self.directory, owned=True):
            raise _Unsafe(self.directory)
        return _read_key(os.path.join(self.directory, "key"), create)

    def _entry_folder(self, kind: str, key: str, create: bool) -> bool:
        """Are the folders of an entry real folders (made if `create`)?  A symlink turns caching off."""
        for folder in (os.path.join(self.directory, kind), os.path.join(self.directory, kind, key[:2])):
            if folder in self._folders:
                continue
            if create:
                try:
                    os.mkdir(folder, 0o700)
                except FileExistsError:
                    pass
            try:
                if not _real_folder(folder, owned=False):
                    self._off = True
                    return False
            except OSError:
                return False
            self._folders.add(folder)
        return True


class _Unsafe(Exception):
    """The cache cannot be used safely in this run."""


def _real_folder(path: str, owned: bool) -> bool:
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        return False  # a symlink (lstat does not follow it) or a file
    return not owned or not hasattr(os, "getuid") or info.st_uid == os.getuid()


def _read_key(path: str, create: bool) -> bytes | None:
    """The MAC key (made if `create` and there is none); None when there is none."""
    if create:
        try:
            fd = os.open(path, _CREATE, 0o600)
        except FileExistsError:
            pass
        else:
            secret = secrets.token_bytes(KEY_SIZE)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(secret)
            except OSError:
                _remove(path)
                raise
            return secret
    for _ in range(KEY_WAITS):  # a process that created it a moment ago may not have written it yet
        try:
            fd = os.open(path, _READ)
        except FileNotFoundError:
            return None
        except OSError as error:  # a symlink, or not ours to read
            raise _Unsafe(path) from error
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise _Unsafe(path)
            secret = handle.read(KEY_SIZE + 1)
        if len(secret) == KEY_SIZE:
            return secret
        time.sleep(0.005)
    raise _Unsafe(path)


def _create(path: str, data: bytes) -> None:
    """Write a file that does not exist yet (0600, never through a symlink); an existing one is kept."""
    try:
        fd = os.open(path, _CREATE, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _mac(secret: bytes, kind: str, key: str, payload: bytes) -> bytes:
    mac = hashlib.blake2b(key=secret, digest_size=KEY_SIZE)
    mac.update(f"{kind}/{key}\n".encode())  # an entry is good only under its own name
    mac.update(payload)
    return mac.digest()


def _touch(fd: int, path: str) -> None:
    """Mark a file as used now (in a read-only cache it just keeps its time)."""
    try:
        os.utime(fd if os.utime in os.supports_fd else path)
    except OSError:
        pass


def prune_store(root: str, limit: int) -> None:
    """Delete entries, least recently used first, until the store holds at most PRUNE_TO of
    `limit` bytes; and the temporary files of killed runs."""
    now = time.time()
    entries = []
    for kind in _subfolders(root, codec.ENTRIES):
        for folder in _subfolders(kind):
            for file in _files(folder):
                try:
                    info = file.stat(follow_symlinks=False)
                except OSError:  # renamed or removed since the listing, by a run beside this one
                    continue
                if file.name.endswith(ENTRY):
                    entries.append((info.st_mtime, info.st_size, file.path))
                elif file.name.startswith(TEMPORARY) and now - info.st_mtime > STALE_TEMPORARY:
                    _remove(file.path)
    total = sum(size for _, size, _ in entries)
    if total <= limit:
        return
    entries.sort()
    for _, size, path in entries:
        if total <= limit * PRUNE_TO:
            break
        _remove(path)
        total -= size


def _subfolders(path: str, names=None) -> list[str]:
    """Real subfolders (not symlinks), all or those of these names."""
    try:
        with os.scandir(path) as found:
            return [e.path for e in found if e.is_dir(follow_symlinks=False) and (names is None or e.name in names)]
    except OSError:
        return []


def _files(path: str) -> list[os.DirEntry]:
    try:
        with os.scandir(path) as found:
            return [e for e in found if e.is_file(follow_symlinks=False)]
    except OSError:
        return []


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
