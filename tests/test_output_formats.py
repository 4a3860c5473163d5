"""What every output carries: files that could not be checked (json, sarif, github), the CLI's
notices, and columns counted in characters, the way Python numbers lines (a form feed or U+2028
inside a line is not a line break)."""
from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
from sample_app import PATCHED_APP_HEAD, READ_APP
from test_ci_gates import SCHEMA
from test_cli import check, write

from lintgevent import output
from lintgevent.findings import FileError

BROKEN = "def broken(:\n"

ACCENTED = PATCHED_APP_HEAD + """

@app.route("/a")
def a():
    x = "é"; open("a")
    return x
"""
ACCENTED_LINE = '    x = "é"; open("a")'

# U+2028 and U+2029 in string literals, form feeds as whitespace: str.splitlines() breaks at all of them.
SEPARATED = PATCHED_APP_HEAD + 'BANNER = "one\u2028two"\x0c\n' + """

@app.route("/a")
def a():
    x = "\u2029"; y = 1\x0c; open("a")
    return x, y
"""
SEPARATED_LINE = '    x = "\u2029"; y = 1\x0c; open("a")'


def position(source: str, line_text: str) -> tuple[int, int]:
    """1-based line and character column of the `open` call on `line_text`."""
    return source.split("\n").index(line_text) + 1, line_text.index("open") + 1


def validate_sarif(log: dict) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(log)


# -- files that could not be checked -----------------------------------------------------------

def test_a_broken_file_is_in_the_json_beside_the_findings_of_the_others(tmp_path, run):
    write(tmp_path, {"app.py": READ_APP, "broken.py": BROKEN})
    code, out, err = check(run, "--format", "json")
    report = json.loads("\n".join(out))
    assert code == 1 and "broken.py: error: syntax error" in err
    assert [(f["path"], f["code"]) for f in report["findings"]] == [("app.py", "GEV101"), ("broken.py", "GEV001")]
    assert [(e["path"], e["line"]) for e in report["errors"]] == [("broken.py", 1)]
    assert report["errors"][0]["reason"].startswith("syntax error at line 1")
    assert report["notices"] == []


def test_a_broken_file_is_a_tool_notification_in_valid_sarif(tmp_path, run):
    (tmp_path / ".git").mkdir()
    write(tmp_path, {"app.py": READ_APP, "pkg/broken.py": BROKEN})
    code, out, err = check(run, "--format", "sarif")
    log = json.loads("\n".join(out))
    validate_sarif(log)
    run_ = log["runs"][0]
    assert code == 1 and "error: syntax error" in err
    assert [r["ruleId"] for r in run_["results"]] == ["GEV101", "GEV001"]
    [invocation] = run_["invocations"]
    assert invocation["executionSuccessful"] is False
    [notification] = invocation["toolExecutionNotifications"]
    assert notification["level"] == "error"
    assert notification["message"]["text"].startswith("could not be checked: syntax error at line 1")
    assert notification["locations"] == [{"physicalLocation": {
        "artifactLocation": {"uri": "pkg/broken.py", "uriBaseId": "SRCROOT"}, "region": {"startLine": 1}}}]


def test_a_broken_file_is_a_github_error_annotation(tmp_path, run):
    write(tmp_path, {"app.py": READ_APP, "broken.py": BROKEN})
    code, out, err = check(run, "--format", "github")
    assert code == 1 and "broken.py: error: syntax error" in err
    assert len(out) == 2 and out[0].startswith("::notice file=app.py,line=9,col=12,title=GEV101::"), "low severity"
    assert out[1].startswith("::error file=broken.py,line=1,col=1,title=GEV001::GEV001 could not be analysed: "
                             "syntax error"), "once: GEV001 is the annotation"
    assert output.render([], "github", [FileError("broken.py", "syntax error at line 3", 3)]) == (
        "::error file=broken.py,line=3,title=lintgevent::could not be checked: syntax error at line 3\n")


def test_notices_in_each_machine_read_format():
    notice = "no gevent detected in app/: not checked, 100% sure"
    errors = [FileError("broken.py", "syntax error at line 1")]
    report = json.loads(output.render([], "json", errors, [notice]))
    assert report == {"findings": [], "errors": [{"path": "broken.py", "line": 1, "reason": "syntax error at line 1"}],
                      "notices": [notice]}
    log = json.loads(output.render([], "sarif", notices=[notice]))
    validate_sarif(log)
    assert log["runs"][0]["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": [
        {"level": "warning", "message": {"text": notice}}]}]
    assert output.render([], "github", notices=[notice]) == "::notice::no gevent detected in app/: not checked, 100%25 sure\n"
    assert output.render([], "text", errors, [notice]) == ""


# -- columns in characters -----------------------------------------------------------------------

def assert_column_in_every_format(run, source: str, line_text: str) -> None:
    line, col = position(source, line_text)
    code, out, _ = check(run)
    assert code == 1 and [o.split(": ")[0] for o in out] == [f"app.py:{line}:{col}"]
    [finding] = json.loads("\n".join(check(run, "--format", "json")[1]))["findings"]
    assert (finding["line"], finding["col"]) == (line, col)
    log = json.loads("\n".join(check(run, "--format", "sarif")[1]))
    validate_sarif(log)
    assert log["runs"][0]["columnKind"] == "unicodeCodePoints"
    region = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": line, "startColumn": col}
    [annotation] = check(run, "--format", "github")[1]
    assert annotation.startswith(f"::notice file=app.py,line={line},col={col},title=GEV101::"), "a literal read: low"


def test_a_non_ascii_line_gives_character_columns_in_every_format(tmp_path, run):
    write(tmp_path, {"app.py": ACCENTED})
    assert_column_in_every_format(run, ACCENTED, ACCENTED_LINE)


def test_form_feeds_and_unicode_line_separators_shift_neither_lines_nor_columns(tmp_path, run):
    write(tmp_path, {"app.py": SEPARATED})
    assert_column_in_every_format(run, SEPARATED, SEPARATED_LINE)


def test_flake8_gets_character_columns_and_puts_the_caret_under_the_call(tmp_path):
    write(tmp_path, {"app.py": SEPARATED})
    done = subprocess.run([sys.executable, "-m", "flake8", "--select", "GEV", "--show-source", "app.py"],
                          cwd=tmp_path, capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    line, col = position(SEPARATED, SEPARATED_LINE)
    first, source, caret = done.stdout.split("\n")[:3]
    assert first.startswith(f"app.py:{line}:{col}: GEV101 ")
    assert source == SEPARATED_LINE and caret.index("^") == SEPARATED_LINE.index("open")


def test_a_baseline_records_the_findings_own_line_after_a_line_separator(tmp_path, run):
    write(tmp_path, {"app.py": SEPARATED})
    baseline = tmp_path / "baseline.json"
    check(run, "--baseline", str(baseline), "--update-baseline")
    [entry] = json.loads(baseline.read_text(encoding="utf-8"))["findings"]
    assert (entry["function"], entry["source"]) == ("a", " ".join(SEPARATED_LINE.split()))


# -- fix on such files ---------------------------------------------------------------------------

FIXABLE = """\
from gevent import monkey
monkey.patch_all()

from flask import Flask

app = Flask(__name__)
NOTE = "one\u2028two"\x0c


@app.route("/a", methods=["POST"])
def a(codes):
    with open("/tmp/a", "w") as fh:
        s = "é"; fh.write("\\n".join(codes))
"""


def test_fix_rewrites_the_call_on_a_non_ascii_line_after_a_line_separator(tmp_path, run):
    write(tmp_path, {"app.py": FIXABLE})
    code, _, err = run("fix", "--no-cache")
    assert code == 1 and "fixed app.py" in err
    assert (tmp_path / "app.py").read_text(encoding="utf-8") == FIXABLE.replace(
        "from flask import Flask\n", "from flask import Flask\nimport gevent\n").replace(
        'fh.write("\\n".join(codes))', 'gevent.get_hub().threadpool.apply(fh.write, ("\\n".join(codes),))')
    assert run("fix", "--no-cache") == (0, [], "")


def test_fix_reads_noqa_on_the_findings_own_line_after_a_line_separator(tmp_path, run):
    source = FIXABLE.replace('.join(codes))\n', '.join(codes))  # noqa: GEV301\n')
    write(tmp_path, {"app.py": source})
    assert run("fix", "--no-cache") == (0, [], "")
    assert (tmp_path / "app.py").read_text(encoding="utf-8") == source


# -- a file opened and used: one finding, the lines of its calls in every format -------------------

OPENED = PATCHED_APP_HEAD + """

@app.route("/save")
def save():
    with open("/srv/out", "w") as fh:
        fh.write("a")
        fh.flush()
    return "ok"
"""


def test_the_calls_on_an_opened_file_are_its_lines_in_json_and_related_locations_in_sarif(tmp_path, run):
    write(tmp_path, {"app.py": OPENED})
    line = OPENED.split("\n").index('    with open("/srv/out", "w") as fh:') + 1
    code, out, _ = check(run)
    assert code == 1 and len(out) == 1
    assert f"`open`, then `fh.write` and `fh.flush` at lines {line + 1}-{line + 2}," in out[0]
    [finding] = json.loads("\n".join(check(run, "--format", "json")[1]))["findings"]
    assert (finding["line"], finding["lines"]) == (line, [line + 1, line + 2])
    log = json.loads("\n".join(check(run, "--format", "sarif")[1]))
    validate_sarif(log)
    [result] = log["runs"][0]["results"]
    assert [r["physicalLocation"]["region"]["startLine"] for r in result["relatedLocations"]] == [line + 1, line + 2]
    assert [r["physicalLocation"]["artifactLocation"] for r in result["relatedLocations"]] == \
        [result["locations"][0]["physicalLocation"]["artifactLocation"]] * 2
