"""The on-disk cache, in the user's cache directory: $LINTGEVENT_CACHE_DIR, else the platform's
(`~/.cache/lintgevent` on Linux).  Keys hash everything an entry is made from, so one store
serves every project.

The store is one SQLite database, `store.sqlite3`, in write-ahead-log mode so that concurrent runs
(flake8's `-j` workers, two editors) read while one writes.  A run buffers what it puts and writes
it in one transaction when it ends, when it `save()`s, or once SAVE_EVERY bytes are waiting (so
that a first run on millions of lines never holds all its entries at once): thousands of entries
in a few milliseconds, where one file per entry cost seconds.

Nothing read from it is trusted.  An entry's value is a keyed BLAKE2b MAC and then data only
(codec.py).  The MAC key is made at random in the cache root on first use, so only entries written
with it count: anything else is a miss, silently, and so is a store that is not a database.  A root
that is a symlink or, on POSIX, owned by someone else, or a store or key that is not a regular file,
turns caching off for the run.  A hit marks its entry as used (at most once a day); a run that wrote
entries prunes the least recently used ones, at most once an hour, to keep the store under its limit.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import shutil
import sqlite3
import stat
import time
import urllib.parse

import platformdirs

from . import codec

DEFAULT_MAX_MB = 512
PRUNE_EVERY = 3600  # seconds
PRUNE_TO = 0.75  # of the limit
TOUCH_EVERY = 86400  # seconds: a hit marks its entry as used when the mark is older than this
BUSY_SECONDS = 10  # how long a run waits for another one's write to end before it gives up its own
KEY_SIZE = 32
SAVE_EVERY = 8 * 1024 * 1024  # bytes put and not written yet
KEY_WAITS = 20  # polls, 5 ms apart, for a key that another process has just created
STORE = "store.sqlite3"
SQLITE_CORRUPT, SQLITE_NOTADB = 11, 26
SCHEMA = ("CREATE TABLE entry (kind TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
          " used REAL NOT NULL, PRIMARY KEY (kind, key))")
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
    """One run's view of the store; use it as a context manager, whose exit saves what was put."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.directory = cache_dir()
        self.limit = max_bytes()
        self.wrote = False
        self._key: bytes | None = None
        self._off = False
        self._db: sqlite3.Connection | None = None
        self._writable = False  # the store was opened to write, with its table made
        self._pending: dict[tuple[str, str], bytes] = {}  # put, not saved yet
        self._pending_bytes = 0
        self._stale: set[tuple[str, str]] = set()  # hit, with an old mark of use

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exception) -> None:
        try:
            self.save()
            if self.wrote:
                self._prune_when_due(self._db)
        finally:
            if self._db is not None:
                self._db.close()
                self._db = None

    def get(self, kind: str, key: str):
        """The value stored under (kind, key), or None."""
        db = self._store(create=False)
        if db is None:
            return None
        try:
            row = db.execute("SELECT value, used FROM entry WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        except sqlite3.Error:  # not a database, or not ours in shape
            return None
        if row is None or type(row[0]) is not bytes or len(row[0]) > self.limit:
            return None
        mac, payload = row[0][:KEY_SIZE], row[0][KEY_SIZE:]
        if not hmac.compare_digest(mac, _mac(self._key, kind, key, payload)):
            return None
        try:
            value = codec.loads(kind, payload)
        except ValueError:
            return None
        if type(row[1]) not in (int, float) or row[1] < time.time() - TOUCH_EVERY:
            self._stale.add((kind, key))
        return value

    def put(self, kind: str, key: str, value) -> None:
        """Store a value (when the run saves); one the codec does not know is computed again next time."""
        try:
            payload = codec.dumps(kind, value)
        except (TypeError, ValueError, RecursionError):
            return
        self.put_encoded(kind, key, payload)

    def put_encoded(self, kind: str, key: str, payload: bytes) -> None:
        """Store what `codec.dumps(kind, value)` made of a value (a worker process encodes it)."""
        if self.enabled and KEY_SIZE + len(payload) <= self.limit:  # else it could never be read back
            self._pending[(kind, key)] = payload
            self._pending_bytes += len(payload)
            if self._pending_bytes >= SAVE_EVERY:
                self.save()

    def save(self) -> None:
        """Write what was put and mark what was hit, in one transaction; then prune when it is due.
        A cache that cannot be written is left as it is."""
        pending, stale = self._pending, self._stale
        self._pending, self._stale, self._pending_bytes = {}, set(), 0
        db = self._store(create=bool(pending)) if pending or stale else None
        if db is None:
            return
        now = time.time()
        rows = ((kind, key, _mac(self._key, kind, key, payload) + payload, now)  # one copy at a time
                for (kind, key), payload in pending.items())
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR REPLACE INTO entry (kind, key, value, used) VALUES (?, ?, ?, ?)", rows)
                db.executemany("UPDATE entry SET used = ? WHERE kind = ? AND key = ?",
                               [(now, kind, key) for kind, key in stale])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error:  # a read-only or full disk, or a run that held the store too long
            return
        if pending and not self.wrote:
            self.wrote = True
            try:
                _create(os.path.join(self.directory, "CACHEDIR.TAG"), CACHEDIR_TAG.encode())
            except OSError:
                pass

    def _prune_when_due(self, db: sqlite3.Connection) -> None:
        """At most once an hour: delete the least recently used entries until the store is under
        PRUNE_TO of its limit."""
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
        try:
            prune_store(db, self.limit)
        except sqlite3.Error:
            pass
        _remove_file_entries(self.directory)

    def _store(self, create: bool) -> sqlite3.Connection | None:
        """The store (made if `create`); None when caching is off, or when reading and there is none."""
        if not self.enabled or self._off:
            return None
        if self._db is None or (create and not self._writable):
            if self._secret(create) is None:
                return None
            if self._db is not None:  # opened to read: open it again, making its table if need be
                self._db.close()
                self._db = None
            try:
                self._db = _open_store(os.path.join(self.directory, STORE), create)
                self._writable = create
            except _Unsafe:
                self._off = True
            except (OSError, sqlite3.Error):
                self._off = create  # nothing can be written here; reading may work later
        return self._db

    def _secret(self, create: bool) -> bytes | None:
        """The MAC key; None when caching is off, or when reading and there is no cache yet."""
        if self._key is None:
            try:
                self._key = self._open(create)
            except _Unsafe:
                self._off = True
            except OSError:
                self._off = create
        return self._key

    def _open(self, create: bool) -> bytes | None:
        if create:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
        elif not os.path.lexists(self.directory):
            return None
        if not _real_folder(self.directory, owned=True):
            raise _Unsafe(self.directory)
        return _read_key(os.path.join(self.directory, "key"), create)


class _Unsafe(Exception):
    """The cache cannot be used safely in this run."""


class _NotOurs(Exception):
    """A database without the store's table: made again when writing."""


def _open_store(path: str, create: bool) -> sqlite3.Connection | None:
    """The store's database (made if `create`); None when reading and there is none.  A store that
    is not a database, or not one of ours, is made again when writing."""
    if create and not os.path.lexists(path):
        _make_store(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise _Unsafe(path)
    try:
        return _connect(path, create)
    except _NotOurs:
        pass
    except sqlite3.DatabaseError as error:
        if not create or getattr(error, "sqlite_errorcode", None) not in (SQLITE_CORRUPT, SQLITE_NOTADB):
            raise
    for suffix in ("", "-wal", "-shm"):
        _remove(path + suffix)
    _make_store(path)
    return _connect(path, create)


def _make_store(path: str) -> None:
    """Make an empty store beside `path` and link it in place, so that no run ever sees one half
    made (runs making their tables in one file at once could fail on each other's locks).  When
    another run links its own first, that one is kept."""
    temporary = f"{path}.{secrets.token_hex(8)}"
    _create(temporary, b"")  # 0600 (its journals take its mode), and never through a symlink
    try:
        db = sqlite3.connect(f"file:{urllib.parse.quote(temporary)}?mode=rw", uri=True, isolation_level=None)
        try:
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # effective only before the first table
            db.execute("PRAGMA journal_mode = WAL")  # kept in the file
            db.execute(SCHEMA)
            db.execute("CREATE INDEX entry_used ON entry (used)")
        finally:
            db.close()
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not os.path.lexists(path):
                os.rename(temporary, path)
    finally:
        for suffix in ("", "-wal", "-shm"):
            _remove(temporary + suffix)


def _connect(path: str, create: bool) -> sqlite3.Connection:
    """A connection to the store; to write (`create`), the store must hold our table, else it
    counts as not a database."""
    db = sqlite3.connect(f"file:{urllib.parse.quote(path)}?mode=rw", uri=True, timeout=BUSY_SECONDS,
                         isolation_level=None)
    try:
        db.execute("PRAGMA trusted_schema = OFF")  # a planted schema's views and triggers call no function
        db.execute("PRAGMA synchronous = NORMAL")  # with the write-ahead log: a crash loses at most the last run
        if create:
            [schema] = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'entry'"
                                  " AND sql = ?", (SCHEMA,)).fetchone()
            if not schema:
                raise _NotOurs(path)
    except BaseException:
        db.close()
        raise
    return db


def prune_store(db: sqlite3.Connection, limit: int) -> None:
    """Delete entries, least recently used first, until the store holds at most PRUNE_TO of
    `limit` bytes, and give their pages back to the file system."""
    [(total,)] = db.execute("SELECT coalesce(sum(length(value)), 0) FROM entry")
    if total <= limit:
        return
    doomed = []
    for rowid, size in db.execute("SELECT rowid, length(value) FROM entry ORDER BY used").fetchall():
        if total <= limit * PRUNE_TO:
            break
        doomed.append((rowid,))
        total -= size
    db.execute("BEGIN IMMEDIATE")
    db.executemany("DELETE FROM entry WHERE rowid = ?", doomed)
    db.execute("COMMIT")
    db.execute("PRAGMA incremental_vacuum")


def _remove_file_entries(root: str) -> None:
    """Delete the store of earlier versions: a folder per kind, a file per entry."""
    for kind in codec.ENTRIES:
        folder = os.path.join(root, kind)
        if os.path.isdir(folder) and not os.path.islink(folder):
            shutil.rmtree(folder, ignore_errors=True)


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


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
