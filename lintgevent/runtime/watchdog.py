"""Nothing `lintgevent verify` starts or writes outlives it, even when it is killed by SIGKILL.

verify hands each gunicorn master the read end of a pipe whose write end only verify holds
(LINTGEVENT_VERIFY_FD); a thread of the master reads it, and end of file means that verify is gone.
The master then stops as on Ctrl-C (its workers get SIGQUIT, SIGKILL after the graceful timeout),
and on its way out removes verify's work directory (LINTGEVENT_VERIFY_WORKDIR) and kills what is
left of its process group.

A work directory is named after its run's pid, so that the next run removes the directory of a run
killed while no server was running to do it (linting, between two deployments).
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import threading

FD_VARIABLE = "LINTGEVENT_VERIFY_FD"
WORKDIR_VARIABLE = "LINTGEVENT_VERIFY_WORKDIR"
WORKDIR_PREFIX = "lintgevent-verify-"
WORKDIR_NAME = re.compile(re.escape(WORKDIR_PREFIX) + r"(\d+)-\w+")


def workdir_prefix() -> str:
    """The prefix of this run's work directory, for tempfile."""
    return f"{WORKDIR_PREFIX}{os.getpid()}-"


class ParentWatch:
    """In a gunicorn master started by verify: end the master, its group and verify's files when verify dies."""

    def __init__(self) -> None:
        self.orphaned = threading.Event()
        self.workdir = ""

    def start(self) -> None:
        """Watch verify's pipe, if verify started this master; a master started otherwise is left alone."""
        fd = os.environ.pop(FD_VARIABLE, "")
        self.workdir = os.environ.pop(WORKDIR_VARIABLE, "")
        if not fd:
            return
        os.set_inheritable(int(fd), False)  # not to the app's os.system children
        threading.Thread(target=self._wait_for_eof, args=(int(fd),), name="lintgevent-watchdog", daemon=True).start()

    def _wait_for_eof(self, fd: int) -> None:
        while os.read(fd, 512):
            pass
        self.orphaned.set()
        os.kill(os.getpid(), signal.SIGINT)  # gunicorn's quick shutdown, in its main thread

    def clean_up(self) -> None:
        """At the master's exit, once its workers are stopped: if verify is gone, remove its work directory
        and end the rest of the group (the children the workers left), this master last."""
        if not self.orphaned.is_set():
            return
        if WORKDIR_NAME.fullmatch(os.path.basename(self.workdir)):
            shutil.rmtree(self.workdir, ignore_errors=True)
        os.killpg(os.getpgrp(), signal.SIGKILL)


def remove_abandoned(directory: str) -> None:
    """Remove the work directories, under `directory`, of verify runs that are no longer running."""
    for entry in os.scandir(directory):
        match = WORKDIR_NAME.fullmatch(entry.name)
        if (match and entry.is_dir(follow_symlinks=False) and entry.stat().st_uid == os.getuid()
                and not _running(int(match.group(1)))):
            shutil.rmtree(entry.path, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
