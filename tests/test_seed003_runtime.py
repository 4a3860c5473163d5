"""Run the write of seed 003 for real, as written and as `lintgevent fix` rewrites it with each
strategy: every version must write the same file, byte for byte (the gzip mtime aside).

How long each version stalls the hub is measured by benchmarks/bench_writes.py, not here: timings
do not belong in tests on a shared machine.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO

PROGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs", "seed003_write.py")
BAD = os.path.join(REPO, "rules", "GEV301", "bad.py")
LINES = "300000"  # about 5 MB of text: several 1 MiB chunks for the chunk strategy
TIMEOUT = 120


def _write(module_file, out_path) -> dict:
    proc = subprocess.run([sys.executable, PROGRAM, str(module_file), str(out_path), LINES],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _fixed_with(strategy: str, tmp_path) -> str:
    folder = tmp_path / strategy
    folder.mkdir()
    (folder / "setup.cfg").write_text("")
    shutil.copyfile(BAD, folder / "seed.py")
    proc = subprocess.run([sys.executable, "-m", "lintgevent", "fix", "--no-cache", "--strategy", strategy,
                           "--select", "GEV301", "seed.py"], cwd=folder, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert proc.returncode == 1, proc.stderr
    return (folder / "seed.py").read_text()


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    return _write(BAD, tmp_path_factory.mktemp("bad") / "codes.txt.gz")


def test_the_original_writes_every_code(original):
    assert original["text"] == original["expected"]


@pytest.mark.parametrize("strategy", ["threadpool", "chunk"])
def test_each_fix_writes_the_same_file(strategy, original, tmp_path):
    source = _fixed_with(strategy, tmp_path)
    if strategy == "threadpool":
        assert "threadpool.apply(fh.write, (data,))" in source
    else:
        assert "fh.write(data[offset:offset + 1024 * 1024])" in source and "gevent.idle()" in source
    written = _write(tmp_path / strategy / "seed.py", tmp_path / "codes.txt.gz")
    assert written["text"] == original["text"]
    assert written["stream"] == original["stream"]
