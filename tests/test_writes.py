"""GEV301-GEV302 on small projects: which write data has a size bound, which loops let the hub run.

Each project is written to a temp dir with `# error: GEVnnn` markers; the findings must equal them.
"""
from test_engine import assert_markers
from test_handles import message_at

APP = """
from gevent import monkey
monkey.patch_all()

import gevent
import gzip
import io
import json
import os
import pickle
import time
from flask import Flask, request
from gevent.fileobject import FileObjectThread

app = Flask(__name__)
CHUNK = 1 << 20
FIELDS = ("code", "game")
"""


def test_what_makes_one_write_unbounded(tmp_path):
    assert_markers(tmp_path, {"app.py": APP + """
@app.route("/a", methods=["POST"])
def a(codes, rows, src, big):
    data = ("\\n".join(codes) + "\\n").encode("utf-8")
    with gzip.open("/tmp/a.gz", "wb") as fh:  # error: GEV101
        fh.write(data)  # error: GEV301
    with open("/tmp/b", "wb") as fh:  # error: GEV101
        fh.write(request.get_data())  # error: GEV301
        fh.write(request.data)  # error: GEV301
        fh.write(request.stream.read())  # error: GEV301
        fh.write(src.read())  # error: GEV301
        fh.writelines(rows)  # error: GEV301
        json.dump([r["code"] for r in rows], fh)  # error: GEV301
        pickle.dump(request.get_json(), fh)  # error: GEV301
        text = ""
        for row in rows:
            text += row
        fh.write(text)  # error: GEV301
        parts = []
        for row in rows:
            parts.append(row)
        fh.write("".join(parts))  # error: GEV301
        os.write(3, b"".join(rows))  # error: GEV301


@app.route("/b", methods=["POST"])
def b(name, row, big, rows):
    with open("/tmp/c", "w") as fh:  # error: GEV101
        fh.write("literal\\n")  # error: GEV101
        fh.write(f"{name}: {len(rows)}\\n")  # error: GEV101
        fh.write("%s\\n" % name)  # error: GEV101
        fh.write(big[:1024])  # error: GEV101
        fh.write(big[4096:4096 + CHUNK])  # error: GEV101
        fh.write(",".join(["a", "b"]))  # error: GEV101
        fh.write(big)  # error: GEV101
        fh.write(request.stream.read(65536))  # error: GEV101
        json.dump({"name": name}, fh)  # error: GEV101
        json.dump(row, fh)  # error: GEV101
        for item in rows:  # error: GEV302
            fh.write(",".join(str(v) for v in item) + "\\n")  # error: GEV101
"""})


def test_what_is_not_a_write_on_the_hub(tmp_path):
    assert_markers(tmp_path, {"app.py": APP + """
def write_all(path, codes):
    with open(path, "w") as fh:
        fh.write("\\n".join(codes))


@app.route("/a", methods=["POST"])
def a(codes):
    gevent.get_hub().threadpool.apply(write_all, ("/tmp/a", codes))
    buf = io.StringIO()
    buf.write("\\n".join(codes))
    out = FileObjectThread("/tmp/b", "w")
    out.write("\\n".join(codes))
    for code in codes:
        out.write(code)
    return buf.getvalue()


def cli_export(codes):
    with open("/tmp/c", "w") as fh:
        fh.write("\\n".join(codes))
"""})


def test_what_makes_a_loop_unbounded_and_what_counts_as_a_yield(tmp_path):
    assert_markers(tmp_path, {"app.py": APP + """
import socket

import requests

AUDIT = socket.create_connection(("audit", 514))


def flush(row):
    AUDIT.sendall(row)


@app.route("/a", methods=["POST"])
def a(rows, n, sock, conn):
    with open("/tmp/a", "w") as fh:  # error: GEV101
        for row in rows:  # error: GEV302
            fh.write(row)  # error: GEV101
        for i in range(n):  # error: GEV302
            fh.write("x")  # error: GEV101
        for row in conn.execute("SELECT code FROM codes"):  # error: GEV302
            fh.write(row[0])  # error: GEV101
        while True:  # error: GEV302
            chunk = request.stream.read(65536)
            if not chunk:
                break
            fh.write(chunk)  # error: GEV101
        for row in rows:  # error: GEV302
            fh.write(row)  # error: GEV101
            gevent.sleep(0)
        for row in rows:  # error: GEV302
            fh.write(row)  # error: GEV101
            gevent.sleep()
        for field in FIELDS:
            fh.write(field)  # error: GEV101
        for i in range(10):
            fh.write("x")  # error: GEV101
        for name in ("a", "b"):
            fh.write(name)  # error: GEV101
        for row in rows:  # error: GEV302
            for field in FIELDS:
                fh.write(row[field])  # error: GEV101
        for row in rows:  # error: GEV302
            for part in row:
                fh.write(part)  # error: GEV101
            gevent.sleep(0)
        for batch in rows:
            for row in batch():  # error: GEV302
                fh.write(row)  # error: GEV101


@app.route("/b", methods=["POST"])
def b(rows, delay):
    with open("/tmp/b", "w") as fh:  # error: GEV101
        for row in rows:
            fh.write(row)  # error: GEV101
            gevent.idle()
        for row in rows:
            fh.write(row)  # error: GEV101
            gevent.sleep(0.001)
        for row in rows:
            fh.write(row)  # error: GEV101
            gevent.sleep(delay)
        for row in rows:
            fh.write(row)  # error: GEV101
            time.sleep(0.01)
        for row in rows:
            fh.write(row)  # error: GEV101
            AUDIT.sendall(row)
        for row in rows:
            fh.write(row)  # error: GEV101
            requests.post("http://audit/", data=row)
        for row in rows:
            fh.write(row)  # error: GEV101
            flush(row)
"""})


def test_a_sleep_of_zero_is_named_in_the_message_and_why_it_does_not_count(tmp_path):
    assert_markers(tmp_path, {"app.py": APP + """
@app.route("/a", methods=["POST"])
def a(rows):
    with open("/tmp/a", "w") as fh:  # error: GEV101
        for row in rows:  # error: GEV302
            fh.write(row)  # error: GEV101
            gevent.sleep(0)
"""})
    message = message_at(tmp_path, "app.py", "for row in rows")
    assert "`gevent.sleep(0)` does not count" in message
    assert "before the hub polls for IO" in message
    assert "once per item of `rows`, built elsewhere" in message


def test_unpatched_time_sleep_is_no_yield_and_a_greenlet_target_is_a_request_path(tmp_path):
    assert_markers(tmp_path, {"worker.py": """
from gevent import monkey
monkey.patch_all(time=False)

import gevent
import time


def export(rows):
    with open("/tmp/a", "w") as fh:  # error: GEV101
        for row in rows:  # error: GEV302
            fh.write(row)  # error: GEV101
            time.sleep(0.01)  # error: GEV104


gevent.spawn(export, [])
"""})


def test_the_message_names_the_data_and_the_chain(tmp_path):
    assert_markers(tmp_path, {"app.py": APP + """
@app.route("/cdkey_mana", methods=["POST"])
def cdkey_mana():
    write_sn_file("/tmp/a.gz", request.form["codes"].split())


def write_sn_file(path, codes):
    data = ("\\n".join(codes) + "\\n").encode("utf-8")
    with gzip.open(path, "wb") as fh:  # error: GEV101
        fh.write(data)  # error: GEV301
"""})
    message = message_at(tmp_path, "app.py", "fh.write(data)")
    assert message.startswith("GEV301 unbounded write `fh.write` on a request path "
                              "(route POST /cdkey_mana -> write_sn_file): it is built by `join` over `codes`")


def test_a_request_stream_read_whole_is_named_the_request_body(tmp_path):
    assert_markers(tmp_path, {"app.py": APP + """
@app.route("/a", methods=["PUT"])
def a():
    with open("/tmp/a", "wb") as fh:  # error: GEV101
        fh.write(request.stream.read())  # error: GEV301
"""})
    message = message_at(tmp_path, "app.py", "request.stream.read()")
    assert "it is the whole request body (`request.stream.read()` without a size)" in message
