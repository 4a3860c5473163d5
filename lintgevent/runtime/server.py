"""Start gunicorn on 127.0.0.1 in its own process group, find its port, and always stop all of it.

The master watches a pipe whose write end only this process holds (watchdog.py): when this process
dies, whatever kills it, the master ends its group and removes `workdir`.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from .watchdog import FD_VARIABLE, WORKDIR_VARIABLE

LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
BOOTED = re.compile(r"Booting worker with pid: (\d+)")
WORKER_DIED = re.compile(r"Worker \(pid:\d+\) (?:exited with code \d+|was sent \w+)")
TIMED_OUT = re.compile(r"WORKER TIMEOUT \(pid:\d+\)")
BOOT_ATTEMPTS = 2  # a worker that dies this many times before the app answers will not boot
GRACE = 5.0


class ServerError(RuntimeError):
    """gunicorn did not come up; the message ends with the tail of its log."""


def gunicorn_command(app: str, config: str, timeout: float, extra: list[str], workdir: str) -> list[str]:
    """gunicorn on a free local port with one worker.  Its heartbeat files go in `workdir`: a worker
    killed between creating one and unlinking it would otherwise leave a `wgunicorn-*` file in $TMPDIR."""
    import gunicorn

    command = [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "--workers", "1",
               "--timeout", str(timeout), "--graceful-timeout", str(int(GRACE)), "--worker-tmp-dir", workdir,
               "-c", config]
    if gunicorn.version_info >= (27,):  # it would open a control socket under $HOME
        command.append("--no-control-socket")
    return [*command, *extra, app]


@dataclass
class Gunicorn:
    """One gunicorn master and its worker, logging to `log_path`; `workdir` goes with them if we die."""

    command: list[str]
    cwd: str
    env: dict
    log_path: str
    workdir: str = ""
    process: subprocess.Popen | None = None
    port: int = 0
    watchdog: int | None = None  # the write end of the master's pipe
    log_start: int = 0

    def start(self, deadline: float) -> None:
        self.log_start = self.log_size()
        watched, self.watchdog = os.pipe()
        env = dict(self.env, **{FD_VARIABLE: str(watched), WORKDIR_VARIABLE: self.workdir})
        try:
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(self.command, cwd=self.cwd, env=env, stdin=subprocess.DEVNULL,
                                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                                pass_fds=(watched,))
        finally:
            os.close(watched)
        limit = time.monotonic() + deadline
        while not self.port:
            if self.process.poll() is not None:
                raise ServerError(f"gunicorn exited with status {self.process.returncode}:\n{self.log_tail()}")
            if time.monotonic() > limit:
                raise ServerError(f"gunicorn did not listen within {deadline:.0f} s:\n{self.log_tail()}")
            match = LISTENING.search(self.log())
            if match:
                self.port = int(match.group(1))
            else:
                time.sleep(0.05)

    def log(self, since: int = 0) -> str:
        """The log from byte offset `since` on."""
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(since)
                return handle.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def log_size(self) -> int:
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_tail(self, lines: int = 30) -> str:
        """The end of the log, from the last traceback on if there is one (why a worker failed to boot)."""
        log = self.log()
        start = log.rfind("Traceback (most recent call last)")
        return log[start:].rstrip() if start >= 0 else "\n".join(log.splitlines()[-lines:])

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def boot_failure(self) -> str:
        """Why the app will not come up, or "": gunicorn exited, or its worker died BOOT_ATTEMPTS times."""
        if not self.running():
            return f"gunicorn exited with status {self.process.returncode}"
        log = self.log(since=self.log_start)
        deaths = WORKER_DIED.findall(log)
        if len(deaths) < BOOT_ATTEMPTS:
            return ""
        why = "it did not boot within gunicorn's --timeout" if TIMED_OUT.search(log) else deaths[-1]
        return f"the worker died {len(deaths)} times while booting ({why})"

    def stop(self, grace: float = GRACE) -> None:
        """SIGTERM to the whole process group, SIGKILL after `grace` seconds: no worker outlives us.
        The watchdog's pipe is closed last, so that a master left running ends itself."""
        try:
            if self.process is not None:
                self._stop_group(grace)
        finally:
            if self.watchdog is not None:
                os.close(self.watchdog)
                self.watchdog = None

    def _stop_group(self, grace: float) -> None:
        _signal_group(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            pass
        limit = time.monotonic() + grace
        while group_alive(self.process.pid) and time.monotonic() < limit:
            time.sleep(0.05)
        if group_alive(self.process.pid):
            _signal_group(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(GRACE)

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def group_alive(pgid: int) -> bool:
    """Is any process of the group still there (zombies of other parents aside)?"""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
