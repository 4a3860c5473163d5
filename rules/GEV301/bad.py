# CD-key service under gunicorn -k gevent: each batch is written with one call.
from gevent import monkey

monkey.patch_all()

import gzip
import json
import os
import secrets

from flask import Flask, jsonify, request

app = Flask(__name__)
BATCH_ROOT = "/srv/cdkeys"


def write_sn_file(path, codes):
    """The seed's write: the whole batch, hundreds of thousands of lines, in one gzip write."""
    data = ("\n".join(codes) + "\n").encode("utf-8")
    with gzip.open(path, "wb") as fh:  # error: GEV101
        fh.write(data)  # error: GEV301


class CodeGenerator:
    def __init__(self, game_id):
        self.game_id = game_id

    def generate(self, count, prefix=""):
        codes = [prefix + secrets.token_hex(8).upper() for _ in range(count)]
        path = os.path.join(BATCH_ROOT, f"{self.game_id}.txt.gz")
        write_sn_file(path, codes)
        return path


@app.route("/cdkey_mana", methods=["POST"])
def cdkey_mana():
    path = CodeGenerator(request.form["game_id"]).generate(int(request.form["count"]))
    return jsonify(path=path)


@app.route("/uploads/<name>", methods=["PUT"])
def store_upload(name):
    with open(os.path.join(BATCH_ROOT, name), "wb") as out:  # error: GEV101
        out.write(request.get_data())  # error: GEV301
    return "", 204


@app.route("/batches/<game_id>/export", methods=["POST"])
def export_batch(game_id):
    rows = request.get_json()
    with open(os.path.join(BATCH_ROOT, game_id + ".json"), "w") as out:  # error: GEV101
        json.dump([row["code"] for row in rows], out)  # error: GEV301
    with open(os.path.join(BATCH_ROOT, game_id + ".txt"), "w") as out:  # error: GEV101
        out.writelines(row["code"] + "\n" for row in rows)  # error: GEV301
    return "", 204
