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
from .probe import PendingRequest, Prober, Probe, request
from .server import BOOTED, GRACE, TIMED_OUT, WORKER_DIED, Gunicorn, ServerError

READY_DEADLINE = 90.0  # a worker may build its data at import
BOOT_POLL = 0.1  # how often the log is read for dead workers while the first probe waits
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


def worker_death(log: str) -> str:
    """How a worker ended, from gunicorn's log: killed on its timeout, or the exit gunicorn saw."""
    if TIMED_OUT.search(log):
        return "gunicorn killed the worker on its timeout"
    died = WORKER_DIED.findall(log)
    return f"the worker died: {died[-1]}" if died else ""


class LiveApp:
    """A started gunicorn, probed at `probe_path`, whose worker records events to `events_path`."""

    def __init__(self, server: Gunicorn, events_path: str, probe_path: str, threshold: float,
                 boot_timeout: float = READY_DEADLINE):
        self.server, self.events_path, self.probe_path, self.threshold = server, events_path, probe_path, threshold
        self.boot_timeout = boot_timeout
        self.prober: Prober | None = None

    def start(self) -> None:
        self.server.start(READY_DEADLINE)
        self._wait_until_answering()
        self.prober = Prober(self.server.port, self.probe_path)
        self.prober.start()

    def _wait_until_answering(self) -> None:
        """Until the app answers the probe.  gunicorn 27 never times out a worker that hangs before its
        first heartbeat, and boots another at once when one dies: a boot that takes longer than `boot_timeout`,
        a worker that dies at boot twice, or a master that exits ends the wait at once, with the reason."""
        limit = time.monotonic() + self.boot_timeout
        pending = PendingRequest(self.server.port, self.probe_path, self.boot_timeout)
        try:
            while True:
                status = pending.status(BOOT_POLL)
                if status:
                    return
                if status == 0:  # refused or reset: ask again
                    pending.close()
                    time.sleep(BOOT_POLL)
                    pending = PendingRequest(self.server.port, self.probe_path, self.boot_timeout)
                self._check_boot(limit)
        finally:
            pending.close()

    def _check_boot(self, limit: float) -> None:
        failure = self.server.boot_failure()
        if not failure and time.monotonic() > limit:
            failure = (f"the app did not answer {self.probe_path} within {self.boot_timeout:.0f} s: "
                       "its import hangs, or takes longer than that")
        if failure:
            raise ServerError(f"{failure}:\n{self.server.log_tail()}")

    def stop(self, grace: float = GRACE) -> None:
        if self.prober is not None:
            self.prober.stop()
        self.server.stop(grace)

    def __enter__(self) -> LiveApp:
        try:
            self.start()
        except BaseException:
            self.stop(grace=0)  # nothing to finish: a worker that hangs at boot ignores SIGTERM
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
        killed = BOOTED.search(logged) is not None
        error = response.error
        if error and killed:
            error = worker_death(logged) or error
        return Measurement(method, url, response.status, max((p.latency for p in probes), default=0.0),
                           blame(probes, events, self.threshold), lost, killed, error, exceptions)

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
