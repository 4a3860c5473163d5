# Report runner served by gunicorn -k gevent. Lock waits run in gevent's native
# threadpool, and the terminal is read through a FileObjectThread.
from gevent import monkey

monkey.patch_all()

import fcntl
import os
import select
import subprocess
import sys

import gevent
import gevent.socket
from flask import Blueprint, Flask, jsonify, request
from gevent.fileobject import FileObjectThread
from gevent.lock import BoundedSemaphore

app = Flask(__name__)
jobs = Blueprint("jobs", __name__)

LOCK_DIR = "/run/reports"
MIGRATION_LOCK = "/run/reports/migrations.lock"
APPLIED = {"0001_initial"}
STDIN = FileObjectThread(sys.stdin, closefd=False)
# lockf locks belong to the process: they do not exclude two threads of this
# worker from each other, so greenlets queue on a gevent lock first.
MIGRATIONS = BoundedSemaphore()

# Import time: one runner per host; fail fast if another one holds the pid file.
_pidfile = open("/run/reports/runner.pid", "w")
fcntl.flock(_pidfile, fcntl.LOCK_EX | fcntl.LOCK_NB)


def render(name):
    return {"name": name, "rows": [], "by": os.getpid()}


def build_locked(name):
    with open(os.path.join(LOCK_DIR, name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return render(name)


@jobs.post("/reports/<name>/build")
def build_report(name):
    report = gevent.get_hub().threadpool.apply(build_locked, (name,))
    return jsonify(report=report)


@jobs.post("/reports/<name>/export")
def export_report(name):
    read_end, write_end = os.pipe()
    exporter = subprocess.Popen(["report-export", name], stdout=write_end)
    os.close(write_end)
    # Other greenlets run until the exporter writes; then the read returns at once.
    gevent.socket.wait_read(read_end)
    data = os.read(read_end, 1 << 20)
    os.close(read_end)
    exporter.wait()
    return data


@app.route("/debug/key")
def last_key():
    # Read the terminal only once select says a key is waiting (patched select: cooperative).
    ready, _, _ = select.select([sys.stdin], [], [], 0)
    if ready:
        return sys.stdin.read(1)
    return ""


@jobs.post("/migrations/apply")
def apply_migrations():
    return jsonify(applied=migrate())


def migrate():
    names = ["0001_initial", "0002_totals"]
    with MIGRATIONS:
        return gevent.get_hub().threadpool.apply(with_migration_lock, (names,))


def with_migration_lock(names):
    with open(MIGRATION_LOCK, "a") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX)
        pending = [n for n in names if n not in APPLIED]
        APPLIED.update(pending)
    return pending


@app.route("/admin/cache/<name>", methods=["DELETE"])
def wipe_cache(name):
    # Ask the client, not the server's terminal, to confirm.
    if request.args.get("confirm") != name:
        return jsonify(wiped=False, hint="repeat the name in ?confirm="), 409
    return jsonify(wiped=True)


@app.route("/debug/console", methods=["POST"])
def start_console():
    gevent.spawn(debug_console)
    return "", 202


def debug_console():
    while True:
        line = STDIN.readline()
        if not line:
            break
        print(render(line.strip()))


app.register_blueprint(jobs)

if __name__ == "__main__":
    app.run()
