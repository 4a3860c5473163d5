"""The flake8 front end: real flake8 runs with noqa, select/ignore, config files, -j and the cache."""
import os
import subprocess
import sys
import textwrap

import pytest
from store import stored

APP = """\
from gevent import monkey
monkey.patch_all()
import os
from flask import Flask
from helpers import save

app = Flask(__name__)


@app.route("/a")
def a():
    save("x")
    os.system("ls")  # noqa: GEV102
    open("y")  # noqa
    return "ok"


def nightly():
    open("z")
"""
HELPERS = """\
def save(data):
    with open("/srv/out", "w") as fh:
        fh.write(data)
    log = open("/srv/log", "a")  # noqa:GEV1
    log.write(data)
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = demo\n")
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "helpers.py").write_text(HELPERS)
    return tmp_path


def flake8(cwd, *args):
    done = subprocess.run([sys.executable, "-m", "flake8", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, sorted(done.stdout.splitlines())


def test_cross_module_finding_through_flake8_with_noqa(project):
    code, lines = flake8(project, "--select", "GEV", ".")
    assert code == 1
    assert lines == ["./helpers.py:2:10: GEV101 blocking file IO `open`, then `fh.write` at line 3, on a request "
                     "path (route GET /a -> save); offload the open and these calls together, in one function run by gevent's threadpool [medium]"]


def test_select_ignore_and_extend_select(project):
    assert flake8(project, "--select", "GEV", "--ignore", "GEV101", ".") == (0, [])
    assert flake8(project, "--select", "GEV102", ".") == (0, [])
    code, lines = flake8(project, "--select", "E999", "--extend-select", "GEV1", ".")
    assert code == 1 and len(lines) == 1 and "GEV101" in lines[0]


def test_options_from_a_flake8_config_file_and_parallel_jobs(project):
    (project / "tox.ini").write_text(textwrap.dedent("""\
        [flake8]
        select = GEV
        lintgevent-entry-points = app.nightly
        """))
    code, lines = flake8(project, "-j", "2", ".")
    assert code == 1
    assert [line.split(": ")[0] for line in lines] == ["./app.py:19:5", "./helpers.py:2:10"]
    assert "(entry point app.nightly)" in lines[0]
    (project / "tox.ini").write_text("[flake8]\nselect = GEV\nlintgevent-deployment = none\n")
    assert flake8(project, ".") == (0, [])


def test_the_cache_is_shared_and_ignorable(project, cache_dir):
    assert os.environ["LINTGEVENT_CACHE_DIR"] == str(cache_dir)
    first = flake8(project, "--select", "GEV", "-j", "2", ".")
    assert first[0] == 1
    assert (cache_dir / "CACHEDIR.TAG").exists()
    assert len((cache_dir / "key").read_bytes()) == 32, "one key, whichever worker made it"
    kinds = sorted(kind for kind, _ in stored(cache_dir))
    assert kinds == ["lines", "lines", "results", "snapshot", "summary", "summary"], \
        "a summary and line digests per file, one result and one snapshot, the same for both workers"
    assert not (project / ".lintgevent_cache").exists()
    assert flake8(project, "--select", "GEV", "-j", "2", ".") == first
    (project / "helpers.py").write_text(HELPERS.replace("/srv/out", "/srv/other"))
    assert flake8(project, "--select", "GEV", ".") == first, "same findings after an edit that changes no line"
    (project / "helpers.py").write_text("def save(data):\n    return data\n")
    assert flake8(project, "--select", "GEV", ".") == (0, []), "an edit must invalidate the cached results"


def test_min_severity_through_flake8_agrees_with_check(project):
    code, lines = flake8(project, "--select", "GEV", "--lintgevent-min-severity", "high", ".")
    assert (code, lines) == (0, []), "the one finding is medium"
    (project / "setup.cfg").write_text("[metadata]\nname = demo\n\n[flake8]\nlintgevent-min-severity = medium\n")
    code, lines = flake8(project, "--select", "GEV", ".")
    assert code == 1 and [line.rsplit(" ", 1)[1] for line in lines] == ["[medium]"]
