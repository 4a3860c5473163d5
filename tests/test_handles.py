"""GEV201-GEV203 on small projects: how decorators are read, how handles flow, what counts as a join.

Each project is written to a temp dir with `# error: GEVnnn` markers; the findings must equal them.
"""
import pytest
from test_engine import assert_markers, messages, write

PATCH = "from gevent import monkey\nmonkey.patch_all()\n"


def message_at(root, name: str, text: str) -> str:
    """The message reported on the first line of a file that contains `text`."""
    lines = (root / name).read_text().splitlines()
    line = next(i for i, line in enumerate(lines, 1) if text in line)
    return messages(root)[(name, line)]

PLAIN_DECORATOR = """
    import functools
    import pymysql

    def get_dbc(func):
        @functools.wraps(func)
        def wrapper(self, *args, **kwargs):
            dbc = pymysql.connect(host="db")
            try:
                return func(self, dbc, *args, **kwargs)
            finally:
                dbc.close()
        return wrapper
"""


def test_the_seed_pattern_with_the_decorator_in_another_module(tmp_path):
    assert_markers(tmp_path, {
        "db.py": PLAIN_DECORATOR,
        "jobs.py": PATCH + """
from gevent.pool import Pool
from db import get_dbc

class Test(object):
    def __init__(self):
        self.g_pool = Pool(10)

    @get_dbc
    def assign_user_to_exp(self, dbc, user_id, cell_id):
        self.g_pool.spawn(  # error: GEV201
            self.async_assign_user_to_exp,
            dbc,
            user_id,
            cell_id,
        )
        return

    def async_assign_user_to_exp(self, dbc, user_id, cell_id):
        return dbc.cursor().execute("INSERT ...")
""",
    })
    message = message_at(tmp_path, "jobs.py", "self.g_pool.spawn(")
    assert "`@get_dbc`" in message and "`dbc`" in message and "dbc.close()" in message
    assert "greenlet `self.async_assign_user_to_exp`" in message


def test_factory_class_and_instance_decorators(tmp_path):
    assert_markers(tmp_path, {
        "db.py": """
            import contextlib
            import functools
            import pymysql
            from gevent.queue import Queue

            POOL = Queue()

            def with_db(name):
                def decorator(func):
                    @functools.wraps(func)
                    def wrapper(*args, **kwargs):
                        conn = POOL.get()
                        try:
                            return func(conn, *args, **kwargs)
                        finally:
                            POOL.put(conn)
                    return wrapper
                return decorator

            class db_session:
                def __init__(self, func):
                    self.func = func

                def __call__(self, *args, **kwargs):
                    with contextlib.closing(pymysql.connect()) as conn:
                        return self.func(conn, *args, **kwargs)

            class Transactional:
                def __call__(self, func):
                    def wrapper(*args, **kwargs):
                        session = pymysql.connect()
                        result = func(*args, session=session, **kwargs)
                        session.close()
                        return result
                    return wrapper

            transactional = Transactional()
        """,
        "jobs.py": PATCH + """
import gevent
from db import db_session, transactional, with_db

@with_db("replica")
def export(conn, user_id):
    gevent.spawn(write_rows, conn, user_id)  # error: GEV201

@db_session
def audit(conn, event):
    gevent.spawn_later(1, write_rows, conn.cursor(), event)  # error: GEV201

@transactional
def bill(user_id, session=None):
    gevent.Greenlet.spawn(write_rows, session, user_id)  # error: GEV201

def write_rows(conn, value):
    conn.execute("INSERT ...", (value,))
""",
    })


def test_the_handle_reaching_a_spawn_through_a_helper_and_a_lambda(tmp_path):
    assert_markers(tmp_path, {
        "db.py": PLAIN_DECORATOR,
        "jobs.py": PATCH + """
import functools
import gevent
from db import get_dbc

class Jobs:
    @get_dbc
    def through_helper(self, dbc, user_id):
        self.start(dbc, user_id)  # error: GEV201

    def start(self, handle, user_id):
        gevent.spawn(self.write, handle, user_id)

    @get_dbc
    def through_lambda(self, dbc, user_id):
        gevent.spawn(lambda: self.write(dbc, user_id))  # error: GEV201

    @get_dbc
    def through_partial(self, dbc, user_id):
        gevent.spawn(functools.partial(self.write, dbc, user_id))  # error: GEV201

    def write(self, dbc, user_id):
        dbc.cursor().execute("INSERT ...")
""",
    })


def test_what_is_not_reported(tmp_path):
    assert_markers(tmp_path, {
        "db.py": PLAIN_DECORATOR + """

    def keeps_open(func):
        def wrapper(*args):
            conn = pymysql.connect()
            return func(conn, *args)
        return wrapper

    def passes_star_first(func):
        def wrapper(*args):
            conn = pymysql.connect()
            try:
                return func(*args, conn)
            finally:
                conn.close()
        return wrapper
""",
        "jobs.py": PATCH + """
import gevent
from gevent.pool import Pool
from db import get_dbc, keeps_open, passes_star_first
from dbtools import pooled

class Jobs:
    def __init__(self):
        self.pool = Pool(4)

    @get_dbc
    def joined(self, dbc, user_id):
        g = gevent.spawn(self.write, dbc, user_id)
        g.join()

    @get_dbc
    def joined_all(self, dbc, user_id):
        greenlets = [gevent.spawn(self.write, dbc, u) for u in user_id]
        gevent.joinall(greenlets)

    @get_dbc
    def pool_joined(self, dbc, user_id):
        self.pool.spawn(self.write, dbc, user_id)
        self.pool.join()

    @get_dbc
    def waits_for_map(self, dbc, user_ids):
        self.pool.map(lambda u: self.write(dbc, u), user_ids)

    @get_dbc
    def plain_values_only(self, dbc, user_id):
        name = dbc.cursor().fetchone()
        gevent.spawn(self.write_own, user_id, name)

    @get_dbc
    def synchronous(self, dbc, user_id):
        self.write(dbc, user_id)

    @keeps_open
    def never_released(self, conn, user_id):
        gevent.spawn(self.write, conn, user_id)

    @passes_star_first
    def position_unknown(self, conn, user_id):
        gevent.spawn(self.write, conn, user_id)

    @pooled
    def unresolved(self, conn, user_id):
        gevent.spawn(self.write, conn, user_id)

    @get_dbc
    def write_own(self, dbc, user_id, name):
        dbc.cursor().execute("INSERT ...")

    def write(self, dbc, user_id):
        dbc.cursor().execute("INSERT ...")
""",
    })


def test_with_bound_resources(tmp_path):
    assert_markers(tmp_path, {
        "exports.py": PATCH + """
import contextlib
import sqlite3
import threading
import gevent
import pymysql
from gevent.pool import Group

LOCK = threading.Lock()

def export(path, rows):
    with open(path, "w") as fh:
        gevent.spawn(write_all, fh, rows)  # error: GEV202
    with contextlib.closing(pymysql.connect()) as conn:
        Group().spawn(store, conn.cursor(), rows)  # error: GEV202
    with open(path) as fh:
        g = gevent.spawn(write_all, fh, rows)
        g.join()
    with open(path) as fh:
        gevent.joinall([gevent.spawn(write_all, fh, rows)])
    with open(path) as fh:
        gevent.spawn(write_all, fh, rows).get()
    with sqlite3.connect(path) as db:  # a transaction, not a close
        gevent.spawn(store, db, rows)
    with open(path) as fh:
        gevent.spawn(write_all, path, fh.name)

def write_all(fh, rows):
    fh.write(rows)

def store(conn, rows):
    conn.execute("INSERT ...")
""",
    })
    message = message_at(tmp_path, "exports.py", "gevent.spawn(write_all, fh, rows)  #")
    assert "`fh` (from `with open(...)` at line 14)" in message and "greenlet `write_all`" in message


FLASK_APP = PATCH + """
import gevent
from flask import Flask, copy_current_request_context, current_app, g, request

app = Flask(__name__)

def who():
    return g.user

def send(user_id):
    return request.args.get("x"), user_id

def notify():
    return who()

def only_app():
    with app.app_context():
        return current_app.config["X"]

def wrong_context():
    with app.app_context():
        return request.path

def pure(n):
    return n * 2
"""


def test_request_context_in_greenlets(tmp_path):
    assert_markers(tmp_path, {"web.py": FLASK_APP + """
@app.route("/a")
def direct():
    gevent.spawn(send, 1)  # error: GEV203
    gevent.spawn(notify)  # error: GEV203
    gevent.spawn(wrong_context)  # error: GEV203
    gevent.spawn(copy_current_request_context(send), 1)
    gevent.spawn(only_app)
    gevent.spawn(pure, 3)

    @copy_current_request_context
    def inner():
        return request.path
    gevent.spawn(inner)
    return helper()

def helper():
    gevent.spawn(send, 2)  # error: GEV203
    return "ok"

def background():
    gevent.spawn(send, 3)
"""})
    message = message_at(tmp_path, "web.py", "gevent.spawn(notify)")
    assert "reads `flask.g` in `who`" in message and "route GET /a" in message


@pytest.mark.parametrize("deployment", ["", 'worker_class = "sync"\n'])
def test_nothing_without_gevent(tmp_path, deployment):
    files = {"jobs.py": """
        import functools, threading
        def get_dbc(func):
            def wrapper(*args):
                dbc = object()
                try:
                    return func(dbc, *args)
                finally:
                    dbc.close()
            return wrapper

        @get_dbc
        def job(dbc):
            threading.Thread(target=print, args=(dbc,)).start()
    """}
    if deployment:
        files["gunicorn.conf.py"] = deployment
    write(tmp_path, files)
    assert messages(tmp_path) == {}


def test_captured_handles_timed_joins_and_helpers_of_with_blocks(tmp_path):
    assert_markers(tmp_path, {
        "db.py": PLAIN_DECORATOR,
        "jobs.py": PATCH + """
import functools
import gevent
import pymysql
from db import get_dbc

class Jobs:
    @get_dbc
    def closure(self, dbc, user_id):
        def run():
            self.write(dbc, user_id)
        gevent.spawn(run)  # error: GEV201

    @get_dbc
    def named_partial(self, dbc, user_id):
        job = functools.partial(self.write, dbc, user_id)
        gevent.spawn(job)  # error: GEV201

    @get_dbc
    def timed_join(self, dbc, user_id):
        g = gevent.spawn(self.write, dbc, user_id)  # error: GEV201
        g.join(timeout=1)

    @get_dbc
    def later(self, dbc, user_id):
        gevent.spawn_later(5, self.write, dbc, user_id)  # error: GEV201

    def write(self, dbc, user_id):
        dbc.cursor().execute("INSERT ...")

def spawn_it(conn):
    gevent.spawn(store, conn)

def store(conn):
    conn.cursor().execute("INSERT ...")

def export():
    with pymysql.connect() as conn:
        spawn_it(conn)  # error: GEV202
""",
    })
    assert "greenlet `self.write`" in message_at(tmp_path, "jobs.py", "gevent.spawn_later(5")


def test_a_greenlet_reading_g_is_reported_with_other_advice_and_not_fixed(tmp_path):
    from lintgevent.config import load_config
    from lintgevent.engine import analyse_project

    write(tmp_path, {"web.py": FLASK_APP + """
@app.route("/a")
def direct():
    gevent.spawn(notify)  # error: GEV203
    return "ok"
"""})
    [finding] = analyse_project(str(tmp_path), load_config(str(tmp_path)), use_cache=False).findings
    assert "pass what it needs from `flask.g` as arguments" in finding.message
    assert "Working outside of application context" in finding.message
    assert "does not carry over" in finding.fix_plan["refuse"]
