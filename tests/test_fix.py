"""`lintgevent fix`: the codemods on small projects, `--diff` and `--check`, exit codes, refusals,
and the guarantees of every fix (re-parsed, atomic, idempotent, comments kept)."""
from __future__ import annotations

import os
import stat
import textwrap

import libcst as cst
import pytest
from test_cli import write
from test_handles import PLAIN_DECORATOR

from lintgevent import fixer

PATCH = "from gevent import monkey\nmonkey.patch_all()\n"

DB = textwrap.dedent(PLAIN_DECORATOR)

SEED = PATCH + """\
from gevent.pool import Pool
from db import get_dbc


class Test(object):
    def __init__(self):
        self.g_pool = Pool(10)

    @get_dbc  # opens a connection
    def assign_user_to_exp(self, dbc, user_id, cell_id):
        # the greenlet runs after this method returns
        self.g_pool.spawn(
            self.async_assign_user_to_exp,
            dbc,
            user_id,
            cell_id,
        )
        return

    def async_assign_user_to_exp(self, dbc, user_id, cell_id):
        return dbc.cursor().execute("INSERT ...")
"""

SEED_FIXED = PATCH + """\
from gevent.pool import Pool
from db import get_dbc


class Test(object):
    def __init__(self):
        self.g_pool = Pool(10)

    def assign_user_to_exp(self, user_id, cell_id):
        # the greenlet runs after this method returns
        self.g_pool.spawn(
            self.async_assign_user_to_exp,
            user_id,
            cell_id,
        )
        return

    @get_dbc  # opens a connection
    def async_assign_user_to_exp(self, dbc, user_id, cell_id):
        return dbc.cursor().execute("INSERT ...")
"""


def fix(run, *args: str):
    return run("fix", "--no-cache", *args)


def test_the_seed_is_fixed_like_the_incident_was_and_a_second_run_changes_nothing(tmp_path, run):
    write(tmp_path, {"db.py": DB, "jobs.py": SEED})
    code, out, err = fix(run)
    assert code == 1, err
    assert out == [] and "fixed jobs.py" in err
    assert (tmp_path / "jobs.py").read_text() == SEED_FIXED
    assert fix(run) == (0, [], "")
    assert run("check", "--no-cache")[0] == 0


def test_diff_prints_a_unified_diff_and_writes_nothing(tmp_path, run):
    write(tmp_path, {"db.py": DB, "jobs.py": SEED})
    before = os.stat(tmp_path / "jobs.py")
    code, out, _ = fix(run, "--diff")
    assert code == 1
    assert out[:2] == ["--- a/jobs.py", "+++ b/jobs.py"]
    assert "-    @get_dbc  # opens a connection" in out and "+    @get_dbc  # opens a connection" in out
    assert "-            dbc," in out
    assert (tmp_path / "jobs.py").read_text() == SEED
    assert os.stat(tmp_path / "jobs.py").st_mtime_ns == before.st_mtime_ns


def test_check_mode_exits_1_when_something_would_change_and_0_when_not(tmp_path, run):
    write(tmp_path, {"db.py": DB, "jobs.py": SEED})
    code, out, err = fix(run, "--check")
    assert code == 1 and out == [] and "would fix jobs.py" in err
    assert (tmp_path / "jobs.py").read_text() == SEED
    (tmp_path / "jobs.py").write_text(SEED_FIXED)
    assert fix(run, "--check") == (0, [], "")


def test_select_limits_the_codemods(tmp_path, run):
    write(tmp_path, {"db.py": DB, "jobs.py": SEED})
    assert fix(run, "--select", "GEV203")[0] == 0
    assert (tmp_path / "jobs.py").read_text() == SEED
    assert fix(run, "--select", "GEV2")[0] == 1


def test_noqa_leaves_a_finding_alone(tmp_path, run):
    write(tmp_path, {"db.py": DB, "jobs.py": SEED.replace("self.g_pool.spawn(", "self.g_pool.spawn(  # noqa: GEV201")})
    assert fix(run) == (0, [], "")


def test_errors_exit_2_and_the_other_files_are_still_fixed(tmp_path, run):
    write(tmp_path, {"db.py": DB, "jobs.py": SEED, "broken.py": "def broken(:\n"})
    code, _, err = fix(run)
    assert code == 2
    assert "broken.py: error: syntax error" in err
    assert (tmp_path / "jobs.py").read_text() == SEED_FIXED


def test_the_write_is_atomic_and_keeps_the_file_mode(tmp_path, run):
    write(tmp_path, {"db.py": DB, "jobs.py": SEED})
    os.chmod(tmp_path / "jobs.py", 0o640)
    assert fix(run)[0] == 1
    assert stat.S_IMODE(os.stat(tmp_path / "jobs.py").st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.py", "jobs.py", "pyproject.toml"]


def test_a_result_that_does_not_parse_is_never_written(tmp_path, run, monkeypatch):
    write(tmp_path, {"db.py": DB, "jobs.py": SEED})

    def broken(module, findings, options):
        return module.with_changes(body=[cst.SimpleStatementLine([cst.Expr(cst.Name("def"))])]), {}

    monkeypatch.setitem(fixer.CODEMODS, "GEV201", broken)
    code, _, err = fix(run)
    assert code == 0
    assert "GEV201 not fixed: the fixed text would not parse" in err
    assert (tmp_path / "jobs.py").read_text() == SEED


@pytest.mark.parametrize("change, reason", [
    (("        return\n", "        dbc.commit()\n        return\n"), "still uses `dbc` for something else"),
    (("class Test(object):", "def other(t, dbc):\n    t.async_assign_user_to_exp(dbc, 1, 2)\n\n\nclass Test(object):"),
     "has other callers, which pass their own handle"),
    (("            dbc,\n            user_id,", "            (dbc, 1),\n            user_id,"),
     "handed over inside another value"),
])
def test_unsafe_fixes_are_refused_with_a_reason_and_nothing_is_written(tmp_path, run, change, reason):
    source = SEED.replace(*change)
    assert source != SEED
    write(tmp_path, {"db.py": DB, "jobs.py": source})
    code, out, err = fix(run)
    assert code == 0 and out == []
    assert "GEV201 not fixed: " in err and reason in err
    assert (tmp_path / "jobs.py").read_text() == source


def test_a_target_in_another_file_is_refused(tmp_path, run):
    write(tmp_path, {"db.py": DB, "writer.py": "def write(dbc, user_id):\n    dbc.cursor().execute('...')\n",
                     "jobs.py": PATCH + textwrap.dedent("""\
                         import gevent
                         from db import get_dbc
                         from writer import write

                         class Jobs:
                             @get_dbc
                             def start(self, dbc, user_id):
                                 gevent.spawn(write, dbc, user_id)
                     """)})
    code, _, err = fix(run)
    assert code == 0 and "`write` is defined in another file" in err


def test_the_handle_parameter_is_moved_to_where_the_decorator_injects_it(tmp_path, run):
    source = PATCH + textwrap.dedent("""\
        import gevent
        from db import get_dbc


        class Jobs:
            @get_dbc
            @staticmethod_free
            def start(self, dbc, user_id):
                gevent.spawn(self.write, user_id, dbc)

            @retry(times=3)
            def write(self, user_id, dbc):
                dbc.cursor().execute("...")
    """)
    write(tmp_path, {"db.py": DB, "jobs.py": source})
    assert fix(run)[0] == 1
    fixed = (tmp_path / "jobs.py").read_text()
    assert "    @staticmethod_free\n    def start(self, user_id):\n        gevent.spawn(self.write, user_id)\n" in fixed
    assert "    @retry(times=3)\n    @get_dbc\n    def write(self, dbc, user_id):\n" in fixed


FLASK = PATCH + """\
import gevent
{imports}

app = Flask(__name__)


def send(user_id):
    return request.args.get("x"), user_id


@app.route("/a")
def view():
    note = "café"; gevent.spawn(send, 1)
    return note
"""


@pytest.mark.parametrize("imports, wrapped, added", [
    ("from flask import Flask, request", "copy_current_request_context(send)",
     "from flask import Flask, request, copy_current_request_context"),
    ("from flask import Flask, request\nfrom flask import copy_current_request_context as copy_ctx",
     "copy_ctx(send)", None),
    ("import flask\nfrom flask import Flask, request", "flask.copy_current_request_context(send)", None),
    ("from flask import (\n    Flask,\n    request,\n)", "copy_current_request_context(send)",
     "from flask import (\n    Flask,\n    request,\n    copy_current_request_context,\n)\n"),
    ("from flask import (\n    Flask,  # the app\n    request  # the request\n)", "copy_current_request_context(send)",
     "from flask import (\n    Flask,  # the app\n    request,  # the request\n    copy_current_request_context\n)\n"),
])
def test_the_request_context_fix_uses_the_modules_own_imports(tmp_path, run, imports, wrapped, added):
    source = FLASK.format(imports=imports)
    write(tmp_path, {"web.py": source})
    assert run("check", "--no-cache")[0] == 1
    assert fix(run)[0] == 1
    fixed = (tmp_path / "web.py").read_text()
    assert f'note = "café"; gevent.spawn({wrapped}, 1)' in fixed
    if added:
        assert added in fixed
    else:
        assert fixed.count("import") == source.count("import")
    assert run("check", "--no-cache")[0] == 0
    assert fix(run)[0] == 0
