"""GEV301-GEV302 on small projects: which write data has a size bound, which loops let the hub run.

Each project is written to a temp dir with `# error: GEVnnn` markers; the findings must equal them.
"""
from test_cli import write
from test_engine import assert_markers
from test_handles import message_at
from test_values import flake8_agrees

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
        fh.write("literal\\n")
        fh.write(f"{name}: {len(rows)}\\n")
        fh.write("%s\\n" % name)
        fh.write(big[:1024])
        fh.write(big[4096:4096 + CHUNK])
        fh.write(",".join(["a", "b"]))
        fh.write(big)
        fh.write(request.stream.read(65536))
        json.dump({"name": name}, fh)
        json.dump(row, fh)
        for item in rows:  # error: GEV302
            fh.write(",".join(str(v) for v in item) + "\\n")
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
            fh.write(row)
        for i in range(n):  # error: GEV302
            fh.write("x")
        for row in conn.execute("SELECT code FROM codes"):  # error: GEV302
            fh.write(row[0])
        while True:  # error: GEV302
            chunk = request.stream.read(65536)
            if not chunk:
                break
            fh.write(chunk)
        for row in rows:  # error: GEV302
            fh.write(row)
            gevent.sleep(0)
        for row in rows:  # error: GEV302
            fh.write(row)
            gevent.sleep()
        for field in FIELDS:
            fh.write(field)
        for i in range(10):
            fh.write("x")
        for name in ("a", "b"):
            fh.write(name)
        for row in rows:  # error: GEV302
            for field in FIELDS:
                fh.write(row[field])
        for row in rows:  # error: GEV302
            for part in row:
                fh.write(part)
            gevent.sleep(0)
        for batch in rows:
            for row in batch():  # error: GEV302
                fh.write(row)


@app.route("/b", methods=["POST"])
def b(rows, delay):
    with open("/tmp/b", "w") as fh:  # error: GEV101
        for row in rows:
            fh.write(row)
            gevent.idle()
        for row in rows:
            fh.write(row)
            gevent.sleep(0.001)
        for row in rows:
            fh.write(row)
            gevent.sleep(delay)
        for row in rows:
            fh.write(row)
            time.sleep(0.01)
        for row in rows:
            fh.write(row)
            AUDIT.sendall(row)
        for row in rows:
            fh.write(row)
            requests.post("http://audit/", data=row)
        for row in rows:
            fh.write(row)
            flush(row)
"""})


def test_a_sleep_of_zero_is_named_in_the_message_and_why_it_does_not_count(tmp_path):
    assert_markers(tmp_path, {"app.py": APP + """
@app.route("/a", methods=["POST"])
def a(rows):
    with open("/tmp/a", "w") as fh:  # error: GEV101
        for row in rows:  # error: GEV302
            fh.write(row)
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
            fh.write(row)
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


# -- sizes through calls -------------------------------------------------------------------------

WEB = """
from gevent import monkey
monkey.patch_all()

import gevent
from flask import Flask, request

import store

app = Flask(__name__)
"""


def test_a_parameter_takes_the_size_of_what_the_calls_that_run_pass(tmp_path):
    files = {
        "web.py": WEB + """

@app.route("/upload/<name>", methods=["PUT"])
def upload(name):
    store.save_body(name, request.get_data())
    store.save_data(name, request.data)
    store.save_file(name, request.files["f"].read())
    rows = request.get_json()["rows"]
    store.save_lines(name, "\\n".join(rows))
    store.save_text(name, body=request.get_data().decode())
    store.save_literal(name, b"ok")
    store.save_summary(name, f"{name}: {len(rows)} rows")
    store.save_small(name, "%s\\n" % name)
    return ""
""",
        "store.py": """
def save_body(name, body):
    with open(name, "wb") as fh:  # error: GEV101
        fh.write(body)  # error: GEV301


def save_data(name, data):
    with open(name, "wb") as fh:  # error: GEV101
        fh.write(data)  # error: GEV301


def save_file(name, content):
    with open(name, "wb") as fh:  # error: GEV101
        fh.write(content)  # error: GEV301


def save_lines(name, text):
    with open(name, "w") as fh:  # error: GEV101
        fh.write(text)  # error: GEV301


def save_text(name, body=""):
    with open(name, "w") as fh:  # error: GEV101
        fh.write(body)  # error: GEV301


def save_literal(name, body):
    with open(name, "wb") as fh:  # error: GEV101
        fh.write(body)


def save_summary(name, line):
    with open(name, "w") as fh:  # error: GEV101
        fh.write(line)


def save_small(name, line):
    with open(name, "w") as fh:  # error: GEV101
        fh.write(line)
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)
    assert message_at(tmp_path, "store.py", "fh.write(body)").startswith(
        "GEV301 unbounded write `fh.write` on a request path (route PUT /upload/<name> -> save_body): `body` is the "
        "whole request body (`request.get_data()`), passed at web.py:15, and the hub cannot run until the write "
        "returns")
    assert "`data` is the whole request body (`request.data`), passed at web.py:16" in \
        message_at(tmp_path, "store.py", "fh.write(data)")
    assert "`content` is the whole content of `request.files['f']` (`.read()` without a size), passed at " \
           "web.py:17" in message_at(tmp_path, "store.py", "fh.write(content)")
    assert "`text` is built by `join` over `rows`, passed at web.py:19" in \
        message_at(tmp_path, "store.py", "fh.write(text)")


def test_reshaped_parameters_and_dumps_follow_the_callers(tmp_path):
    files = {
        "web.py": WEB + """

@app.route("/a", methods=["POST"])
def a():
    store.encoded("/tmp/a", request.get_data().decode())
    store.compressed("/tmp/b", request.get_data())
    store.framed("/tmp/c", request.get_data())
    store.dumped("/tmp/d", request.get_json())
    store.encoded("/tmp/e", "small")
    store.compressed("/tmp/f", b"small")
    store.dumped("/tmp/g", {"ok": True})
    return ""
""",
        "store.py": """
import json
import zlib


def encoded(path, body):
    with open(path, "wb") as fh:  # error: GEV101
        fh.write(body.encode("utf-8"))  # error: GEV301


def compressed(path, body):
    with open(path, "wb") as fh:  # error: GEV101
        fh.write(zlib.compress(body))  # error: GEV301


def framed(path, body):
    with open(path, "wb") as fh:  # error: GEV101
        fh.write(b"HEAD" + body + b"\\n")  # error: GEV301


def dumped(path, rows):
    with open(path, "w") as fh:  # error: GEV101
        json.dump(rows, fh)  # error: GEV301
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)
    assert "`rows` is the request's data (`request.get_json()`), passed at web.py:18" in \
        message_at(tmp_path, "store.py", "json.dump(rows, fh)")


def test_callers_that_disagree_report_with_the_unbounded_one(tmp_path):
    files = {
        "web.py": WEB + """

@app.route("/ping")
def ping():
    store.keep("/tmp/ping", b"pong")
    return ""


@app.route("/upload", methods=["POST"])
def upload():
    store.keep("/tmp/upload", request.get_data())
    return ""


@app.route("/note", methods=["POST"])
def note():
    store.note("/tmp/note", "a literal")
    return ""


def cli_import(path):
    store.note(path, open(path).read())
""",
        "store.py": """
def keep(path, body):
    with open(path, "wb") as fh:  # error: GEV101
        fh.write(body)  # error: GEV301


def note(path, text):
    with open(path, "w") as fh:  # error: GEV101
        fh.write(text)
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)
    assert "`body` is the whole request body (`request.get_data()`), passed at web.py:21" in \
        message_at(tmp_path, "store.py", "fh.write(body)")


def test_a_parameter_passed_on_through_helpers_keeps_the_first_callers_size(tmp_path):
    files = {
        "web.py": WEB + """
import service


@app.route("/notes/<name>", methods=["POST"])
def save_note(name):
    body = request.get_data()
    service.save(name, body)
    service.save_compressed(name, data=body)
    service.save_checked(name, "literal")
    service.relay(name, body, 2)
    return ""
""",
        "service.py": """
import zlib

import store


def save(name, body):
    data = body
    store.write_blob(name, data)


def save_compressed(name, data):
    store.write_blob(name + ".z", zlib.compress(data))


def save_checked(name, body):
    store.write_checked(name, body)


def relay(name, data, depth):
    if depth:
        return relay(name, data, depth - 1)
    store.write_relayed(name, data)
""",
        "store.py": """
def write_blob(name, data):
    with open(name, "wb") as fh:  # error: GEV101
        fh.write(data)  # error: GEV301


def write_checked(name, data):
    with open(name, "wb") as fh:  # error: GEV101
        fh.write(data)


def write_relayed(name, data):
    with open(name, "wb") as fh:  # error: GEV101
        fh.write(data)  # error: GEV301
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)
    assert ("`data` is the whole request body (`request.get_data()`), passed at web.py:18, then at service.py:9"
            in message_at(tmp_path, "store.py", "fh.write(data)"))


def test_only_the_calls_that_run_on_the_hub_give_a_size(tmp_path):
    files = {
        "web.py": WEB + """

@app.route("/a", methods=["POST"])
def a():
    gevent.get_hub().threadpool.apply(store.offloaded, ("/tmp/a", request.get_data()))
    store.direct("/tmp/b", b"small")
    return ""


def cli_restore(path):
    store.direct(path, open(path, "rb").read())
""",
        "store.py": """
def offloaded(path, body):
    with open(path, "wb") as fh:
        fh.write(body)


def direct(path, body):
    with open(path, "wb") as fh:  # error: GEV101
        fh.write(body)
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


def test_a_list_attribute_grown_in_another_method_has_no_bound(tmp_path):
    files = {
        "web.py": WEB + """

@app.route("/rows", methods=["POST"])
def add_row():
    store.BUFFER.add(request.form["row"])
    store.BUFFER.flush()
    store.SPOOL.feed(request.stream.read(65536))
    store.SPOOL.flush()
    store.FIXED.flush()
    return ""
""",
        "store.py": """
import json


class Buffer:
    def __init__(self):
        self.rows = []
        self.count = 0

    def add(self, row):
        self.rows.append(row)
        self.count += 1

    def flush(self):
        with open("/tmp/rows", "w") as fh:  # error: GEV101
            fh.write("".join(self.rows))  # error: GEV301
            fh.writelines(self.rows)  # error: GEV301
            json.dump(self.rows, fh)  # error: GEV301
            fh.write(f"{self.count} rows")


class Spool:
    def __init__(self):
        self.data = b""

    def feed(self, chunk):
        self.data += chunk

    def flush(self):
        with open("/tmp/spool", "wb") as fh:  # error: GEV101
            fh.write(self.data)  # error: GEV301


class Fixed:
    def __init__(self):
        self.rows = ["a", "b"]

    def flush(self):
        with open("/tmp/fixed", "w") as fh:  # error: GEV101
            json.dump(self.rows, fh)


BUFFER = Buffer()
SPOOL = Spool()
FIXED = Fixed()
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)
    assert "it is built by `join` over `self.rows` (`self.rows` grows in Buffer.add)" in \
        message_at(tmp_path, "store.py", 'fh.write("".join(self.rows))')
    assert "`self.rows` grows in Buffer.add" in message_at(tmp_path, "store.py", "json.dump(self.rows, fh)")
    assert "`self.data` grows in Spool.feed" in message_at(tmp_path, "store.py", "fh.write(self.data)")


def test_the_fix_offloads_a_write_whose_size_came_through_a_call(tmp_path, run):
    write(tmp_path, {
        "web.py": WEB + """

@app.route("/upload/<name>", methods=["PUT"])
def upload(name):
    store.save_body(name, request.get_data())
    return ""
""",
        "store.py": """
def save_body(name, body):
    with open(name, "wb") as fh:
        fh.write(body)
""",
    })
    code, _, err = run("fix", "--no-cache")
    assert code == 1, err
    assert (tmp_path / "store.py").read_text() == """
import gevent
def save_body(name, body):
    with open(name, "wb") as fh:
        gevent.get_hub().threadpool.apply(fh.write, (body,))
"""
    assert run("fix", "--no-cache")[0] == 0


def test_a_name_assigned_from_itself_is_judged_without_looking_into_it_again(tmp_path):
    files = {
        "web.py": WEB + """

@app.route("/trim", methods=["POST"])
def trim():
    rest = request.args.get("q") or request.args.get("r")
    while rest:
        rest = rest[1:]
        store.keep("/tmp/rest", rest)
    return ""
""",
        "store.py": """
def keep(path, body):
    with open(path, "wb") as fh:  # error: GEV101
        fh.write(body)
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)
