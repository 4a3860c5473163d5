"""HTTP to the app under test: one-off requests, and a prober that times a trivial request every few ms.

The monitor thread only says that the hub was blocked for longer than its threshold.  How long a
block lasted is measured from outside: a request sent while the hub is blocked is answered only
when the hub runs again, so the slowest probe around a trigger is the longest stall it caused.
"""
from __future__ import annotations

import http.client
import select
import threading
import time
from dataclasses import dataclass

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Response:
    status: int  # 0: no response (connection refused, reset or timed out)
    body: bytes
    started: float
    error: str = ""


def request(port: int, method: str, path: str, body: bytes | None = None, timeout: float = 30.0) -> Response:
    started = time.time()
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/octet-stream"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Response(response.status, response.read(), started)
    except TimeoutError:
        return Response(0, b"", started, f"no answer within {timeout:g} s")
    except (OSError, http.client.HTTPException) as error:
        return Response(0, b"", started, f"{type(error).__name__}: {error}")
    finally:
        connection.close()


class PendingRequest:
    """A GET sent once, whose answer is looked for a little at a time (while the app boots, say)."""

    def __init__(self, port: int, path: str, timeout: float = 30.0):
        self.connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
        try:
            self.connection.request("GET", path)
        except OSError:
            self.connection.close()

    def status(self, wait: float) -> int | None:
        """The answer's status, 0 if the connection failed, None while no answer has started within `wait`."""
        try:
            if self.connection.sock is None:
                return 0
            if not select.select([self.connection.sock], [], [], wait)[0]:
                return None
            response = self.connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            return 0

    def close(self) -> None:
        self.connection.close()


@dataclass(frozen=True)
class Probe:
    sent: float
    answered: float

    @property
    def latency(self) -> float:
        return self.answered - self.sent


class Prober(threading.Thread):
    """GET `path` every `interval` seconds on a keep-alive connection; a failed probe is retried on a new
    connection and counts as answered when a retry succeeds (a killed worker stalls until its successor)."""

    def __init__(self, port: int, path: str, interval: float = 0.005, give_up: float = 60.0, patience: float = 1.0):
        super().__init__(name="lintgevent-prober", daemon=True)
        self.port, self.path, self.interval, self.give_up = port, path, interval, give_up
        self.patience = patience  # socket timeout of one attempt, so that stop() is never kept waiting
        self.probes: list[Probe] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.connection: http.client.HTTPConnection | None = None

    def run(self) -> None:
        while not self.stopping.is_set():
            sent = time.time()
            if self._answered(sent):
                with self.lock:
                    self.probes.append(Probe(sent, time.time()))
            self.stopping.wait(self.interval)
        if self.connection is not None:
            self.connection.close()

    def _answered(self, sent: float) -> bool:
        while not self.stopping.is_set() and time.time() - sent < self.give_up:
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection(HOST, self.port, timeout=self.patience)
                self.connection.request("GET", self.path)
                response = self.connection.getresponse()
                response.read()
                if response.will_close:
                    self.connection.close()
                    self.connection = None
                return True
            except (OSError, http.client.HTTPException):
                if self.connection is not None:
                    self.connection.close()
                self.connection = None
                self.stopping.wait(self.interval)
        return False

    def snapshot(self) -> list[Probe]:
        with self.lock:
            return list(self.probes)

    def stop(self) -> None:
        self.stopping.set()
        self.join(self.patience * 2)
