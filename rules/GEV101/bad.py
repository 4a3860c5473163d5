# Export service served by gunicorn -k gevent; regular-file IO on request paths.
from gevent import monkey

monkey.patch_all()

import gzip
import io
import json
import os
import shutil
from pathlib import Path

import gevent
from flask import Flask, jsonify, request

app = Flask(__name__)

EXPORT_DIR = "/srv/exports"
UPLOAD_DIR = "/srv/uploads"
AUDIT_LOG = "/var/log/exports/audit.log"

# Import time: runs once when the worker boots, before any request is served.
with open("/etc/exports/settings.json") as fh:
    SETTINGS = json.load(fh)


@app.route("/reports/<name>")
def show_report(name):
    with open(os.path.join(EXPORT_DIR, name)) as f:  # error: GEV101
        body = f.read()
    return body


@app.route("/exports/<name>", methods=["POST"])
def export_rows(name):
    rows = request.get_json()
    with gzip.open(os.path.join(EXPORT_DIR, name + ".csv.gz"), "wt") as gz:  # error: GEV101
        for row in rows:  # error: GEV302
            gz.write(",".join(str(v) for v in row) + "\n")
    return jsonify(count=len(rows))


@app.route("/notes/<name>", methods=["PUT"])
def save_note(name):
    Path(EXPORT_DIR, "notes", name).write_text(request.get_data(as_text=True))  # error: GEV301
    return "", 204


@app.route("/upload", methods=["POST"])
def upload():
    target = os.path.join(UPLOAD_DIR, "incoming.bin")
    request.files["file"].save(target)  # error: GEV101
    shutil.copyfile(target, os.path.join(UPLOAD_DIR, "incoming.bak"))  # error: GEV101
    append_audit("upload " + target)
    return "stored"


def append_audit(line):
    fd = os.open(AUDIT_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT)  # error: GEV101
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


@app.route("/snapshot", methods=["POST"])
def snapshot():
    return jsonify(saved=build_snapshot())


def build_snapshot():
    state = {"settings": SETTINGS, "exports": len(SETTINGS)}
    return save_snapshot(state)


def save_snapshot(state):
    path = os.path.join(EXPORT_DIR, "snapshot.json")
    with open(path, "w") as f:  # error: GEV101
        json.dump(state, f)
    return path


@app.route("/thumbnails/<name>", methods=["POST"])
def make_thumbnail(name):
    gevent.spawn(write_thumbnail, os.path.join(EXPORT_DIR, name), request.get_data())
    return "", 202


def write_thumbnail(path, data):
    with open(path, "wb") as f:  # error: GEV101
        f.write(data)


# Offloaded: this function only ever runs in gevent's native threadpool.
def write_blob(path, data):
    with open(path, "wb") as f:
        f.write(data)


@app.route("/blobs/<name>", methods=["PUT"])
def put_blob(name):
    path = os.path.join(EXPORT_DIR, name)
    gevent.get_hub().threadpool.apply(write_blob, (path, request.get_data()))
    return "", 204


@app.route("/reports/<name>/inline")
def inline_report(name):
    buf = io.BytesIO()
    buf.write(name.encode())
    return buf.getvalue()


# Nobody calls this from a request path (an operator runs it by hand).
def purge_exports():
    shutil.rmtree(EXPORT_DIR)


if __name__ == "__main__":
    with open(AUDIT_LOG, "a") as log:
        log.write("dev server started\n")
    app.run()
