"""`lintgevent verify`: the fixture run (no arguments), `--app` on the user's app, `--events` on a recording."""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import signal
import sys
import tempfile
from collections.abc import Iterator

from .cases import fixture_directory
from .fixture_run import CONFIRMED, print_progress, run_fixture
from .recording import join_recording
from .report import fixture_json, fixture_table
from .server import ServerError
from .user_app import measure_app
from .watchdog import remove_abandoned, workdir_prefix

EXIT_OK, EXIT_FOUND, EXIT_ERROR = 0, 1, 2
# Ctrl-C, kill, the terminal closed (or the ssh session dropped), Ctrl-backslash
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def missing_runtime() -> list[str]:
    return [name for name in ("gevent", "gunicorn", "flask") if importlib.util.find_spec(name) is None]


class Stopped(KeyboardInterrupt):
    """One of STOP_SIGNALS, raised in the main thread so that everything started is stopped on the way out."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Each of STOP_SIGNALS unwinds like Ctrl-C; the first one makes the others ignored, so that a second
    Ctrl-C cannot cut short the stopping of the servers and the removal of the work directory."""
    def stop(signum, frame):
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        raise Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_verify(args: argparse.Namespace) -> int:
    if args.events:
        return _finish(*join_recording(args.events, args.paths or ["."]), args.json_path)
    missing = missing_runtime()
    if missing:
        print(f"lintgevent verify: error: {', '.join(missing)} not installed; "
              "pip install 'lintgevent[runtime]'", file=sys.stderr)
        return EXIT_ERROR
    if args.mysql_url and importlib.util.find_spec("pymysql") is None:
        print("lintgevent verify: error: --mysql-url needs PyMySQL: pip install PyMySQL", file=sys.stderr)
        return EXIT_ERROR
    if bool(args.url) != bool(args.app):
        print(f"lintgevent verify: error: {'--url needs --app' if args.url else '--app needs at least one --url'}",
              file=sys.stderr)
        return EXIT_ERROR
    remove_abandoned(tempfile.gettempdir())
    try:
        with _stopped_by_signals(), tempfile.TemporaryDirectory(prefix=workdir_prefix(),
                                                                ignore_cleanup_errors=True) as workdir:
            return _run_live(args, workdir)
    except Stopped as stopped:
        return 128 + stopped.signum


def _run_live(args: argparse.Namespace, workdir: str) -> int:
    try:
        if args.app:
            return _finish(*measure_app(args.app, args.url, args.probe, workdir, args.threshold, args.timeout),
                           args.json_path)
        return _verify_fixture(args, workdir)
    except ServerError as error:
        print(f"lintgevent verify: error: {error}", file=sys.stderr)
        return EXIT_ERROR


def _verify_fixture(args: argparse.Namespace, workdir: str) -> int:
    root, results = run_fixture(fixture_directory(), workdir, args.threshold, print_progress, args.mysql_url)
    print(fixture_table(results, root, args.threshold))
    data = fixture_json(results, root, args.threshold)
    failed = [r for r in results if r.verdict != CONFIRMED]
    print(f"\n{len(results) - len(failed)} of {len(results)} cases confirmed"
          + (f"; {len(failed)} not: see the verdicts above" if failed else ""))
    return _finish(data, EXIT_FOUND if failed else EXIT_OK, json_path=args.json_path)


def _finish(data: dict, code: int, json_path: str | None) -> int:
    """Write the JSON, if asked for and there was no error (each mode has printed its text); the exit code."""
    if json_path and code != EXIT_ERROR:
        with open(json_path, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
    return code
