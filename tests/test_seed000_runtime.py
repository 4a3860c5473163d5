"""Run the incident of seed 000 with gevent and sqlite3, before and after `lintgevent fix`.

A decorator opens a sqlite3 connection, hands it to the decorated method and
closes it when the method returns. The method passes the connection to a
greenlet and returns at once, so the greenlet runs on a closed handle: sqlite3
raises `Cannot operate on a closed database.` inside it and the write is lost.
The fix moves the decorator onto the spawned method and stops passing the handle.
"""
import os
import re
import shutil
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs", "seed000_sqlite.py")
CLOSED = "Cannot operate on a closed database"
TIMEOUT = 30


def _copy(tmp_path):
    copy = tmp_path / "seed000_sqlite.py"
    shutil.copyfile(SCRIPT, copy)
    return copy


def _run(script, db):
    return subprocess.run(
        [sys.executable, str(script), str(db)],
        cwd=str(script.parent),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def _rows(stdout):
    match = re.search(r"^rows (\d+)$", stdout, re.MULTILINE)
    assert match, stdout
    return int(match.group(1))


def test_original_loses_the_write(tmp_path):
    copy = _copy(tmp_path)
    proc = _run(copy, tmp_path / "assign.sqlite")
    assert proc.returncode == 0, proc.stderr
    assert CLOSED in proc.stderr
    assert _rows(proc.stdout) == 0


def test_fixed_version_writes(tmp_path):
    copy = _copy(tmp_path)
    fix = subprocess.run(
        [sys.executable, "-m", "lintgevent", "fix", str(copy)],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert fix.returncode == 1, fix.stdout + fix.stderr

    source = copy.read_text()
    assert "def assign_user_to_exp(self, dbc" not in source
    lines = source.splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("def async_assign_user_to_exp("))
    assert lines[index - 1].strip() == "@get_dbc", source

    proc = _run(copy, tmp_path / "assign.sqlite")
    assert proc.returncode == 0, proc.stderr
    assert CLOSED not in proc.stderr
    assert _rows(proc.stdout) == 1
