import os
import sys
import time

import pytest

from lintgevent import cli
from lintgevent.runtime.verify_cli import missing_runtime

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def wait_for(found, what: str, seconds: float = 30, details=lambda: ""):
    """Poll `found()` every 0.1 s until it gives something; the bound only stops a broken run hanging."""
    for _ in range(int(seconds * 10)):
        result = found()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what} never happened\n{details()}")


def live(test):
    """A test that starts a real gunicorn: `-m 'not live'` leaves it out, and it is skipped where
    gevent, gunicorn or flask is not installed."""
    missing = missing_runtime()
    skip = pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)}")
    return pytest.mark.live(skip(test))


@pytest.fixture(autouse=True)
def cache_dir(monkeypatch, tmp_path_factory):
    """Every test gets its own, empty cache store (subprocesses inherit it): nothing is read from or
    written to the user's cache."""
    directory = tmp_path_factory.mktemp("lintgevent-cache")
    monkeypatch.setenv("LINTGEVENT_CACHE_DIR", str(directory))
    monkeypatch.delenv("LINTGEVENT_CACHE_MAX_MB", raising=False)
    return directory


@pytest.fixture
def run(capsys, monkeypatch, tmp_path):
    """Run `lintgevent ARGS...` in-process from tmp_path: (exit code, stdout lines, stderr)."""
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> tuple[int, list[str], str]:
        capsys.readouterr()
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        return code, out.splitlines(), err

    return invoke


HANGING_APP = """\
import gevent
from flask import Flask

app = Flask(__name__)


@app.route("/hang")
def hang():
    gevent.sleep(3600)
    return "never"
"""


def wsgi_project(root, name: str, app_source: str):
    """A project of one module, wsgi.py, for `lintgevent verify --app wsgi:app` runs."""
    project = root / name
    project.mkdir()
    (project / "setup.cfg").write_text("")
    (project / "wsgi.py").write_text(app_source)
    return project

