"""The pre-commit hooks of .pre-commit-hooks.yaml, run by the real `pre-commit try-repo` against a
temporary git repository: the check hook fails on a finding that only the whole-project index can
see, and the fix hook rewrites a file."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

pytest.importorskip("pre_commit")

HELPERS = """\
import os


def rotate_logs():
    os.system("logrotate /etc/app.conf")
"""
VIEWS = """\
from gevent import monkey; monkey.patch_all()
from flask import Flask, request
import gevent

from helpers import rotate_logs

app = Flask(__name__)


def track(name):
    print(name, request.referrer)


@app.route("/rotate", methods=["POST"])
def rotate():
    rotate_logs()
    gevent.spawn(track, "rotate")
    return "ok"
"""


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
                            GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com"))


def _try_repo(project: Path, home: Path, hook: str, *files: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", REPO, hook, "--files", *files],
                          cwd=project, capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, PRE_COMMIT_HOME=str(home), PIP_DISABLE_PIP_VERSION_CHECK="1"))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_hooks_fail_on_a_finding_and_fix_a_file(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    (project / "helpers.py").write_text(HELPERS)
    (project / "views.py").write_text(VIEWS)
    _git(project, "init", "-q")
    _git(project, "add", ".")
    _git(project, "commit", "-qm", "start")
    home = tmp_path / "pre-commit-home"

    # Only the helper is passed, as when only it changed: its call is on a request path through views.py.
    checked = _try_repo(project, home, "lintgevent", "helpers.py")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "helpers.py:5:5: GEV102" in checked.stdout
    assert "views.py" not in checked.stdout.split("Failed")[-1]

    fixed = _try_repo(project, home, "lintgevent-fix", "views.py")
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert "files were modified by this hook" in fixed.stdout
    assert "copy_current_request_context(track)" in (project / "views.py").read_text()
