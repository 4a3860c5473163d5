"""What a wheel ships: every package of the source tree is declared, so a non-editable install has it;
the sdist and the wheel build with the real build frontend, and the wheel installed in a fresh venv
runs from outside the source tree."""
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def test_every_package_directory_is_declared():
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as handle:
        declared = set(tomllib.load(handle)["tool"]["setuptools"]["packages"])
    on_disk = {
        os.path.relpath(directory, REPO).replace(os.sep, ".")
        for directory, _, files in os.walk(os.path.join(REPO, "lintgevent"))
        if "__init__.py" in files
    }
    assert on_disk <= declared


VIEWS = """\
from gevent import monkey; monkey.patch_all()
from flask import Flask

app = Flask(__name__)


@app.route("/report")
def report():
    with open("/srv/report.csv") as handle:
        return handle.read()
"""
# What a build from the sdist needs besides the package's modules: the rule docs and the fixture
# app, which the wheel maps into the package, and the project's metadata.
SDIST_NEEDS = ["pyproject.toml", "README.md", "rules/GEV101/README.md", "rules/GEV401/README.md",
               "fixtures/verify_app/cases.toml", "fixtures/verify_app/patched/app.py"]


def _run(*args, cwd, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def _build(source: Path, outdir: Path, *kinds: str) -> None:
    built = _run(sys.executable, "-m", "build", *kinds, "--outdir", outdir, source, cwd=source)
    assert built.returncode == 0, built.stdout + built.stderr


def _source_copy(destination: Path) -> Path:
    """The working tree without its VCS, venvs and build leftovers: building in place would write
    build/ and *.egg-info/ into the checkout."""
    top_level = {".git", ".venv", "build", "dist"}

    def ignore(directory, names):
        skipped = {n for n in names if n in ("__pycache__", ".lintgevent_cache", ".pytest_cache")
                   or n.endswith(".egg-info")}
        if os.path.samefile(directory, REPO):
            skipped |= top_level & set(names)
        return skipped

    shutil.copytree(REPO, destination, ignore=ignore)
    return destination


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("build") is None, reason="needs build (the test extra)")
def test_the_sdist_and_the_wheel_build_and_the_wheel_runs_outside_the_tree(tmp_path):
    source = _source_copy(tmp_path / "source")
    dist = tmp_path / "dist"
    _build(source, dist, "--sdist", "--wheel")
    [sdist] = dist.glob("lintgevent-*.tar.gz")
    [wheel] = dist.glob("lintgevent-*.whl")

    # The sdist is complete: it has what the build needs, and the wheel built from it is the same.
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        members = {name.partition("/")[2] for name in archive.getnames()}
        assert set(SDIST_NEEDS) <= members, set(SDIST_NEEDS) - members
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # no filters before 3.10.12
        archive.extractall(tmp_path / "unpacked", **safe)
    _build(tmp_path / "unpacked" / top, tmp_path / "from-sdist", "--wheel")
    [wheel_from_sdist] = (tmp_path / "from-sdist").glob("lintgevent-*.whl")
    with zipfile.ZipFile(wheel) as one, zipfile.ZipFile(wheel_from_sdist) as other:
        assert sorted(one.namelist()) == sorted(other.namelist())

    # A fresh venv with the wheel alone; the dependencies come from this interpreter's site
    # directories through a .pth file (offline and fast). A plain path in a .pth file does not run the
    # .pth files found there, so the editable install of this checkout cannot shadow the wheel: the
    # first run checks that lintgevent is imported from the new venv.
    venv = tmp_path / "venv"
    made = _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    python, bin_dir = venv / "bin" / "python", venv / "bin"
    site_packages = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                         cwd=tmp_path).stdout.strip()
    dependencies = {str(importlib.metadata.distribution(name).locate_file(""))
                    for name in ("flake8", "libcst", "platformdirs")}
    Path(site_packages, "lintgevent_test_dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n")
    installed = _run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--no-cache-dir", wheel,
                     cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    elsewhere = tmp_path / "elsewhere"
    project = elsewhere / "shop"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    (project / "views.py").write_text(VIEWS)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}

    where = _run(python, "-c", "import lintgevent, os; print(os.path.realpath(lintgevent.__file__))",
                 cwd=elsewhere, env=env)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(Path(os.path.realpath(venv))), where.stdout

    version = _run(bin_dir / "lintgevent", "--version", cwd=elsewhere, env=env)
    assert version.returncode == 0, version.stderr
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as handle:
        assert version.stdout.strip() == f"lintgevent {tomllib.load(handle)['project']['version']}"

    checked = _run(bin_dir / "lintgevent", "check", "--no-cache", "shop", cwd=elsewhere, env=env)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "shop/views.py:9:10: GEV101" in checked.stdout, checked.stdout

    explained = _run(bin_dir / "lintgevent", "explain", "GEV101", cwd=elsewhere, env=env)
    assert explained.returncode == 0, explained.stdout + explained.stderr
    assert explained.stdout.startswith("# GEV101: "), explained.stdout

    linted = _run(python, "-m", "flake8", "--select", "GEV", "--lintgevent-no-cache", ".", cwd=project, env=env)
    assert linted.returncode == 1, linted.stdout + linted.stderr
    assert "views.py:9:10: GEV101" in linted.stdout, linted.stdout
