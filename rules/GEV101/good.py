# Export service served by gunicorn -k gevent; file IO runs in gevent's threadpool.
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
from gevent.fileobject import FileObjectThread

app = Flask(__name__)

EXPORT_DIR = "/srv/exports"
UPLOAD_DIR = "/srv/uploads"
AUDIT_LOG = "/var/log/exports/audit.log"

# Import time: reading the settings once at boot blocks no request.
with open("/etc/exports/settings.json") as fh:
    SETTINGS = json.load(fh)


@app.route("/reports/<name>")
def show_report(name):
    with FileObjectThread(os.path.join(EXPORT_DIR, name), "r") as f:
        body = f.read()
    return body


def write_rows_gz(path, rows):
    with gzip.open(path, "wt") as gz:
        for row in rows:
            gz.write(",".join(str(v) for v in row) + "\n")


@app.route("/exports/<name>", methods=["POST"])
def export_rows(name):
    rows = request.get_json()
    path = os.path.join(EXPORT_DIR, name + ".csv.gz")
    # A native thread does the compression and the write; the hub keeps serving.
    gevent.get_hub().threadpool.apply(write_rows_gz, (path, rows))
    return jsonify(count=len(rows))


def write_text(path, text):
    Path(path).write_text(text)


@app.route("/notes/<name>", methods=["PUT"])
def save_note(name):
    path = os.path.join(EXPORT_DIR, "notes", name)
    gevent.get_hub().threadpool.apply(write_text, (path, request.get_data(as_text=True)))
    return "", 204


def store_upload(storage, target):
    storage.save(target)
    shutil.copyfile(target, os.path.join(UPLOAD_DIR, "incoming.bak"))


def write_audit(line):
    fd = os.open(AUDIT_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


@app.route("/upload", methods=["POST"])
def upload():
    target = os.path.join(UPLOAD_DIR, "incoming.bin")
    gevent.get_hub().threadpool.apply(store_upload, (request.files["file"], target))
    gevent.get_hub().threadpool.apply(write_audit, ("upload " + target,))
    return "stored"


@app.route("/snapshot", methods=["POST"])
def snapshot():
    return jsonify(saved=build_snapshot())


def build_snapshot():
    state = {"settings": SETTINGS, "exports": len(SETTINGS)}
    path = os.path.join(EXPORT_DIR, "snapshot.json")
    with FileObjectThread(path, "w") as f:
        f.write(json.dumps(state))
    return path


@app.route("/thumbnails/<name>", methods=["POST"])
def make_thumbnail(name):
    gevent.spawn(write_thumbnail, os.path.join(EXPORT_DIR, name), request.get_data())
    return "", 202


def write_thumbnail(path, data):
    with FileObjectThread(path, "wb") as f:
        f.write(data)


@app.route("/reports/<name>/inline")
def inline_report(name):
    buf = io.BytesIO()
    buf.write(name.encode())
    return buf.getvalue()


if __name__ == "__main__":
    app.run()
