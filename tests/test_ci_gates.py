"""What CI gates use: SARIF (validated against the SARIF 2.1.0 schema), GitHub annotations,
--statistics, --quiet, --exit-zero, and baselines that survive shifted lines."""
from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
from test_cli import MIXED, MIXED_LINES, check, write

from lintgevent.rules import RULES

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
# MIXED under full patching: its time.sleep is cooperative
FOUND = {code: MIXED_LINES[code] for code in ("GEV101", "GEV102", "GEV105")}

VIEWS = """\
from gevent import monkey; monkey.patch_all()
import os

from flask import Flask

app = Flask(__name__)


def rotate_logs():
    os.system("logrotate /etc/app.conf")


@app.route("/rotate", methods=["POST"])
def rotate():
    rotate_logs()
    os.system("sync")
    return "ok"
"""


def test_sarif_is_valid_sarif_2_1_0_with_a_rule_per_code_used(tmp_path, run):
    write(tmp_path, {"pkg/__init__.py": "", "pkg/app.py": MIXED})
    code, out, err = check(run, "--format", "sarif")
    assert code == 1 and err == ""
    log = json.loads("\n".join(out))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "lintgevent" and driver["version"] and "informationUri" not in driver
    assert log["runs"][0]["columnKind"] == "unicodeCodePoints"
    assert log["runs"][0]["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]
    assert [r["id"] for r in driver["rules"]] == sorted(FOUND)
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] == RULES[rule["id"]].title
        assert rule["fullDescription"]["text"].startswith("Reports ")
        assert rule["help"]["markdown"].startswith(f"# {rule['id']}")
    results = log["runs"][0]["results"]
    assert len(results) == len(FOUND)
    for result in results:
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": "pkg/app.py", "uriBaseId": "SRCROOT"}
        assert location["region"]["startLine"] == FOUND[result["ruleId"]]
        assert location["region"]["startColumn"] >= 1
        severity = result["properties"]["severity"]
        assert (result["level"], result["rank"]) == {"high": ("error", 90.0), "medium": ("warning", 50.0),
                                                    "low": ("note", 10.0)}[severity]
        assert result["message"]["text"].startswith(result["ruleId"])
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_paths_are_relative_to_the_repository_root_from_a_subdirectory(tmp_path, run, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / "services" / "shop").mkdir(parents=True)
    write(tmp_path / "services" / "shop", {"app.py": MIXED})
    monkeypatch.chdir(tmp_path / "services" / "shop")
    code, out, _ = check(run, "--format", "sarif", ".")
    run_ = json.loads("\n".join(out))["runs"][0]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run_["results"]}
    assert code == 1 and uris == {"services/shop/app.py"}
    assert run_["originalUriBaseIds"]["SRCROOT"]["uri"] == tmp_path.as_uri() + "/"


def test_sarif_of_a_clean_project_is_valid_and_empty(tmp_path, run):
    write(tmp_path, {"app.py": "print('hello')\n"})
    code, out, _ = check(run, "--format", "sarif")
    log = json.loads("\n".join(out))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    assert code == 0 and log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


def test_github_annotations(tmp_path, run):
    write(tmp_path, {"app.py": MIXED})
    code, out, _ = check(run, "--format", "github")
    assert code == 1 and len(out) == len(FOUND)
    line = next(o for o in out if "title=GEV102" in o)
    assert line.startswith(f"::error file=app.py,line={FOUND['GEV102']},col=5,title=GEV102::GEV102 ")
    assert "\n" not in line and "%0A" not in line


def test_statistics_quiet_and_exit_zero(tmp_path, run):
    write(tmp_path, {"app.py": MIXED})
    code, out, _ = check(run, "--statistics")
    assert code == 1 and len(out) == len(FOUND) * 2
    assert out[-len(FOUND):] == [f"1     {c} {RULES[c].title}" for c in sorted(FOUND)]
    code, out, err = check(run, "--quiet")
    assert (code, out, err) == (1, [], "")
    code, out, _ = check(run, "-q", "--statistics", "--exit-zero")
    assert code == 0 and len(out) == len(FOUND)
    code, out, err = check(run, "--format", "json", "--statistics")
    assert len(json.loads("\n".join(out))["findings"]) == len(FOUND) and "GEV102" in err


def test_baseline_hides_recorded_findings_even_after_lines_shift_and_reports_new_ones(tmp_path, run):
    write(tmp_path, {"app.py": VIEWS})
    baseline = tmp_path / "lintgevent-baseline.json"
    code, out, err = check(run, "--baseline", str(baseline), "--update-baseline")
    assert (code, out) == (0, []) and "recorded 2 findings" in err
    assert check(run, "--baseline", str(baseline)) == (0, [], "")

    shifted = VIEWS.replace("import os\n", "import os\nimport sys\n\nLOG_DIR = '/var/log/app'\n")
    shifted = shifted.replace('os.system("sync")', 'os.system("sync")  # flush before answering')
    shifted += '\n\n@app.route("/purge", methods=["POST"])\ndef purge():\n    os.system("rm -rf /tmp/cache")\n'
    (tmp_path / "app.py").write_text(shifted)
    code, out, _ = check(run, "--baseline", str(baseline))
    purge_line = shifted.splitlines().index('    os.system("rm -rf /tmp/cache")') + 1
    assert code == 1 and len(out) == 1 and out[0].startswith(f"app.py:{purge_line}:")

    # A second, identical call in the same function is new: the baseline counts each key.
    twice = shifted.replace('    rotate_logs()\n', '    rotate_logs()\n    os.system("sync")\n')
    (tmp_path / "app.py").write_text(twice)
    code, out, _ = check(run, "--baseline", str(baseline))
    assert code == 1 and len(out) == 2


def test_updating_the_baseline_drops_findings_that_are_gone(tmp_path, run):
    write(tmp_path, {"app.py": VIEWS})
    baseline = tmp_path / "baseline.json"
    check(run, "--baseline", str(baseline), "--update-baseline")
    (tmp_path / "app.py").write_text(VIEWS.replace('    os.system("sync")\n', ""))
    check(run, "--baseline", str(baseline), "--update-baseline")
    recorded = json.loads(baseline.read_text())["findings"]
    assert [(e["code"], e["function"], e["source"]) for e in recorded] == [
        ("GEV102", "rotate_logs", 'os.system("logrotate /etc/app.conf")')]
    (tmp_path / "app.py").write_text(VIEWS)
    code, out, _ = check(run, "--baseline", str(baseline))
    assert code == 1 and len(out) == 1 and "sync" not in out[0]


@pytest.mark.parametrize("content, message", [
    (None, "cannot read baseline"),
    ("{not json", "is not a lintgevent baseline"),
    ('{"findings": [{"path": "a.py"}]}', "is not a lintgevent baseline"),
])
def test_an_unreadable_baseline_is_a_usage_error(tmp_path, run, content, message):
    write(tmp_path, {"app.py": VIEWS})
    baseline = tmp_path / "baseline.json"
    if content is not None:
        baseline.write_text(content)
    code, out, err = check(run, "--baseline", str(baseline))
    assert code == 2 and message in err and out == []


def test_update_baseline_needs_a_file(tmp_path, run):
    write(tmp_path, {"app.py": VIEWS})
    code, _, err = check(run, "--update-baseline")
    assert code == 2 and "--update-baseline needs --baseline FILE" in err
    assert not os.path.exists(tmp_path / "baseline.json")
