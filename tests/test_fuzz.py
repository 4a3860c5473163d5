"""A small fuzz run that the default suite does every time: real files of the fixtures, mutated at
random (bytes flipped, inserted, deleted, lines swapped or cut), all checked in one project beside
a good file.  Whatever the mutants are, the run must not fail inside lintgevent, every mutant must be
either analysed or reported as GEV001, and the good file's finding must survive."""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

from conftest import REPO
from sample_app import READ_APP, read_app_finding

from lintgevent import cli

MUTANTS = 150
SEED = 20261201


def _sources() -> list[bytes]:
    found = []
    for directory, _, files in os.walk(os.path.join(REPO, "fixtures")):
        found += [Path(directory, name).read_bytes() for name in sorted(files) if name.endswith(".py")]
    return [data for data in found if len(data) > 200]


def _mutant(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        where = rng.randrange(len(data))
        kind = rng.randrange(5)
        if kind == 0:
            data[where] = rng.randrange(256)
        elif kind == 1:
            data[where:where] = bytes(rng.choice((b"(", b")", b":", b"\n", b"\t", b"\xe9", b"\\", b'"', b"#")))
        elif kind == 2:
            del data[where:where + rng.randint(1, 40)]
        elif kind == 3:
            lines = bytes(data).split(b"\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\n".join(lines))
        else:
            data = data[:where]
        if not data:
            data = bytearray(b"\n")
    return bytes(data)


def test_mutated_real_files_never_break_a_run(tmp_path, monkeypatch, capsys):
    rng = random.Random(SEED)
    sources = _sources()
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = fuzz\n")
    (tmp_path / "good.py").write_text(READ_APP)
    mutants = tmp_path / "mutants"
    mutants.mkdir()
    for number in range(MUTANTS):
        (mutants / f"m{number:03}.py").write_bytes(_mutant(rng, rng.choice(sources)))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LINTGEVENT_DEBUG", "1")  # an internal error raises instead of printing a line
    code = cli.main(["check", "--no-cache", "--deployment", "gunicorn-gevent", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 1 and "internal error" not in err and "Traceback" not in err
    report = json.loads(out)
    good = read_app_finding("good.py").split(": ", 1)[1]
    assert [f"{f['message']} [{f['severity']}]" for f in report["findings"] if f["path"] == "good.py"] == [good]
    broken = {e["path"] for e in report["errors"]}
    assert broken == {f["path"] for f in report["findings"] if f["code"] == "GEV001"}
    assert 0 < len(broken) < MUTANTS, "a mix of files that parse and files that do not"
