"""Every rules/<CODE>/ folder is run: bad.py gives exactly its markers, good.py gives nothing."""
import os

import pytest
from conftest import REPO
from markers import actual_in, expected

from lintgevent.cli import main
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
    assert capsys.readouterr().out.strip() == text.strip()
