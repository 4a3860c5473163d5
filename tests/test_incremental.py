"""A run that reuses the cache says exactly what a cold run says, after every edit of a sequence of
random edits (benchmarks/random_edits.py): calls, routes, imports, patch_all, decorators and lines
moved.  bench_check.py --random-edits N does the same on a large tree.  An edit that only moves
lines is relocated (relocation.py): the global step does not run."""
from __future__ import annotations

import ast
import dataclasses
import random
import shutil
import sys
from pathlib import Path

import pytest

from lintgevent import analysis, engine
from lintgevent.config import load_config
from lintgevent.engine import analyse_project
from lintgevent.findings import Finding
from lintgevent.positions import mark, mark_lines, moved, render
from lintgevent.relocation import _renumbering, relocated

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from random_edits import KINDS, RandomEdits  # noqa: E402

# Two fixture projects in one tree: a Flask app under gunicorn, and handles handed to greenlets.
PROJECTS = ("flask_gunicorn", "handles")
EDITS_PER_SEED = 3 * len(KINDS)


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for name in PROJECTS:
        shutil.copytree(REPO / "fixtures" / name, root / name)
    (root / "pyproject.toml").write_text("[project]\nname = 'edited'\n")
    return root


def _outcome(root: Path, use_cache: bool) -> tuple:
    result = analyse_project(str(root), load_config(str(root)), use_cache=use_cache)
    return result.findings, result.errors, result.deployments, result.processes


def _edit_and_compare(root: Path, seed: int) -> tuple[int, list[str]]:
    """Apply the seed's edits one by one; (how many changed the findings, the edits where the
    run from the cache and the cold run disagreed)."""
    edits = RandomEdits(root, random.Random(seed))
    before = _outcome(root, use_cache=True)  # fills the cache
    changed, disagreements = 0, []
    for number in range(EDITS_PER_SEED):
        applied = edits.apply(KINDS[number % len(KINDS)])
        assert applied is not None, f"no file takes a {KINDS[number % len(KINDS)]!r} edit"
        incremental, cold = _outcome(root, use_cache=True), _outcome(root, use_cache=False)
        if incremental != cold:
            disagreements.append(f"edit {number + 1}: {applied}")
        changed += cold[0] != before[0]
        before = cold
    return changed, disagreements


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_run_from_the_cache_equals_a_cold_run_after_every_random_edit(tmp_path, seed):
    changed, disagreements = _edit_and_compare(_project(tmp_path), seed)
    assert disagreements == []
    assert changed >= 3, "the edits hardly changed the findings: the comparison would prove little"


def test_the_comparison_sees_a_cache_that_misses_an_edit(tmp_path, monkeypatch):
    """The same sequence, with summaries cached under the file's name alone (an edit is not seen):
    the comparison must catch it."""
    monkeypatch.setattr(engine, "_summary_key", lambda path, data: engine._digest(engine._salt(), path.encode()))
    monkeypatch.setattr(engine, "_digest", _ignoring_contents(engine._digest))
    _, disagreements = _edit_and_compare(_project(tmp_path), 1)
    assert disagreements


def _ignoring_contents(digest):
    """The results key without the files' contents: only their names."""
    def names_only(*parts: bytes) -> str:
        return digest(*(part.split(b"\0", 1)[0] for part in parts))
    return names_only


def _first_function_body(path: Path):
    tree = ast.parse(path.read_bytes())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body[0].lineno > node.lineno:
            return node.body[0]
    return None


def test_an_edit_that_moves_lines_only_is_relocated_without_the_global_step(tmp_path, monkeypatch):
    """Each file in turn gets a statement at the top of its first function body, which moves every
    line below it: the results are the last run's, moved, and they are what a cold run finds.  A
    gunicorn config module, whose text the global step reads, makes it run again."""
    root = _project(tmp_path)
    ran_for = []
    check = analysis.check_project
    monkeypatch.setattr(analysis, "check_project", lambda *args: ran_for.append(edited) or check(*args))
    edited = None

    def cold() -> tuple:
        with monkeypatch.context() as cold_run:
            cold_run.setattr(analysis, "check_project", check)
            return _outcome(root, use_cache=False)

    _outcome(root, use_cache=True)
    moved_some = False
    for edited in sorted(root.rglob("*.py")):
        first = _first_function_body(edited)
        if first is None:
            continue
        lines = edited.read_text().splitlines(keepends=True)
        indent = lines[first.lineno - 1][:first.col_offset]
        lines.insert(first.lineno - 1, f"{indent}_moved_by_the_test = 1\n")
        edited.write_text("".join(lines))
        incremental = _outcome(root, use_cache=True)
        assert incremental == cold(), edited
        moved_some |= any(f.path == str(edited) and f.line > first.lineno for f in incremental[0])
    assert moved_some, "no finding was below an edit: the test would prove little"
    assert ran_for == [None], "only the first run runs the global step"
    edited = root / "handles" / "gunicorn.conf.py"
    edited.write_text("# moved\n" + edited.read_text())
    assert _outcome(root, use_cache=True) == cold()
    assert ran_for[1:] == [edited], "the global step reads a config module's text: it runs again"


@pytest.mark.parametrize("old, new, expected", [
    ("abcd", "abXcd", {1: 1, 2: 2, 3: 4, 4: 5}),
    ("abcd", "XYabd", {1: 3, 2: 4, 4: 5}),
    ("abcd", "abcdZ", {1: 1, 2: 2, 3: 3, 4: 4}),
    ("", "ab", {}),
])
def test_lines_the_diff_does_not_match_get_numbers_between_old_lines_never_whole(old, new, expected):
    numbers, moves = _renumbering(list(old), list(new))
    assert moves == expected
    assert all(numbers[new_line] == old_line for old_line, new_line in moves.items())
    others = [numbers[line] for line in range(1, len(new) + 1) if line not in moves.values()]
    assert all(number != int(number) for number in others)
    assert numbers[1:] == sorted(numbers[1:]) and len(set(numbers[1:])) == len(new), "strictly increasing"


def test_a_mark_moves_with_its_file_and_renders_as_the_numbers_it_holds():
    text = f"at line {mark('/a.py', 3)}, then {mark_lines('/a.py', [7, 5, 6, 9])} and {mark('/b.py', 3)}"
    assert render(text) == "at line 3, then 5-7, 9 and 3"
    moved_text = moved(text, lambda path, line: line + 1 if path == "/a.py" else line)
    assert render(moved_text) == "at line 4, then 6-8, 10 and 3"
    assert moved(text, lambda path, line: None if line == 9 else line) is None


def test_a_plan_with_a_part_relocation_does_not_know_is_not_moved():
    finding = Finding("/a.py", 3, 0, "GEV301", "GEV301 x", fix=(("call", (3, 0)), ("new part", (3, 0))))
    assert relocated(([finding], [], {}, [], {}), {"/a.py": {3: 4}}) is None
    known = dataclasses.replace(finding, fix=(("call", (3, 0)), ("sleeps", ((3, 4),))))
    moved_findings = relocated(([known], [], {}, [], {}), {"/a.py": {3: 4}})[0]
    assert moved_findings == [dataclasses.replace(known, line=4, fix=(("call", (4, 0)), ("sleeps", ((4, 4),))))]


CONFIGURED_APP = """\
import time
from flask import Flask
app = Flask(__name__)


@app.route("/x")
def x():
    time.sleep(1)
    return open("f").read()
"""


@pytest.mark.parametrize("edit", ["the config file", "the config file and a line of the app",
                                  "no config file, then one"])
def test_a_config_file_read_from_outside_the_listing_is_an_input_of_the_cached_results(tmp_path, edit):
    """`gunicorn -c server/gunicorn.conf` names a file that is neither a Python file of the project
    nor a deployment file: the global step reads it from disk, so the next run from the cache (its
    results, or the last results with lines moved) must see an edit of it, or that it was made."""
    root = tmp_path / "project"
    (root / "server").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'configured'\n")
    (root / "Procfile").write_text("web: gunicorn -c server/gunicorn.conf app:app\n")
    if edit != "no config file, then one":
        (root / "server" / "gunicorn.conf").write_text('worker_class = "sync"\n')
    (root / "app.py").write_text(CONFIGURED_APP)
    assert _outcome(root, use_cache=True)[0] == [] == _outcome(root, use_cache=False)[0]
    (root / "server" / "gunicorn.conf").write_text('worker_class = "gevent"\n')
    if edit == "the config file and a line of the app":
        (root / "app.py").write_text("\n" + CONFIGURED_APP)
    cold = _outcome(root, use_cache=False)
    assert [f.code for f in cold[0]] == ["GEV101"]  # the open; time.sleep is patched
    assert _outcome(root, use_cache=True) == cold


def test_the_renumbering_of_an_edit_keeps_lines_in_order_and_matches_only_equal_lines():
    rng = random.Random(7)
    for _ in range(2000):
        old = [rng.choice("abcdefg") for _ in range(rng.randint(0, 60))]
        new = list(old)
        for _ in range(rng.randint(0, 4)):
            at = rng.randint(0, len(new))
            if rng.random() < 0.5 or not new:
                new.insert(at, rng.choice("abcdefgxyz"))
            else:
                del new[min(at, len(new) - 1)]
        numbers, moves = _renumbering(old, new)
        assert all(a < b for a, b in zip(numbers[1:], numbers[2:])), (old, new)
        assert all(old[o - 1] == new[n - 1] and numbers[n] == o for o, n in moves.items()), (old, new)
        # a line the diff did not match gets a number no old line has
        assert all(numbers[n] != int(numbers[n]) for n in range(1, len(new) + 1) if n not in moves.values())
    # one line added to a long file: the lines before and after it keep their old numbers
    old = [f"line {i}" for i in range(3000)]
    new = old[:1500] + ["added"] + old[1500:]
    numbers, moves = _renumbering(old, new)
    assert len(moves) == 3000 and numbers[1501] == 1500.5 and numbers[1502] == 1501
