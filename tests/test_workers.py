"""Summaries in worker processes: the same results whatever the number of workers, the cache they
fill, the `jobs` setting, and workers that never outlive the command."""
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import wait_for
from store import mark_used, stored
from test_cli import write

from lintgevent import cache as cache_module, workers
from lintgevent.config import load_config
from lintgevent.engine import analyse_project

VIEW = """\
from gevent import monkey
monkey.patch_all()
import os
from flask import Flask
from helpers_{n} import save_{n}

app = Flask(__name__)


@app.route("/{n}")
def view_{n}():
    save_{n}("/srv/{n}")
    os.system("true")
    return "ok"
"""
HELPER = """\
def save_{n}(path):
    with open(path, "w") as fh:
        fh.write("x")
"""


def many_files(root, count: int) -> None:
    files = {}
    for n in range(count):
        files[f"view_{n}.py"] = VIEW.format(n=n)
        files[f"helpers_{n}.py"] = HELPER.format(n=n)
    files["broken.py"] = "def broken(:\n"
    write(root, files)


def outcome(root, jobs, use_cache=False):
    result = analyse_project(str(root), load_config(str(root), {"jobs": jobs}), use_cache=use_cache)
    return result.findings, result.errors


def test_the_findings_and_errors_do_not_depend_on_the_number_of_workers(tmp_path, monkeypatch):
    many_files(tmp_path, 20)
    monkeypatch.setattr(workers, "MIN_ITEMS_PER_WORKER", 4)
    assert workers.worker_count(3, 41) == 3 and workers.worker_count(3, 5) == 1
    alone = outcome(tmp_path, 1)
    assert len(alone[0]) == 40 and [e.path for e in alone[1]] == [str(tmp_path / "broken.py")]
    assert outcome(tmp_path, 2) == outcome(tmp_path, 3) == outcome(tmp_path, "auto") == alone


def test_the_entries_workers_write_are_read_by_the_next_run(tmp_path, monkeypatch):
    monkeypatch.setenv("LINTGEVENT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(workers, "MIN_ITEMS_PER_WORKER", 4)
    project = tmp_path / "project"
    project.mkdir()
    many_files(project, 20)
    first = outcome(project, 2, use_cache=True)
    assert len(stored(tmp_path / "cache", "summary")) == 40, "one per file that parses, encoded by the workers"
    (project / "extra.py").write_text("x = 1\n")  # the run's results change; the summaries are hits
    mark_used(tmp_path / "cache", 0)
    assert outcome(project, 2, use_cache=True) == first
    assert all(used > 0 for _, used in stored(tmp_path / "cache", "summary").values()), "each summary was read"


def test_a_first_run_writes_its_entries_as_they_come_not_all_at_the_end(tmp_path, monkeypatch):
    """A first run on millions of lines must not hold every encoded summary until it ends: the
    store is written once SAVE_EVERY bytes wait, while the workers go on."""
    monkeypatch.setenv("LINTGEVENT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(workers, "MIN_ITEMS_PER_WORKER", 4)
    monkeypatch.setattr(cache_module, "SAVE_EVERY", 1)
    saved_while_summarising = []
    real_put = cache_module.Cache.put_encoded

    def put_encoded(self, kind, key, payload):
        saved_while_summarising.append(len(stored(tmp_path / "cache", "summary")))
        real_put(self, kind, key, payload)
        assert not self._pending, "nothing waits once SAVE_EVERY bytes were put"

    monkeypatch.setattr(cache_module.Cache, "put_encoded", put_encoded)
    project = tmp_path / "project"
    project.mkdir()
    many_files(project, 20)
    first = outcome(project, 2, use_cache=True)
    assert 20 in saved_while_summarising, "half the summaries were in the store while the rest came"
    assert outcome(project, 2, use_cache=True) == first == outcome(project, 1)


def test_a_reader_that_stops_early_ends_the_workers():
    results = workers.ordered_map(abs, [-n for n in range(400)], 2)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    assert multiprocessing.active_children()
    results.close()
    assert not multiprocessing.active_children()


def test_a_worker_inside_a_daemonic_process_runs_in_process(monkeypatch):
    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True, raising=False)
    assert workers.worker_count("auto", 10_000) == 1


@pytest.mark.parametrize("value, problem", [
    ("0", "must be a positive number of processes or \"auto\", not 0"),
    ('"many"', "must be a positive number of processes or \"auto\", not 'many'"),
])
def test_a_bad_jobs_setting_names_the_file_and_option_and_exits_2(tmp_path, value, problem):
    write(tmp_path, {"app.py": "x = 1\n"}, f"[project]\nname = 'demo'\n\n[tool.lintgevent]\njobs = {value}\n")
    done = subprocess.run([sys.executable, "-m", "lintgevent", "check", "."], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == f"lintgevent: error: pyproject.toml [tool.lintgevent]: `jobs`: {problem}\n"
    done = subprocess.run([sys.executable, "-m", "lintgevent", "check", "--jobs", "none", "."], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "argument -j/--jobs: must be a positive number" in done.stderr


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT,
                                    pytest.param(signal.SIGKILL, marks=pytest.mark.slow)])
def test_no_worker_outlives_the_command_whatever_signal_ends_it(tmp_path, signum):
    many_files(tmp_path, 1500)
    command = subprocess.Popen([sys.executable, "-m", "lintgevent", "check", "--no-cache", "--jobs", "2", "."],
                               cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        wait_for(lambda: command.poll() is not None or _children(command.pid), "the workers starting", 60)
        assert command.poll() is None, "the command ended before its workers started"
        time.sleep(0.2)
        os.kill(command.pid, signum)
        _, err = command.communicate(timeout=60)
        assert "Traceback" not in err
        if signum == signal.SIGINT:
            assert command.returncode == 130
        wait_for(lambda: not _group_alive(command.pid), "every worker ending with the command", 10)
    finally:
        if _group_alive(command.pid):
            os.killpg(command.pid, signal.SIGKILL)
