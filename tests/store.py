"""The cache store as a test sees it: its entries by (kind, key), read and planted directly."""
from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

from lintgevent import cache


def stored(store: Path, kind: str | None = None) -> dict[tuple[str, str], tuple[bytes, float]]:
    """(kind, key) -> (value, when it was last used) of every entry in the store, or of one kind."""
    if not (store / cache.STORE).exists():
        return {}
    with closing(sqlite3.connect(store / cache.STORE)) as db:
        rows = db.execute("SELECT kind, key, value, used FROM entry").fetchall()
    return {(k, key): (value, used) for k, key, value, used in rows if kind in (None, k)}


def put_entry(store: Path, kind: str, key: str, value: bytes, used: float | None = None) -> None:
    """Store `value` under (kind, key) as it is, as anyone who can write the store could."""
    store.mkdir(parents=True, exist_ok=True)
    with closing(cache._open_store(str(store / cache.STORE), create=True)) as db:
        db.execute("INSERT OR REPLACE INTO entry (kind, key, value, used) VALUES (?, ?, ?, ?)",
                   (kind, key, value, time.time() if used is None else used))


def mark_used(store: Path, when: float) -> None:
    """Make every entry look last used at `when`."""
    with closing(sqlite3.connect(store / cache.STORE)) as db, db:
        db.execute("UPDATE entry SET used = ?", (when,))


def signed(store: Path, kind: str, key: str, payload: bytes) -> bytes:
    """An entry as this machine would write it, with the store's own MAC key."""
    return cache._mac((store / "key").read_bytes(), kind, key, payload) + payload
