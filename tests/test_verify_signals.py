"""Whatever signal ends `lintgevent verify`, nothing it started outlives it: no gunicorn process, no listening
port, no work directory.  And Ctrl-C in the first instant of any command exits 130 without a traceback."""
from __future__ import annotations

import contextlib
import glob
import os
import re
import signal
import subprocess
import sys

import pytest
from conftest import HANGING_APP, REPO, live, wait_for, wsgi_project

from lintgevent.runtime.watchdog import remove_abandoned, workdir_prefix

DEADLINE = 120
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
# `python -m lintgevent check`, whose import of its first own module waits until a signal ends the wait.
PAUSED_IMPORT = """\
import importlib.abc, runpy, sys, time

class Pause(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "lintgevent.findings":
            sys.meta_path.remove(self)
            print("importing lintgevent.findings", file=sys.stderr, flush=True)
            time.sleep(60)
        return None

sys.meta_path.insert(0, Pause())
sys.argv = ["lintgevent", *sys.argv[1:]]
runpy.run_module("lintgevent", run_name="__main__", alter_sys=True)
"""


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, process group) of a process; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1]), int(fields[2])


def _processes() -> dict[int, tuple[str, int, int]]:
    found = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        stat = _stat(int(name))
        if stat is not None and stat[0] != "Z":  # a zombie is gone, whoever is slow to reap it
            found[int(name)] = stat
    return found


def _servers(verify_pid: int) -> dict[int, int]:
    """pid -> process group of every process of the groups of verify's children (its gunicorn masters)."""
    processes = _processes()
    masters = {pid for pid, (_, parent, _) in processes.items() if parent == verify_pid}
    return {pid: group for pid, (_, _, group) in processes.items() if group in masters}


def _left(servers: dict[int, int]) -> list[int]:
    """The processes still running of those servers, or of their groups (the children they started since)."""
    groups = set(servers.values())
    processes = _processes()
    return sorted(pid for pid, (_, _, group) in processes.items() if pid in servers or group in groups)


def _listening(port: int) -> bool:
    with open("/proc/net/tcp", encoding="utf-8") as handle:
        rows = [line.split() for line in handle.readlines()[1:]]
    return any(row[1] == f"0100007F:{port:04X}" and row[3] == "0A" for row in rows)


def _text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def _ready(verify: subprocess.Popen, tmp: str, stderr_path: str, mark: str) -> tuple[dict[int, int], int] | None:
    """(servers, port) once a worker records and `mark` is on verify's stderr; None until then."""
    logs = sorted(glob.glob(os.path.join(tmp, "lintgevent-verify-*", "gunicorn*.log")))
    log = _text(logs[-1]) if logs else ""
    servers = _servers(verify.pid)
    port = LISTENING.search(log)
    if mark in _text(stderr_path) and port and "lintgevent: recording" in log and len(servers) >= 2:
        return servers, int(port.group(1))
    return None


def _kill_and_check(command: list[str], cwd, tmp_path, signum: int, mark: str) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    stderr_path = str(tmp_path / "stderr.txt")
    servers: dict[int, int] = {}
    with open(stderr_path, "w", encoding="utf-8") as stderr:
        verify = subprocess.Popen([sys.executable, "-m", "lintgevent", *command], cwd=cwd, stdout=subprocess.DEVNULL,
                                  stderr=stderr, env=dict(os.environ, TMPDIR=str(tmp)))
    try:
        servers, port = wait_for(lambda: verify.poll() is not None or _ready(verify, str(tmp), stderr_path, mark),
                                 "a worker serving", DEADLINE, lambda: _text(stderr_path))
        assert verify.poll() is None, _text(stderr_path)
        assert _listening(port)
        verify.send_signal(signum)
        assert verify.wait(60) == (-signum if signum == signal.SIGKILL else 128 + signum)

        def nothing_left():
            return not _left(servers) and not _listening(port) and not list(tmp.iterdir())

        wait_for(nothing_left, "every server and the work directory going", 30,
                 lambda: f"left: {_left(servers)}, listening: {_listening(port)}, files: {list(tmp.iterdir())}")
        assert "Traceback" not in _text(stderr_path)
    finally:
        if verify.poll() is None:
            verify.kill()
            verify.wait()
        for pid in _left(servers):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@live
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL,
                                    *(pytest.param(s, marks=pytest.mark.slow)
                                      for s in (signal.SIGHUP, signal.SIGQUIT, signal.SIGINT))],
                         ids=lambda signum: signal.Signals(signum).name)
def test_a_signal_in_the_middle_of_the_fixture_run_leaves_nothing_behind(tmp_path, signum):
    _kill_and_check(["verify"], tmp_path, tmp_path, signum, mark="[1/")


@live
def test_sigkill_while_an_app_request_hangs_leaves_nothing_behind(tmp_path):
    project = wsgi_project(tmp_path, "site", HANGING_APP)
    _kill_and_check(["verify", "--app", "wsgi:app", "--url", "/hang"], project, tmp_path, signal.SIGKILL,
                    mark="starting gunicorn")


def test_the_next_run_removes_the_work_directory_of_a_run_that_was_killed(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    abandoned = tmp_path / f"lintgevent-verify-{gone.pid}-k1ll3d_x"
    (abandoned / "fixture").mkdir(parents=True)
    (abandoned / "fixture" / "app.py").write_text("")
    running = tmp_path / f"{workdir_prefix()}r4nn1ng"
    running.mkdir()
    other = tmp_path / "lintgevent-verify-notes"
    other.mkdir()
    remove_abandoned(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([running.name, other.name])


def test_ctrl_c_while_the_command_line_is_imported_exits_130_without_a_traceback(tmp_path):
    """The signal comes while `lintgevent check` imports its own modules (an import hook holds one
    back until then): not after the command is done, however loaded the machine."""
    command = [sys.executable, "-c", PAUSED_IMPORT, "check", "--no-cache", os.path.join(REPO, "fixtures")]
    started = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        paused = started.stderr.readline()
        started.send_signal(signal.SIGINT)
        stderr = paused + started.communicate(timeout=30)[1]
    finally:
        if started.poll() is None:
            started.kill()
            started.wait()
    assert paused == "importing lintgevent.findings\n", stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert started.returncode == 130
