import os
import sys

import pytest

from lintgevent import cli

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def run(capsys, monkeypatch, tmp_path):
    """Run `lintgevent ARGS...` in-process from tmp_path: (exit code, stdout lines, stderr)."""
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> tuple[int, list[str], str]:
        capsys.readouterr()
        code = cli.main(list(args))
        out, err = capsys.readouterr()
        return code, out.splitlines(), err

    return invoke
