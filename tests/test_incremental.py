"""A run that reuses the cache says exactly what a cold run says, after every edit of a sequence of
random edits (benchmarks/random_edits.py): calls, routes, imports, patch_all, decorators and lines
moved.  bench_check.py --random-edits N does the same on a large tree."""
from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

import pytest

from lintgevent import engine
from lintgevent.config import load_config
from lintgevent.engine import analyse_project

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
