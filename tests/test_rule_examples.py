"""Every rules/<CODE>/ folder is run: bad.py gives exactly its markers, good.py gives nothing, and
where the rule has a fix, fixing bad.py gives fixed.py, which is clean and which a fix leaves alone."""
import os

import pytest
from conftest import REPO
from markers import actual_in, expected, unmarked
from rule_docs_page import PAGE, render

from lintgevent.cli import main
from lintgevent.fixes.codemods import CODEMODS
from lintgevent.rules import RULES

RULES_DIR = os.path.join(REPO, "rules")
FOLDERS = sorted(d for d in os.listdir(RULES_DIR) if os.path.isdir(os.path.join(RULES_DIR, d)))
HEADINGS = ("## What it does", "## Why is this bad", "## Example", "## Use instead", "## Fix safety")


def test_every_rule_has_a_folder_and_every_folder_a_rule():
    assert FOLDERS == sorted(RULES)


@pytest.mark.parametrize("code", FOLDERS)
def test_bad_gives_exactly_its_markers(code):
    folder = os.path.join(RULES_DIR, code)
    bad = os.path.join(folder, "bad.py")
    markers = expected(bad)
    assert any(c == code for _, _, c in markers), f"{code}/bad.py shows no {code} example"
    found = {f for f in actual_in(folder) if f[0] == bad}
    assert found == markers


@pytest.mark.parametrize("code", FOLDERS)
def test_good_is_clean(code):
    good = os.path.join(RULES_DIR, code, "good.py")
    assert expected(good) == set()
    assert {f for f in actual_in(os.path.join(RULES_DIR, code)) if f[0] == good} == set()


@pytest.mark.parametrize("code", FOLDERS)
def test_readme_has_the_standard_headings_and_explain_prints_it(code, capsys):
    with open(os.path.join(RULES_DIR, code, "README.md"), encoding="utf-8") as handle:
        text = handle.read()
    assert text.startswith(f"# {code}")
    positions = [text.find(h) for h in HEADINGS]
    assert -1 not in positions and positions == sorted(positions)
    assert main(["explain", code.lower()]) == 0
    explained = capsys.readouterr().out.strip()
    assert explained == text.strip()
    with open(PAGE, encoding="utf-8") as handle:
        assert explained in handle.read(), f"docs/rules.md does not show {code}'s documentation"


def test_the_rules_page_is_generated_from_the_rule_folders():
    with open(PAGE, encoding="utf-8") as handle:
        assert handle.read() == render(), "docs/rules.md is stale: python tests/rule_docs_page.py"


def test_the_rules_with_a_fix_and_only_they_have_a_fixed_example():
    with_fixed = [code for code in FOLDERS if os.path.exists(os.path.join(RULES_DIR, code, "fixed.py"))]
    assert with_fixed == sorted(CODEMODS)


def _fix_in(tmp_path, name: str, text: str) -> tuple[int, str]:
    (tmp_path / "setup.cfg").write_text("")
    (tmp_path / name).write_text(text, encoding="utf-8")
    code = main(["fix", "--no-cache", str(tmp_path / name)])
    return code, (tmp_path / name).read_text(encoding="utf-8")


def _unmarked(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return unmarked(handle.read())


@pytest.mark.parametrize("code", sorted(CODEMODS))
def test_fixing_bad_gives_fixed(code, tmp_path):
    folder = os.path.join(RULES_DIR, code)
    bad, fixed = _unmarked(os.path.join(folder, "bad.py")), _unmarked(os.path.join(folder, "fixed.py"))
    assert _fix_in(tmp_path, "bad.py", bad) == (1, fixed)


@pytest.mark.parametrize("code", sorted(CODEMODS))
def test_fixed_is_clean_of_its_rule_family_and_fixing_it_again_changes_nothing(code, tmp_path):
    """fixed.py may still show other rules (the `open` of an offloaded write is GEV101): its markers
    say which, and none is of the fixed rule's family (GEV3 for GEV301)."""
    folder = os.path.join(RULES_DIR, code)
    fixed_path = os.path.join(folder, "fixed.py")
    markers = expected(fixed_path)
    assert not any(c.startswith(code[:4]) for _, _, c in markers)
    assert {f for f in actual_in(folder) if f[0] == fixed_path} == markers
    with open(fixed_path, encoding="utf-8") as handle:
        fixed = handle.read()
    assert _fix_in(tmp_path, "fixed.py", fixed) == (0, fixed)


def test_the_codes_the_help_names_are_the_codemods():
    from lintgevent.fixes import FIXED_CODES

    assert FIXED_CODES == tuple(CODEMODS)
