"""The staging config: a real gunicorn gevent worker records where its hub blocks, blamed on the
app's own line, and is stopped by its process group whatever happens."""
from __future__ import annotations

import json
import os
import urllib.request

from conftest import live, wait_for

from lintgevent.runtime.server import Gunicorn, group_alive, gunicorn_command

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
    while deadline > time.perf_counter():  # spins without yielding: the hub is blocked here
        pass
    return "done"
"""
BLOCKING_LINE = 16
DEADLINE = 30


@live
def test_a_blocked_hub_is_recorded_and_blamed_on_the_apps_line(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    events = tmp_path / "events.jsonl"
    log = tmp_path / "gunicorn.log"
    env = dict(os.environ, LINTGEVENT_EVENTS=str(events), LINTGEVENT_MAX_BLOCKING_TIME="0.1")
    command = gunicorn_command("app:app", "python:lintgevent.runtime.gunicorn_conf", 20, ["-k", "gevent"],
                               str(tmp_path))
    server = Gunicorn(command, str(tmp_path), env, str(log))
    with server:
        server.start(DEADLINE)
        port = server.port
        wait_for(lambda: "lintgevent: recording" in log.read_text(), "the worker's recorder starting",
                 DEADLINE, log.read_text)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=10) as response:
            assert response.read() == b"pong"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/block", timeout=10) as response:
            assert response.read() == b"done"
        wait_for(lambda: events.exists() and f'"line": {BLOCKING_LINE}' in events.read_text(),
                 "an event blaming the blocking line", DEADLINE, log.read_text)
    assert not group_alive(server.process.pid), "a gunicorn process outlived the test"

    records = [json.loads(line) for line in events.read_text().splitlines()]
    blamed = [r["blamed"] for r in records if r["blamed"]]
    assert {"file": str(tmp_path / "app.py"), "line": BLOCKING_LINE, "function": "block"} in blamed
    record = next(r for r in records if r["blamed"] and r["blamed"]["line"] == BLOCKING_LINE)
    assert record["threshold"] == 0.1 and record["pid"] != server.process.pid
    assert not record["stack"][-1]["app"] or record["stack"][-1]["line"] == BLOCKING_LINE
    assert any(not f["app"] and os.sep + "gunicorn" + os.sep in f["file"] for f in record["stack"])
