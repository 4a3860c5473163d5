"""The staging config: a real gunicorn gevent worker records where its hub blocks, blamed on the
app's own line, and is stopped by its process group whatever happens."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

pytest.importorskip("gunicorn")
pytest.importorskip("gevent")

APP = """\
import time

from flask import Flask

app = Flask(__name__)


@app.route("/ping")
def ping():
    return "pong"


@app.route("/block")
def block():
    deadline = time.perf_counter() + 0.6
    while time.perf_counter() < deadline:  # spins without yielding: the hub is blocked here
        pass
    return "done"
"""
BLOCKING_LINE = 16
DEADLINE = 30
GRACE = 10


def _wait_for(found, what: str, log_path):
    """Poll until `found()` gives something; a generous deadline, only so a broken run cannot hang."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        result = found()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what} never happened:\n{log_path.read_text()}")


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group, SIGKILL after a grace period."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(GRACE)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(GRACE)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_blocked_hub_is_recorded_and_blamed_on_the_apps_line(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    events = tmp_path / "events.jsonl"
    log = tmp_path / "gunicorn.log"
    env = dict(os.environ, LINTGEVENT_EVENTS=str(events), LINTGEVENT_MAX_BLOCKING_TIME="0.1")
    with open(log, "w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1", "-b", "127.0.0.1:0", "--no-control-socket",
             "--timeout", "20", "-c", "python:lintgevent.runtime.gunicorn_conf", "app:app"],
            cwd=tmp_path, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        port = int(_wait_for(lambda: re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log.read_text()),
                             "gunicorn listening", log).group(1))
        _wait_for(lambda: "lintgevent: recording" in log.read_text(), "the worker's recorder starting", log)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=10) as response:
            assert response.read() == b"pong"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/block", timeout=10) as response:
            assert response.read() == b"done"
        _wait_for(lambda: events.exists() and f'"line": {BLOCKING_LINE}' in events.read_text(),
                  "an event blaming the blocking line", log)
    finally:
        _stop(proc)
    assert not _group_alive(proc.pid), "a gunicorn process outlived the test"

    records = [json.loads(line) for line in events.read_text().splitlines()]
    blamed = [r["blamed"] for r in records if r["blamed"]]
    assert {"file": str(tmp_path / "app.py"), "line": BLOCKING_LINE, "function": "block"} in blamed
    record = next(r for r in records if r["blamed"] and r["blamed"]["line"] == BLOCKING_LINE)
    assert record["threshold"] == 0.1 and record["pid"] != proc.pid
    assert not record["stack"][-1]["app"] or record["stack"][-1]["line"] == BLOCKING_LINE
    assert any(not f["app"] and os.sep + "gunicorn" + os.sep in f["file"] for f in record["stack"])
