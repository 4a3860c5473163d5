"""`lintgevent fix` never loses or corrupts a user's file: a file edited meanwhile, symlinks, hard
links, owners, read-only files and unwritable directories are written safely or refused with a
reason; a fix that fails costs only itself; on the bundled fixtures and on a real code base it
changes only files with fixable findings, which still parse, and a second run changes nothing."""
from __future__ import annotations

import ast
import errno
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from conftest import REPO
from test_cli import write
from test_fix import DB, PATCH, SEED, SEED_FIXED

from lintgevent import fixer
from lintgevent.fixes.codemods import CODEMODS

WEB = PATCH + """\
import gevent
from flask import Flask, request

app = Flask(__name__)


def send(user_id):
    return request.args.get("x"), user_id


@app.route("/a")
def view():
    gevent.spawn(send, 1)
    return ""
"""

WEB_FIXED = WEB.replace("from flask import Flask, request\n",
                        "from flask import Flask, request, copy_current_request_context\n").replace(
    "gevent.spawn(send, 1)", "gevent.spawn(copy_current_request_context(send), 1)")

CHANGED = "not fixed: the file changed on disk after lintgevent read it"


def fix(run, *args: str):
    return run("fix", "--no-cache", *args)


def fixed_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("fixed ")]


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# -- 8: lost updates ---------------------------------------------------------------------------
def test_a_file_edited_after_the_analysis_is_refused_and_the_edit_survives(tmp_path, run, monkeypatch):
    write(tmp_path, {"web.py": WEB, "other.py": WEB})
    edited = WEB + "# saved in an editor while fix was analysing\n"
    analyse = fixer.fix_project

    def then_edited(*args, **kwargs):
        result = analyse(*args, **kwargs)
        (tmp_path / "web.py").write_text(edited)
        return result

    monkeypatch.setattr(fixer, "fix_project", then_edited)
    code, _, err = fix(run)
    assert code == 2
    assert f"web.py: {CHANGED}" in err
    assert (tmp_path / "web.py").read_text() == edited
    assert fixed_lines(err) == ["fixed other.py"]
    assert (tmp_path / "other.py").read_text() == WEB_FIXED


EDITED = WEB.replace('"x"', '"y"')  # the same size: only the content tells


@pytest.mark.parametrize("edit, survived", [
    (lambda path: Path(path).write_text(EDITED), lambda path: path.read_text() == EDITED),
    (lambda path: os.chmod(path, 0o600), lambda path: stat.S_IMODE(os.stat(path).st_mode) == 0o600),
], ids=["content", "mode"])
def test_a_file_changed_while_its_fix_is_being_written_is_refused(tmp_path, run, monkeypatch, edit, survived):
    write(tmp_path, {"web.py": WEB})
    os.chmod(tmp_path / "web.py", 0o644)
    copy = fixer._temporary_copy

    def changed_meanwhile(target, data, info):
        temporary = copy(target, data, info)
        edit(target)
        return temporary

    monkeypatch.setattr(fixer, "_temporary_copy", changed_meanwhile)
    code, _, err = fix(run)
    assert code == 2 and f"web.py: {CHANGED}" in err and fixed_lines(err) == []
    assert survived(tmp_path / "web.py")
    assert "copy_current_request_context" not in (tmp_path / "web.py").read_text()
    assert names(tmp_path) == ["pyproject.toml", "web.py"]


# -- 9: links, owners, permissions ---------------------------------------------------------------
def test_a_symlink_and_its_target_in_the_project_are_fixed_once_through_the_link(tmp_path, run):
    write(tmp_path, {"web.py": WEB})
    os.symlink("web.py", tmp_path / "alias.py")
    code, _, err = fix(run)
    assert code == 1, err
    assert fixed_lines(err) == ["fixed web.py"]
    assert os.readlink(tmp_path / "alias.py") == "web.py"
    assert (tmp_path / "web.py").read_text() == WEB_FIXED
    assert fix(run) == (0, [], "")


def test_a_symlink_to_a_file_outside_the_project_fixes_the_target(tmp_path, run, tmp_path_factory):
    shared = tmp_path_factory.mktemp("shared") / "web.py"
    shared.write_text(WEB)
    write(tmp_path, {})
    os.symlink(shared, tmp_path / "web.py")
    code, _, err = fix(run)
    assert code == 1, err
    assert fixed_lines(err) == [f"fixed web.py (the file it links to, {shared})"]
    assert os.path.islink(tmp_path / "web.py")
    assert shared.read_text() == WEB_FIXED
    assert fix(run) == (0, [], "")


@pytest.mark.parametrize("inside", [True, False], ids=["both-in-project", "other-name-elsewhere"])
def test_a_hard_linked_file_is_refused_and_keeps_its_links(tmp_path, run, tmp_path_factory, inside):
    write(tmp_path, {"web.py": WEB})
    other = tmp_path / "alias.py" if inside else tmp_path_factory.mktemp("elsewhere") / "web.py"
    os.link(tmp_path / "web.py", other)
    code, _, err = fix(run)
    assert code == 2
    assert err.count("not fixed: the file has 2 hard links: writing it by rename would split them") == 1
    assert os.path.samefile(tmp_path / "web.py", other)
    assert other.read_text() == WEB


root_only = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                               reason="only root can make a file that belongs to another user")


@root_only
def test_the_owner_is_kept(tmp_path, run):
    write(tmp_path, {"web.py": WEB})
    os.chown(tmp_path / "web.py", 4321, 4322)
    assert fix(run)[0] == 1
    info = os.stat(tmp_path / "web.py")
    assert (info.st_uid, info.st_gid) == (4321, 4322)
    assert (tmp_path / "web.py").read_text() == WEB_FIXED


@root_only
def test_a_file_whose_owner_cannot_be_kept_is_refused(tmp_path, run, monkeypatch):
    write(tmp_path, {"web.py": WEB})
    os.chown(tmp_path / "web.py", 4321, 4322)

    def unprivileged(*args, **kwargs):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "chown", unprivileged)  # what any user but root gets
    code, _, err = fix(run)
    assert code == 2
    assert "web.py: not fixed: the file belongs to uid 4321 gid 4322, and the rewritten file could not keep" in err
    assert (tmp_path / "web.py").read_text() == WEB
    assert names(tmp_path) == ["pyproject.toml", "web.py"]


def test_a_read_only_file_is_refused(tmp_path, run):
    write(tmp_path, {"web.py": WEB, "other.py": WEB})
    os.chmod(tmp_path / "web.py", 0o444)
    code, _, err = fix(run)
    assert code == 2
    assert "web.py: not fixed: the file is read-only (mode 0444)" in err
    assert (tmp_path / "web.py").read_text() == WEB
    assert stat.S_IMODE(os.stat(tmp_path / "web.py").st_mode) == 0o444
    assert (tmp_path / "other.py").read_text() == WEB_FIXED


# -- 10: a failure costs its own file or finding ---------------------------------------------------
def test_a_directory_that_cannot_be_written_costs_only_its_file(tmp_path, run, monkeypatch):
    write(tmp_path, {"web.py": WEB, "locked/web.py": WEB})
    locked = tmp_path / "locked"
    if os.geteuid() == 0:
        # chmod does not stop root: the temporary file fails there as it would for anyone else.
        mkstemp = tempfile.mkstemp

        def denied_in_locked(*args, dir=None, **kwargs):
            if dir is not None and os.path.samefile(dir, locked):
                raise PermissionError(errno.EACCES, "Permission denied")
            return mkstemp(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", denied_in_locked)
    os.chmod(locked, 0o555)
    try:
        code, _, err = fix(run)
    finally:
        os.chmod(locked, 0o755)
    assert code == 2
    assert os.path.join("locked", "web.py") + ": not fixed: cannot write the file: Permission denied" in err
    assert fixed_lines(err) == ["fixed web.py"]
    assert (locked / "web.py").read_text() == WEB and names(locked) == ["web.py"]
    assert (tmp_path / "web.py").read_text() == WEB_FIXED


DEFAULT_AFTER = PATCH + textwrap.dedent("""\
    import gevent
    from db import get_dbc


    class Jobs:
        @get_dbc
        def start(self, dbc, user_id):
            gevent.spawn(self.write, user_id, dbc)

        def write(self, user_id, dbc=None):
            dbc.cursor().execute("...")
""")


def test_a_move_that_would_put_a_parameter_without_default_after_a_default_is_refused(tmp_path, run):
    # @get_dbc injects right after `self`: `dbc=None` would have to move before `user_id`.
    write(tmp_path, {"db.py": DB, "jobs.py": DEFAULT_AFTER, "web.py": WEB})
    code, _, err = fix(run)
    assert code == 1, err
    assert ("jobs.py:10:9: GEV201 not fixed: `Jobs.write` would need `dbc` moved, which puts a parameter "
            "without a default after one with a default") in err
    assert (tmp_path / "jobs.py").read_text() == DEFAULT_AFTER
    assert (tmp_path / "web.py").read_text() == WEB_FIXED


POSITIONAL_ONLY_DB = DB.replace("def wrapper(self, *args, **kwargs):", "def wrapper(*args, **kwargs):").replace(
    "return func(self, dbc, *args, **kwargs)", "return func(dbc, *args, **kwargs)")

POSITIONAL_ONLY = PATCH + textwrap.dedent("""\
    import gevent
    from db import get_dbc


    @get_dbc
    def start(dbc, /, user_id):
        gevent.spawn(write, dbc, user_id)


    def write(dbc, user_id):
        dbc.cursor().execute("...")
""")


def test_a_handle_that_was_the_only_positional_only_parameter_takes_the_slash_with_it(tmp_path, run):
    write(tmp_path, {"db.py": POSITIONAL_ONLY_DB, "jobs.py": POSITIONAL_ONLY})
    code, _, err = fix(run)
    assert code == 1, err
    fixed = (tmp_path / "jobs.py").read_text()
    assert "\ndef start(user_id):\n    gevent.spawn(write, user_id)\n" in fixed
    assert "@get_dbc\ndef write(dbc, user_id):\n" in fixed
    assert fix(run) == (0, [], "")


def test_a_fix_that_raises_is_refused_and_the_other_findings_are_still_fixed(tmp_path, run, monkeypatch):
    source = WEB + '\n\n@app.route("/b")\ndef other_view():\n    gevent.spawn(send, 2)\n    return ""\n'
    write(tmp_path, {"web.py": source, "db.py": DB, "jobs.py": SEED})
    failing_line = source.splitlines().index("    gevent.spawn(send, 2)") + 1
    codemod = CODEMODS["GEV203"]

    def fails_on_one(module, findings, options):
        if any(f.line == failing_line for f in findings):
            raise cst.CSTValidationError("a bug in a codemod")
        return codemod(module, findings, options)

    monkeypatch.setitem(CODEMODS, "GEV203", fails_on_one)
    code, _, err = fix(run)
    assert code == 1, err
    assert f"web.py:{failing_line}:5: GEV203 not fixed: the fix failed (CSTValidationError: a bug in a codemod)" in err
    fixed = (tmp_path / "web.py").read_text()
    assert "gevent.spawn(copy_current_request_context(send), 1)" in fixed and "gevent.spawn(send, 2)" in fixed
    assert (tmp_path / "jobs.py").read_text() == SEED_FIXED


# -- done when: the fixtures and a real code base ---------------------------------------------------
def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _with_fixable_findings(run) -> set[str]:
    _, out, _ = run("check", "--no-cache", "--exit-zero", ".")
    findings = [line.split(": ", 1) for line in out if ": GEV" in line]
    return {location.split(":")[0] for location, message in findings if message.split()[0] in CODEMODS}


def assert_fixed_safely(run, monkeypatch, root: Path) -> set[str]:
    """Run fix twice on `root`; the files the first run changed."""
    monkeypatch.chdir(root)
    fixable = _with_fixable_findings(run)
    before = _files(root)
    code, _, err = fix(run, ".")
    after = _files(root)
    assert code in (0, 1) and "internal error" not in err, err
    assert sorted(after) == sorted(before), "a file was made or lost"
    changed = {path for path in before if after[path] != before[path]}
    assert changed <= fixable
    for path in changed:
        ast.parse(after[path])
        cst.parse_module(after[path])
    assert fix(run, ".")[0] == 0
    assert _files(root) == after, "a second run changed something"
    return changed


def test_fix_on_the_bundled_fixtures_is_safe(tmp_path, run, monkeypatch):
    shutil.copytree(os.path.join(REPO, "fixtures"), tmp_path / "fixtures", symlinks=True)
    changed = assert_fixed_safely(run, monkeypatch, tmp_path / "fixtures")
    assert os.path.join("handles", "reports", "web.py") in changed and len(changed) >= 10


REAL = "pywb==2.8.3"  # a gevent web archive replayer; one write loop of its manager gets GEV302's fix


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::SyntaxWarning")  # its regexes' escapes
def test_fix_on_a_real_code_base_is_safe(tmp_path, run, monkeypatch):
    downloads = tmp_path / "downloads"
    done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                           "--dest", str(downloads), REAL], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.skip(f"cannot download {REAL} (no network?): {(done.stderr.strip().splitlines() or [''])[-1]}")
    (archive_path,) = downloads.iterdir()
    with tarfile.open(archive_path) as archive:
        archive.extractall(tmp_path / "source", filter="data")
    (root,) = (tmp_path / "source").iterdir()
    changed = assert_fixed_safely(run, monkeypatch, root)
    assert changed == {os.path.join("pywb", "manager", "manager.py")}
