"""One configuration for both front ends: unknown codes are errors, selection follows flake8 to the
letter, the root and its `[tool.lintgevent]` do not depend on the paths passed, flake8 reads the
same table, bad configuration is one line and exit 2 through flake8 too, `exclude` keeps chains,
noqa is parsed as flake8 parses it, and what was not checked is said."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lintgevent import cli

# One route reaching a helper in another module: GEV101 in reports.py, GEV102 in web.py.
WEB = """\
from gevent import monkey; monkey.patch_all()
import os
from flask import Flask
from reports import build

app = Flask(__name__)


@app.route("/report")
def report():
    os.system("true")
    return build()
"""
# Two findings of their own: the read is of another file (one opened at import time) than the open's.
REPORTS = """\
def build():
    with open("/srv/report.txt") as handle:
        return FOOTER.read() + handle.name
FOOTER = open("/srv/footer.txt")
"""
EVERYTHING = {"web.py:11:5: GEV102", "reports.py:2:10: GEV101", "reports.py:3:16: GEV101"}


def project(root: Path, files: dict[str, str], pyproject: str | None = "[project]\nname = 'demo'\n") -> Path:
    if pyproject is not None:
        (root / "pyproject.toml").write_text(textwrap.dedent(pyproject))
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def web_project(root: Path, table: str = "") -> Path:
    return project(root, {"web.py": WEB, "reports.py": REPORTS},
                   f"[project]\nname = 'demo'\n\n[tool.lintgevent]\n{textwrap.dedent(table)}")


def check(capsys, *args: str) -> tuple[int, set[str], str]:
    """`lintgevent check --no-cache ARGS`: exit code, {path:line:col: CODE}, stderr."""
    capsys.readouterr()
    code = cli.main(["check", "--no-cache", *args])
    out, err = capsys.readouterr()
    return code, {line.split(" ", 2)[0] + " " + line.split(" ", 2)[1] for line in out.splitlines()}, err


def flake8(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flake8", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def flake8_found(cwd: Path, *args: str) -> set[str]:
    done = flake8(cwd, "--select", "GEV", *args)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done.stderr
    return {line.split(" ", 2)[0].removeprefix("./") + " " + line.split(" ", 2)[1] for line in done.stdout.splitlines()}


# -- unknown codes ------------------------------------------------------------------------------

@pytest.mark.parametrize("args, named", [
    (["--select", "GEV999"], "command line: `--select`: unknown code or prefix 'GEV999'"),
    (["--select", "GEB101"], "command line: `--select`: unknown code or prefix 'GEB101'"),
    (["--ignore", "GEV1,E501"], "command line: `--ignore`: unknown code or prefix 'E501'"),
    (["--extend-select", "GEV3O1"], "command line: `--extend-select`: unknown code or prefix 'GEV3O1'"),
    (["--extend-ignore", "X"], "command line: `--extend-ignore`: unknown code or prefix 'X'"),
    (["--per-file-ignores", "tests/*:GEV1O1"], "command line: `--per-file-ignores`: cannot read 'tests/*:GEV1O1'"),
    (["--per-file-ignores", "tests/*:GEV9"], "`--per-file-ignores`: 'tests/*': unknown code or prefix 'GEV9'"),
])
def test_an_unknown_code_on_the_command_line_exits_2(tmp_path, capsys, monkeypatch, args, named):
    monkeypatch.chdir(web_project(tmp_path))
    code, found, err = check(capsys, *args)
    assert (code, found) == (2, set())
    assert err.startswith("lintgevent: error: ") and named in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("table, named", [
    ('select = ["E501"]', "pyproject.toml [tool.lintgevent]: `select`: unknown code or prefix 'E501'"),
    ('ignore = ["GEV9"]', "pyproject.toml [tool.lintgevent]: `ignore`: unknown code or prefix 'GEV9'"),
    ('extend-ignore = ["GEV1", "F401"]', "`extend-ignore`: unknown code or prefix 'F401'"),
    ('[tool.lintgevent.per-file-ignores]\n"tests/*" = ["B101"]', "`per-file-ignores`: 'tests/*': unknown code"),
])
def test_an_unknown_code_in_the_configuration_exits_2(tmp_path, capsys, monkeypatch, table, named):
    monkeypatch.chdir(web_project(tmp_path, table))
    code, found, err = check(capsys)
    assert (code, found) == (2, set())
    assert named in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("pyproject, named", [
    ("tool = 1\n", "pyproject.toml: `tool` must be a table, not int"),
    ('[tool]\nlintgevent = "x"\n', "pyproject.toml: `tool.lintgevent` must be a table, not str"),
    ("[tool.lintgevent]\nmax-file-size = true\n", "`max-file-size`: must be a positive number of bytes, not True"),
    ('[tool.lintgevent]\ndeployment = "gevent"\n', "`deployment`: must be one of auto, gunicorn-gevent"),
    ("[tool.lintgevent\n", "pyproject.toml: not valid TOML"),
])
def test_a_broken_configuration_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, pyproject, named):
    project(tmp_path, {"web.py": WEB, "reports.py": REPORTS}, pyproject + "# lintgevent\n")
    monkeypatch.chdir(tmp_path)
    code, found, err = check(capsys)
    assert (code, found) == (2, set())
    assert named in err and len(err.splitlines()) == 1, err


def test_a_pyproject_that_is_not_utf8_names_the_file(tmp_path, capsys, monkeypatch):
    project(tmp_path, {"web.py": WEB}, None)
    (tmp_path / "pyproject.toml").write_bytes("[tool.lintgevent]\n# caf\xe9\n".encode("latin-1"))
    monkeypatch.chdir(tmp_path)
    code, _, err = check(capsys)
    assert code == 2 and "pyproject.toml: not UTF-8" in err and "internal error" not in err


def test_a_broken_pyproject_that_never_mentions_lintgevent_is_not_ours(tmp_path, capsys, monkeypatch):
    project(tmp_path, {"web.py": WEB, "reports.py": REPORTS}, "[project\nname = 'demo'\n")
    monkeypatch.chdir(tmp_path)
    assert check(capsys)[:2] == (1, EVERYTHING)


# -- selection ----------------------------------------------------------------------------------

def test_a_tie_between_select_and_ignore_goes_to_ignore_as_in_flake8(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(web_project(tmp_path))
    assert check(capsys, "--select", "GEV", "--ignore", "GEV")[:2] == (0, set())
    assert check(capsys, "--select", "GEV1", "--ignore", "GEV10")[:2] == (0, set())
    assert check(capsys, "--select", "GEV102", "--ignore", "GEV10")[:2] == (1, {"web.py:11:5: GEV102"})
    assert flake8_found(tmp_path, "--ignore", "GEV") == set()


def test_a_repeated_option_adds_up(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(web_project(tmp_path))
    assert check(capsys, "--select", "GEV101", "--select", "GEV102")[:2] == (1, EVERYTHING)
    assert check(capsys, "--ignore", "GEV101", "--ignore", "GEV102")[:2] == (0, set())


def test_extend_select_and_extend_ignore_in_the_configuration(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(web_project(tmp_path, 'select = ["GEV101"]\nextend-select = ["GEV102"]\n'))
    assert check(capsys)[:2] == (1, EVERYTHING)
    web_project(tmp_path, 'extend-ignore = ["GEV102"]\n')
    assert check(capsys)[:2] == (1, EVERYTHING - {"web.py:11:5: GEV102"})
    assert check(capsys, "--extend-ignore", "GEV101")[:2] == (0, set())


def test_per_file_ignores_in_the_configuration_and_on_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(web_project(tmp_path, '[tool.lintgevent.per-file-ignores]\n"reports.py" = ["GEV1"]\n'))
    assert check(capsys)[:2] == (1, {"web.py:11:5: GEV102"})
    web_project(tmp_path)
    assert check(capsys, "--per-file-ignores", "web.py:GEV102 ./reports.py:GEV101")[:2] == (0, set())


# -- one root, one configuration -----------------------------------------------------------------

def monorepo(root: Path) -> Path:
    """A pyproject.toml with the table at the top, a service with its own setup.cfg below it."""
    (root / ".git").mkdir()
    project(root, {"svc/web.py": WEB, "svc/reports.py": REPORTS},
            '[project]\nname = "mono"\n\n[tool.lintgevent]\nignore = ["GEV102"]\n')
    (root / "svc" / "setup.cfg").write_text("[metadata]\nname = svc\n")
    return root


def test_the_configuration_does_not_depend_on_the_paths_passed(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(monorepo(tmp_path))
    from_the_top = check(capsys, ".")
    from_svc = check(capsys, "svc")
    assert from_the_top[:2] == from_svc[:2] == (1, {"svc/reports.py:2:10: GEV101", "svc/reports.py:3:16: GEV101"})
    monkeypatch.chdir(tmp_path / "svc")
    assert check(capsys)[1] == {"reports.py:2:10: GEV101", "reports.py:3:16: GEV101"}
    assert check(capsys, "web.py")[:2] == (0, set())


def test_without_a_table_the_repository_top_is_the_root(tmp_path, capsys, monkeypatch):
    (tmp_path / ".git").mkdir()
    project(tmp_path, {"svc/web.py": WEB, "lib/reports.py": REPORTS}, None)
    (tmp_path / "svc" / "setup.cfg").write_text("[metadata]\nname = svc\n")
    (tmp_path / "svc" / "reports.py").symlink_to(tmp_path / "lib" / "reports.py")
    monkeypatch.chdir(tmp_path)
    assert "svc/web.py:11:5: GEV102" in check(capsys, "svc")[1]
    shown = cli.main(["check", "--show-settings", "svc"])
    assert shown == 0 and f"# project root: {tmp_path} " in capsys.readouterr().out


def test_config_file_and_isolated(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(web_project(tmp_path, 'ignore = ["GEV1"]\n'))
    assert check(capsys)[:2] == (0, set())
    assert check(capsys, "--isolated")[:2] == (1, EVERYTHING)
    (tmp_path / "strict.toml").write_text('select = ["GEV102"]\n')
    assert check(capsys, "--config", "strict.toml")[:2] == (1, {"web.py:11:5: GEV102"})
    assert check(capsys, "--config", "missing.toml")[0] == 2


def test_show_settings_says_where_each_value_came_from(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(web_project(tmp_path, 'ignore = ["GEV102"]\n'))
    (tmp_path / "tox.ini").write_text("[flake8]\nlintgevent-unpatched = subprocess, time\n")
    assert cli.main(["check", "--show-settings", "--exclude", "migrations/*"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert 'ignore = ["GEV102"]  # pyproject.toml [tool.lintgevent]' in lines
    assert 'unpatched = ["subprocess", "time"]  # tox.ini [flake8]' in lines
    assert 'exclude = ["migrations/*"]  # command line' in lines
    assert 'deployment = "auto"  # default' in lines


def test_check_reads_the_lintgevent_options_of_the_flake8_configuration(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(web_project(tmp_path))
    (tmp_path / "setup.cfg").write_text("[flake8]\nlintgevent-deployment = none\n")
    assert check(capsys)[:2] == (0, set())
    (tmp_path / "setup.cfg").write_text("[flake8]\nlintgevent-deployment = gevent\n")
    code, _, err = check(capsys)
    assert code == 2 and "setup.cfg [flake8]: `lintgevent-deployment`: must be one of" in err
    (tmp_path / "setup.cfg").write_text("[flake8]\nlintgevent-deploymnet = none\n")
    code, _, err = check(capsys)
    assert code == 2 and "unknown option `lintgevent-deploymnet`" in err


# -- flake8 reads the same configuration ------------------------------------------------------------

AGREEING = """\
ignore = ["GEV102"]
unpatched = ["time"]
exclude = ["legacy.py"]

[tool.lintgevent.per-file-ignores]
"jobs/*" = ["GEV101"]
"""
SLEEPY = """\
from gevent import monkey; monkey.patch_all()
import time
from flask import Flask
from reports import build
from jobs.nightly import export

app = Flask(__name__)


@app.route("/slow")
def slow():
    time.sleep(1)
    export()
    return build()
"""


def test_flake8_and_check_agree_with_the_configuration_in_pyproject_only(tmp_path, capsys, monkeypatch):
    web_project(tmp_path, AGREEING)
    project(tmp_path, {"slow.py": SLEEPY, "legacy.py": SLEEPY.replace("/slow", "/legacy"),
                       "jobs/__init__.py": "", "jobs/nightly.py": REPORTS.replace("def build", "def export")}, None)
    monkeypatch.chdir(tmp_path)
    code, found, _ = check(capsys)
    assert code == 1
    assert found == {"reports.py:2:10: GEV101", "reports.py:3:16: GEV101", "slow.py:12:5: GEV104"}
    assert flake8_found(tmp_path, ".") == found
    assert flake8_found(tmp_path, "-j", "2", ".") == found


def test_a_bad_configuration_through_flake8_is_one_line_and_exit_2(tmp_path):
    web_project(tmp_path, 'deployment = "gevent"\n')
    for args in (["--select", "GEV", "."], ["-j", "2", "."]):
        done = flake8(tmp_path, *args)
        assert done.returncode == 2, done
        assert done.stderr.strip().splitlines() == [
            "flake8: error: lintgevent: pyproject.toml [tool.lintgevent]: `deployment`: must be one of auto, "
            "gunicorn-gevent, patched, unpatched, none, not 'gevent'"]
    assert flake8(tmp_path, "--select", "E9", ".").returncode == 0, "a run that does not ask for GEV is not broken"
    web_project(tmp_path)
    done = flake8(tmp_path, "--select", "GEV", "--lintgevent-unpatched", "subproces", ".")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "flake8 options: `--lintgevent-unpatched`: unknown module 'subproces'" in done.stderr


def test_an_unknown_code_in_flake8s_own_options_is_flake8s_business(tmp_path):
    web_project(tmp_path)
    assert flake8_found(tmp_path, "--extend-ignore", "E501", ".") == EVERYTHING


# -- exclude and index-exclude ------------------------------------------------------------------------

def test_exclude_keeps_the_chains_through_the_excluded_files(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(web_project(tmp_path, 'exclude = ["web.py"]\n'))
    assert check(capsys)[:2] == (1, {"reports.py:2:10: GEV101", "reports.py:3:16: GEV101"})
    assert check(capsys, "web.py")[:2] == (0, set()), "a file named explicitly is still excluded"
    assert flake8_found(tmp_path, ".") == {"reports.py:2:10: GEV101", "reports.py:3:16: GEV101"}
    web_project(tmp_path, 'index-exclude = ["web.py"]\n')
    assert check(capsys)[:2] == (0, set()), "out of the index: no route reaches reports.py"


# -- noqa as flake8 parses it ------------------------------------------------------------------------

@pytest.mark.parametrize("comment, silenced", [
    ("# noqa", True),
    ("# NOQA", True),
    ("# noqa: GEV101", True),
    ("# noqa:GEV1", True),
    ("# NOQA: GEV1,E501", True),
    ("# NOQA: gev1", False),  # codes are case-sensitive in flake8
    ("# noqa: GEV102", False),
    ("#noqa", False),  # flake8 wants exactly `# noqa`
])
def test_noqa_is_parsed_as_flake8_parses_it(tmp_path, capsys, monkeypatch, comment, silenced):
    reports = REPORTS.replace('"/srv/report.txt") as handle:', f'"/srv/report.txt") as handle:  {comment}')
    project(tmp_path, {"web.py": WEB, "reports.py": reports}, None)
    (tmp_path / "setup.cfg").write_text("")
    monkeypatch.chdir(tmp_path)
    expected = EVERYTHING - ({"reports.py:2:10: GEV101"} if silenced else set())
    assert check(capsys)[1] == expected
    assert flake8_found(tmp_path, ".") == expected


def test_noqa_on_a_call_on_the_opened_file_silences_the_finding_at_the_open_in_both_front_ends(
        tmp_path, capsys, monkeypatch):
    opened = 'def build():\n    with open("/srv/report.txt") as handle:\n        return handle.read()  {comment}\n'
    project(tmp_path, {"web.py": WEB, "reports.py": opened.format(comment="# noqa: GEV101")})
    monkeypatch.chdir(tmp_path)
    web_only = {"web.py:11:5: GEV102"}
    assert check(capsys)[1] == flake8_found(tmp_path, ".") == web_only
    assert check(capsys, "--extend-select", "GEV002")[1] == flake8_found(tmp_path, "--extend-select", "GEV002", ".") \
        == web_only, "the comment silences a finding: it is not unused"
    everything = web_only | {"reports.py:2:10: GEV101"}
    assert flake8_found(tmp_path, "--disable-noqa", ".") == everything
    project(tmp_path, {"reports.py": opened.format(comment="# noqa: GEV102")})
    assert check(capsys)[1] == flake8_found(tmp_path, ".") == everything


def test_a_noqa_covers_the_lines_of_a_multiline_string_as_in_flake8(tmp_path, capsys, monkeypatch):
    reports = 'def build():\n    return open("""/srv/\nreport.txt""").read()  # noqa: GEV101\n'
    project(tmp_path, {"web.py": WEB, "reports.py": reports})
    monkeypatch.chdir(tmp_path)
    assert check(capsys)[1] == {"web.py:11:5: GEV102"}
    assert flake8_found(tmp_path, ".") == {"web.py:11:5: GEV102"}
    # Inside brackets each physical line is its own: the comment covers only its line.
    reports = 'def build():\n    return open(\n        "/srv/report.txt",\n    ).read()  # noqa: GEV101\n'
    project(tmp_path, {"reports.py": reports})
    assert check(capsys)[1] == {"web.py:11:5: GEV102", "reports.py:2:12: GEV101"}
    assert flake8_found(tmp_path, ".") == {"web.py:11:5: GEV102", "reports.py:2:12: GEV101"}


def test_unused_noqa_is_reported_when_selected_in_both_front_ends(tmp_path, capsys, monkeypatch):
    web = WEB.replace('os.system("true")', 'os.system("true")  # noqa: GEV101, GEV102, E501')
    project(tmp_path, {"web.py": web, "reports.py": REPORTS.replace("def build():", "def build():  # noqa: GEV1")})
    monkeypatch.chdir(tmp_path)
    assert check(capsys)[1] == {"reports.py:2:10: GEV101", "reports.py:3:16: GEV101"}, "off by default"
    expected = {"web.py:11:24: GEV002", "reports.py:1:15: GEV002", "reports.py:2:10: GEV101",
                "reports.py:3:16: GEV101"}
    assert check(capsys, "--extend-select", "GEV002")[1] == expected
    assert flake8_found(tmp_path, "--extend-select", "GEV002", ".") == expected
    # A prefix, however narrow, means the rules, not the report on suppressions.
    without = expected - {"web.py:11:24: GEV002", "reports.py:1:15: GEV002"}
    assert check(capsys, "--select", "GEV")[1] == flake8_found(tmp_path, ".") == without
    assert check(capsys, "--extend-select", "GEV0")[1] == flake8_found(tmp_path, "--extend-select", "GEV0", ".") \
        == without


# -- what was not checked is said ---------------------------------------------------------------------

NOT_CHECKED = "lintgevent: no gevent detected in .: not checked (see --show-deployment, or set deployment)\n"


def test_a_project_without_gevent_says_it_was_not_checked(tmp_path, capsys, monkeypatch):
    project(tmp_path, {"web.py": WEB.replace("from gevent import monkey; monkey.patch_all()\n", ""),
                       "reports.py": REPORTS})
    monkeypatch.chdir(tmp_path)
    assert check(capsys) == (0, set(), NOT_CHECKED)
    assert check(capsys, "--quiet") == (0, set(), "")
    capsys.readouterr()
    assert cli.main(["check", "--no-cache", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["notices"] == [NOT_CHECKED.removeprefix("lintgevent: ").strip()] and err == NOT_CHECKED
    assert cli.main(["check", "--no-cache", "--format", "sarif"]) == 0
    [invocation] = json.loads(capsys.readouterr().out)["runs"][0]["invocations"]
    assert [n["message"]["text"] for n in invocation["toolExecutionNotifications"]] == [NOT_CHECKED[12:].strip()]
    assert check(capsys, "--deployment", "none") == (0, set(), ""), "switched off on purpose: nothing to say"


def test_a_path_without_python_files_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(web_project(tmp_path))
    (tmp_path / "empty").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# docs\n")
    code, found, err = check(capsys, "empty", "docs", "reports.py")
    assert (code, found) == (1, {"reports.py:2:10: GEV101", "reports.py:3:16: GEV101"})
    assert err.splitlines() == ["lintgevent: no Python files to check in empty",
                                "lintgevent: no Python files to check in docs"]


def test_flake8_noqa_on_its_own_line_silences_the_whole_file_in_both_front_ends(tmp_path, capsys, monkeypatch):
    project(tmp_path, {"web.py": WEB, "reports.py": "# flake8: noqa\n" + REPORTS})
    monkeypatch.chdir(tmp_path)
    assert check(capsys)[1] == flake8_found(tmp_path, ".") == {"web.py:11:5: GEV102"}
    project(tmp_path, {"reports.py": REPORTS.replace("def build():", "def build():  # flake8: noqa")})
    assert check(capsys)[1] == flake8_found(tmp_path, ".") == EVERYTHING, "only on a line of its own"


@pytest.mark.parametrize("separator", ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_noqa_stays_on_its_line_after_characters_that_splitlines_breaks_at(tmp_path, capsys, monkeypatch,
                                                                          separator):
    reports = (f'def build():\n    note = "a{separator}b"\n    with open("/srv/report.txt") as handle:  # noqa: GEV101\n'
               f'        return FOOTER.read() + handle.name\nFOOTER = open("/srv/footer.txt")\n')
    project(tmp_path, {"web.py": WEB, "reports.py": reports})
    monkeypatch.chdir(tmp_path)
    expected = {"web.py:11:5: GEV102", "reports.py:4:16: GEV101"}
    assert check(capsys)[1] == expected
    assert flake8_found(tmp_path, ".") == expected
