"""Values that come from afar: what a project function returns, and what an annotation declares
(parameters, attributes, module globals, returns; Optional, `X | None`, string annotations and
TYPE_CHECKING imports).  Each project is a few modules with `# error:` markers; flake8 agrees."""
from __future__ import annotations

import subprocess
import sys

from markers import expected_in
from test_engine import assert_markers, messages, write

from lintgevent.catalog import load_catalog
from lintgevent.deployment import Deployment
from lintgevent.entrypoints import EntryPoints
from lintgevent.index import ProjectIndex
from lintgevent.reach import Reachability
from lintgevent.sources import parse_source
from lintgevent.summary import summarise

PATCHED = "from gevent import monkey\nmonkey.patch_all()\n"
UNPATCHED_SUBPROCESS = "from gevent import monkey\nmonkey.patch_all(subprocess=False)\n"


def flake8_agrees(root) -> None:
    done = subprocess.run([sys.executable, "-m", "flake8", "--select", "GEV", "."], cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    found = {(str(root / line.split(":")[0].removeprefix("./")), int(line.split(":")[1]), line.split(" ")[1])
             for line in done.stdout.splitlines()}
    assert found == expected_in(str(root))


# -- return values ------------------------------------------------------------------------------

def test_what_a_helper_returns_is_known_where_it_is_used(tmp_path):
    files = {
        "web.py": PATCHED + """
from flask import Flask
from reports import open_report, make_buffer, pick

app = Flask(__name__)


@app.route("/report/<name>")
def report(name):
    handle = open_report(name)
    data = handle.read()  # error: GEV101
    make_buffer().read()  # an in-memory file: nothing blocks
    pick(name).read()  # error: GEV101
    return data
""",
        "reports.py": """
import io


def open_report(name):
    return open("/srv/reports/" + name)  # error: GEV101


def make_buffer():
    return io.BytesIO(b"")


def pick(name):
    if name:
        return io.BytesIO(b"")
    return open("/srv/default")  # error: GEV101
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


def test_a_factory_of_processes_and_a_method_returning_a_project_object(tmp_path):
    files = {
        "app.py": UNPATCHED_SUBPROCESS + """
from flask import Flask
from jobs import start, registry

app = Flask(__name__)


@app.route("/run/<cmd>")
def run(cmd):
    proc = start(cmd)  # starting a process does not wait for it
    proc.wait()  # error: GEV102
    registry().store().put(cmd)
    return "ok"
""",
        "jobs.py": """
import subprocess


def start(cmd):
    return subprocess.Popen([cmd])


class Store:
    def put(self, data):
        with open("/srv/jobs.log", "a") as log:  # error: GEV101
            log.write(data)


class Registry:
    def store(self):
        return Store()


def registry():
    return Registry()
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


def test_recursion_and_cycles_between_returns_end(tmp_path):
    files = {
        "web.py": PATCHED + """
from flask import Flask

app = Flask(__name__)


def ping(n):
    return pong(n - 1) if n else open("/srv/x")


def pong(n):
    return ping(n)


def forever():
    return forever()


@app.route("/p")
def p():
    forever().read()
    return pong(3).read()
""",
    }
    write(tmp_path, files)
    from markers import actual_in

    found = actual_in(str(tmp_path))
    assert (str(tmp_path / "web.py"), 10, "GEV101") in found  # the open itself, reached through pong


# -- annotations --------------------------------------------------------------------------------

def test_annotated_parameters_optional_unions_and_strings(tmp_path):
    files = {
        "api.py": PATCHED + """
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from flask import Flask

if TYPE_CHECKING:
    from storage import BlobStore

app = Flask(__name__)


def save(store: "BlobStore", name: str, where: Optional[Path] = None, spare: Path | None = None):
    store.put(name, name.encode())
    if where is not None:
        where.write_bytes(b"done")  # error: GEV101
    if spare:
        spare.read_text()  # error: GEV101


PLACES = {}  # filled at startup: what the calls pass is not known, the annotations say what it is


@app.post("/blob/<name>")
def blob(name):
    save(None, name, PLACES.get(name), spare=PLACES.get("spare"))
    return "ok"
""",
        "storage.py": """
class BlobStore:
    def put(self, name, data):
        with open("/srv/blobs/" + name, "wb") as fh:  # error: GEV101
            fh.write(data)
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


def test_annotated_attributes_globals_and_returns(tmp_path):
    files = {
        "views.py": PATCHED + """
from flask import Flask
from flask.views import MethodView

import config
from services import Archive, Settings

app = Flask(__name__)
settings: Settings


class Download(MethodView):
    archive: Archive

    def get(self):
        settings.reload()
        return self.archive.fetch()


class Upload(MethodView):
    def __init__(self, archive):
        self.archive: Archive = archive

    def post(self):
        return config.archive().fetch()


app.add_url_rule("/download", view_func=Download.as_view("download"))
app.add_url_rule("/upload", view_func=Upload.as_view("upload"))
""",
        "services.py": """
class Archive:
    def fetch(self):
        return open("/srv/archive.tar").read()  # error: GEV101


class Settings:
    def reload(self):
        with open("/etc/app.ini") as fh:  # error: GEV101
            return fh.read()
""",
        "config.py": """
from services import Archive


def archive() -> Archive:
    return make()


def make():
    ...
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


def test_annotations_that_name_nothing_known_add_nothing(tmp_path):
    files = {
        "web.py": PATCHED + """
from typing import IO, Any, Union

from flask import Flask

app = Flask(__name__)


def copy(src: IO[bytes], dst: Any, other: Union[int, str], both: "int | str") -> None:
    dst.write(src.read())
    other.save()
    both.save()


@app.route("/c")
def c():
    copy(None, None, 1, 2)
    return "ok"
""",
    }
    assert_markers(tmp_path, files)


# -- arguments into parameters, and constructor injection -----------------------------------------

def test_an_object_injected_through_a_constructor_two_modules_away(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/web.py": PATCHED + """
from flask import Flask

from app.service import Archiver, Service
from app.store import ArchiveStore, DiskStore, MemoryStore

app = Flask(__name__)
service = Service(DiskStore("/srv/blobs"))
# One class, two kinds of store: its parameter may be either (the analysis is context-insensitive).
archive = Archiver(ArchiveStore())
cache = Archiver(MemoryStore())


@app.post("/blob/<name>")
def put(name):
    service.save(name, b"data")
    return "ok"


@app.get("/cached/<name>")
def cached(name):
    cache.save(name, b"data")
    archive.save(name, b"data")
    return "ok"
""",
        "app/service.py": """
class Service:
    def __init__(self, store):
        self.store = store

    def save(self, name, data):
        self.store.put(name, data)


class Archiver:
    def __init__(self, store):
        self.store = store

    def save(self, name, data):
        self.store.put(name, data)
""",
        "app/store.py": """
class DiskStore:
    def __init__(self, root):
        self.root = root

    def put(self, name, data):
        with open(self.root + "/" + name, "wb") as fh:  # error: GEV101
            fh.write(data)


class ArchiveStore:
    def put(self, name, data):
        with open("/srv/archive/" + name, "wb") as fh:  # error: GEV101
            fh.write(data)


class MemoryStore:
    def __init__(self):
        self.items = {}

    def put(self, name, data):
        self.items[name] = data
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


def test_a_file_passed_down_is_a_file_where_it_is_read_and_either_of_two_values_is_judged_as_each(tmp_path):
    files = {
        "web.py": PATCHED + """
import io

from flask import Flask

from parsing import first_line, checksum

app = Flask(__name__)


@app.route("/head/<name>")
def head(name):
    with open("/srv/" + name) as fh:  # error: GEV101
        return first_line(fh)


@app.route("/sum/<name>")
def total(name):
    if name:
        return checksum(io.BytesIO(b""))
    return checksum(open("/srv/x"))  # error: GEV101
""",
        "parsing.py": """
def first_line(stream):
    return stream.readline()  # error: GEV101


def checksum(stream):
    return sum(stream.read())  # error: GEV101
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


# -- with protocols -----------------------------------------------------------------------------

def test_with_runs_enter_and_exit_and_binds_what_entering_gives(tmp_path):
    files = {
        "web.py": PATCHED + """
import contextlib

from flask import Flask

from locks import FileLock, Journal

app = Flask(__name__)


@contextlib.contextmanager
def opened(path):
    handle = open(path)  # error: GEV101
    try:
        yield handle
    finally:
        handle.close()


@app.post("/job")
def job():
    with FileLock("/run/job.lock"):
        pass
    with Journal() as journal:
        journal.append("job")
    with opened("/srv/config") as config:
        return config.read()  # error: GEV101
""",
        "locks.py": """
import fcntl


class FileLock:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.fh = open(self.path, "w")  # error: GEV101
        fcntl.flock(self.fh, fcntl.LOCK_EX)  # error: GEV105
        return self

    def __exit__(self, *exc):
        self.fh.close()


class Journal:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def append(self, line):
        with open("/srv/journal", "a") as fh:  # error: GEV101
            fh.write(line)
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


# -- inheritance ----------------------------------------------------------------------------------

def test_super_calls_reach_the_bases_methods_and_pass_what_they_are_given(tmp_path):
    files = {
        "web.py": PATCHED + """
from flask import Flask

from models import AuditedStore, Disk

app = Flask(__name__)
store = AuditedStore(Disk())


@app.post("/save")
def save():
    store.save(b"data")
    return "ok"
""",
        "models.py": """
class Disk:
    def write(self, data):
        with open("/srv/data", "ab") as fh:  # error: GEV101
            fh.write(data)


class Store:
    def __init__(self, backend):
        self.backend = backend

    def save(self, data):
        self.backend.write(data)


class AuditedStore(Store):
    def __init__(self, backend):
        super().__init__(backend)

    def save(self, data):
        print("audit")
        super().save(data)
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


# -- callbacks ----------------------------------------------------------------------------------

def test_a_parameter_called_in_a_helper_a_closure_or_a_partial_runs_what_the_route_passes(tmp_path):
    files = {
        "web.py": PATCHED + """
import functools

import gevent
from flask import Flask

from tasks import export, purge, rotate, with_retries

app = Flask(__name__)


def run_task(fn):
    return fn()


def wrap(fn):
    def inner():
        return fn()
    return inner


@app.post("/export")
def start_export():
    run_task(export)
    gevent.spawn(wrap(rotate))
    with_retries(functools.partial(purge, "/srv/old"))
    return "ok"
""",
        "tasks.py": """
import os
import shutil


def export(kind="json"):
    with open("/srv/export." + kind, "w") as fh:  # error: GEV101
        fh.write("x")  # the open's finding names this use (one finding per file opened)


def rotate():
    os.system("logrotate /etc/app.conf")  # error: GEV102


def purge(path):
    shutil.rmtree(path)  # error: GEV101


def with_retries(job):
    for _ in range(3):
        job()
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


def test_a_module_global_made_by_a_call_learns_the_parameters_of_that_call(tmp_path):
    """`store = build(DiskStore)`: the global is worth what `build` returns once its parameter is
    known, though the route asked for it before the parameters were worked out."""
    files = {
        "web.py": PATCHED + """
from flask import Flask

import services

app = Flask(__name__)


@app.post("/put")
def put():
    services.store.put(b"data")
    return "ok"
""",
        "services.py": """
class DiskStore:
    def put(self, data):
        with open("/srv/store", "ab") as fh:  # error: GEV101
            fh.write(data)


def build(kind):
    return kind()


store = build(DiskStore)
""",
    }
    assert_markers(tmp_path, files)


# -- collections, registries and iteration ------------------------------------------------------

def test_a_registry_of_classes_and_a_dispatch_table_of_functions(tmp_path):
    files = {
        "web.py": PATCHED + """
from flask import Flask

from backends import BACKENDS, HANDLERS, LABELS

app = Flask(__name__)


@app.route("/put/<kind>")
def put(kind):
    backend = BACKENDS[kind]()
    backend.store(b"payload")
    HANDLERS.get(kind, HANDLERS["ignore"])(b"payload")
    for label in LABELS:
        label.upper()  # strings: nothing to judge
    return "ok"
""",
        "backends.py": """
import shutil


class Disk:
    def store(self, data):
        with open("/srv/blob", "wb") as fh:  # error: GEV101
            fh.write(data)


class Memory:
    def store(self, data):
        self.data = data


def archive(data):
    shutil.copyfile("/srv/blob", "/srv/archive")  # error: GEV101


def ignore(data):
    return None


def unused(data):
    shutil.copyfile("/srv/a", "/srv/b")  # in no table: not on a request path


BACKENDS = {"disk": Disk, "memory": Memory}
HANDLERS = {"archive": archive, "ignore": ignore}
LABELS = ["disk", "memory"]
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


def test_elements_of_a_collection_passed_down_and_iterated(tmp_path):
    files = {
        "web.py": PATCHED + """
from flask import Flask, request

from uploads import save_all, first_of

app = Flask(__name__)


@app.post("/upload")
def upload():
    save_all(request.files.getlist("docs"))
    for photo in request.files.getlist("photos"):
        photo.save("/srv/photos/" + photo.filename)  # error: GEV101
    names = [f.filename for f in request.files.getlist("docs")]
    first_of([open("/srv/a"), open("/srv/b")])  # error: GEV101
    return ",".join(names)
""",
        "uploads.py": """
def save_all(files):
    for upload in files:
        upload.save("/srv/uploads/" + upload.filename)  # error: GEV101


def first_of(handles):
    return handles[0].read()  # error: GEV101
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


def test_defaults_and_star_arguments_are_what_the_calls_leave_out_or_add(tmp_path):
    files = {
        "web.py": PATCHED + """
from flask import Flask

from hooks import FileSink, MemorySink, export, notify, configure, audit_to_disk, count

app = Flask(__name__)


@app.route("/export")
def export_all():
    export([1, 2])  # the default sink: a file
    export([1, 2], sink=MemorySink())
    notify(count, audit_to_disk)
    configure(primary=FileSink(), spare=MemorySink())
    return "ok"
""",
        "hooks.py": """
class FileSink:
    def write(self, rows):
        with open("/srv/export.csv", "a") as fh:  # error: GEV101
            fh.write(str(rows))


class MemorySink:
    def write(self, rows):
        self.rows = rows


DEFAULT_SINK = FileSink()


def export(rows, sink=DEFAULT_SINK):
    sink.write(rows)


def notify(*hooks):
    for hook in hooks:
        hook()


def count():
    return 1


def audit_to_disk():
    open("/srv/audit.log", "a").write("exported")  # error: GEV101


def configure(**sinks):
    sinks["primary"].write([])
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


def test_a_helper_called_with_more_kinds_of_value_than_the_join_keeps_is_not_guessed(tmp_path):
    kinds = ["Disk", "Memory", "Null", "Queue", "Remote"]
    classes = "".join(f"""

class {name}:
    def put(self, data):
        open("/srv/{name}", "w")  # five kinds pass through one helper: none is judged
""" for name in kinds)
    calls = "".join(f"    keep({name}())\n" for name in kinds)
    files = {
        "web.py": PATCHED + f"""
from flask import Flask

from stores import keep, {", ".join(kinds)}

app = Flask(__name__)


@app.route("/keep")
def keep_all():
{calls}    return "ok"
""",
        "stores.py": f"""
def keep(store):
    store.put(b"x")
{classes}""",
    }
    assert_markers(tmp_path, files)
    assert not expected_in(str(tmp_path))


# -- callbacks and higher-order functions --------------------------------------------------------

def test_a_function_that_calls_its_parameter_calls_what_its_callers_pass(tmp_path):
    files = {
        "web.py": PATCHED + """
import functools
import threading

import gevent
from flask import Flask

from tasks import run_task, with_retries, stream_rows, wrap, rebuild_index, fetch, backup, compact

app = Flask(__name__)


@app.route("/sync")
def sync():
    run_task(rebuild_index)
    with_retries(functools.partial(fetch, "/srv/source"))
    return "ok"


@app.route("/export")
def export():
    out = open("/srv/export.csv", "w")  # error: GEV101

    def write_callback(chunk):
        out.write(chunk)  # error: GEV101

    stream_rows([b"a", b"b"], write_callback)
    return "ok"


@app.route("/backup")
def start_backup():
    threading.Thread(target=wrap(backup)).start()
    gevent.spawn(wrap(compact))
    return "started"
""",
        "tasks.py": """
import shutil


def run_task(fn):
    return fn()


def with_retries(call, attempts=3):
    for _ in range(attempts):
        try:
            return call()
        except OSError:
            pass


def stream_rows(rows, callback):
    for row in rows:
        callback(row)


def wrap(fn):
    def run():
        try:
            fn()
        finally:
            print("done")
    return run


def rebuild_index():
    return open("/srv/index").read()  # error: GEV101


def fetch(path):
    shutil.copyfile(path, "/srv/copy")  # error: GEV101


def backup():
    shutil.copytree("/srv/data", "/srv/backup")  # error: GEV101


def compact():
    shutil.rmtree("/srv/tmp")  # error: GEV101


def never_passed():
    shutil.rmtree("/srv/old")  # no caller hands it anywhere
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


# -- names assigned in several places -------------------------------------------------------------

def test_a_name_assigned_in_either_branch_or_in_several_methods_may_hold_each_value(tmp_path):
    files = {
        "web.py": PATCHED + """
import io

import gevent
from flask import Flask

from writers import CsvFileWriter, NullWriter, Exporter

app = Flask(__name__)


@app.route("/stats/<kind>")
def stats(kind):
    if kind == "csv":
        writer = CsvFileWriter()
    else:
        writer = NullWriter()
    gevent.spawn(writer.flush_forever)
    buffer = open("/srv/stats.csv")  # error: GEV101
    buffer = io.BytesIO()  # one after the other: the last assignment is what is read
    buffer.read()
    exporter = Exporter()
    exporter.configure()
    exporter.export()
    return "ok"
""",
        "writers.py": """
import io


class CsvFileWriter:
    def flush_forever(self):
        with open("/srv/stats.csv", "a") as fh:  # error: GEV101
            fh.flush()


class NullWriter:
    def flush_forever(self):
        return None


class Exporter:
    def __init__(self):
        self.sink = None

    def configure(self):
        self.sink = open("/srv/export.csv", "a")  # error: GEV101

    def export(self):
        self.sink.write("row")  # error: GEV101
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


def test_objects_wired_at_startup_and_module_attributes_set_from_another_module(tmp_path):
    files = {
        "shop/__init__.py": "",
        "shop/state.py": """
settings = None
ledger = None
""",
        "shop/web.py": PATCHED + """
from flask import Flask

from shop import state
from shop.services import Orders

app = Flask(__name__)
orders: Orders


@app.post("/order")
def order():
    orders.place(b"order")
    state.settings.reload()
    state.ledger.add(b"order")
    return "ok"
""",
        "shop/services.py": """
class Orders:
    def __init__(self, store):
        self.store = store

    def place(self, data):
        self.store.put(data)


class DiskStore:
    def put(self, data):
        with open("/srv/orders", "ab") as fh:  # error: GEV101
            fh.write(data)


class Settings:
    def reload(self):
        return open("/srv/settings.ini").read()  # error: GEV101


class Ledger:
    def add(self, data):
        open("/srv/ledger", "ab").write(data)  # error: GEV101


class FakeLedger:
    def add(self, data):
        open("/srv/fake", "ab").write(data)  # only the tests wire it
""",
        "shop/main.py": """
from shop import state, web
from shop.services import DiskStore, Ledger, Orders, Settings


def main():
    web.orders = Orders(DiskStore())
    state.settings = Settings()
    state.ledger = Ledger()
    web.app.run()
""",
        "tests/test_orders.py": """
from shop import state
from shop.services import FakeLedger


def test_order():
    state.ledger = FakeLedger()
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


def test_a_property_is_what_its_getter_returns(tmp_path):
    files = {
        "web.py": PATCHED + """
from flask import Flask

from models import Package

app = Flask(__name__)


@app.route("/pkg/<name>")
def package(name):
    pkg = Package(name)
    return pkg.archive.read()  # error: GEV101
""",
        "models.py": """
import functools


class Package:
    def __init__(self, name):
        self.name = name

    @functools.cached_property
    def archive(self):
        return open("/srv/packages/" + self.name, "rb")
""",
    }
    assert_markers(tmp_path, files)


# -- how a far value was known, in the message -----------------------------------------------------

def test_a_finding_says_how_each_value_from_afar_was_known(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/web.py": PATCHED + """
from flask import Flask

from app import state
from app.service import Service, DiskStore, open_log, Settings

app = Flask(__name__)
service = Service(DiskStore())
settings: Settings


@app.route("/put")
def put():
    service.save(b"x")
    open_log().write("put")
    settings.reload()
    state.ledger.add(b"x")
    return "ok"
""",
        "app/state.py": "ledger = None\n",
        "app/main.py": """
from app import state
from app.service import Ledger


def main():
    state.ledger = Ledger()
""",
        "app/service.py": """
class Service:
    def __init__(self, store):
        self.store = store

    def save(self, data):
        self.store.put(data)


class DiskStore:
    def put(self, data):
        with open("/srv/blob", "wb") as fh:
            fh.write(data)


class Settings:
    def reload(self):
        return open("/srv/settings").read()


class Ledger:
    def add(self, data):
        open("/srv/ledger", "ab").write(data)


def open_log():
    return open("/srv/log", "a")
""",
    }
    write(tmp_path, files)
    found = messages(tmp_path)
    assert "DiskStore.put (self.store: DiskStore, passed at app/web.py:10)" in found[("app/service.py", 12)]
    assert "`open_log(...).write` (open_log(...): <file>, returned by open_log)" in found[("app/web.py", 17)]
    assert "Settings.reload (settings: Settings, annotated)" in found[("app/service.py", 18)]
    assert "Ledger.add (state.ledger: Ledger, assigned in app/main.py)" in found[("app/service.py", 23)]
    assert "then `fh.write` at line 13," in found[("app/service.py", 12)] and ("app/service.py", 13) not in found
    assert "(fh:" not in found[("app/service.py", 12)], "a value made in the same function needs no words"


# -- offload decorators ---------------------------------------------------------------------------

def test_a_decorator_that_hands_the_function_to_a_threadpool_takes_its_body_off_the_hub(tmp_path):
    files = {
        "web.py": PATCHED + """
import shutil

from flask import Flask

from offload import WORKER, in_threadpool, in_pool, in_thread, logged, run_blocking, archive

app = Flask(__name__)


@app.route("/report")
@in_threadpool
def report():
    return open("/srv/report.csv").read()  # the decorator runs it in gevent's threadpool


@app.route("/copy")
def copy():
    archive("/srv/a")
    return "ok"


@app.route("/pool")
@in_pool
def pooled():
    shutil.copyfile("/srv/a", "/srv/b")  # the threadpool on the decorator's object runs it
    return "ok"


@app.route("/thread")
@in_thread
def threaded():
    shutil.copyfile("/srv/a", "/srv/c")  # error: GEV101
    return "ok"  # a real thread only where threads are not patched; here it is a greenlet


@app.route("/logged")
@logged
def plain():
    return open("/srv/plain").read()  # error: GEV101


@app.route("/worker")
@WORKER.offload
def on_worker():
    return open("/srv/worker").read()  # the worker's own threadpool runs it
""",
        "offload.py": """
import functools
import threading

from gevent import get_hub
from gevent.threadpool import ThreadPool

POOL = ThreadPool(4)


def in_threadpool(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return get_hub().threadpool.apply(fn, args, kwargs)
    return wrapper


def in_pool(fn):
    def wrapper(*args, **kwargs):
        return POOL.spawn(fn, *args, **kwargs).get()
    return wrapper


def in_thread(fn):
    def wrapper(*args, **kwargs):
        worker = threading.Thread(target=fn, args=args, kwargs=kwargs)
        worker.start()
        worker.join()
    return wrapper


def logged(fn):
    def wrapper(*args, **kwargs):
        print("calling", fn)
        return fn(*args, **kwargs)
    return wrapper


@in_threadpool
def archive(path):
    open(path).read()  # called from a route, but through the threadpool


def run_blocking(fn):
    return fn()


class Worker:
    def __init__(self):
        self.pool = ThreadPool(2)

    def offload(self, fn):
        def wrapper(*args):
            return self.pool.apply(fn, args)
        return wrapper


WORKER = Worker()
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


def test_a_decorator_that_runs_the_function_in_a_real_thread_offloads_it_where_threads_are_not_patched(tmp_path):
    files = {
        "web.py": "from gevent import monkey\nmonkey.patch_all(thread=False)\n" + """
import threading

from flask import Flask

app = Flask(__name__)


def in_thread(fn):
    def wrapper(*args):
        worker = threading.Thread(target=fn, args=args)
        worker.start()
        worker.join()
    return wrapper


@app.route("/export")
@in_thread
def export():
    open("/srv/export.csv", "w").write("rows")  # a real OS thread runs it
    return "ok"
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


def test_a_dispatch_table_of_many_handlers_runs_each(tmp_path):
    handlers = [f"do_{n}" for n in ("get", "set", "delete", "flush", "sync", "stat")]
    defs = "".join(f"\n\ndef {name}(key):\n    return key\n" for name in handlers[:-1])
    table = ", ".join(f'"{name}": {name}' for name in handlers)
    files = {
        "server.py": PATCHED + f"""
import os

from gevent.server import StreamServer
{defs}

def do_stat(key):
    return open("/srv/db/" + key).read()  # error: GEV101


COMMANDS = {{{table}}}


def handle(sock, address):
    command, key = sock.recv(64).split()
    return COMMANDS[command](key)


StreamServer(("127.0.0.1", 6000), handle).serve_forever()
""",
    }
    assert_markers(tmp_path, files)


def test_a_call_on_an_unknown_receiver_reaches_a_method_only_one_class_defines_by_its_name(tmp_path):
    files = {
        "web.py": PATCHED + """
from flask import Flask, current_app

app = Flask(__name__)


@app.route("/reindex")
def reindex():
    current_app.extensions["search"].rebuild_index()
    current_app.extensions["cache"].save()  # `save` is everyone's: nothing is guessed
    return "ok"
""",
        "search.py": """
class SearchIndex:
    def rebuild_index(self):
        with open("/srv/index", "w") as fh:  # error: GEV101
            fh.write("")


class DiskCache:
    def save(self):
        open("/srv/cache", "w").write("")
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)
    found = messages(tmp_path)
    assert "reindex -> SearchIndex.rebuild_index (by its name: " in found[("search.py", 4)]


def test_listeners_added_to_a_hook_run_where_the_hook_fires(tmp_path):
    files = {
        "hooks.py": """
class EventHook:
    def __init__(self):
        self._handlers = []

    def add_listener(self, handler):
        self._handlers.append(handler)

    def fire(self, **kwargs):
        for handler in self._handlers.copy():
            handler(**kwargs)


class Events:
    request: EventHook

    def __init__(self):
        self.request = EventHook()


events = Events()
REGISTRY = {}


def register(name):
    def add(cls):
        REGISTRY[name] = cls
        return cls
    return add
""",
        "logger.py": """
from hooks import events, register


class CsvLogger:
    def __init__(self):
        self.fh = open("/srv/requests.csv", "a")
        events.request.add_listener(self.on_request)

    def on_request(self, **kwargs):
        self.fh.write(str(kwargs))  # error: GEV101
        self.fh.flush()  # error: GEV101


@register("disk")
def disk_sink():
    open("/srv/sink", "a").write("")  # error: GEV101


def never_added(**kwargs):
    open("/srv/never", "a").write("")
""",
        "worker.py": PATCHED + """
import gevent

from hooks import REGISTRY, events


def user_loop():
    events.request.fire(name="/", ok=True)
    REGISTRY["disk"]()


gevent.spawn(user_loop)
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


def test_a_wrapping_decorator_runs_only_the_function_it_wraps(tmp_path):
    files = {
        "web.py": PATCHED + """
from flask import Flask

from retrying import retry

app = Flask(__name__)


@retry
def load_profile(name):
    return open("/srv/profiles/" + name).read()  # error: GEV101


@retry
def nightly_rebuild():
    open("/srv/index", "w").write("")  # decorated with the same decorator, but no request runs it


@app.route("/profile/<name>")
def profile(name):
    return load_profile(name)
""",
        "retrying.py": """
def retry(fn):
    def wrapper(*args, **kwargs):
        for _ in range(3):
            try:
                return fn(*args, **kwargs)
            except OSError:
                pass
    return wrapper
""",
    }
    assert_markers(tmp_path, files)


def test_arguments_given_to_a_greenlet_are_its_target_s_parameters(tmp_path):
    files = {
        "server.py": PATCHED + """
import gevent
from gevent.server import StreamServer

from storage import Journal, Memory


def serve_client(sock, journal, cache):
    journal.append(sock.recv(1024))
    cache.append(b"")


def handle(sock, address):
    gevent.spawn(serve_client, sock, Journal(), cache=Memory()).join()


StreamServer(("127.0.0.1", 7000), handle).serve_forever()
""",
        "storage.py": """
class Journal:
    def append(self, data):
        with open("/srv/journal", "ab") as fh:  # error: GEV101
            fh.write(data)


class Memory:
    def append(self, data):
        self.last = data
""",
    }
    assert_markers(tmp_path, files)
    flake8_agrees(tmp_path)


def test_a_value_learnt_in_a_later_round_reaches_what_was_worked_out_from_it(tmp_path):
    # The first round takes every caller of Writer outside tests: five kinds of object are too
    # many, so `self.f` is unknown.  The next round takes only the call that runs: a file.  What
    # rests on `self.f` (Writer.out's return, the sites that use it) must be worked out again,
    # also when it was first read through a memo that an earlier site filled (`w.f` before `w.out()`).
    files = {
        "web.py": PATCHED + """
from flask import Flask
from sink import Writer

app = Flask(__name__)


@app.route("/log")
def log():
    w = Writer(open("/srv/log", "ab"))  # error: GEV101
    w.f.flush()  # error: GEV101
    w.out().write(b"x")  # error: GEV101
    return "ok"
""",
        "sink.py": """
import io
import sys
import tempfile


class Writer:
    def __init__(self, f):
        self.f = f

    def out(self):
        return self.f


def startup():
    Writer(io.BytesIO())
    Writer(io.StringIO())
    Writer(sys.stdout)
    Writer(sys.stderr)
    Writer(tempfile.SpooledTemporaryFile())
""",
    }
    assert_markers(tmp_path, files)


class _Given:
    """Parameters of one round, as values.Parameters gives them: every parameter holds `value`."""

    def __init__(self, value):
        self.value = value

    def get(self, slot):
        return self.value


def _one_module(source: bytes, module: str) -> tuple[ProjectIndex, object]:
    """(the index of a project of one module, its summary), in a round whose parameters are unknown."""
    path = f"{module}.py"
    fs = summarise(parse_source(source, path), path, module, False)
    index = ProjectIndex([fs], {path: "."}, load_catalog())
    index.learn_parameters(_Given(None))
    return index, fs


# Job.run's call goes through what the callers pass; Job.save's does not.
JOBS = b"""
class Store:
    def put(self, data):
        pass


class Job:
    def __init__(self, store):
        self.store = store

    def run(self):
        self.store.put(1)

    def save(self):
        Store().put(2)
"""


def test_what_rests_on_a_round_says_so_from_the_memo_too_and_is_worked_out_again_in_the_next():
    index, fs = _one_module(JOBS, "jobs")
    through_parameter, direct = fs.functions["Job.run"].calls[0], fs.functions["Job.save"].calls[0]
    put = ("func", ("jobs.py", "Store.put"))
    for _ in range(2):  # worked out, then read from the memo
        assert index.holds_every_round(lambda: index.called(through_parameter, fs)) == (("ext", "<unknown>.put"), False)
        assert index.holds_every_round(lambda: index.called(direct, fs)) == (put, True)
        # a value made of a memoised one rests on what that one rests on
        assert index.holds_every_round(lambda: index.callee(index.called(through_parameter, fs)))[1] is False
    index.learn_parameters(_Given(("obj", ("jobs.py", "Store"))))
    assert index.holds_every_round(lambda: index.called(through_parameter, fs)) == (put, False)
    assert index.holds_every_round(lambda: index.called(direct, fs)) == (put, True)


def test_sites_that_rest_on_no_parameter_are_worked_out_once_for_every_round(monkeypatch):
    source = b"def quiet(x):\n    return x\n\n\ndef loud():\n    print(quiet(1))\n"
    index, fs = _one_module(source, "m")
    worked_out = []
    resolve = Reachability._resolved_sites
    monkeypatch.setattr(Reachability, "_resolved_sites", lambda self, key: worked_out.append(key) or resolve(self, key))
    kept: dict = {}
    for reach in (Reachability(index, EntryPoints(index, {}), kept), Reachability(index, EntryPoints(index, {}), kept)):
        for _ in range(2):
            assert reach.sites(("m.py", "quiet")) == []
            assert [site.call.text for site in reach.sites(("m.py", "loud"))] == ["print", "quiet"]
    # each once, in the first round: the next round's Reachability reads them from `kept`
    assert worked_out == [("m.py", "quiet"), ("m.py", "loud")]


def test_edges_are_kept_for_every_round_only_when_the_sites_they_come_from_are():
    index, fs = _one_module(JOBS, "jobs")
    run, save, put = ("jobs.py", "Job.run"), ("jobs.py", "Job.save"), ("jobs.py", "Store.put")
    kept: dict = {}
    entries = EntryPoints(index, {"jobs.py": Deployment(patched={"thread"})})
    first = Reachability(index, entries, kept)
    # run's sites rest on the round (what `self.store` holds comes from the callers), and are
    # read from this round's memo before the edges are made of them: the edges rest on it too
    assert first.sites(run)[0].callee == ("ext", "<unknown>.put")
    assert first.edges(run) == () and first.edges(save) == ((put, fs.functions["Job.save"].calls[0], False),)
    assert ("edges", save) in kept and ("edges", run) not in kept
    index.learn_parameters(_Given(("obj", ("jobs.py", "Store"))))
    second = Reachability(index, entries, kept)
    assert [edge[0] for edge in second.edges(run)] == [put]
    assert second.edges(save) is kept[("edges", save)]


def test_a_value_cut_short_by_a_cycle_is_not_kept_past_its_round():
    # `first` and `second` name each other: whichever is asked first meets the other half-done,
    # so what each holds depends on the order of evaluation, which the next round may change.
    source = b"first = second\nsecond = first\nplain = open\n"
    index, fs = _one_module(source, "m")
    for _ in range(2):
        assert index.holds_every_round(lambda: index.evaluate(("ref", "m.first"), fs)) == (None, False)
        plain = index.holds_every_round(lambda: index.evaluate(("ref", "m.plain"), fs))
        assert plain == (("ext", "builtins.open"), True)
    assert index._global_memo.keys() >= {("m.first", "."), ("m.plain", ".")}
    index.learn_parameters(_Given(None))
    assert ("m.first", ".") not in index._global_memo and ("m.plain", ".") in index._global_memo


def test_a_method_inherited_from_a_base_that_a_factory_is_passed_is_found(tmp_path):
    # `make(Disk)` builds a class on its parameter: the class's bases, and so its methods, are
    # known only once the round's parameters are, and must not be looked up once for all rounds.
    files = {
        "web.py": PATCHED + """
from flask import Flask
from factory import make, Disk

app = Flask(__name__)
Store = make(Disk)


@app.route("/save")
def save():
    Store().save_all(b"x")
    return "ok"
""",
        "factory.py": """
class Disk:
    def save_all(self, data):
        with open("/srv/store", "ab") as fh:  # error: GEV101
            fh.write(data)


def make(base):
    class Wrapped(base):
        pass
    return Wrapped
""",
    }
    assert_markers(tmp_path, files)
