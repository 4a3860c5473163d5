# Report runner served by gunicorn -k gevent. File locks and terminal reads
# wait inside the kernel, so the whole worker waits with them.
from gevent import monkey

monkey.patch_all()

import fcntl
import os
import subprocess
import sys

import gevent
from flask import Blueprint, Flask, jsonify, request

app = Flask(__name__)
jobs = Blueprint("jobs", __name__)

LOCK_DIR = "/run/reports"
MIGRATION_LOCK = "/run/reports/migrations.lock"
APPLIED = {"0001_initial"}

# Import time: one runner per host; fail fast if another one holds the pid file.
_pidfile = open("/run/reports/runner.pid", "w")
fcntl.flock(_pidfile, fcntl.LOCK_EX | fcntl.LOCK_NB)


def render(name):
    return {"name": name, "rows": [], "by": os.getpid()}


@jobs.post("/reports/<name>/build")
def build_report(name):
    with open(os.path.join(LOCK_DIR, name + ".lock"), "w") as lock:  # error: GEV101
        fcntl.flock(lock, fcntl.LOCK_EX)  # error: GEV105
        report = render(name)
    return jsonify(report=report)


@jobs.post("/reports/<name>/export")
def export_report(name):
    # The exporter writes the report to a pipe when it is done: os.read waits for it on the hub.
    read_end, write_end = os.pipe()
    exporter = subprocess.Popen(["report-export", name], stdout=write_end)
    os.close(write_end)
    data = os.read(read_end, 1 << 20)  # error: GEV105
    os.close(read_end)
    exporter.wait()
    return data


@jobs.post("/migrations/apply")
def apply_migrations():
    return jsonify(applied=migrate())


def migrate():
    return with_migration_lock(["0001_initial", "0002_totals"])


def with_migration_lock(names):
    with open(MIGRATION_LOCK, "a") as lock:  # error: GEV101
        fcntl.lockf(lock, fcntl.LOCK_EX)  # error: GEV105
        pending = [n for n in names if n not in APPLIED]
        APPLIED.update(pending)
    return pending


@app.route("/admin/cache/<name>", methods=["DELETE"])
def wipe_cache(name):
    answer = input("Wipe cache %s for %s? [y/N] " % (name, request.remote_addr))  # error: GEV105
    if answer.strip().lower() != "y":
        return jsonify(wiped=False), 409
    return jsonify(wiped=True)


@app.route("/debug/console", methods=["POST"])
def start_console():
    gevent.spawn(debug_console)
    return "", 202


def debug_console():
    while True:
        line = sys.stdin.readline()  # error: GEV105
        if not line:
            break
        print(render(line.strip()))


# Offloaded: this function only ever runs in gevent's native threadpool.
def rebuild_locked(name):
    with open(os.path.join(LOCK_DIR, name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return render(name)


@jobs.post("/reports/<name>/rebuild")
def rebuild_report(name):
    return jsonify(report=gevent.get_hub().threadpool.apply(rebuild_locked, (name,)))


# Nobody calls this from a request path (an operator pipes a file into it).
def load_applied_from_stdin():
    APPLIED.update(line.strip() for line in sys.stdin.readlines())


app.register_blueprint(jobs)

if __name__ == "__main__":
    if input("Start the development server? [Y/n] ").strip().lower() != "n":
        app.run()
