"""A live app under gunicorn's gevent worker: trigger a request, measure the stall it causes, and blame lines.

Each worker records the monitor thread's events (blocking_events.py); a prober times a trivial
request every few ms.  A slow probe is a stall; the events recorded while it waited say which
app line held the hub.
"""
from __future__ import annotations

import json
import os
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field

from .blocking_events import read_events
from .probe import Prober, Probe, request
from .server import BOOTED, Gunicorn, ServerError

READY_DEADLINE = 90.0  # a worker may build its data at import
DONE_WAIT = 2.0  # how long spawned work may take to land
QUIET = 0.3  # between two triggers, so that one's events are not blamed on the next
EVENT_SLACK = 0.25  # the monitor reports up to one interval after the hub stopped
# The last line of a traceback that gevent prints when a greenlet dies: "sqlite3.ProgrammingError: ..."
EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?([A-Z]\w*(?:Error|Exception)): (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Measurement:
    method: str
    url: str
    status: int  # 0: no response
    stall: float  # longest probe that waited while the request (and its spawned work) ran
    blamed: dict = field(default_factory=dict)  # (file, line) -> longest stall it was blamed for
    lost: bool | None = None  # for requests with a `done` URL: the spawned work never landed
    worker_killed: bool = False
    error: str = ""  # why there was no response
    exceptions: tuple = ()  # "ProgrammingError: Cannot operate on a closed database." as logged meanwhile

    def worst_line(self) -> tuple[str, int] | None:
        return max(self.blamed, key=self.blamed.get) if self.blamed else None


def blame(probes: list[Probe], events: list[dict], threshold: float) -> dict:
    """(file, line) -> the longest slow probe during which the monitor blamed that app line."""
    blamed: dict = defaultdict(float)
    slow = [p for p in probes if p.latency >= threshold]
    for event in events:
        where = event.get("blamed")
        if not where:
            continue  # only library frames on the hub's stack: gevent's or gunicorn's own work
        key = (where["file"], where["line"])
        for probe in slow:
            if probe.sent <= event["time"] <= probe.answered + EVENT_SLACK:
                blamed[key] = max(blamed[key], probe.latency)
    return dict(blamed)


class LiveApp:
    """A started gunicorn, probed at `probe_path`, whose worker records events to `events_path`."""

    def __init__(self, server: Gunicorn, events_path: str, probe_path: str, threshold: float):
        self.server, self.events_path, self.probe_path, self.threshold = server, events_path, probe_path, threshold
        self.prober: Prober | None = None

    def start(self) -> None:
        self.server.start(READY_DEADLINE)
        limit = time.monotonic() + READY_DEADLINE
        while request(self.server.port, "GET", self.probe_path, timeout=READY_DEADLINE).status == 0:
            if not self.server.running() or time.monotonic() > limit:
                raise ServerError(f"the app never answered {self.probe_path}:\n{self.server.log_tail()}")
            time.sleep(0.1)
        self.prober = Prober(self.server.port, self.probe_path)
        self.prober.start()

    def stop(self) -> None:
        if self.prober is not None:
            self.prober.stop()
        self.server.stop()

    def __enter__(self) -> LiveApp:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def measure(self, method: str, url: str, body: bytes | None = None, done: str = "",
                timeout: float = 60.0) -> Measurement:
        log_start = self.server.log_size()
        response = request(self.server.port, method, url, body, timeout=timeout)
        lost = None
        if done:
            lost = not self._landed(done)
        time.sleep(QUIET)
        end = time.time()
        self._wait_until_answered_after(end)
        probes = [p for p in self._probes() if p.answered >= response.started and p.sent <= end]
        events = [e for e in self._events() if response.started <= e["time"] <= end]
        logged = self.server.log(since=log_start)
        exceptions = tuple(dict.fromkeys(f"{name}: {text}" for name, text in EXCEPTION_LINE.findall(logged)))
        return Measurement(method, url, response.status, max((p.latency for p in probes), default=0.0),
                           blame(probes, events, self.threshold), lost, BOOTED.search(logged) is not None,
                           response.error, exceptions)

    def _landed(self, done: str) -> bool:
        limit = time.monotonic() + DONE_WAIT
        while time.monotonic() < limit:
            answer = request(self.server.port, "GET", done, timeout=DONE_WAIT)
            try:
                if answer.status == 200 and json.loads(answer.body).get("done"):
                    return True
            except ValueError:
                pass
            time.sleep(0.1)
        return False

    def _wait_until_answered_after(self, moment: float) -> None:
        """Until a probe sent after `moment` is answered: a probe still waiting (on a hung worker, or on
        the worker gunicorn boots in its place) is not in the list yet, and would be missed."""
        limit = time.monotonic() + READY_DEADLINE
        while time.monotonic() < limit and self.prober.is_alive():
            if any(p.sent >= moment for p in self._probes()[-5:]):
                return
            time.sleep(0.02)

    def _probes(self) -> list[Probe]:
        return self.prober.snapshot()

    def _events(self) -> list[dict]:
        return read_events(self.events_path) if os.path.exists(self.events_path) else []
