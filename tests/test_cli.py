"""The `lintgevent` command line: `check` (formats, exit codes, selection, noqa, config, cache),
`rules`, `explain` and `--version`.

Every test builds its own small project under tmp_path; `check` runs in-process through
`lintgevent.cli.main` with the project as the working directory, and a few runs go through a real
`python -m lintgevent` process to see what a user sees on stderr.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import lintgevent
from lintgevent import analysis, cli, relocation, summarising
from lintgevent.rules import RULES
from sample_app import READ_APP, read_app_finding
from store import put_entry, signed, stored

REPO = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<code>GEV\d{3}) (?P<message>.+) "
                  r"\[(?P<severity>low|medium|high)\]$")

APP = READ_APP
APP_FINDING = read_app_finding("app.py")

CLEAN_APP = """\
from gevent import monkey; monkey.patch_all()
from flask import Flask

app = Flask(__name__)


@app.route("/hello")
def hello():
    return "hello"
"""

# One request path with four blocking calls of different rules (time.sleep only blocks unpatched).
MIXED = """\
from gevent import monkey; monkey.patch_all()
import fcntl
import os
import time
from flask import Flask

app = Flask(__name__)


@app.route("/mixed", methods=["POST"])
def mixed():
    os.system("true")
    time.sleep(1)
    fcntl.flock(3, fcntl.LOCK_EX)
    return open("x.txt")
"""
MIXED_LINES = {"GEV102": 12, "GEV104": 13, "GEV105": 14, "GEV101": 15}

SEED_VIEWS = """\
from gevent import monkey
monkey.patch_all()

from flask import Flask, request

from app.gen_op import CodeGenerator

app = Flask(__name__)


@app.route("/cdkey_mana", methods=["POST"])
def cdkey_mana():
    CodeGenerator().generate(request.form["game"])
    return "ok"
"""
SEED_GEN_OP = """\
import gzip


class CodeGenerator:
    def generate(self, game):
        path = "/data/%s.gz" % game
        write_sn_file(path, b"codes")


def write_sn_file(path, data):
    with gzip.open(path, "wb") as f:
        f.write(data)
"""
SEED_CHAIN = "route POST /cdkey_mana -> CodeGenerator.generate -> write_sn_file"
SEED_MESSAGE = (f"GEV101 blocking file IO `gzip.open`, then `f.write` at line 12, on a request path ({SEED_CHAIN}); "
                "offload the open and these calls together, in one function run by gevent's threadpool")
SEED_LINE = f"{os.path.join('app', 'gen_op.py')}:11:10: {SEED_MESSAGE} [high]"


def write(root: Path, files: dict[str, str], pyproject: str = "[project]\nname = 'demo'\n") -> Path:
    (root / "pyproject.toml").write_text(pyproject)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def seed_project(root: Path) -> Path:
    return write(root, {"app/__init__.py": "", "app/views.py": SEED_VIEWS, "app/gen_op.py": SEED_GEN_OP})


def check(run, *args: str) -> tuple[int, list[str], str]:
    return run("check", "--no-cache", *args)


def codes(lines: list[str]) -> set[str]:
    found = set()
    for line in lines:
        match = LINE.match(line)
        assert match, f"not a finding line: {line!r}"
        found.add(match["code"])
    return found


def run_process(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lintgevent", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


# -- exit codes and output formats -------------------------------------------------------------

def test_clean_project_exits_0_and_prints_nothing(tmp_path, run):
    write(tmp_path, {"app.py": CLEAN_APP})
    code, out, err = check(run)
    assert (code, out, err) == (0, [], "")


def test_findings_exit_1_in_text_format_with_1_based_columns(tmp_path, run):
    write(tmp_path, {"app.py": APP})
    code, out, err = check(run)
    assert code == 1
    assert err == ""
    assert out == [APP_FINDING]
    match = LINE.match(out[0])
    # `    data = open(...)`: the call starts at 0-based column 11, printed 1-based.
    assert (match["path"], int(match["line"]), int(match["col"]), match["code"]) == ("app.py", 9, 12, "GEV101")
    assert match["message"].startswith("blocking file IO `open`")


def test_check_defaults_to_the_current_directory_and_takes_explicit_paths(tmp_path, run):
    write(tmp_path, {"app.py": APP})
    assert check(run)[1] == check(run, ".")[1] == check(run, "app.py")[1] == [APP_FINDING]
    assert check(run, str(tmp_path / "app.py"))[1] == [APP_FINDING]


def test_nonexistent_path_exits_2(tmp_path, run):
    write(tmp_path, {"app.py": APP})
    code, out, err = check(run, "missing.py")
    assert code == 2
    assert out == []
    assert "no such file or directory: missing.py" in err
    # A missing path among good ones is still a usage error, not a partial run.
    code, out, err = check(run, "app.py", "missing_dir")
    assert code == 2
    assert "missing_dir" in err


@pytest.mark.parametrize(("table", "named"), [
    ('colour = "red"', "colour"),
    ('deployment = "bogus"', "deployment"),
    ('select = "GEV101"', "select"),
    ('unpatched = ["sockets"]', "unpatched"),
    ("max-file-size = 0", "max-file-size"),
    ("select = [", "pyproject.toml"),  # not TOML at all
], ids=["unknown-key", "bad-deployment", "select-not-a-list", "unknown-module", "bad-size", "bad-toml"])
def test_bad_config_exits_2_and_names_the_problem(tmp_path, run, table, named):
    write(tmp_path, {"app.py": APP}, pyproject=f"[tool.lintgevent]\n{table}\n")
    code, out, err = check(run)
    assert code == 2
    assert out == []
    assert err.startswith("lintgevent: error: ")
    assert named in err
    assert len(err.strip().splitlines()) == 1


def test_bad_option_value_is_a_usage_error(tmp_path, run):
    write(tmp_path, {"app.py": APP})
    with pytest.raises(SystemExit) as exit_info:
        check(run, "--deployment", "bogus")
    assert exit_info.value.code == 2


def test_json_format(tmp_path, run):
    write(tmp_path, {"app.py": MIXED})
    code, out, err = check(run, "--format", "json")
    assert code == 1
    assert err == ""
    report = json.loads("\n".join(out))
    assert set(report) == {"findings", "errors", "notices"}
    assert report["errors"] == [] and report["notices"] == []
    data = report["findings"]
    assert len(data) == 3
    for item in data:
        assert set(item) == {"path", "line", "col", "code", "message", "chain", "severity", "lines"}
        assert item["path"] == "app.py"
        assert item["message"].startswith(item["code"] + " ")
        assert item["chain"] == "route POST /mixed"
        assert f"({item['chain']})" in item["message"]
    assert {(d["code"], d["line"]) for d in data} == {(c, MIXED_LINES[c]) for c in ("GEV101", "GEV102", "GEV105")}
    # Same findings, same 1-based columns as the text format.
    _, text, _ = check(run)
    assert [(d["path"], d["line"], d["col"], d["message"], d["severity"]) for d in data] == [
        (m["path"], int(m["line"]), int(m["col"]), f"{m['code']} {m['message']}", m["severity"])
        for m in map(LINE.match, text)]


def test_json_format_of_a_clean_project_has_empty_lists(tmp_path, run):
    write(tmp_path, {"app.py": CLEAN_APP})
    code, out, _ = check(run, "--format", "json")
    assert code == 0
    assert json.loads("\n".join(out)) == {"findings": [], "errors": [], "notices": []}


# -- selecting codes -------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "expected"), [
    ([], {"GEV101", "GEV102", "GEV105"}),
    (["--select", "GEV101"], {"GEV101"}),
    (["--select", "GEV10"], {"GEV101", "GEV102", "GEV105"}),
    (["--select", "GEV1"], {"GEV101", "GEV102", "GEV105"}),
    (["--select", "gev102,GEV105"], {"GEV102", "GEV105"}),
    (["--select", "GEV4"], set()),
    (["--ignore", "GEV101"], {"GEV102", "GEV105"}),
    (["--ignore", "GEV10"], set()),
    (["--select", "GEV10", "--ignore", "GEV101"], {"GEV102", "GEV105"}),
    # The longest matching prefix wins, whichever list it is in.
    (["--select", "GEV101", "--ignore", "GEV1"], {"GEV101"}),
    (["--select", "GEV1", "--ignore", "GEV105"], {"GEV101", "GEV102"}),
    (["--select", "GEV102", "--extend-select", "GEV105"], {"GEV102", "GEV105"}),
    (["--select", "GEV4", "--extend-select", "GEV10"], {"GEV101", "GEV102", "GEV105"}),
])
def test_select_ignore_and_extend_select_use_prefixes(tmp_path, run, args, expected):
    write(tmp_path, {"app.py": MIXED})
    code, out, _ = check(run, *args)
    assert codes(out) == expected
    assert code == (1 if expected else 0)


def test_config_select_and_ignore(tmp_path, run):
    write(tmp_path, {"app.py": MIXED}, pyproject='[tool.lintgevent]\nselect = ["GEV10"]\nignore = ["GEV102"]\n')
    assert codes(check(run)[1]) == {"GEV101", "GEV105"}
    # --select replaces the configured select, --ignore the configured ignore...
    assert codes(check(run, "--select", "GEV105")[1]) == {"GEV105"}
    assert codes(check(run, "--ignore", "GEV105")[1]) == {"GEV101", "GEV102"}
    # ...and --extend-select adds to the configured select.
    write(tmp_path, {"app.py": MIXED}, pyproject='[tool.lintgevent]\nselect = ["GEV105"]\n')
    assert codes(check(run)[1]) == {"GEV105"}
    assert codes(check(run, "--extend-select", "GEV101")[1]) == {"GEV101", "GEV105"}


# -- noqa ------------------------------------------------------------------------------------

NOQA_APP = """\
from gevent import monkey; monkey.patch_all()
from flask import Flask

app = Flask(__name__)


@app.route("/a")
def a():
    return open("a.txt")  # noqa


@app.route("/b")
def b():
    return open("b.txt")  # noqa: GEV101


@app.route("/c")
def c():
    return open("c.txt")  # NOQA:GEV102,GEV101


@app.route("/d")
def d():
    return open("d.txt")  # noqa: GEV1


@app.route("/e")
def e():
    return open("e.txt")
"""


def test_noqa_comments_hide_their_codes(tmp_path, run):
    write(tmp_path, {"app.py": NOQA_APP})
    code, out, _ = check(run)
    assert code == 1
    # a: bare noqa, b: the code, c: a list holding it, d: a prefix of it; e has none.
    assert [(int(m["line"]), m["code"]) for m in map(LINE.match, out)] == [(29, "GEV101")]


@pytest.mark.parametrize("comment", ["# noqa: GEV102", "# noqa:GEV102", "# noqa: GEV102,GEV105", "# noqa: GEV4"])
def test_noqa_naming_other_codes_does_not_hide_a_finding(tmp_path, run, comment):
    write(tmp_path, {"app.py": APP.replace('open("data.txt")', f'open("data.txt")  {comment}')})
    code, out, _ = check(run)
    assert code == 1
    assert out == [APP_FINDING]


def test_noqa_hiding_every_finding_gives_exit_0(tmp_path, run):
    write(tmp_path, {"app.py": APP.replace('open("data.txt")', 'open("data.txt")  # noqa: GEV101')})
    assert check(run) == (0, [], "")


# -- configuration: entry points and deployment ----------------------------------------------

JOBS = """\
from gevent import monkey; monkey.patch_all()


def nightly_export():
    return open("export.csv", "w")


def nightly_cleanup():
    return helper()


def helper():
    return open("cleanup.log", "a")


def other():
    return open("other.csv")
"""


def test_plain_functions_are_not_entry_points(tmp_path, run):
    write(tmp_path, {"jobs.py": JOBS})
    assert check(run) == (0, [], "")


def test_config_entry_points_glob(tmp_path, run):
    write(tmp_path, {"jobs.py": JOBS}, pyproject='[tool.lintgevent]\nentry-points = ["jobs.nightly_*"]\n')
    code, out, _ = check(run)
    assert code == 1
    assert out == [
        "jobs.py:5:12: GEV101 blocking file IO `open` on a request path (entry point jobs.nightly_*); "
        "offload it with gevent's threadpool [medium]",
        "jobs.py:13:12: GEV101 blocking file IO `open` on a request path "
        "(entry point jobs.nightly_* -> helper); offload it with gevent's threadpool [medium]",
    ]


def test_entry_point_option(tmp_path, run):
    write(tmp_path, {"jobs.py": JOBS})
    code, out, _ = check(run, "--entry-point", "jobs.other")
    assert code == 1
    assert [(int(m["line"]), m["message"].split("(")[1].split(")")[0]) for m in map(LINE.match, out)] == [
        (17, "entry point jobs.other")]
    # Repeatable; given on the command line, they replace the configured ones.
    write(tmp_path, {"jobs.py": JOBS}, pyproject='[tool.lintgevent]\nentry-points = ["jobs.nightly_export"]\n')
    code, out, _ = check(run, "--entry-point", "jobs.other", "--entry-point", "jobs.nightly_cleanup")
    assert [int(m["line"]) for m in map(LINE.match, out)] == [13, 17]


def test_config_deployment_none_silences_everything(tmp_path, run):
    write(tmp_path, {"app.py": MIXED}, pyproject='[tool.lintgevent]\ndeployment = "none"\n')
    assert check(run) == (0, [], "")
    write(tmp_path, {"app.py": MIXED})
    assert check(run)[0] == 1
    assert check(run, "--deployment", "none") == (0, [], "")


UNPATCHED_SLEEP = ("app.py:13:5: GEV104 blocking call `time.sleep` while time is not monkey-patched on a "
                   "request path (route POST /mixed); call gevent.monkey.patch_all() first thing, or use "
                   "gevent's own API [high]")


def test_config_deployment_unpatched_makes_time_sleep_block(tmp_path, run):
    write(tmp_path, {"app.py": MIXED})
    assert "GEV104" not in codes(check(run)[1])
    write(tmp_path, {"app.py": MIXED}, pyproject='[tool.lintgevent]\ndeployment = "unpatched"\n')
    code, out, _ = check(run)
    assert code == 1
    assert UNPATCHED_SLEEP in out
    assert codes(out) == {"GEV101", "GEV102", "GEV104", "GEV105"}


def test_deployment_option(tmp_path, run):
    write(tmp_path, {"app.py": MIXED})
    assert UNPATCHED_SLEEP in check(run, "--deployment", "unpatched")[1]
    # The option wins over the configuration.
    write(tmp_path, {"app.py": MIXED}, pyproject='[tool.lintgevent]\ndeployment = "unpatched"\n')
    assert "GEV104" not in codes(check(run, "--deployment", "patched")[1])
    assert check(run, "--deployment", "none") == (0, [], "")


def test_deployment_option_turns_on_a_project_without_gevent(tmp_path, run):
    plain = APP.replace("from gevent import monkey; monkey.patch_all()\n", "")
    write(tmp_path, {"app.py": plain})
    assert check(run) == (0, [], "lintgevent: no gevent detected in .: not checked (see --show-deployment, "
                          "or set deployment)\n")  # nothing to report, and it says so
    code, out, _ = check(run, "--deployment", "gunicorn-gevent")
    assert code == 1
    assert out == [APP_FINDING.replace("app.py:9:", "app.py:8:")]


# -- the incident's shape: cross-module chains -----------------------------------------------

def test_seed_003_message(tmp_path, run):
    seed_project(tmp_path)
    code, out, err = check(run)
    assert code == 1
    assert err == ""
    assert out == [SEED_LINE]  # the write is on the file the open gives: one finding, at the open


def test_seed_003_message_in_json(tmp_path, run):
    seed_project(tmp_path)
    data = json.loads("\n".join(check(run, "--format", "json")[1]))["findings"]
    assert data[0] == {"path": os.path.join("app", "gen_op.py"), "line": 11, "col": 10, "code": "GEV101",
                       "message": SEED_MESSAGE, "chain": SEED_CHAIN, "severity": "high", "lines": [12]}


def test_one_file_is_checked_against_the_whole_project(tmp_path, run, monkeypatch):
    seed_project(tmp_path)
    # Only gen_op.py is asked for: the route that reaches it lives in views.py, which is indexed anyway.
    code, out, _ = check(run, os.path.join("app", "gen_op.py"))
    assert code == 1
    assert out[0] == SEED_LINE
    assert all(line.startswith(os.path.join("app", "gen_op.py") + ":") for line in out)
    # The route's own file has no blocking call: asked for alone, it is clean.
    assert check(run, os.path.join("app", "views.py")) == (0, [], "")
    # Asked for from a subdirectory, paths stay relative to the working directory.
    monkeypatch.chdir(tmp_path / "app")
    code, out, _ = check(run, "gen_op.py")
    assert out[0] == SEED_LINE.replace(os.path.join("app", "gen_op.py"), "gen_op.py")


def test_a_directory_argument_reports_only_files_below_it(tmp_path, run):
    seed_project(tmp_path)
    (tmp_path / "other.py").write_text(APP)
    _, everything, _ = check(run)
    assert APP_FINDING.replace("app.py", "other.py") in everything
    code, out, _ = check(run, "app")
    assert code == 1
    assert out and all(line.startswith(os.path.join("app", "gen_op.py") + ":") for line in out)


# -- the cache -------------------------------------------------------------------------------

def test_second_run_uses_the_cache(tmp_path, run, monkeypatch, cache_dir):
    seed_project(tmp_path)
    first = run("check")
    assert first[0] == 1 and first[1][0] == SEED_LINE
    assert (cache_dir / "CACHEDIR.TAG").is_file() and stored(cache_dir)
    assert not (tmp_path / ".lintgevent_cache").exists(), "the project is left as it is"
    assert run("check") == first
    assert run("check", "--format", "json")[0] == 1

    # Nothing is parsed, summarised or checked again while the sources are unchanged.
    def must_not_run(*args, **kwargs):
        raise AssertionError("the cache was not used")

    with monkeypatch.context() as patch:
        patch.setattr(summarising, "summaries", must_not_run)
        patch.setattr(relocation, "moved_results", must_not_run)
        patch.setattr(analysis, "check_project", must_not_run)
        assert run("check") == first

    # A fresh process does not even import the global step, the fixes' libcst or verify's gunicorn,
    # nor parse the catalog (the cache keys hold its digest).
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys\nfrom lintgevent.cli import main\nmain(['check'])\n"
         "from lintgevent.catalog import load_catalog\n"
         "print(*sorted(sys.modules), load_catalog.cache_info().currsize, file=sys.stderr)"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert loaded.stdout.splitlines()[0] == SEED_LINE
    *modules, catalogs_parsed = loaded.stderr.split()
    assert catalogs_parsed == "0"
    modules = set(modules)
    assert "lintgevent.engine" in modules and "lintgevent.codec" in modules
    assert not modules & {"lintgevent.analysis", "lintgevent.summarising", "lintgevent.relocation",
                          "lintgevent.summary", "lintgevent.index", "lintgevent.values", "libcst", "gunicorn",
                          "lintgevent.runtime.verify_cli"}

    # A changed file is a miss: its new findings show up.
    gen_op = tmp_path / "app" / "gen_op.py"
    gen_op.write_text(SEED_GEN_OP.replace("gzip.open", "open"))
    code, out, _ = run("check")
    assert code == 1
    assert out[0] == SEED_LINE.replace("`gzip.open`", "`open`").replace("[high]", "[medium]")


def test_an_edit_that_moves_lines_only_loads_no_global_step(tmp_path, run, cache_dir):
    seed_project(tmp_path)
    assert run("check")[0] == 1
    gen_op = tmp_path / "app" / "gen_op.py"
    gen_op.write_text("# a comment that moves every line below it\n" + gen_op.read_text())
    moved = subprocess.run(
        [sys.executable, "-c", "import sys\nfrom lintgevent.cli import main\nmain(['check'])\n"
         "print(*sorted(sys.modules), file=sys.stderr)"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    modules = set(moved.stderr.split())
    assert "lintgevent.relocation" in modules, "the last results were moved"
    assert not modules & {"lintgevent.analysis", "lintgevent.index", "lintgevent.values", "lintgevent.entrypoints"}
    assert "multiprocessing" not in modules, "one file is summarised in-process, without a pool's imports"
    assert moved.stdout.splitlines() == run("check", "--no-cache")[1]
    assert moved.stdout.startswith(os.path.join("app", "gen_op.py") + ":12:10: "), "was line 11"


def test_cache_does_not_mix_configurations(tmp_path, run, cache_dir):
    write(tmp_path, {"app.py": MIXED})
    assert "GEV104" not in codes(run("check")[1])
    assert "GEV104" in codes(run("check", "--deployment", "unpatched")[1])
    assert "GEV104" not in codes(run("check")[1])
    assert len(stored(cache_dir, "results")) == 2


def test_no_cache_creates_no_cache_directory(tmp_path, run, cache_dir, monkeypatch):
    seed_project(tmp_path)
    monkeypatch.setenv("LINTGEVENT_CACHE_DIR", str(cache_dir / "store"))
    code, out, _ = run("check", "--no-cache")
    assert code == 1 and out[0] == SEED_LINE
    assert not any(p.name == ".lintgevent_cache" for p in tmp_path.rglob("*"))
    assert list(cache_dir.iterdir()) == []


# -- rules, explain, version -----------------------------------------------------------------

def test_rules_lists_every_code(run):
    code, out, _ = run("rules")
    assert code == 0
    assert [line.split()[0] for line in out] == ["GEV001", "GEV002", "GEV101", "GEV102", "GEV103", "GEV104", "GEV105", "GEV201", "GEV202",
                                                 "GEV203", "GEV301", "GEV302", "GEV401"]
    assert all(len(line.split(None, 1)) == 2 for line in out)  # each with a title


def test_explain_prints_the_rule_readme(run):
    readme = (REPO / "rules" / "GEV101" / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# GEV101")
    code, out, err = run("explain", "GEV101")
    assert code == 0
    assert err == ""
    assert "\n".join(out) == readme.rstrip("\n")
    assert run("explain", "gev101")[1] == out


def test_explain_unknown_rule_exits_2(run):
    code, out, err = run("explain", "GEV999")
    assert code == 2
    assert out == []
    assert "GEV999" in err


def test_version(run, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run("--version")
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"lintgevent {lintgevent.__version__}"


def test_no_command_is_a_usage_error(run):
    with pytest.raises(SystemExit) as exit_info:
        run()
    assert exit_info.value.code == 2


# -- as a real process -----------------------------------------------------------------------

def test_process_check_seed_project(tmp_path):
    seed_project(tmp_path)
    done = run_process(tmp_path, "check", "--no-cache")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr == ""
    assert done.stdout.splitlines()[0] == SEED_LINE


def test_process_clean_project_and_cache(tmp_path, cache_dir):
    write(tmp_path, {"app.py": CLEAN_APP})
    first = run_process(tmp_path, "check")
    entries = stored(cache_dir)
    second = run_process(tmp_path, "check")
    assert (first.returncode, first.stdout, first.stderr) == (0, "", "")
    assert (second.returncode, second.stdout, second.stderr) == (0, "", "")
    assert sorted(kind for kind, _ in entries) == ["lines", "results", "snapshot", "summary"]
    assert stored(cache_dir) == entries, "a summary, its line digests, the results and the snapshot, not written again"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.py", "pyproject.toml"]


def test_process_usage_errors(tmp_path):
    write(tmp_path, {"app.py": APP}, pyproject='[tool.lintgevent]\ndeployment = "bogus"\n')
    done = run_process(tmp_path, "check", "--no-cache")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "deployment" in done.stderr
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    done = run_process(tmp_path, "check", "--no-cache", "does_not_exist.py")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "does_not_exist.py" in done.stderr


def test_process_version_rules_explain(tmp_path):
    done = run_process(tmp_path, "--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"lintgevent {lintgevent.__version__}")
    done = run_process(tmp_path, "explain", "GEV999")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_show_deployment_says_what_was_detected(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "Procfile").write_text("web: gunicorn -k gevent app:app\n")
    (tmp_path / "app.py").write_text("from gevent import monkey\nmonkey.patch_all(subprocess=False)\n")
    assert cli.main(["check", "--no-cache", "--show-deployment", str(tmp_path)]) == 0
    line = capsys.readouterr().err.strip()
    assert line == ("process gunicorn (gevent worker) (Procfile:1): gevent, patched: dns, os, queue, select, signal, "
                    "socket, ssl, subprocess, thread, time; not patched: sys (gunicorn (gevent worker) at Procfile:1; "
                    f"patch_all at app.py:2); runs {tmp_path}"), "one process, and no root line: the process runs it"


def test_a_cache_entry_of_another_shape_is_a_miss(tmp_path, capsys, cache_dir):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "app.py").write_text("from gevent import monkey\nmonkey.patch_all()\nfrom flask import Flask\n"
                                     "app = Flask(__name__)\n\n\n@app.route('/')\ndef index():\n"
                                     "    return open('x').read()\n")
    assert cli.main(["check", str(tmp_path)]) == 1
    first = capsys.readouterr()
    # Signed with the store's own key, as an older lintgevent could have written them.
    stale = json.dumps([[], ["stale", "shape"]]).encode()
    entries = stored(cache_dir)
    assert entries
    for kind, key in entries:
        put_entry(cache_dir, kind, key, signed(cache_dir, kind, key, stale))
    assert cli.main(["check", str(tmp_path)]) == 1
    assert capsys.readouterr() == first


def test_a_file_asked_for_by_name_is_checked_even_in_a_skipped_folder(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "app.py").write_text("from gevent import monkey\nmonkey.patch_all()\nfrom flask import Flask\n"
                                               "app = Flask(__name__)\n\n\n@app.route('/')\ndef index():\n"
                                               "    return open('x')\n")
    assert cli.main(["check", "--no-cache", str(tmp_path)]) == 0, "build/ is skipped when walking"
    assert cli.main(["check", "--no-cache", str(tmp_path / "build" / "app.py")]) == 1
    assert "app.py:9:12: GEV101" in capsys.readouterr().out


def test_rules_calls_lists_the_catalog(capsys):
    assert cli.main(["rules", "--calls"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "    os.system  blocks: always  severity: high" in out
    assert "    os.popen  blocks: unpatched:subprocess  severity: high" in out
    assert "    json.dump [file_arg:1]  blocks: always  severity: medium" in out
    assert "    builtins.open [literal_read]  blocks: always  severity: low" in out
    assert out.index("GEV101  regular-file IO on a request path") < out.index("    gzip.open  blocks: always  severity: high")
    assert out.index(f"GEV105  {RULES['GEV105'].title}") < out.index("    os.read [arg0_is:<pipefd>]  blocks: always  severity: high")


# -- severity -------------------------------------------------------------------------------------

def test_min_severity_selects_from_the_command_line_and_the_configuration(tmp_path, run):
    write(tmp_path, {"app.py": MIXED + '\n\n@app.route("/path/<name>")\ndef by_path(name):\n'
                                       '    return open(name).read()\n', "broken.py": "def (:\n"})
    code, out, err = check(run)
    severities = {(m["code"], int(m["line"])): m["severity"] for m in map(LINE.match, out)}
    assert severities == {("GEV001", 1): "high", ("GEV102", 12): "high", ("GEV105", 14): "high",
                          ("GEV101", 15): "low", ("GEV101", 20): "medium"}, "a literal name opened to read is low"
    code, out, err = check(run, "--min-severity", "medium")
    assert code == 1 and codes(out) == {"GEV001", "GEV101", "GEV102", "GEV105"} and len(out) == 4
    code, out, err = check(run, "--min-severity", "high")
    assert code == 1 and codes(out) == {"GEV001", "GEV102", "GEV105"}, "a file nothing was checked in still shows"
    write(tmp_path, {"app.py": MIXED}, pyproject='[tool.lintgevent]\nmin-severity = "high"\n')
    assert codes(check(run)[1]) == {"GEV001", "GEV102", "GEV105"}
    assert codes(check(run, "--min-severity", "low")[1]) == {"GEV001", "GEV101", "GEV102", "GEV105"}
    json_findings = json.loads("\n".join(check(run, "--format", "json")[1]))["findings"]
    assert {f["severity"] for f in json_findings} == {"high"}


def test_a_bad_min_severity_names_the_file_and_the_option(tmp_path, run):
    write(tmp_path, {"app.py": MIXED}, pyproject='[tool.lintgevent]\nmin-severity = "urgent"\n')
    code, out, err = check(run)
    assert code == 2 and out == []
    assert err == ("lintgevent: error: pyproject.toml [tool.lintgevent]: `min-severity`: "
                   "must be one of low, medium, high, not 'urgent'\n")


def test_a_literal_name_opened_to_write_or_a_computed_one_is_not_low(tmp_path, run):
    write(tmp_path, {"app.py": READ_APP.replace('open("data.txt")', 'open("data.txt", "w")')})
    assert [m["severity"] for m in map(LINE.match, check(run)[1])] == ["medium"]
    write(tmp_path, {"app.py": READ_APP.replace('open("data.txt")', 'open("data.txt", mode="rb")')})
    assert [m["severity"] for m in map(LINE.match, check(run)[1])] == ["low"]
    write(tmp_path, {"app.py": READ_APP.replace('open("data.txt")', 'open(DATA)').replace(
        "app = Flask", 'DATA = "data.txt"\napp = Flask')})
    assert [m["severity"] for m in map(LINE.match, check(run)[1])] == ["medium"], "only a literal written there"
