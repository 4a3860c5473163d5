"""The fixture projects: findings equal the markers, and flake8 agrees with `lintgevent check`."""
import os
import subprocess
import sys

import pytest
from conftest import REPO
from markers import actual_in, expected_in, expected_severities_in, reported_in

FIXTURES = os.path.join(REPO, "fixtures")
PROJECTS = sorted(d for d in os.listdir(FIXTURES) if os.path.isdir(os.path.join(FIXTURES, d)))


@pytest.mark.parametrize("project", PROJECTS)
def test_findings_match_markers(project):
    directory = os.path.join(FIXTURES, project)
    assert actual_in(directory) == expected_in(directory)


def test_the_severities_the_markers_give_are_the_findings_severities():
    every = {}
    for project in PROJECTS:
        directory = os.path.join(FIXTURES, project)
        wanted = expected_severities_in(directory)
        if wanted:
            found = {(f.path, f.line, f.code): f.severity for f in reported_in(directory)}
            assert {key: found.get(key) for key in wanted} == wanted
            every.update(wanted)
    assert len(every) >= 6 and set(every.values()) == {"low", "medium", "high"}


def test_min_severity_selects_in_both_front_ends_on_the_document_portal():
    high = _run("lintgevent", "check", "--min-severity", "high", "document_portal")
    assert high == _run("flake8", "--select", "GEV", "--lintgevent-min-severity", "high", "document_portal")
    assert len(high) == 4 and all(line.endswith("[high]") for line in high)
    everything = _run("lintgevent", "check", "document_portal")
    assert len(everything) == 6 and set(high) < set(everything)


def test_no_gevent_project_gets_nothing_although_it_is_full_of_blocking_calls():
    directory = os.path.join(FIXTURES, "no_gevent")
    assert actual_in(directory) == set()
    assert actual_in(directory, deployment="gunicorn-gevent"), "forcing a gevent deployment must find its calls"


def _run(*command):
    done = subprocess.run([sys.executable, "-m", *command], cwd=FIXTURES, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    return sorted(line.removeprefix("./") for line in done.stdout.splitlines())


def test_flake8_and_check_give_the_same_findings_on_every_fixture():
    from_flake8 = _run("flake8", "--select", "GEV", "-j", "2", ".")
    from_check = _run("lintgevent", "check", ".")
    assert from_flake8 == from_check
    assert len(from_check) == len(expected_in(FIXTURES))


def test_flake8_select_gev2_agrees_with_check_on_the_handles_project():
    from_flake8 = _run("flake8", "--select", "GEV2", "handles")
    from_check = _run("lintgevent", "check", "--select", "GEV2", "handles")
    assert from_flake8 == from_check
    markers = {m for m in expected_in(os.path.join(FIXTURES, "handles")) if m[2].startswith("GEV2")}
    assert len(from_check) == len(markers) >= 10


def test_flake8_select_gev3_agrees_with_check_on_the_exports_project():
    from_flake8 = _run("flake8", "--select", "GEV3", "exports")
    from_check = _run("lintgevent", "check", "--select", "GEV3", "exports")
    assert from_flake8 == from_check
    markers = {m for m in expected_in(os.path.join(FIXTURES, "exports")) if m[2].startswith("GEV3")}
    assert len(from_check) == len(markers) >= 6
