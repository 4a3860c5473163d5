"""The engine on small projects: call resolution, entry points, what is off the request path, deployments.

Each project is written to a temp dir with `# error: GEVnnn` markers; the findings must equal them.
"""
import os
import textwrap

import pytest
from markers import actual_in, expected_in

from lintgevent.config import load_config
from lintgevent.engine import analyse_project

PATCH = "from gevent import monkey\nmonkey.patch_all()\n"


def write(root, files: dict) -> str:
    (root / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return str(root)


def assert_markers(root, files: dict, **overrides):
    directory = write(root, files)
    assert actual_in(directory, **overrides) == expected_in(directory)


def messages(root) -> dict:
    result = analyse_project(str(root), load_config(str(root)), use_cache=False)
    return {(os.path.relpath(f.path, root), f.line): f.message for f in result.findings}


def test_chain_across_modules_reads_like_the_incident(tmp_path):
    write(tmp_path, {
        "gunicorn.conf.py": 'worker_class = "gevent"\n',
        "app/__init__.py": "from flask import Flask\napp = Flask(__name__)\nfrom . import views\n",
        "app/views.py": """
            from flask import request
            from . import app
            from .operate.gen_op import CodeGenerator

            @app.route("/cdkey_mana", methods=["POST"])
            def cdkey_mana():
                CodeGenerator(request.json).generate()
                return "ok"
        """,
        "app/operate/__init__.py": "",
        "app/operate/gen_op.py": """
            import gzip

            def write_sn_file(path, lines):
                with gzip.open(path, "wb") as fh:
                    fh.write(lines)

            class CodeGenerator:
                def __init__(self, spec):
                    self.spec = spec

                def generate(self):
                    write_sn_file("/tmp/x.gz", b"data")
        """,
    })
    assert messages(tmp_path) == {
        ("app/operate/gen_op.py", 5): "GEV101 blocking file IO `gzip.open`, then `fh.write` at line 6, on a request "
                                      "path (route POST /cdkey_mana -> CodeGenerator.generate -> write_sn_file); "
                                      "offload the open and these calls together, in one function run by gevent's threadpool",
    }


def test_resolution_through_aliases_reexports_inheritance_and_attributes(tmp_path):
    assert_markers(tmp_path, {
        "svc/__init__.py": "from .store import save_all as persist\n",
        "svc/store.py": """
            import shutil

            def save_all(src):
                shutil.copyfile(src, "/srv/copy")  # error: GEV101

            class Base:
                def flush_log(self):
                    open("/var/log/app.log", "a").write("x")  # error: GEV101, GEV101

            class Repo(Base):
                def save(self):
                    self.flush_log()
        """,
        "svc/helpers.py": """
            import os as operating_system

            class Shell:
                def run(self, cmd):
                    operating_system.system(cmd)  # error: GEV102
        """,
        "web.py": PATCH + """
from flask import Flask
import svc
import svc.helpers
from svc.store import Repo as Repository

app = Flask(__name__)


class Service:
    def __init__(self):
        self.shell = svc.helpers.Shell()

    def handle(self):
        self.shell.run("ls")


@app.get("/a")
def a():
    svc.persist("/tmp/in")
    repo = Repository()
    repo.save()
    Service().handle()
""",
    })


def test_greenlet_targets_of_every_kind_are_entry_points(tmp_path):
    assert_markers(tmp_path, {
        "worker.py": PATCH + """
import gevent
from gevent import Greenlet
from gevent.pool import Group, Pool


def one():
    open("a").read()  # error: GEV101, GEV101

def two(x):
    os.system("x")  # error: GEV102

def three():
    import sqlite3
    sqlite3.connect("db")  # error: GEV103

def four(item):
    import fcntl
    fcntl.flock(item, 1)  # error: GEV105

def five():
    import shutil
    shutil.rmtree("/tmp/x")  # error: GEV101

class Jobs:
    def __init__(self):
        self.pool = Pool(4)

    def start(self):
        self.pool.spawn(self.job)

    def job(self):
        import shutil
        shutil.move("a", "b")  # error: GEV101


import os
gevent.spawn(one)
gevent.spawn_later(1, two, 3)
Greenlet(three).start()
Group().map(four, [1, 2])
Greenlet.spawn(five)
""",
    })


def test_off_request_paths_are_not_reported(tmp_path):
    assert_markers(tmp_path, {
        "app.py": PATCH + """
import gevent
import click
from flask import Flask

app = Flask(__name__)
CONFIG = open("settings.json").read()   # import time


def write_report(data):
    with open("/srv/report", "w") as fh:
        fh.write(data)


def unused_helper():
    open("/etc/passwd").read()


@app.cli.command()
def export():
    write_report("cli")


@click.command()
def main_cli():
    write_report("click")


@app.route("/report")
def report():
    hub = gevent.get_hub()
    hub.threadpool.apply(write_report, ("x",))
    gevent.get_hub().threadpool.spawn(lambda: open("/srv/x").read())
    return "ok"


if __name__ == "__main__":
    write_report("main")
    open("x").write("y")
""",
    })


def test_threads_are_greenlets_only_when_threads_are_patched(tmp_path):
    source = """
import threading
from flask import Flask

app = Flask(__name__)


def background():
    open("/srv/log").read()  {marker}


@app.route("/start")
def start():
    threading.Thread(target=background).start()
    return "ok"
"""
    patched = tmp_path / "patched"
    unpatched = tmp_path / "unpatched"
    patched.mkdir()
    unpatched.mkdir()
    assert_markers(patched, {"app.py": PATCH + source.format(marker="# error: GEV101, GEV101")})
    assert_markers(unpatched, {"app.py": "from gevent import monkey\nmonkey.patch_all(thread=False)\n"
                                         + source.format(marker="")})


@pytest.mark.parametrize("deployment_file, text", [
    ("Procfile", "web: gunicorn -k gevent app:app\n"),
    ("Dockerfile", 'FROM python:3.11\nCMD ["gunicorn", "--worker-class=gevent", "app:app"]\n'),
    ("Dockerfile", 'FROM python:3.11\nCMD ["gunicorn", "-b", "0.0.0.0:80", "-k", "gevent", "app:app"]\n'),
    ("Dockerfile.prod", 'FROM python:3.11\nENTRYPOINT ["gunicorn","--worker-class","gevent","app:app"]\n'),
    ("docker-compose.yml", "services:\n  web:\n    command: ['gunicorn', '-k', 'gevent', 'app:app']\n"),
    ("Procfile", "web: gunicorn -kgevent app:app\n"),
    (".env", 'GUNICORN_CMD_ARGS="--bind 0.0.0.0:80 --worker-class gevent"\n'),
    ("gunicorn.conf.py", 'bind = "0.0.0.0:8000"\nworker_class = "gevent"\n'),
    ("gunicorn.conf.py", 'import os\nworker_class = os.environ.get("WORKER_CLASS", "gevent")\n'),
    ("config/gunicorn_prod.py", 'from os import getenv\nworker_class = getenv("GUNICORN_WORKER", "gevent")\n'),
    ("deploy/start.sh", "#!/bin/sh\nexec gunicorn -w 4 -k gevent app:app\n"),
    ("docker-compose.yml", "services:\n  web:\n    command: gunicorn -k geventwebsocket.gunicorn.workers.GeventWebSocketWorker app:app\n"),
    ("bin/web.sh", "#!/bin/sh\nexec gunicorn --worker-class gevent_wsgi app:app\n"),
    ("uwsgi.ini", "[uwsgi]\nmodule = app:app\ngevent = 100\ngevent-monkey-patch = true\n"),
    ("uwsgi.yaml", "uwsgi:\n  module: app:app\n  gevent: 100\n  gevent-monkey-patch: true\n"),
    ("deploy/web.yaml", 'containers:\n  - name: web\n    command: ["gunicorn"]\n    args: ["-k", "gevent", "app:app"]\n'),
    ("deploy/web.service", "[Service]\nExecStart=/srv/venv/bin/gunicorn --worker-class gevent app:app\n"),
    ("Makefile", "run:\n\tgunicorn --bind 127.0.0.1:8000 \\\n\t  -k gevent \\\n\t  app:app\n"),
    ("Procfile", "web: gunicorn -c deploy/web_settings.py app:app\n"),
    ("Procfile", "web: gunicorn --config=python:web_settings app:app\n"),
    ("Procfile", "worker: celery -A app worker -P gevent --concurrency 100\n"),
    ("celeryconfig.py", 'worker_pool = "gevent"\n'),
])
def test_gunicorn_gevent_worker_is_detected_without_any_gevent_import(tmp_path, deployment_file, text):
    settings = 'bind = "127.0.0.1:8000"\nworker_class = "gevent"\n'  # what `-c` names: not a launcher itself
    assert_markers(tmp_path, {
        deployment_file: text,
        "settings/web_settings.py" if "python:" in text else "deploy/web_settings.py": settings,
        "app.py": """
            import os
            import time
            from flask import Flask
            app = Flask(__name__)

            @app.route("/x")
            def x():
                time.sleep(1)
                os.popen("ls").read()
                return open("f").read()  # error: GEV101, GEV101
        """,
    })


@pytest.mark.parametrize("deployment_file, text", [
    ("Procfile", "web: gunicorn -w 4 app:app\n"),
    ("Dockerfile", 'FROM python:3.11\nCMD ["gunicorn", "-k", "sync", "app:app"]\n'),
    ("gunicorn.conf.py", 'import os\nworker_class = os.environ.get("WORKER_CLASS", "sync")\n'),
    ("Makefile", "test:\n\tpytest -k gevent tests/\nserve:\n\tgunicorn app:app\n"),
    ("Procfile", "web: gunicorn -c deploy/web_settings.py app:app\n"),
    ("Procfile", "worker: celery -A app worker -P prefork\n"),
])
def test_sync_gunicorn_worker_means_no_gevent_and_no_findings(tmp_path, deployment_file, text):
    assert_markers(tmp_path, {
        deployment_file: text,
        "deploy/web_settings.py": 'worker_class = "sync"\n',
        "app.py": """
            from flask import Flask
            app = Flask(__name__)

            @app.route("/x")
            def x():
                return open("f").read()
        """,
    })


def test_what_is_patched_decides_what_blocks(tmp_path):
    assert_markers(tmp_path, {
        "app.py": """
            from gevent import monkey
            monkey.patch_all(subprocess=False, time=False)
            import os
            import subprocess
            import time
            import requests
            from flask import Flask
            app = Flask(__name__)

            @app.route("/x")
            def x():
                os.popen("ls").read()  # error: GEV102
                subprocess.check_output(["ls"])  # error: GEV102
                time.sleep(1)  # error: GEV104
                requests.get("http://example.invalid")
        """,
    })


def test_pywsgi_without_patching_blocks_on_everything(tmp_path):
    assert_markers(tmp_path, {
        "server.py": """
            import socket
            import time
            import requests
            from gevent.pywsgi import WSGIServer

            def application(environ, start_response):
                time.sleep(0.1)  # error: GEV104
                requests.get("http://127.0.0.1:1/")  # error: GEV104
                sock = socket.create_connection(("127.0.0.1", 1))  # error: GEV104
                sock.sendall(b"x")  # error: GEV104
                start_response("200 OK", [])
                return [b"ok"]

            if __name__ == "__main__":
                WSGIServer(("127.0.0.1", 8000), application).serve_forever()
        """,
    })


def test_driver_patching_is_recognised(tmp_path):
    assert_markers(tmp_path, {
        "app.py": PATCH + """
import grpc
import psycopg2
import zmq.green as zmq
from grpc.experimental import gevent as grpc_gevent
from psycogreen.gevent import patch_psycopg
from flask import Flask

patch_psycopg()
grpc_gevent.init_gevent()
app = Flask(__name__)


@app.route("/x")
def x():
    psycopg2.connect("dbname=x").cursor().execute("select 1")
    grpc.insecure_channel("localhost:1")
    zmq.Context().socket(1).recv()
    import MySQLdb
    MySQLdb.connect()  # error: GEV103
""",
    })


def test_configured_entry_points_and_deployment_override(tmp_path):
    files = {
        "tasks/__init__.py": "",
        "tasks/jobs.py": """
            def nightly():
                open("/srv/big").read()  # error: GEV101, GEV101
        """,
    }
    assert_markers(tmp_path, files, entry_points=["tasks.jobs.*"], deployment="gunicorn-gevent")
    write(tmp_path, files)
    assert actual_in(str(tmp_path), entry_points=["tasks.jobs.*"]) == set(), "no gevent: nothing"


def test_a_file_returned_by_a_helper_is_a_file(tmp_path):
    assert_markers(tmp_path, {
        "app.py": PATCH + """
import gzip
from flask import Flask

app = Flask(__name__)


def _open_out(path):
    return gzip.open(path, "wb")  # error: GEV101


@app.post("/dump")
def dump():
    fh = _open_out("/srv/out.gz")
    fh.write(b"data")  # error: GEV101
    buffer = make_buffer()
    buffer.write(b"fine")


def make_buffer():
    import io
    return io.BytesIO()
""",
    })


def test_web_frameworks_entry_points(tmp_path):
    assert_markers(tmp_path, {
        "Procfile": "web: gunicorn -k gevent site:app\n",
        "views.py": """
            import falcon
            from flask.views import MethodView
            from pyramid.view import view_config

            class Upload(MethodView):
                def post(self):
                    open("/srv/a", "w")  # error: GEV101

            class Resource:
                def on_get(self, req, resp):
                    open("/srv/b")  # error: GEV101

            @view_config(route_name="home")
            def home(request):
                open("/srv/c")  # error: GEV101

            def wsgi_app(environ, start_response):
                open("/srv/d")  # error: GEV101

            def registered():
                open("/srv/e")  # error: GEV101

            def not_a_view():
                open("/srv/f")
        """,
        "site.py": """
            from flask import Flask
            import views
            app = Flask(__name__)
            app.add_url_rule("/upload", view_func=views.Upload.as_view("upload"))
            app.add_url_rule("/registered", "registered", views.registered)
        """,
        "shop/__init__.py": "",
        "shop/views.py": """
            from django.views import View

            def detail(request, pk):
                open("/srv/g")  # error: GEV101

            class Listing(View):
                def get(self, request):
                    open("/srv/h")  # error: GEV101
        """,
        "shop/urls.py": """
            from django.urls import path
            from . import views
            urlpatterns = [path("<int:pk>/", views.detail), path("", views.Listing.as_view())]
        """,
    })


def test_patch_order(tmp_path):
    assert_markers(tmp_path, {
        "late.py": '"""Doc."""\nfrom __future__ import annotations\nimport os\nimport requests\n'
                   "from gevent import monkey\nmonkey.patch_all()  # error: GEV401\n",
        "sleep_first.py": "from time import sleep\nfrom gevent import monkey\nmonkey.patch_all()  # error: GEV401\n",
        "fine.py": '"""Doc."""\nimport os\nimport sys\nimport gevent\nfrom gevent import monkey\nmonkey.patch_all()\n'
                   "import requests\n",
    })


def test_shortest_chain_is_reported(tmp_path):
    write(tmp_path, {
        "app.py": PATCH + """
from flask import Flask
app = Flask(__name__)

def leaf():
    open("x")

def middle():
    leaf()

@app.route("/long")
def long_way():
    middle()

@app.route("/short")
def short_way():
    leaf()
""",
    })
    (message,) = messages(tmp_path).values()
    assert "(route GET /short -> leaf)" in message


def test_decorator_wrappers_run_on_the_request_path(tmp_path):
    assert_markers(tmp_path, {
        "Procfile": "web: gunicorn -k gevent app:app\n",
        "db.py": """
            import functools
            import MySQLdb

            def with_db(name):
                def decorator(func):
                    @functools.wraps(func)
                    def wrapper(*args, **kwargs):
                        conn = MySQLdb.connect(db=name)  # error: GEV103
                        try:
                            return func(conn, *args, **kwargs)
                        finally:
                            conn.close()  # error: GEV103
                    return wrapper
                return decorator
        """,
        "app.py": """
            from flask import Flask
            from db import with_db
            app = Flask(__name__)

            @app.route("/users")
            @with_db("replica")
            def users(conn):
                return "ok"
        """,
    })


def test_values_nested_through_thousands_of_assignments_stay_shallow(tmp_path):
    rebinding = "".join("    fh = fh.wrapper()\n" for _ in range(5000))
    assert_markers(tmp_path, {
        "app.py": PATCH + "from flask import Flask\napp = Flask(__name__)\n\n\n@app.route('/x')\ndef x():\n"
                  "    fh = open('/srv/x')  # error: GEV101\n" + rebinding + "    fh.write(b'')\n",
    })


def test_one_finding_per_position_naming_the_inner_call(tmp_path):
    write(tmp_path, {"app.py": PATCH + "from flask import Flask\napp = Flask(__name__)\n\n\n"
                                       "@app.route('/')\ndef index():\n    return open('x').read()\n"})
    assert messages(tmp_path) == {("app.py", 9): "GEV101 blocking file IO `open` on a request path (route GET /); "
                                                 "offload it with gevent's threadpool"}


def test_views_and_greenlets_found_through_long_chains_and_mixins_of_bases(tmp_path):
    chain = "".join(f"class Step{i}(Step{i - 1}):\n    pass\n" for i in range(1, 3000))
    assert_markers(tmp_path, {
        "gunicorn.conf.py": 'worker_class = "gevent"\n',
        "views.py": f"""\
import gevent
from django.views import View


class Step0(View):
    pass


{chain}

class Leaf(Step2999):
    def get(self, request):
        return open("leaf.txt")  # error: GEV101


class Mixin:
    pass


class Worker(Mixin, gevent.Greenlet):
    def _run(self):
        return open("worker.txt")  # error: GEV101


class Loop(Mixin):
    pass


class Mixin(Loop):  # a cycle through a rebinding: no view, no greenlet, and no hang
    def get(self, request):
        return open("loop.txt")
""",
    })


def test_the_analysis_leaves_no_reference_cycle_behind(tmp_path):
    """The summaries and the index are freed as soon as the findings are out: a cycle through them
    would leave every summary for the cyclic collector to walk (a second on a large code base)."""
    import gc

    from lintgevent.index import ProjectIndex
    from lintgevent.summary import FileSummary

    write(tmp_path, {"app.py": """
from gevent import monkey
monkey.patch_all()
from flask import Flask

app = Flask(__name__)


class Store:
    def put(self, name, body):
        with open(name, "wb") as fh:
            fh.write(body)


def save(store, name, body):
    store.put(name, body)


@app.route("/up")
def up():
    save(Store(), "x", b"y")
    return ""
"""})
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        result = analyse_project(str(tmp_path), load_config(str(tmp_path)), use_cache=False)
        assert result.findings
        left = [o for o in gc.get_objects() if isinstance(o, (ProjectIndex, FileSummary))]
    finally:
        if was_enabled:
            gc.enable()
    assert left == []


def test_a_files_descriptors_are_made_once_and_shared_yet_keep_their_types():
    """A summary holds each name, chain and literal once (a project's summaries are held at once);
    shared by identity or by type and value, never by equality alone: 1 == 1.0 == True."""
    import ast

    from lintgevent.summary import summarise

    source = "import os\n\ndef f(self):\n    os.path.join(self.root, 1)\n    os.path.join(self.root, True)\n" \
             "    os.path.join(self.root, 1.0)\n    os.path.join(self.root, 1)\n"
    calls = summarise(ast.parse(source), "m.py", "m", False).functions["f"].calls
    assert [c.args[1] for c in calls] == [("const", 1), ("const", True), ("const", 1.0), ("const", 1)]
    assert [type(c.args[1][1]) for c in calls] == [int, bool, float, int]
    assert calls[0].args[1] is calls[3].args[1] and calls[0].args[1] is not calls[1].args[1]
    assert calls[0].func == ("ref", "os.path.join") and all(c.func is calls[0].func for c in calls)
    assert all(c.args[0] is calls[0].args[0] for c in calls) and all(c.text is calls[0].text for c in calls)


ROUTE_THAT_SPAWNS = """
import subprocess
import time
from flask import Flask
app = Flask(__name__)

@app.route("/x")
def x():
    subprocess.check_output(["ls"]){subprocess}
    time.sleep(1){sleep}
    return open("f").read()  # error: GEV101
"""


def test_a_self_test_under_main_does_not_hide_the_real_patching(tmp_path):
    assert_markers(tmp_path, {
        "app.py": "from gevent import monkey\nmonkey.patch_all(subprocess=False)\n"
                  + ROUTE_THAT_SPAWNS.format(subprocess="  # error: GEV102", sleep=""),
        "tools.py": """
import gevent

def selftest():
    gevent.sleep(0)

if __name__ == "__main__":
    from gevent import monkey
    monkey.patch_all()
    selftest()
""",
    })


def test_a_script_whose_only_patching_is_under_main_is_patched_by_it(tmp_path):
    assert_markers(tmp_path, {
        "server.py": ROUTE_THAT_SPAWNS.format(subprocess="", sleep="") + """
if __name__ == "__main__":
    from gevent import monkey
    monkey.patch_all()  # error: GEV401
    from gevent.pywsgi import WSGIServer
    WSGIServer(("127.0.0.1", 8000), app).serve_forever()
""",
    })


@pytest.mark.parametrize("test_file", ["conftest.py", "tests/test_app.py", "app_test.py"])
def test_the_patching_of_test_code_is_not_the_programs(tmp_path, test_file, run):
    assert_markers(tmp_path, {
        "app.py": "from gevent import monkey\nmonkey.patch_all(subprocess=False, time=False)\n"
                  + ROUTE_THAT_SPAWNS.format(subprocess="  # error: GEV102", sleep="  # error: GEV104"),
        test_file: "from gevent import monkey\nmonkey.patch_all()\n\ndef test_nothing():\n    pass\n",
    })
    _, out, err = run("check", "--no-cache", "--show-deployment", "--exit-zero", ".")
    assert f"not counted: the patching of test code in {os.path.normpath(test_file)}" in "\n".join(out) + err


TESTED_APP = {
    "app.py": PATCH + """
import gevent
from flask import Flask
app = Flask(__name__)


def refresh(path):
    return open(path).read(){marker}


@app.route("/ok")
def ok():
    return "ok"
""",
    "tests/test_refresh.py": """
import gevent
from flask import Flask
from app import refresh

fake = Flask("fake")


@fake.route("/fake")
def fake_view():
    return open("fixture.txt").read(){marker}


def test_refresh_runs_in_a_greenlet():
    gevent.spawn(refresh, "fixture.txt").join()
""",
}


def test_tests_are_not_request_paths_unless_asked(tmp_path):
    """A test that spawns a greenlet, or a route of a test's own app, does not put code on a
    request path; `test-entry-points` brings them back."""
    plain, asked = tmp_path / "plain", tmp_path / "asked"
    plain.mkdir()
    asked.mkdir()
    assert_markers(plain, {name: text.format(marker="") for name, text in TESTED_APP.items()})
    assert_markers(asked, {name: text.format(marker="  # error: GEV101") for name, text in TESTED_APP.items()},
                   test_entry_points=True)


def test_test_entry_points_from_pyproject_and_flake8_agree(tmp_path):
    from test_values import flake8_agrees

    write(tmp_path, {name: text.format(marker="  # error: GEV101") for name, text in TESTED_APP.items()})
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n\n[tool.lintgevent]\ntest-entry-points = true\n")
    assert actual_in(str(tmp_path)) == expected_in(str(tmp_path))
    flake8_agrees(tmp_path)


def test_test_entry_points_must_be_true_or_false(tmp_path, run):
    write(tmp_path, {"app.py": PATCH})
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n\n[tool.lintgevent]\ntest-entry-points = 'yes'\n")
    code, out, err = run("check", ".")
    assert code == 2
    assert err == "lintgevent: error: pyproject.toml [tool.lintgevent]: `test-entry-points`: must be true or false, not 'yes'\n"


def test_rest_resources_answer_on_their_http_methods_only(tmp_path):
    assert_markers(tmp_path, {
        "api.py": PATCH + """
from flask import Flask
from flask_restful import Api, Resource
from flask_restx import Namespace
from flask_restx import Resource as RestxResource

app = Flask(__name__)
api = Api(app)
ns = Namespace("reports")


class Items(Resource):
    def get(self):
        return open("items.json").read()  # error: GEV101

    def post(self):
        self.audit()
        return "", 201

    def audit(self):
        return open("audit.log", "a")  # error: GEV101

    def rebuild(self):
        return open("index.db").read()


@ns.route("/reports/<name>")
class Report(RestxResource):
    def put(self, name):
        return open(name, "w")  # error: GEV101

    def archive(self, name):
        return open(name).read()


class Unrouted(Resource):
    def get(self):
        return open("never.txt").read()


api.add_resource(Items, "/items", "/items/<int:item>")
""",
    })


def test_a_wsgi_callable_is_known_by_its_shape_whatever_its_first_parameter(tmp_path):
    assert_markers(tmp_path, {
        "wsgi.py": PATCH + """
def application(env, start_response):
    start_response("200 OK", [])
    return [open("page.html", "rb").read()]  # error: GEV101


class Middleware:
    def __call__(self, request_env, start_response):
        return [open("other.html", "rb").read()]  # error: GEV101


def helper(env, respond):
    return open("not-wsgi.html").read()
""",
    })


# ----------------------------------------------------------------------------------------------
# Processes: a launcher, what it imports, and its patching


def test_the_app_module_of_a_launcher_brings_in_what_it_imports_from_other_roots(tmp_path):
    assert_markers(tmp_path, {
        "web/Dockerfile": 'FROM python:3.11\nCMD ["gunicorn", "-k", "gevent", "webapp.wsgi:app"]\n',
        "web/webapp/__init__.py": "",
        "web/webapp/wsgi.py": """
            from flask import Flask
            from reporting.build import build_report
            app = Flask(__name__)

            @app.route("/report")
            def report():
                return build_report()
        """,
        "libs/reporting/__init__.py": "",
        "libs/reporting/build.py": """
            def build_report():
                return open("/var/report.txt").read()  # error: GEV101, GEV101
        """,
        # a root beside them that no process runs and that uses no gevent: not checked
        "libs/unused/__init__.py": "",
        "libs/unused/dump.py": "def dump():\n    return open('/var/dump').read()\n",
    })


def test_a_finding_names_the_process_it_is_for_when_processes_disagree(tmp_path):
    directory = os.path.join(os.path.dirname(__file__), "..", "fixtures", "worker_processes")
    result = analyse_project(os.path.abspath(directory), load_config(os.path.abspath(directory)), use_cache=False)
    by_line = {(os.path.basename(f.path), f.line): f.message for f in result.findings}
    assert "in the process `python jobrunner.py` (jobrunner.py:8)" in by_line[("jobs.py", 8)]
    assert "in the process" not in by_line[("jobs.py", 12)], "the open blocks in both processes"
    assert [(p.launcher, p.where) for p in result.processes] == [
        ("gunicorn (gevent worker)", "Dockerfile:5"), ("python jobrunner.py", "jobrunner.py:8")]


def test_show_deployment_lists_the_processes_and_the_roots_no_process_runs(tmp_path, run):
    write(tmp_path, {
        "web/Procfile": "web: gunicorn -k gevent app:app\n",
        "web/app.py": "from flask import Flask\napp = Flask(__name__)\n",
        "tools/sweep.py": "import gevent\n\ndef sweep():\n    gevent.sleep(1)\n",
        "jobs/run_jobs.py": "from gevent import monkey\nmonkey.patch_all(thread=False)\n\n"
                            "if __name__ == '__main__':\n    pass\n",
    })
    code, out, err = run("check", "--no-cache", "--show-deployment", ".")
    lines = err.splitlines()
    assert any(line.startswith("process gunicorn (gevent worker) (web/Procfile:1): gevent, patched:")
               and line.endswith("runs web") for line in lines)
    assert any(line.startswith("process python jobs/run_jobs.py (jobs/run_jobs.py:2): gevent, patched:")
               and "not patched: sys, thread" in line for line in lines), err
    assert any(line.startswith("tools: gevent, nothing patched (no process found that runs it: judged by its own code)")
               for line in lines), err


@pytest.mark.parametrize("load", [
    'importlib.import_module("plugins." + name)',
    'importlib.import_module(f"plugins.{name}")',
    'importlib.import_module("plugins.%s" % name)',
    'importlib.import_module("plugins.{}".format(name))',
    '__import__("plugins." + name)',
])
def test_a_plugin_folder_loaded_by_name_runs_under_its_hosts_patching(tmp_path, load):
    assert_markers(tmp_path, {
        "host.py": f"""
            from gevent import monkey
            monkey.patch_all()
            import importlib
            import os
            from gevent.pywsgi import WSGIServer

            def load(name):
                return {load}

            if __name__ == "__main__":
                for name in os.listdir("plugins"):
                    load(name[:-3]).start()
                WSGIServer(("127.0.0.1", 8000), None).serve_forever()
        """,
        "plugins/rotate.py": """
            import subprocess
            import gevent

            def rotate():
                subprocess.run(["logrotate", "/etc/logrotate.conf"])
                return open("/var/log/rotated").read()  # error: GEV101, GEV101

            def start():
                gevent.spawn(rotate)
        """,
    })


def test_a_plugin_folder_no_host_loads_keeps_its_own_patching(tmp_path):
    assert_markers(tmp_path, {
        "host.py": PATCH + "import importlib\n\nif __name__ == '__main__':\n    importlib.import_module('addons.x')\n",
        "plugins/rotate.py": """
            import subprocess
            import gevent

            def rotate():
                subprocess.run(["logrotate", "/etc/logrotate.conf"])  # error: GEV102

            def start():
                gevent.spawn(rotate)
        """,
    })


# ----------------------------------------------------------------------------------------------
# Entry points of realtime handlers, task queues, load tests, RPC servers and name-based dispatch


def test_socketio_and_websocket_handlers_are_entry_points(tmp_path):
    assert_markers(tmp_path, {
        "chat.py": PATCH + """
            from flask import Flask
            from flask_socketio import Namespace, SocketIO
            from flask_sock import Sock
            import socketio

            app = Flask(__name__)
            io = SocketIO(app)
            sock = Sock(app)
            sio = socketio.Server(async_mode="gevent")

            @io.on("message")
            def on_message(data):
                return open("/var/chat/motd").read()  # error: GEV101, GEV101

            @sio.event
            def connect(sid, environ):
                open("/var/chat/log", "a").write(sid)  # error: GEV101, GEV101

            @sock.route("/echo")
            def echo(ws):
                open("/var/chat/echo").read()  # error: GEV101, GEV101

            def on_typing(data):
                open("/var/chat/typing").read()  # error: GEV101, GEV101

            io.on_event("typing", on_typing)

            class Room(Namespace):
                def on_join(self, data):
                    open("/var/chat/rooms").read()  # error: GEV101, GEV101

                def helper(self):
                    return open("/var/chat/rooms").read()

            def unused():
                return open("/var/chat/unused").read()
        """.replace("\n            ", "\n"),
    })


@pytest.mark.parametrize("worker, marker", [("celery -A tasks worker -P gevent -c 100", "  # error: GEV101, GEV101"),
                                            ("celery -A tasks worker --pool=gevent", "  # error: GEV101, GEV101"),
                                            ("celery -A tasks worker -P prefork", "")])
def test_celery_tasks_are_greenlets_under_a_gevent_pool_only(tmp_path, worker, marker):
    assert_markers(tmp_path, {
        "Procfile": f"worker: {worker}\n",
        "tasks.py": f"""
from celery import Celery, Task, shared_task

app = Celery("tasks")


@app.task(bind=True)
def resize(self, path):
    return open(path, "rb").read(){marker}


@shared_task
def cleanup(path):
    return open(path).read(){marker}


class Export(Task):
    def run(self, path):
        return open(path).read(){marker}
""",
    })


def test_locust_tasks_and_on_start_run_in_greenlets(tmp_path):
    assert_markers(tmp_path, {
        "locustfile.py": """
            import subprocess
            import time
            from locust import HttpUser, task

            class Shopper(HttpUser):
                def on_start(self):
                    self.token = open("/tmp/token").read()  # error: GEV101, GEV101

                @task(3)
                def browse(self):
                    time.sleep(1)  # patched by locust: cooperative
                    subprocess.run(["true"])

                @task
                def checkout(self):
                    open("/tmp/order.json").read()  # error: GEV101, GEV101

                def helper(self):
                    return open("/tmp/unused").read()
        """,
    })


def test_zerorpc_server_methods_are_entry_points(tmp_path):
    assert_markers(tmp_path, {
        "rpc.py": PATCH + """
import zerorpc


class Reports:
    def build(self, name):
        return open(name).read()  # error: GEV101, GEV101

    def _cache(self):
        return open("cache").read()


server = zerorpc.Server(Reports())
server.bind("tcp://127.0.0.1:4242")
server.run()
""",
    })


def test_tastypie_resource_views_and_wrapped_views_are_entry_points(tmp_path):
    assert_markers(tmp_path, {
        "gunicorn.conf.py": 'worker_class = "gevent"\n',
        "api.py": """
from django.urls import re_path
from tastypie.resources import ModelResource


class ReportResource(ModelResource):
    def prepend_urls(self):
        return [re_path(r"^reports/export$", self.wrap_view("export"), name="export")]

    def export(self, request, **kwargs):
        return open("/var/export.csv").read()  # error: GEV101, GEV101

    def get_list(self, request, **kwargs):
        return open("/var/list.json").read()  # error: GEV101, GEV101

    def helper(self):
        return open("/var/unused").read()
""",
    })


def test_name_based_dispatch_reaches_every_method_with_the_prefix(tmp_path):
    assert_markers(tmp_path, {
        "gunicorn.conf.py": 'worker_class = "gevent"\n',
        "commands.py": """
from flask import Flask, request

app = Flask(__name__)


class Base:
    def do_export(self):
        return open("/var/export").read()  # error: GEV101, GEV101


class Commands(Base):
    def run(self, name):
        return getattr(self, "do_" + name)()

    def do_status(self):
        return open("/var/status").read()  # error: GEV101, GEV101

    def undo_status(self):
        return open("/var/undo").read()

    def handle(self, name):
        return getattr(self, f"cmd_{name}")()

    def cmd_purge(self):
        return open("/var/purge").read()  # error: GEV101, GEV101


class PluginCommands(Commands):
    def do_backup(self):
        return open("/var/backup").read()  # error: GEV101, GEV101


@app.post("/run/<name>")
def run(name):
    commands = Commands()
    return commands.run(name) + commands.handle(name)
""",
    })


def test_a_server_given_a_name_rebound_in_branches_serves_every_binding(tmp_path):
    assert_markers(tmp_path, {
        "serve.py": PATCH + """
import os
from gevent.pywsgi import WSGIServer


def app(environ, start_response):
    start_response("200 OK", [])
    return [open("/var/index.html", "rb").read()]  # error: GEV101, GEV101


class Debugged:
    def __init__(self, wrapped):
        self.wrapped = wrapped

    def __call__(self, environ, start_response):
        open("/var/debug.log", "a").write(environ["PATH_INFO"])  # error: GEV101, GEV101
        return self.wrapped(environ, start_response)


handler = app
if os.environ.get("DEBUG"):
    handler = Debugged(handler)
WSGIServer(("127.0.0.1", 8000), handler).serve_forever()
""",
    })


@pytest.mark.parametrize("name, text, expected", [
    ("Dockerfile", 'FROM python:3.11\nCMD ["gunicorn", "-c", "deploy/conf.py", "shop.wsgi:app"]\n',
     [("gunicorn", 2, False, "shop.wsgi", "deploy/conf.py")]),
    ("Procfile", "web: gunicorn --worker-class=gevent --config=conf.py 'pkg.app:create_app()'\n",
     [("gunicorn", 1, True, "pkg.app", "conf.py")]),
    ("start.sh", 'exec sh -c "gunicorn -k gevent \\\\\n   --bind 0.0.0.0:80 \\\\\n   web:app"\n',
     [("gunicorn", 1, True, "web", "")]),
    ("Makefile", "test:\n\tpytest -k gevent\n", []),
    ("Procfile", "web: gunicorn web:app\n", []),
    ("compose.yaml", "  worker:\n    command: celery -A proj.celery worker --pool gevent\n",
     [("celery", 2, True, "proj.celery", "")]),
    ("uwsgi.ini", "[uwsgi]\nmodule = site.wsgi:application\ngevent = 200\n", [("uwsgi", 3, True, "site.wsgi", "")]),
])
def test_launchers_are_read_with_their_line_app_module_and_config(name, text, expected):
    from lintgevent.launchers import launchers_in_text

    found = launchers_in_text(name, text.encode())
    assert [(f.kind, f.line, f.gevent, f.app, f.config) for f in found] == expected


def test_modules_loaded_by_name_are_in_the_summary():
    import ast

    from lintgevent.summary import summarise

    source = textwrap.dedent("""
        import importlib
        from . import base

        def load(name):
            importlib.import_module("plugins." + name)
            importlib.import_module("exact.module")
            importlib.import_module("." + name, __package__)
            importlib.import_module(name)  # nothing written out: not followed
            import json.decoder
    """)
    summary = summarise(ast.parse(source), "host/loader.py", "host.loader", False)
    assert sorted(summary.loads) == [("exact.module", True), ("host.", False), ("plugins.", False)]
    assert {"host.base", "host", "json.decoder", "importlib"} <= set(summary.imported)


def test_a_gevent_websocket_handler_is_a_wsgi_app_whatever_its_first_parameter_is_called(tmp_path):
    assert_markers(tmp_path, {
        "ws.py": PATCH + """
from gevent.pywsgi import WSGIServer
from geventwebsocket.handler import WebSocketHandler


def websocket_app(env, start_response):
    message = env["wsgi.websocket"].receive()
    open("/var/ws.log", "a").write(message)  # error: GEV101, GEV101


if __name__ == "__main__":
    WSGIServer(("127.0.0.1", 8000), websocket_app, handler_class=WebSocketHandler).serve_forever()
""",
    })


def test_fdopen_does_no_io_but_the_file_it_gives_does(tmp_path):
    assert_markers(tmp_path, {
        "app.py": PATCH + """
import os
import tempfile
from flask import Flask

app = Flask(__name__)


@app.post("/spool")
def spool():
    fd, path = tempfile.mkstemp()
    with os.fdopen(fd, "wb") as out:
        out.write(b"data")  # error: GEV101
    handle = os.fdopen(os.open(path, os.O_RDONLY))  # error: GEV101
    return handle.read()  # error: GEV101
""",
    })


# ----------------------------------------------------------------------------------------------
# Descriptors that are not files, and loops that wait for each item cooperatively


def test_a_readiness_check_covers_only_the_descriptor_it_checked_and_only_after_it(tmp_path):
    assert_markers(tmp_path, {
        "Procfile": "web: gunicorn -k gevent app:app\n",
        "app.py": """
            import os
            import pty
            import select
            import gevent.socket
            from flask import Flask
            app = Flask(__name__)

            @app.route("/two")
            def two():
                first, _ = os.pipe()
                second, _ = os.pipe()
                select.select([first], [], [], 5)
                os.read(first, 10)
                return os.read(second, 10)  # error: GEV105

            @app.route("/late")
            def late():
                fd, _ = os.pipe()
                data = os.read(fd, 10)  # error: GEV105
                gevent.socket.wait_read(fd)
                return data

            @app.route("/blocking-again")
            def blocking_again():
                fd, _ = os.pipe()
                os.set_blocking(fd, True)
                return os.read(fd, 10)  # error: GEV105

            @app.route("/pty")
            def terminal():
                master, _ = pty.openpty()
                os.write(master, b"status\\n")  # error: GEV105
                pid, fd = os.forkpty()
                return os.read(fd, 10)  # error: GEV105
        """,
    })


def test_a_socket_descriptor_blocks_only_where_socket_is_not_patched(tmp_path):
    assert_markers(tmp_path, {
        "app.py": """
            from gevent import monkey
            monkey.patch_all(socket=False)
            import os
            import socket
            from gevent.pywsgi import WSGIServer

            def application(environ, start_response):
                conn = socket.create_connection(("127.0.0.1", 7000))  # error: GEV104
                start_response("200 OK", [])
                return [os.read(conn.fileno(), 10)]  # error: GEV104

            if __name__ == "__main__":
                WSGIServer(("127.0.0.1", 8000), application).serve_forever()
        """,
    })


def test_a_streamed_response_loop_yields_only_where_socket_is_patched(tmp_path):
    stream = """
        import requests
        from gevent.pywsgi import WSGIServer

        def application(environ, start_response):
            resp = requests.get("http://127.0.0.1:7000/big", stream=True)  # error: GEV104
            with open("/tmp/big", "wb") as out:  # error: GEV101
                for chunk in resp.iter_content(65536):{loop}
                    out.write(chunk)
            start_response("200 OK", [])
            return [b"ok"]

        if __name__ == "__main__":
            WSGIServer(("127.0.0.1", 8000), application).serve_forever()
    """
    unpatched = "from gevent import monkey\nmonkey.patch_all(socket=False)\n"
    (tmp_path / "unpatched").mkdir()
    (tmp_path / "patched").mkdir()
    assert_markers(tmp_path / "unpatched", {"app.py": unpatched + textwrap.dedent(stream).format(
        loop="  # error: GEV302")})
    patched = "from gevent import monkey\nmonkey.patch_all()\n"
    assert_markers(tmp_path / "patched", {"app.py": patched + textwrap.dedent(stream).format(loop="").replace(
        "  # error: GEV104", "")})


# ----------------------------------------------------------------------------------------------
# GEV401: only imports that leave something unpatched


def test_imports_that_change_nothing_before_patching_are_not_reported(tmp_path):
    assert_markers(tmp_path, {
        "server.py": """
            import logging
            import os
            import socket
            import sys
            import threading
            import time

            from settings import load
            from gevent import monkey
            monkey.patch_all()
            from gevent.pywsgi import WSGIServer

            def app(environ, start_response):
                start_response("200 OK", [])
                return [b"ok"]

            if __name__ == "__main__":
                WSGIServer(("127.0.0.1", 8000), app).serve_forever()
        """,
        "settings.py": "import json\nimport os\n\ndef load():\n    return json.loads(os.environ.get('S', '{}'))\n",
    })


def test_the_import_that_leaves_something_unpatched_is_named(tmp_path):
    files = {
        "server.py": """
            import os
            import clients
            from gevent import monkey
            monkey.patch_all()  # error: GEV401
        """,
        "clients/__init__.py": "from .http import session\n",
        "clients/http.py": "import requests\nsession = requests.Session()\n",
    }
    assert_markers(tmp_path, files)
    message = next(iter(messages(tmp_path).values()))
    assert ("runs after `import clients` (line 3), which runs `clients` -> `clients.http`: `import requests` "
            "(line 1) imports ssl, whose classes stay unpatched") in message, message


@pytest.mark.parametrize("early,why", [
    ("from time import sleep", "binds `sleep` from time before patching replaces it"),
    ("from threading import Lock, Thread", "binds `Lock`, `Thread` from threading"),
    ("import ssl", "is ssl: its classes stay unpatched"),
    ("import urllib.request", "imports ssl"),
    ("import threading\nLOCK = threading.Lock()", "runs after `threading.Lock()` (line 3), created at import: it stays native"),
])
def test_each_kind_of_early_import_that_matters(tmp_path, early, why):
    assert_markers(tmp_path, {"job.py": f"import gevent\n{early}\nfrom gevent import monkey\n"
                                        "monkey.patch_all()  # error: GEV401\n"})
    message = next(iter(messages(tmp_path).values()))
    assert why in message, message


# ----------------------------------------------------------------------------------------------
# Drivers whose mode decides


def test_oracledb_blocks_in_thick_mode_only_and_psycopg3_where_select_is_not_patched(tmp_path):
    server = """
        from gevent import monkey
        monkey.patch_all({patch})
        import oracledb
        import psycopg
        from gevent.pywsgi import WSGIServer
        {thick}

        def application(environ, start_response):
            conn = oracledb.connect(user="u", password="p", dsn="db/ORCL"){oracle}
            rows = psycopg.connect("dbname=app").execute("select 1").fetchall(){postgres}
            start_response("200 OK", [])
            return [str(rows).encode()]

        if __name__ == "__main__":
            WSGIServer(("127.0.0.1", 8000), application).serve_forever()
    """
    for name, patch, thick, oracle, postgres in [
        ("thin", "", "", "", ""),
        ("thick", "", "oracledb.init_oracle_client()", "  # error: GEV103", ""),
        ("unpatched", "select=False, socket=False", "", "  # error: GEV103", "  # error: GEV103, GEV103, GEV103"),
    ]:
        (tmp_path / name).mkdir()
        assert_markers(tmp_path / name, {"app.py": textwrap.dedent(server).format(
            patch=patch, thick=thick, oracle=oracle, postgres=postgres)})


# ----------------------------------------------------------------------------------------------
# Branches the callers rule out (branches.py)


def test_a_literal_argument_prunes_the_branch_it_rules_out_one_call_deep(tmp_path):
    assert_markers(tmp_path, {
        "Procfile": "web: gunicorn -k gevent app:app\n",
        "consts.py": 'STATIC = "static"\nLIVE = "live"\n',
        "app.py": """
            from flask import Flask, request
            from consts import STATIC, LIVE
            app = Flask(__name__)

            def digest(data, index=False):
                if index:
                    append_index(data)
                return hash(data)

            def append_index(data):
                with open("/var/index", "a") as out:  # error: GEV101
                    out.write(str(data))

            def load(kind, name):
                if kind == STATIC:
                    return name
                with open(name) as source:  # error: GEV101
                    return source.read()

            def export(rows, dry_run):
                if not dry_run:
                    with open("/var/export", "w") as out:
                        out.write(repr(rows))

            @app.route("/digest")
            def digest_route():
                return str(digest(request.data))

            @app.route("/digest/indexed")
            def digest_indexed():
                return str(digest(request.data, index=True))

            @app.route("/static")
            def static_page():
                return load(STATIC, request.args["name"])

            @app.route("/live")
            def live_page():
                return load(LIVE, request.args["name"])

            @app.route("/export/preview")
            def preview():
                export([1, 2], dry_run=True)
                return "ok"
        """,
    })


@pytest.mark.parametrize("caller", [
    "def passes_its_own(data, persist):\n    save(data, persist)\n\n@app.route('/a')\ndef a():\n"
    "    passes_its_own(request.data, False)\n    return 'ok'\n",
    "@app.route('/b')\ndef b():\n    options = {'persist': True}\n    save(request.data, **options)\n    return 'ok'\n",
    "@app.route('/c')\ndef c():\n    save(request.data, persist=request.args.get('keep') == '1')\n    return 'ok'\n",
], ids=["parameter-passed-on", "double-star", "computed"])
def test_an_argument_that_is_not_a_literal_keeps_the_branch(tmp_path, caller):
    head = textwrap.dedent("""
        from flask import Flask, request
        app = Flask(__name__)

        def save(data, persist=False):
            if persist:
                with open("/var/data", "wb") as out:  # error: GEV101
                    out.write(data)  # error: GEV301

    """)
    assert_markers(tmp_path, {"Procfile": "web: gunicorn -k gevent app:app\n", "app.py": head + caller})


# ----------------------------------------------------------------------------------------------
# A file opened and used in the same function: one finding, at the open


def findings_of(root) -> dict:
    result = analyse_project(str(root), load_config(str(root)), use_cache=False)
    return {(os.path.relpath(f.path, root), f.line, f.code): f for f in result.findings}


def test_a_file_opened_and_used_in_one_function_is_one_finding_at_the_open(tmp_path):
    assert_markers(tmp_path, {
        "Procfile": "web: gunicorn -k gevent app:app\n",
        "app.py": """
            import json
            import shutil
            from flask import Flask, request
            app = Flask(__name__)
            STATUS = {"ok": True}

            @app.post("/save")
            def save():
                with open("/srv/out.json", "w") as fh:  # error: GEV101
                    json.dump(STATUS, fh)
                    fh.write("\\n")
                    fh.flush()
                return "ok"

            @app.post("/copy")
            def copy():
                src = open("/srv/in", "rb")  # error: GEV101
                shutil.copyfileobj(src, request.stream)
                src.close()
                return "ok"

            @app.get("/two")
            def two():
                f = open("/srv/a")  # error: GEV101
                first = f.read()
                f = open("/srv/b")  # error: GEV101
                return first + f.read()

            @app.get("/rebound")
            def rebound():
                f = open("/srv/a")  # error: GEV101
                f = g = open("/srv/b")  # error: GEV101
                return f.read()  # error: GEV101
        """,
    })
    found = findings_of(tmp_path)
    saved = found[("app.py", 10, "GEV101")]
    assert saved.lines == (11, 12, 13)
    assert "`open`, then `json.dump`, `fh.write` and `fh.flush` at lines 11-13, on a request path" in saved.message
    assert found[("app.py", 18, "GEV101")].severity == "high"  # the copy is high, the open medium
    assert found[("app.py", 18, "GEV101")].lines == (19,)  # close() is no finding
    assert found[("app.py", 25, "GEV101")].lines == (26,)
    assert found[("app.py", 27, "GEV101")].lines == (28,)
    assert found[("app.py", 32, "GEV101")].lines == ()  # two targets: f is bound again, not paired


def test_a_handle_from_elsewhere_keeps_a_finding_per_call(tmp_path):
    assert_markers(tmp_path, {
        "Procfile": "web: gunicorn -k gevent app:app\n",
        "app.py": """
            from flask import Flask, request
            app = Flask(__name__)

            class Store:
                def __init__(self):
                    self.fh = open("/srv/store", "a")

                def add(self):
                    self.fh.write("added\\n")  # error: GEV101
                    self.fh.flush()  # error: GEV101

            STORE = Store()

            def append(fh, line):
                fh.write(line)  # error: GEV101

            @app.post("/add")
            def add():
                STORE.add()
                with open("/srv/log", "a") as log:  # error: GEV101
                    append(log, "add")
                    def later():
                        log.write("nested")  # error: GEV101
                    later()
                return "ok"
        """,
    })
    assert findings_of(tmp_path)[("app.py", 21, "GEV101")].lines == ()


def test_an_unbounded_write_keeps_its_own_finding_and_leaves_the_open_alone(tmp_path):
    assert_markers(tmp_path, {
        "Procfile": "web: gunicorn -k gevent app:app\n",
        "app.py": """
            from flask import Flask, request
            app = Flask(__name__)

            @app.post("/upload")
            def upload():
                with open("/srv/upload", "wb") as fh:  # error: GEV101
                    fh.write(request.get_data())  # error: GEV301
                    fh.write(b"\\n")
                return "ok"
        """,
    })
    opened = findings_of(tmp_path)[("app.py", 7, "GEV101")]
    assert opened.lines == (9,) and "then `fh.write` at line 9," in opened.message


def test_a_small_file_named_by_a_literal_stays_low_with_its_reads(tmp_path):
    write(tmp_path, {
        "Procfile": "web: gunicorn -k gevent app:app\n",
        "app.py": """
            import io
            import shutil
            import zipfile
            from flask import Flask
            app = Flask(__name__)

            @app.get("/config")
            def config():
                with open("config.json") as fh:
                    return fh.read()

            @app.get("/bundle")
            def bundle():
                with open("bundle.zip", "rb") as fh:
                    archive = zipfile.ZipFile(fh)
                    return archive.read("a")

            @app.get("/copy")
            def copy():
                with open("bundle.zip", "rb") as fh:
                    shutil.copyfileobj(fh, io.BytesIO())
        """,
    })
    found = findings_of(tmp_path)
    assert (found[("app.py", 10, "GEV101")].severity, found[("app.py", 10, "GEV101")].lines) == ("low", (11,))
    # the archive is another object: its read keeps its own finding, and its own severity
    assert (found[("app.py", 15, "GEV101")].severity, found[("app.py", 15, "GEV101")].lines) == ("low", ())
    assert found[("app.py", 17, "GEV101")].severity == "high"
    assert (found[("app.py", 21, "GEV101")].severity, found[("app.py", 21, "GEV101")].lines) == ("high", (22,))
