# Write loops that let the hub run.
from gevent import monkey

monkey.patch_all()

import gzip
import os

import gevent
from flask import Flask, jsonify, request
from gevent.fileobject import FileObjectThread

app = Flask(__name__)
BATCH_ROOT = "/srv/cdkeys"
LINES_PER_WRITE = 100_000
COLUMNS = ("code", "game")


# Runs only in gevent's threadpool.
def write_sn_file(path, codes):
    with gzip.open(path, "wb") as fh:
        for start in range(0, len(codes), LINES_PER_WRITE):
            fh.write(("\n".join(codes[start:start + LINES_PER_WRITE]) + "\n").encode("utf-8"))


def export_codes(path, rows):
    # Each write of a FileObjectThread runs in the threadpool: the hub runs between them.
    out = FileObjectThread(path, "w")
    try:
        for n, row in enumerate(rows):
            out.write(",".join([str(n)] + [str(row[c]) for c in COLUMNS]) + "\n")
    finally:
        out.close()


@app.route("/cdkey_mana", methods=["POST"])
def cdkey_mana():
    codes = request.form["codes"].split()
    game_id = request.form["game_id"]
    pool = gevent.get_hub().threadpool
    pool.apply(write_sn_file, (os.path.join(BATCH_ROOT, game_id + ".txt.gz"), codes))
    export_codes(os.path.join(BATCH_ROOT, game_id + ".csv"), request.get_json()["rows"])
    return jsonify(count=len(codes))
