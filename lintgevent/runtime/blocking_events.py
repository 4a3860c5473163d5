"""Record every time gevent's monitor thread finds the hub blocked, with the blocked stack, as JSON lines.

gevent's monitor thread wakes every `max_blocking_time` seconds; when the hub has not run since its
last visit it emits `gevent.events.EventLoopBlocked`.  Each event is written as one line:

    {"time": 1795000000.5, "pid": 4242, "threshold": 0.1,
     "blamed": {"file": "/srv/app/views.py", "line": 31, "function": "export"},
     "stack": [{"file": ..., "line": ..., "function": ..., "app": true}, ...]}

`stack` runs from the outermost frame to the innermost; `app` is false for the standard library
and installed packages (gevent, gunicorn, flask...), and `blamed` is the innermost app frame: the
line of the app that called into the blocking code.  `threshold` is the configured interval, not
how long the hub was blocked (gevent does not measure that): a block of 2 s gives about 2 / 0.1
events in a row.
"""
from __future__ import annotations

import json
import os
import sys
import sysconfig
import threading
import time
import traceback

DEFAULT_THRESHOLD = 0.1
MAX_FRAMES = 60


def library_roots() -> tuple[str, ...]:
    """Directories whose code is not the app's: the standard library and installed packages."""
    paths = sysconfig.get_paths()
    roots = {os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    return tuple(sorted(root + os.sep for root in roots))


def is_app_file(filename: str, roots: tuple[str, ...]) -> bool:
    if not filename or filename.startswith("<"):
        return False
    return not os.path.realpath(filename).startswith(roots)


class Recorder:
    """Writes one JSON line per EventLoopBlocked; called in gevent's monitor thread."""

    def __init__(self, path: str):
        from gevent.events import EventLoopBlocked

        self.path = path
        self.roots = library_roots()
        self.lock = threading.Lock()
        self.event_type = EventLoopBlocked

    def __call__(self, event: object) -> None:
        if not isinstance(event, self.event_type):
            return
        hub = getattr(event, "hub", None)
        ident = getattr(hub, "thread_ident", None) or threading.main_thread().ident
        frame = sys._current_frames().get(ident)
        stack = traceback.extract_stack(frame, limit=MAX_FRAMES) if frame is not None else []
        frames = [{"file": f.filename, "line": f.lineno, "function": f.name,
                   "app": is_app_file(f.filename, self.roots)} for f in stack]
        blamed = next(({k: f[k] for k in ("file", "line", "function")} for f in reversed(frames) if f["app"]), None)
        line = json.dumps({"time": time.time(), "pid": os.getpid(), "threshold": event.blocking_time,
                           "blamed": blamed, "stack": frames})
        with self.lock, open(self.path, "a", encoding="utf-8") as out:
            out.write(line + "\n")


def install(path: str, threshold: float = DEFAULT_THRESHOLD) -> Recorder:
    """Turn on gevent's monitor thread for the current hub and record its blocking events to `path`."""
    import gevent
    import gevent.events

    gevent.config.monitor_thread = True
    gevent.config.max_blocking_time = threshold
    recorder = Recorder(os.path.abspath(path))
    gevent.events.subscribers.append(recorder)
    gevent.get_hub().start_periodic_monitoring_thread()
    return recorder


def read_events(path: str) -> list[dict]:
    """The events of a recording; a line cut short by a killed worker is skipped."""
    events = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and isinstance(event.get("time"), (int, float)):
                events.append(event)
    return events
