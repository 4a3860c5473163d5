# The same service, with every file write off the hub.
from gevent import monkey

monkey.patch_all()

import gzip
import io
import json
import os
import secrets

import gevent
from flask import Flask, jsonify, request
from gevent.fileobject import FileObjectThread

app = Flask(__name__)
BATCH_ROOT = "/srv/cdkeys"


# Runs only in gevent's threadpool: the hub goes on while it compresses and writes.
def write_sn_file(path, codes):
    data = ("\n".join(codes) + "\n").encode("utf-8")
    with gzip.open(path, "wb") as fh:
        fh.write(data)


@app.route("/cdkey_mana", methods=["POST"])
def cdkey_mana():
    count = int(request.form["count"])
    codes = [secrets.token_hex(8).upper() for _ in range(count)]
    path = os.path.join(BATCH_ROOT, request.form["game_id"] + ".txt.gz")
    gevent.get_hub().threadpool.apply(write_sn_file, (path, codes))
    return jsonify(path=path)


@app.route("/uploads/<name>", methods=["PUT"])
def store_upload(name):
    # A FileObjectThread runs each read and write in the threadpool.
    out = FileObjectThread(os.path.join(BATCH_ROOT, name), "wb")
    try:
        out.write(request.get_data())
    finally:
        out.close()
    return "", 204


@app.route("/batches/<game_id>/preview")
def preview_batch(game_id):
    # In memory: BytesIO is not file IO, however big the data.
    buf = io.BytesIO()
    buf.write(json.dumps(request.args.getlist("code")).encode("utf-8"))
    return buf.getvalue()
