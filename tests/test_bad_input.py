"""Files that cannot be checked, or are hard to check, next to a good file.

Every broken file must be reported with a reason (GEV001, `path:line:1: GEV001 could not be analysed:
reason; ...`), without a traceback, and must not stop the good file's finding from being reported.  Huge but valid files must
be analysed, not rejected.  Most runs are real `python -m lintgevent` processes: a crash in a parser
thread or a stack overflow would show there and nowhere else.
"""
from __future__ import annotations

import ast
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lintgevent import cli
from lintgevent.config import load_config
from lintgevent.engine import analyse_project
from lintgevent.summary import summarise
from sample_app import PATCHED_APP_HEAD, READ_APP, read_app_finding

GOOD = READ_APP
GOOD_FINDING = read_app_finding("good.py")
ERROR_LINE = re.compile(r"^(?P<path>\S+): error: (?P<reason>.+); skipped$")


def project(root: Path, pyproject: str = "[project]\nname = 'demo'\n") -> Path:
    (root / "pyproject.toml").write_text(pyproject)
    (root / "good.py").write_text(GOOD)
    return root


def lintgevent(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lintgevent", "check", "--no-cache", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


NOT_ANALYSED = re.compile(r"^(?P<path>\S+):\d+:1: GEV001 could not be analysed: (?P<reason>.+); nothing in it was checked \[high\]$")


def skipped(stdout: str, stderr: str) -> dict[str, str]:
    """path -> reason: the files reported as GEV001 on stdout, and the error lines on stderr (paths
    that could not even be listed); any other line on stderr fails the test."""
    found = {}
    for line in stdout.splitlines():
        match = NOT_ANALYSED.match(line)
        if match:
            found[match["path"]] = match["reason"]
    for line in stderr.splitlines():
        match = ERROR_LINE.match(line)
        assert match, f"unexpected stderr line: {line!r}"
        found[match["path"]] = match["reason"]
    return found


def findings_of(stdout: str) -> list[str]:
    """The finding lines other than GEV001."""
    return [line for line in stdout.splitlines() if not NOT_ANALYSED.match(line)]


def assert_skipped(done: subprocess.CompletedProcess, name: str, reason: str) -> str:
    """The broken file is reported with a matching reason, the good file's finding is still there."""
    assert "Traceback" not in done.stderr
    assert "internal error" not in done.stderr
    reported = skipped(done.stdout, done.stderr)
    assert name in reported, done.stdout + done.stderr
    assert re.search(reason, reported[name]), reported[name]
    assert GOOD_FINDING in done.stdout.splitlines()
    assert done.returncode == 1
    return reported[name]


def assert_analysed(done: subprocess.CompletedProcess, *findings: str) -> None:
    assert "Traceback" not in done.stderr
    assert done.stderr == ""
    assert done.returncode == 1
    assert done.stdout.splitlines() == sorted([GOOD_FINDING, *findings])


# -- files that cannot be parsed --------------------------------------------------------------

JUNK = random.Random(20240312).randbytes(4096)
BROKEN = {
    "syntax-error": (b"def broken(:\n    pass\n", r"^syntax error at line 1, column \d+: "),
    "latin-1-first-line": (b'NAME = "caf\xe9 cr\xe8me"\n', r"encoding|decoded"),
    "latin-1-later-line": (b'"""Menu."""\n\n\nNAME = "caf\xe9 cr\xe8me"\n', r"encoding|decoded"),
    "bad-coding-cookie": (b"# -*- coding: klingon -*-\nx = 1\n", r"encoding"),
    "nul-bytes": (b"x = 1\x00\ny = 2\n", r"NUL bytes"),
    "binary-junk": (JUNK, r"NUL bytes|encoding|decoded|syntax error"),
    "binary-junk-without-nul": (JUNK.replace(b"\0", b"\x01"), r"encoding|decoded|syntax error"),
    "1000-nested-brackets": (b"x = " + b"[" * 1000 + b"]" * 1000 + b"\n",
                             r"too many nested parentheses|too deeply nested"),
    "deep-unary-operators": (b"x = " + b"-" * 100_000 + b"1\n", r"too deeply nested|syntax error"),
}


@pytest.mark.parametrize("content,reason", BROKEN.values(), ids=BROKEN.keys())
def test_unparsable_file_is_skipped_with_a_reason(tmp_path, content, reason):
    project(tmp_path)
    (tmp_path / "broken.py").write_bytes(content)
    done = lintgevent(tmp_path)
    assert_skipped(done, "broken.py", reason)
    assert findings_of(done.stdout) == [GOOD_FINDING]


def test_template_string(tmp_path):
    project(tmp_path)
    (tmp_path / "tstring.py").write_text('name = "world"\ngreeting = t"hello {name}"\n')
    done = lintgevent(tmp_path)
    if sys.version_info >= (3, 14):
        assert_analysed(done)
    else:
        reason = assert_skipped(done, "tstring.py", r"^syntax error at line 2")
        assert "newer than this Python" in reason


def test_broken_file_asked_for_by_name(tmp_path):
    project(tmp_path)
    (tmp_path / "broken.py").write_bytes(b"x = 1\x00\n")
    done = lintgevent(tmp_path, "broken.py", "good.py")
    assert_skipped(done, "broken.py", "NUL bytes")
    # Asked for alone, it is still an error, and errors alone make the run fail.
    done = lintgevent(tmp_path, "broken.py")
    assert "Traceback" not in done.stderr
    assert skipped(done.stdout, done.stderr) == {"broken.py": "contains NUL bytes (a binary file?)"}
    assert (done.returncode, findings_of(done.stdout), done.stderr) == (1, [], "")
    # Only the files asked for are reported, broken or not.
    done = lintgevent(tmp_path, "good.py")
    assert (done.returncode, done.stdout.splitlines(), done.stderr) == (1, [GOOD_FINDING], "")


def test_errors_keep_json_output_valid(tmp_path, capsys, monkeypatch):
    project(tmp_path)
    (tmp_path / "broken.py").write_text("def broken(:\n")
    monkeypatch.chdir(tmp_path)
    code = cli.main(["check", "--no-cache", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 1
    report = json.loads(out)
    assert [(d["path"], d["line"], d["code"]) for d in report["findings"]] == [("broken.py", 1, "GEV001"),
                                                                              ("good.py", 9, "GEV101")]
    assert [(e["path"], e["line"]) for e in report["errors"]] == [("broken.py", 1)]
    assert set(skipped("", err)) == {"broken.py"}, "named on stderr too, for the job's log"


def test_every_kind_of_broken_file_at_once(tmp_path, capsys, monkeypatch):
    project(tmp_path)
    for number, content in enumerate(content for content, _ in BROKEN.values()):
        (tmp_path / f"broken_{number}.py").write_bytes(content)
    monkeypatch.chdir(tmp_path)
    code = cli.main(["check", "--no-cache"])
    out, err = capsys.readouterr()
    assert code == 1
    assert findings_of(out) == [GOOD_FINDING]
    assert sorted(skipped(out, err)) == sorted(f"broken_{n}.py" for n in range(len(BROKEN)))
    assert err == "", "each is a GEV001 line already"


# -- files that are big but valid --------------------------------------------------------------

def test_20000_term_expression_is_analysed(tmp_path):
    project(tmp_path)
    total = " + ".join(["1"] * 20_000)
    (tmp_path / "sums.py").write_text(PATCHED_APP_HEAD + f"""
TOTAL = {total}


@app.route("/sum")
def sums():
    extra = {total}
    return open("sum.txt"), TOTAL + extra
""")
    done = lintgevent(tmp_path)
    assert_analysed(done, "sums.py:12:12: GEV101 blocking file IO `open` on a request path (route GET /sum); "
                          "offload it with gevent's threadpool [low]")


def test_writes_of_20000_term_concatenations_and_5000_call_chains_are_analysed(tmp_path):
    project(tmp_path)
    total = " + ".join(["part"] * 20_000)
    chain = "part" + ".strip()" * 5_000
    (tmp_path / "joins.py").write_text(PATCHED_APP_HEAD + f"""
@app.route("/join")
def joins(part, parts):
    with open("sum.txt", "w") as fh:
        fh.write({total} + "".join(parts))
        fh.write({chain})
    return "ok"
""")
    done = lintgevent(tmp_path)
    assert "joins.py:9:9: GEV301 unbounded write `fh.write` on a request path (route GET /join): it is built by " \
           "`join` over `parts`" in done.stdout
    assert "joins.py:8:10: GEV101 blocking file IO `open`, then `fh.write` at line 10," in done.stdout
    assert "joins.py:10:9:" not in done.stdout
    assert "error" not in done.stderr


def test_100000_line_file_is_analysed(tmp_path):
    project(tmp_path)
    filler = "pass\n" * 100_000
    (tmp_path / "long.py").write_text(PATCHED_APP_HEAD + filler + """

@app.route("/long")
def long_view():
    return open("long.txt")
""")
    line = 4 + 100_000 + 5
    done = lintgevent(tmp_path)
    assert_analysed(done, f"long.py:{line}:12: GEV101 blocking file IO `open` on a request path "
                          "(route GET /long); offload it with gevent's threadpool [low]")


# -- files that are not regular, or too large --------------------------------------------------

def symlink(target: str, link: Path) -> None:
    try:
        os.symlink(target, link)
    except (OSError, NotImplementedError):
        pytest.skip("symbolic links are not available here")


def test_symlink_loop(tmp_path):
    project(tmp_path)
    symlink("b.py", tmp_path / "a.py")
    symlink("a.py", tmp_path / "b.py")
    done = lintgevent(tmp_path)
    assert "Traceback" not in done.stderr
    reported = skipped(done.stdout, done.stderr)
    assert set(reported) == {"a.py", "b.py"}
    assert all(reason.startswith("cannot read") for reason in reported.values())
    assert findings_of(done.stdout) == [GOOD_FINDING]
    assert done.returncode == 1


def test_symlinked_directory_loop(tmp_path):
    project(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "views.py").write_text(GOOD.replace('"/read"', '"/sub"'))
    symlink("..", tmp_path / "sub" / "loop")
    done = lintgevent(tmp_path)  # terminates: the loop is not followed round and round
    assert "Traceback" not in done.stderr
    skipped(done.stdout, done.stderr)  # nothing but well-formed error lines
    # Each real file is reported once, under its own name, never again through sub/loop/.
    assert done.stdout.splitlines() == [
        GOOD_FINDING, os.path.join("sub", "views.py") + GOOD_FINDING[len("good.py"):].replace("/read", "/sub")]
    assert done.returncode == 1
    # Asked for through the loop, the same files are found, under the names they were asked by.
    done = lintgevent(tmp_path, os.path.join("sub", "loop", "good.py"))
    assert "Traceback" not in done.stderr
    assert done.stdout.splitlines() == [os.path.join("sub", "loop", "good.py") + GOOD_FINDING[len("good.py"):]]
    assert done.returncode == 1


def test_file_over_the_configured_size_limit(tmp_path):
    project(tmp_path, pyproject="[tool.lintgevent]\nmax-file-size = 4096\n")
    big = PATCHED_APP_HEAD + "".join(f"VALUE_{n} = {n}\n" for n in range(1000)) + """

@app.route("/big")
def big():
    return open("big.txt")
"""
    (tmp_path / "big.py").write_text(big)
    done = lintgevent(tmp_path)
    reason = assert_skipped(done, "big.py", r"too large")
    assert f"{len(big.encode()):,} bytes" in reason
    assert "4,096" in reason
    assert findings_of(done.stdout) == [GOOD_FINDING]  # big.py's own finding is not there: it was skipped


# -- the engine's own walkers on deep nesting (in-process) -------------------------------------

def nested_ifs(name: str, depth: int, body: str) -> str:
    """A function with `depth` nested if blocks (the tokenizer allows at most 99 indentation levels)."""
    lines = [f"def {name}(x):"]
    lines += ["    " * (level + 1) + f"if x > {level}:" for level in range(depth)]
    lines.append("    " * (depth + 1) + body)
    return "\n".join(lines) + "\n"


def elif_chain(name: str, length: int, body: str) -> str:
    """if/elif/else: each elif is an If nested in the previous one's orelse, `length` deep."""
    lines = [f"def {name}(x):", "    if x == 0:", "        return 0"]
    for value in range(1, length):
        lines += [f"    elif x == {value}:", f"        return {value}"]
    lines += ["    else:", f"        {body}"]
    return "\n".join(lines) + "\n"


def test_deeply_nested_helpers_are_analysed_in_process(tmp_path):
    helpers = "\n\n".join([
        nested_ifs("nested", 97, 'return open("nested.txt")'),
        elif_chain("chained", 150, 'return open("chained.txt")'),
        "def wrapped(x):\n    return " + "str(" * 150 + 'open("wrapped.txt")' + ")" * 150 + "\n",
    ])
    ast.parse(helpers)  # valid Python, at the limits of the parser
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "helpers.py").write_text(helpers)
    (tmp_path / "app.py").write_text(PATCHED_APP_HEAD + """
from helpers import chained, nested, wrapped


@app.route("/deep")
def deep():
    # chained(1) would return 1 at its second test: a value known only at run time keeps every branch
    return nested(1), chained(int("1")), wrapped(1)
""")
    result = analyse_project(str(tmp_path), load_config(str(tmp_path)), use_cache=False)
    assert result.errors == []
    lines = helpers.splitlines()
    expected = {
        (lines.index(line) + 1, line.index("open"), "(route GET /deep -> " + name + ")")
        for name, line in (
            ("nested", next(x for x in lines if "nested.txt" in x)),
            ("chained", next(x for x in lines if "chained.txt" in x)),
            ("wrapped", next(x for x in lines if "wrapped.txt" in x)),
        )
    }
    found = {(f.line, f.col, f.message[f.message.index("("):f.message.index(")") + 1])
             for f in result.findings if f.path.endswith("helpers.py") and f.code == "GEV101"
             and "`open`" in f.message}
    assert found == expected


def test_summary_walk_survives_nesting_deeper_than_the_parser_allows():
    """150 (and 3000) nested `if` blocks: built as an AST, since source code cannot indent that far."""
    for depth in (150, 3000):
        tree = ast.parse("def deep(x):\n    pass\n")
        function = tree.body[0]
        innermost = ast.parse('open("deep.txt")').body[0]
        node = innermost
        for level in range(depth):
            node = ast.If(test=ast.Name(id="x", ctx=ast.Load()), body=[node], orelse=[])
        function.body = [node]
        for line, item in enumerate(ast.walk(tree), start=1):  # iterative: gives every node a place
            if "lineno" in item._attributes:
                item.lineno = item.end_lineno = getattr(item, "lineno", line)
                item.col_offset = item.end_col_offset = getattr(item, "col_offset", 0)
        summary = summarise(tree, "/project/deep.py", "deep", False)
        calls = summary.functions["deep"].calls
        assert [(c.text, c.func) for c in calls] == [("open", ("ref", "builtins.open"))]


def test_long_call_chain_keeps_every_hop(tmp_path):
    hops = 300
    functions = "".join(f"\n\ndef f{n}():\n    return f{n + 1}()\n" for n in range(hops - 1))
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "chain.py").write_text(PATCHED_APP_HEAD + """

@app.route("/chain")
def start():
    return f0()
""" + functions + f"\n\ndef f{hops - 1}():\n    return open('end.txt')\n")
    result = analyse_project(str(tmp_path), load_config(str(tmp_path)), use_cache=False)
    assert result.errors == []
    [finding] = result.findings
    assert finding.chain == " -> ".join(["route GET /chain", *(f"f{n}" for n in range(hops))])


def test_long_chain_of_module_level_aliases(tmp_path):
    """`a1 = a0`, `a2 = a1`, ...: a short chain is followed; a 400-deep one is left unknown (nothing is
    guessed) without losing the other findings of the project."""
    project(tmp_path)
    for count, expected in ((20, True), (400, False)):
        aliases = "a0 = open\n" + "".join(f"a{n} = a{n - 1}\n" for n in range(1, count))
        (tmp_path / "aliases.py").write_text(aliases + f"\n\ndef use():\n    return a{count - 1}('x.txt')\n")
        (tmp_path / "views.py").write_text(PATCHED_APP_HEAD + """
from aliases import use


@app.route("/alias")
def alias():
    return use()
""")
        done = lintgevent(tmp_path)
        assert "internal error" not in done.stderr
        alias_finding = (f"aliases.py:{count + 4}:12: GEV101 blocking file IO `a{count - 1}` on a request path "
                         "(route GET /alias -> use); offload it with gevent's threadpool [low]")
        assert_analysed(done, *([alias_finding] if expected else []))


# -- names and bytes that are not UTF-8 --------------------------------------------------------



def test_file_names_that_are_not_utf8_are_checked_and_printed_as_the_os_gives_them(tmp_path):
    project(tmp_path)
    (tmp_path / os.fsdecode(b"caf\xe9.py")).write_bytes(READ_APP.replace("/read", "/cafe").encode())
    (tmp_path / os.fsdecode(b"r\xe9sum\xe9.yaml")).write_text("cmd: gunicorn -k gevent app:app\n")
    done = subprocess.run([sys.executable, "-m", "lintgevent", "check", "--no-cache"], cwd=tmp_path,
                          capture_output=True, timeout=300)
    assert done.stderr == b"" and done.returncode == 1
    assert done.stdout.splitlines() == [
        b"caf\xe9.py:9:12: GEV101 blocking file IO `open` on a request path (route GET /cafe); offload it with "
        b"gevent's threadpool [low]", GOOD_FINDING.encode()]
    sarif = subprocess.run([sys.executable, "-m", "lintgevent", "check", "--no-cache", "--format", "sarif"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=300)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(sarif.stdout)["runs"][0]["results"]]
    assert uris == ["caf%E9.py", "good.py"]
    fixed = subprocess.run([sys.executable, "-m", "lintgevent", "fix", "--no-cache", "--check"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
    assert fixed.returncode == 0 and "Traceback" not in fixed.stderr and "internal error" not in fixed.stderr


def test_a_name_that_is_not_utf8_elsewhere_does_not_break_flake8(tmp_path):
    project(tmp_path)
    (tmp_path / os.fsdecode(b"caf\xe9.py")).write_text("x = 1\n")
    done = subprocess.run([sys.executable, "-m", "flake8", "--select", "GEV", "."], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert "Traceback" not in done.stderr
    assert done.stdout.splitlines() == ["./" + GOOD_FINDING]


def test_bad_bytes_in_comments_only_are_analysed_as_cpython_compiles_them(tmp_path):
    project(tmp_path)
    app = READ_APP.replace("/read", "/menu").encode() + b"# caf\xe9 cr\xe8me\n"
    (tmp_path / "menu.py").write_bytes(app.replace(b"monkey.patch_all()", b"monkey.patch_all()  # \xe9", 1))
    compile(app, "menu.py", "exec")  # what CPython itself accepts
    done = lintgevent(tmp_path)
    assert_analysed(done, read_app_finding("menu.py").replace("/read", "/menu"))
    (tmp_path / "menu.py").write_bytes(b'NAME = "caf\xe9"\n')  # in a string: CPython refuses it too
    assert_skipped(lintgevent(tmp_path), "menu.py", r"cannot be decoded as utf-8")


# -- folders that cannot be read ---------------------------------------------------------------

def test_a_folder_that_cannot_be_read_is_named_and_the_rest_is_checked(tmp_path, capsys, monkeypatch):
    """The OS refusal is simulated (these tests may run as root, whom permissions do not stop)."""
    project(tmp_path)
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "app.py").write_text(READ_APP)
    real_scandir, real_lstat = os.scandir, os.lstat
    denied = str(tmp_path / "secret")

    def refuse(path, *rest):
        if os.fspath(path).rstrip(os.sep) == denied:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path, *rest)

    def refuse_inside(path, *rest, **options):
        if os.path.abspath(path).startswith(denied + os.sep):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_lstat(path, *rest, **options)

    monkeypatch.setattr(os, "scandir", refuse)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "--no-cache"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [GOOD_FINDING]
    assert err.splitlines() == [f"secret{os.sep}: error: cannot read: Permission denied; skipped"]
    assert cli.main(["fix", "--no-cache", "--check"]) == 2, "fix names it too, and fails"
    assert capsys.readouterr().err.splitlines() == [f"secret{os.sep}: error: cannot read: Permission denied; skipped"]
    monkeypatch.setattr(os, "lstat", refuse_inside)
    assert cli.main(["check", "--no-cache", "good.py", "secret/app.py"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [GOOD_FINDING]
    assert err.splitlines() == ["secret/app.py: error: cannot read: Permission denied; skipped"]


def test_the_warnings_of_compiling_checked_code_are_not_printed(tmp_path):
    project(tmp_path)
    (tmp_path / "escapes.py").write_text('PATTERN = "\\d+"\n')
    done = subprocess.run([sys.executable, "-W", "default", "-m", "lintgevent", "check", "--no-cache"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert_analysed(done)


def test_a_collection_nested_in_itself_ten_thousand_times_is_folded_to_unknown(tmp_path):
    body = "    x = [x, open]\n" * 10_000
    (tmp_path / "app.py").write_text(f"import gevent\n\n\ndef f():\n    x = None\n{body}    return x[0]\n")
    result = analyse_project(str(tmp_path), load_config(str(tmp_path)), use_cache=True)
    assert result.errors == []
    again = analyse_project(str(tmp_path), load_config(str(tmp_path)), use_cache=True)
    assert again.findings == result.findings


def test_a_source_is_read_whole_whatever_its_size_and_if_it_grew_after_its_size_was_taken(tmp_path, monkeypatch):
    from lintgevent import sources

    for size in (0, 1, 4095, 3 << 20):
        path = tmp_path / f"m{size}.py"
        data = bytes(random.Random(size).randrange(256) for _ in range(min(size, 5000))) * (size // 5000 + 1)
        path.write_bytes(data[:size])
        assert sources.read_source(str(path), 10 << 20) == data[:size]
    grown = tmp_path / "grown.py"
    grown.write_bytes(b"x = 1\n" * 500_000)
    real_stat = os.stat

    def stat_taken_before_it_grew(path, **options):
        info = real_stat(path, **options)
        return os.stat_result((*info[:6], 10, *info[7:])) if str(path) == str(grown) else info

    monkeypatch.setattr(sources.os, "stat", stat_taken_before_it_grew)
    assert sources.read_source(str(grown), 10 << 20) == b"x = 1\n" * 500_000
