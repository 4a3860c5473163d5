# CD-key service under gunicorn -k gevent: the seed's own remedy, smaller writes, without a yield.
from gevent import monkey

monkey.patch_all()

import gzip
import os

import gevent
from flask import Flask, jsonify, request

app = Flask(__name__)
BATCH_ROOT = "/srv/cdkeys"
LINES_PER_WRITE = 100_000


def write_sn_file(path, codes):
    """100,000 lines per write instead of 500,000: each write is shorter, the loop is not."""
    with gzip.open(path, "wb") as fh:  # error: GEV101
        for start in range(0, len(codes), LINES_PER_WRITE):  # error: GEV302
            fh.write(("\n".join(codes[start:start + LINES_PER_WRITE]) + "\n").encode("utf-8"))


def write_sn_file_politely(path, codes):
    """gevent.sleep(0) between writes: the hub still does not poll for IO."""
    with gzip.open(path, "wb") as fh:  # error: GEV101
        for start in range(0, len(codes), LINES_PER_WRITE):  # error: GEV302
            fh.write(("\n".join(codes[start:start + LINES_PER_WRITE]) + "\n").encode("utf-8"))
            gevent.sleep(0)


def export_codes(path, rows):
    with open(path, "w") as out:  # error: GEV101
        for n, row in enumerate(rows):  # error: GEV302
            out.write(f"{n},{row['code']},{row['game']}\n")


@app.route("/cdkey_mana", methods=["POST"])
def cdkey_mana():
    codes = request.form["codes"].split()
    game_id = request.form["game_id"]
    write_sn_file(os.path.join(BATCH_ROOT, game_id + ".txt.gz"), codes)
    write_sn_file_politely(os.path.join(BATCH_ROOT, game_id + ".bak.gz"), codes)
    export_codes(os.path.join(BATCH_ROOT, game_id + ".csv"), request.get_json()["rows"])
    return jsonify(count=len(codes))
