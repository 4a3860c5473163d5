"""The options of `lintgevent verify`: what the command line needs to parse them, without the
modules that run gunicorn (imported only when `verify` runs)."""
from __future__ import annotations

import argparse
from dataclasses import dataclass

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
DEFAULT_THRESHOLD = 0.3


@dataclass(frozen=True)
class UrlSpec:
    method: str
    path: str
    body: bytes | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def parse_url_spec(text: str) -> UrlSpec:
    """'/path', 'POST /path' or 'POST /path BODY' (the body is sent as is)."""
    parts = text.strip().split(None, 2)
    method = "GET"
    if parts and parts[0].upper() in METHODS:
        method = parts.pop(0).upper()
    if not parts or not parts[0].startswith("/"):
        raise argparse.ArgumentTypeError(f"expected '[METHOD] /path [BODY]', got {text!r}")
    body = parts[1].encode("utf-8") if len(parts) > 1 else None
    return UrlSpec(method, parts[0], body)


def add_arguments(verify: argparse.ArgumentParser) -> None:
    verify.add_argument("paths", nargs="*", help="with --events: the source to join the recording with (default: .)")
    verify.add_argument("--app", metavar="MODULE:APP", help="run your own WSGI app (from the current directory)")
    verify.add_argument("--url", action="append", default=[], metavar="'[METHOD] PATH [BODY]'", type=parse_url_spec,
                        help="with --app: a request to measure (repeatable; GET by default)")
    verify.add_argument("--probe", default="/__lintgevent_probe__", metavar="PATH",
                        help="with --app: the trivial request timed every few ms (a 404 is fine)")
    verify.add_argument("--events", metavar="FILE", help="join a recording of the staging config with the findings")
    verify.add_argument("--json", dest="json_path", metavar="FILE", help="also write the results as JSON")
    verify.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, metavar="SECONDS",
                        help=f"a stall at least this long blocks the hub (default {DEFAULT_THRESHOLD})")
    verify.add_argument("--timeout", type=int, default=30, metavar="SECONDS", help="with --app: gunicorn's --timeout")
    verify.add_argument("--mysql-url", metavar="URL",
                        help="run the GEV201 seed on this MySQL/MariaDB (mysql://user:password@host:port/db) "
                             "as well as on sqlite3; needs PyMySQL")
