"""`lintgevent verify`: the fixture run against a real gunicorn, --app on a small app of its own,
--events on a recording, the verdict rules, and that nothing it starts outlives it."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from conftest import HANGING_APP, REPO, live, wsgi_project
from markers import unmarked
from verify_fixture_fixed import generate

from lintgevent.findings import Finding
from lintgevent.runtime import verify_cli
from lintgevent.runtime.cases import fixture_directory, load_cases
from lintgevent.runtime.fixture_run import (ATTEMPTS, CONFIRMED, FIX_INEFFECTIVE, STATIC_MISS, UNPROVEN,
                                            CaseResult, VariantResult, judge, measure_steadily)
from lintgevent.runtime.live import Measurement, blame
from lintgevent.runtime.probe import Probe
from lintgevent.runtime.recording import local_file
from lintgevent.runtime.static_join import StaticFindings
from lintgevent.runtime.verify_arguments import parse_url_spec

DEADLINE = 240


def _lintgevent(*args, cwd, env=None, timeout=DEADLINE):
    return subprocess.run([sys.executable, "-m", "lintgevent", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def _lintgevent_stopped_if_hung(*args, cwd, env):
    """Run lintgevent.  One that hangs (still running after DEADLINE, a guard, not a measure) is
    stopped by SIGTERM, so that it cleans up what it started; its exit status and output are then
    what the test's assertions judge, as for any other run."""
    process = subprocess.Popen([sys.executable, "-m", "lintgevent", *args], cwd=cwd, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = process.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        process.terminate()
        out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _processes_under(directory) -> list[str]:
    """Processes whose working directory is below `directory`: the servers verify started there."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cwd.startswith(str(directory)) and "gunicorn" in command:
            found.append(f"{pid}: {command}")
    return found


# ----------------------------------------------------------------------------------------------
# The fixture run, for real


@pytest.mark.slow
@live
def test_every_case_of_the_fixture_is_confirmed_live(tmp_path):
    report = tmp_path / "verify.json"
    done = _lintgevent("verify", "--json", str(report), cwd=tmp_path,
                       env=dict(os.environ, TMPDIR=str(tmp_path)))
    data = json.loads(report.read_text())
    verdicts = {(c["rule"], c["title"]): c["verdict"] for c in data["cases"]}
    assert done.returncode == 0, done.stdout + done.stderr
    assert data["ok"] is True and set(verdicts.values()) == {CONFIRMED}
    _, cases = load_cases(fixture_directory())
    assert len(data["cases"]) == len([c for c in cases if not c.requires]) == 14
    every_rule = {c["rule"] for c in data["cases"] if not c["cooperative"]}
    assert every_rule == {"GEV101", "GEV102", "GEV103", "GEV104", "GEV105", "GEV201", "GEV202", "GEV203",
                          "GEV301", "GEV302", "GEV401"}
    for case in data["cases"]:
        bad = case["bad"]["measured"]
        assert set(bad) >= {"method", "url", "status", "max_stall_s", "lost_work", "worker_killed", "blamed"}
        if case["cooperative"]:
            assert case["bad"]["static"] == [] and bad["max_stall_s"] < data["threshold_s"]
        elif bad["lost_work"] is None:
            assert bad["max_stall_s"] >= data["threshold_s"], case
        else:
            assert bad["lost_work"] is True and all(f["measured"]["lost_work"] is False for f in case["fixed"])
        for fixed in case["fixed"]:
            assert fixed["static"] == [] and fixed["measured"]["max_stall_s"] < data["threshold_s"], case
    seed = next(c for c in data["cases"] if c["title"].startswith("seed 000: decorator"))
    assert "ProgrammingError: Cannot operate on a closed database." in seed["bad"]["measured"]["exceptions"]
    assert seed["fixed"][0]["measured"]["exceptions"] == []
    hang = next(c for c in data["cases"] if c["title"] == "os.popen('sleep 1'), subprocess not patched")
    assert hang["bad"]["measured"]["worker_killed"] is True, "gevent's deferred os.close: popen never returns"
    assert not any(c["bad"]["measured"]["worker_killed"] for c in data["cases"] if c is not hang)
    system = next(c for c in data["cases"] if c["title"] == "os.system('sleep 1')")
    assert system["bad"]["measured"]["blamed"][0]["file"] == "bad/gev102_system.py"
    assert system["bad"]["measured"]["blamed"][0]["line"] == system["bad"]["static"][0]["line"]
    assert "14 of 14 cases confirmed" in done.stdout and "static finding" in done.stdout
    assert "[1/14]" in done.stderr and "skipping 1 case(s) that need a server: --mysql-url" in done.stderr
    assert _processes_under(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir()] == ["verify.json"], "the work directory was left behind"


# ----------------------------------------------------------------------------------------------
# --app on an app that is not the fixture

SMALL_APP = """\
import gzip
import os

from flask import Flask

app = Flask(__name__)
DATA = os.urandom(1 << 20) * 20


@app.route("/report", methods=["POST"])
def report():
    os.system("sleep 0.6")
    return "ok"


@app.route("/archive")
def archive():
    return str(len(gzip.compress(DATA, 9)))


@app.route("/fine")
def fine():
    return "fine"
"""
SYSTEM_LINE, COMPRESS_LINE = 12, 18


@live
def test_app_mode_measures_each_url_and_blames_the_apps_own_lines(tmp_path):
    project = wsgi_project(tmp_path, "shop", SMALL_APP)
    (project / "gunicorn.conf.py").write_text('worker_class = "gevent"\n')
    report = tmp_path / "stalls.json"
    done = _lintgevent("verify", "--app", "wsgi:app", "--url", "POST /report", "--url", "/archive",
                       "--url", "GET /fine", "--json", str(report), cwd=project,
                       env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert done.returncode == 1, done.stdout + done.stderr
    data = json.loads(report.read_text())
    urls = {u["url"]: u for u in data["urls"]}
    assert set(urls) == {"/report", "/archive", "/fine"}
    assert all(u["status"] == 200 for u in urls.values())
    assert urls["/report"]["max_stall_s"] >= 0.3 and urls["/fine"]["max_stall_s"] < 0.3
    stalls = {(s["file"], s["line"]): s for s in data["stalls"]}
    assert stalls[("wsgi.py", SYSTEM_LINE)]["static"] == ["GEV102"]
    assert stalls[("wsgi.py", SYSTEM_LINE)]["url"] == "/report"
    # gzip.compress runs in the standard library: the stall is blamed on the app line that called it,
    # which the linter does not report
    assert stalls[("wsgi.py", COMPRESS_LINE)]["static"] == []
    assert all(set(s) >= {"file", "line", "max_stall_s", "url", "static"} for s in data["stalls"])
    assert {f for f, _ in stalls} == {"wsgi.py"}
    assert _processes_under(tmp_path) == []
    assert sorted(p.name for p in project.iterdir()) == ["gunicorn.conf.py", "setup.cfg", "wsgi.py"]


@live
def test_an_app_that_cannot_boot_is_a_clear_error_and_leaves_no_process(tmp_path):
    (tmp_path / "broken.py").write_text("raise RuntimeError('no database configured')\n")
    done = _lintgevent("verify", "--app", "broken:app", "--url", "/", cwd=tmp_path,
                       env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert done.returncode == 2
    assert "no database configured" in done.stderr and "Traceback (most recent call last)" in done.stderr
    assert _processes_under(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.py"]


UNANSWERED_APP = HANGING_APP.replace("import gevent\n", "import os\n\nimport gevent\n") + """

@app.route("/exit")
def exit_worker():
    os._exit(1)


@app.route("/fine")
def fine():
    return "fine"
"""


@live
@pytest.mark.slow
def test_a_request_that_does_not_complete_is_a_failure_with_its_own_verdict(tmp_path):
    project = wsgi_project(tmp_path, "site", UNANSWERED_APP)
    report = tmp_path / "answers.json"
    done = _lintgevent("verify", "--app", "wsgi:app", "--url", "/hang", "--url", "/exit", "--url", "/fine",
                       "--timeout", "1", "--json", str(report), cwd=project, env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert done.returncode == 1, done.stdout + done.stderr
    urls = {u["url"]: u for u in json.loads(report.read_text())["urls"]}
    assert (urls["/hang"]["status"], urls["/hang"]["verdict"]) == (0, "no response")
    assert urls["/hang"]["error"] == "no answer within 11 s"
    assert urls["/exit"]["verdict"] == "no response" and "exited with code 1" in urls["/exit"]["error"]
    assert (urls["/fine"]["verdict"], urls["/fine"]["error"]) == ("ok", None)
    assert any("/hang" in line and "no response: no answer within 11 s" in line for line in done.stdout.splitlines())
    assert _processes_under(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.json", "site"]


@live
@pytest.mark.parametrize("module, reason", [
    ("import sys\n\nsys.exit(1)\n", r"the worker died \d+ times while booting \(Worker \(pid:\d+\) exited with code 1"),
    pytest.param("import time\n\ntime.sleep(3600)\n", r"the app did not answer /__lintgevent_probe__ within 11 s: its import",
                 marks=pytest.mark.slow),
], ids=["exits", "hangs"])
def test_an_app_that_exits_or_hangs_at_import_stops_the_run_with_the_reason(tmp_path, module, reason):
    """verify gives up with exit 2 and says why: the boot that failed, or the import that hangs."""
    (tmp_path / "broken.py").write_text(module)
    done = _lintgevent_stopped_if_hung("verify", "--app", "broken:app", "--url", "/", "--timeout", "1",
                                       cwd=tmp_path, env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert done.returncode == 2, done.stderr
    assert re.search(reason, done.stderr), done.stderr
    assert _processes_under(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.py"]


def test_missing_gevent_or_gunicorn_says_what_to_install(run, monkeypatch):
    monkeypatch.setattr(verify_cli.importlib.util, "find_spec", lambda name: None)
    code, out, err = run("verify")
    assert code == 2 and "pip install 'lintgevent[runtime]'" in err


def test_url_specs():
    assert str(parse_url_spec("/a?b=1")) == "GET /a?b=1"
    spec = parse_url_spec('post /items {"name": "x y"}')
    assert (spec.method, spec.path, spec.body) == ("POST", "/items", b'{"name": "x y"}')
    with pytest.raises(Exception, match="METHOD"):
        parse_url_spec("items")


def test_mysql_url_needs_pymysql(run, monkeypatch):
    real_find_spec = verify_cli.importlib.util.find_spec
    monkeypatch.setattr(verify_cli.importlib.util, "find_spec",
                        lambda name: None if name == "pymysql" else real_find_spec(name))
    code, _, err = run("verify", "--mysql-url", "mysql://u:p@127.0.0.1/db")
    assert code == 2 and "pip install PyMySQL" in err


def test_url_without_app_and_app_without_url_are_usage_errors(run):
    code, _, err = run("verify", "--url", "/x")
    assert code == 2 and "--url needs --app" in err
    code, _, err = run("verify", "--app", "wsgi:app")
    assert code == 2 and "--app needs at least one --url" in err


def test_a_recording_that_cannot_be_read_is_an_error_and_writes_no_json(run, tmp_path):
    code, _, err = run("verify", "--events", str(tmp_path / "missing.jsonl"), "--json", str(tmp_path / "out.json"))
    assert code == 2 and "cannot read" in err and not (tmp_path / "out.json").exists()


# ----------------------------------------------------------------------------------------------
# --events: a staging recording joined with the findings

VIEWS = """\
import os

from flask import Flask

app = Flask(__name__)


@app.route("/rotate", methods=["POST"])
def rotate():
    os.system("logrotate /etc/app.conf")
    return "ok"


@app.route("/digest")
def digest():
    return str(sum(i * i for i in range(10**7)))
"""


def _event(file, line, function, when):
    library = {"file": "/usr/lib/python3/site-packages/gunicorn/workers/ggevent.py", "line": 1,
               "function": "handle", "app": False}
    here = {"file": file, "line": line, "function": function}
    return {"time": when, "pid": 7, "threshold": 0.1, "blamed": here, "stack": [library, dict(here, app=True)]}


def test_events_join_finds_seen_findings_and_missed_stalls(run, tmp_path):
    project = tmp_path / "site"
    (project / "app").mkdir(parents=True)
    (project / "setup.cfg").write_text("")
    (project / "gunicorn.conf.py").write_text('worker_class = "gevent"\n')
    (project / "app" / "__init__.py").write_text("")
    (project / "app" / "views.py").write_text(VIEWS)
    recording = tmp_path / "staging.jsonl"
    lines = [_event("/srv/site/app/views.py", 10, "rotate", 100.0 + i / 10) for i in range(5)]
    lines.append(_event("/srv/site/app/views.py", 16, "digest", 200.0))
    lines.append({"time": 300.0, "pid": 7, "threshold": 0.1, "blamed": None, "stack": []})
    recording.write_text("\n".join(json.dumps(e) for e in lines) + "\n{\"time\": 4")  # a line cut short
    report = tmp_path / "joined.json"
    code, out, _ = run("verify", "--events", str(recording), "--json", str(report), str(project))
    assert code == 1
    data = json.loads(report.read_text())
    stalls = {(os.path.basename(s["file"]), s["line"]): s for s in data["stalls"]}
    assert stalls[("views.py", 10)]["static"] == ["GEV102"] and stalls[("views.py", 10)]["events"] == 5
    assert stalls[("views.py", 16)]["static"] == []
    assert (data["events"], data["unblamed_events"], data["missed"], data["findings_seen"]) == (7, 1, 1, 1)
    assert any("MISSED" in line and "views.py:16" in line for line in out)


def test_a_recorded_path_is_matched_to_the_local_file_with_the_longest_common_tail():
    local = ["/home/me/site/app/views.py", "/home/me/site/admin/views.py", "/home/me/site/app/models.py"]
    assert local_file("/srv/site/admin/views.py", local) == "/home/me/site/admin/views.py"
    assert local_file("/srv/other/app/views.py", local) == "/home/me/site/app/views.py"
    assert local_file("/srv/site/app/urls.py", local) is None


# ----------------------------------------------------------------------------------------------
# Verdicts and blame, from made-up measurements


def _measured(stall=0.0, lost=None, blamed=None):
    return Measurement("GET", "/run", 200, stall, blamed or {}, lost)


def _finding(line, code="GEV102"):
    return Finding("/app/bad.py", line, 4, code, f"{code} ...")


def _judged(bad_static, bad, fixed=(), cooperative=False, others=()):
    from lintgevent.runtime.cases import Case, Variant

    case = Case("GEV102", "case", "patched", Variant("bad.py", "/run"), cooperative=cooperative)
    result = CaseResult(case, VariantResult(case.bad, bad_static, bad),
                        [VariantResult(Variant("fixed.py", "/f"), static, m) for static, m in fixed])
    judge(result, StaticFindings([*bad_static, *others]), threshold=0.3)
    return result.verdict


def test_verdicts():
    flagged = [_finding(11)]
    at_flagged_line = {("/app/bad.py", 11): 1.0}
    assert _judged(flagged, _measured(1.0, blamed=at_flagged_line)) == CONFIRMED
    assert _judged(flagged, _measured(0.01)) == UNPROVEN
    assert _judged([], _measured(0.01)) == UNPROVEN
    assert _judged([], _measured(0.01), cooperative=True) == CONFIRMED
    assert _judged([], _measured(1.0, blamed=at_flagged_line)) == STATIC_MISS
    assert _judged(flagged, _measured(1.0, blamed={("/app/bad.py", 30): 1.0})) == STATIC_MISS
    assert _judged(flagged, _measured(1.0, blamed={("/app/bad.py", 30): 1.0}),
                   others=[_finding(1, "GEV401")]) == CONFIRMED, "a late patch_all explains its module's stalls"
    assert _judged(flagged, _measured(1.0, blamed=at_flagged_line), fixed=[([], _measured(0.02))]) == CONFIRMED
    assert _judged(flagged, _measured(1.0, blamed=at_flagged_line), fixed=[([], _measured(0.9))]) == FIX_INEFFECTIVE
    assert _judged(flagged, _measured(lost=True), fixed=[([], _measured(lost=True))]) == FIX_INEFFECTIVE
    assert _judged(flagged, _measured(lost=False)) == UNPROVEN
    not_answering = Measurement("GET", "/f", 0, 0.01, error="no answer within 20 s")
    assert _judged(flagged, _measured(1.0, blamed=at_flagged_line), fixed=[([], not_answering)]) == FIX_INEFFECTIVE
    failing = Measurement("GET", "/f", 500, 0.01)
    assert _judged(flagged, _measured(1.0, blamed=at_flagged_line), fixed=[([], failing)]) == FIX_INEFFECTIVE
    opened = Finding("/app/bad.py", 28, 9, "GEV101", "GEV101 `gzip.open`, then `f.read` at line 29, ...", lines=(29,))
    at_the_read = {("/app/bad.py", 29): 1.0}
    assert _judged([opened], _measured(1.0, blamed=at_the_read)) == CONFIRMED, "the open's finding names the read"
    assert _judged([_finding(28, "GEV101")], _measured(1.0, blamed=at_the_read)) == STATIC_MISS


class _ScriptedApp:
    """Answers measure() with the stalls it is given, in turn."""

    def __init__(self, *stalls):
        self.stalls, self.calls = list(stalls), 0

    def measure(self, method, url, done="", timeout=0):
        self.calls += 1
        return _measured(self.stalls.pop(0))


def test_a_measurement_that_disagrees_with_its_version_is_taken_again():
    from lintgevent.runtime.cases import Variant

    fixed = Variant("fixed.py", "/f")
    hiccup = _ScriptedApp(0.31, 0.02)  # a busy machine delayed one probe
    assert measure_steadily(hiccup, "GET", fixed, should_harm=False, threshold=0.3).stall == 0.02
    assert hiccup.calls == 2
    still_stalls = _ScriptedApp(*[0.9] * ATTEMPTS)
    assert measure_steadily(still_stalls, "GET", fixed, should_harm=False, threshold=0.3).stall == 0.9
    assert still_stalls.calls == ATTEMPTS, "a fix that stalls every time is judged ineffective"
    blocking = _ScriptedApp(1.0, 0.0)
    assert measure_steadily(blocking, "GET", fixed, should_harm=True, threshold=0.3).stall == 1.0
    assert blocking.calls == 1, "a measurement that shows what it should is taken once"


def test_a_stall_is_blamed_on_the_lines_the_monitor_saw_while_a_slow_probe_waited():
    probes = [Probe(10.0, 10.002), Probe(10.01, 11.2), Probe(11.21, 11.212), Probe(12.0, 12.5)]
    events = [{"time": 10.2, "blamed": {"file": "a.py", "line": 3}},
              {"time": 10.3, "blamed": None},
              {"time": 12.1, "blamed": {"file": "a.py", "line": 9}},
              {"time": 15.0, "blamed": {"file": "a.py", "line": 20}}]
    assert blame(probes, events, threshold=0.3) == {("a.py", 3): pytest.approx(1.19), ("a.py", 9): 0.5}


# ----------------------------------------------------------------------------------------------
# The fixture itself


def test_the_fixed_modules_are_what_lintgevent_fix_makes_of_the_bad_ones():
    fixture = os.path.join(REPO, "fixtures", "verify_app")
    for relative, text in generate(fixture).items():
        with open(os.path.join(fixture, relative), encoding="utf-8") as handle:
            committed = handle.read()
        assert unmarked(committed) == unmarked(text), f"{relative} is stale: python tests/verify_fixture_fixed.py"
        assert committed == text, f"{relative}: its markers are stale: python tests/verify_fixture_fixed.py"


def test_every_case_names_files_and_urls_that_exist():
    fixture = fixture_directory()
    deployments, cases = load_cases(fixture)
    for case in cases:
        for variant in (case.bad, *case.fixed):
            assert os.path.isfile(os.path.join(fixture, case.deployment, variant.file)), variant
            module = variant.file.removesuffix(".py")
            if "/" in module:  # modules of bad/ and fixed/ are served under their own name
                assert variant.url.startswith(f"/{module}/"), variant
    for deployment in deployments:
        for name in ("app.py", "gunicorn.conf.py"):
            assert os.path.isfile(os.path.join(fixture, deployment, name))


def test_gunicorns_heartbeat_files_go_in_the_work_directory(tmp_path):
    from lintgevent.runtime.server import gunicorn_command

    command = gunicorn_command("app:app", "gunicorn.conf.py", 5, [], str(tmp_path))
    assert command[command.index("--worker-tmp-dir") + 1] == str(tmp_path), \
        "a worker killed at boot would leave its wgunicorn-* file in $TMPDIR"
