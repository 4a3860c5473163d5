"""What a wheel ships: every package of the source tree is declared, so a non-editable install has it."""
import os

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
