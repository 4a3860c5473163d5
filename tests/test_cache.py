"""The cache: a store in the user's cache directory, of data only, behind a MAC keyed on this machine,
never read or written through a symlink, kept under its size limit.

Whatever a project commits (a `.lintgevent_cache/` of crafted pickles, a symlink) or a store holds
that this machine did not write (forged, corrupt or foreign entries), `lintgevent check`,
`lintgevent fix --check` and flake8 run no code from it and print the findings of a run without a
cache.  Every crafted entry goes where the engine really looks: the keys are recorded from the
engine's own calls to the cache.
"""
from __future__ import annotations

import dataclasses
import math
import os
import pickle
import secrets
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from pathlib import Path

import msgpack
import platformdirs
import pytest

from lintgevent import analysis, cache, cli, codec, engine, noqa, summarising
from lintgevent.cache import Cache
from lintgevent.config import load_config
from lintgevent.engine import analyse_project
from lintgevent.snapshot import Snapshot
from lintgevent.sources import SourceError, import_root, parse_source
from lintgevent.summary import summarise
from store import mark_used, put_entry, signed, stored

REPO = Path(__file__).resolve().parents[1]
# GEV101 and a GEV301 that `lintgevent fix` rewrites; the helper module is a second summary.
APP = (REPO / "rules" / "GEV301" / "bad.py").read_text()
HELPERS = """\
def save(path, data):
    with open(path, "w") as fh:
        fh.write(data)
"""
FORGED_RESULTS = ([], [], {}, [], {})  # "no findings, no errors": what a forged entry would like to make a run say
FORGED_REPORT = (FORGED_RESULTS, {})  # those results, and no `# noqa` comments: a results entry


def make_project(root: Path) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (root / "app.py").write_text(APP)
    (root / "helpers.py").write_text(HELPERS)
    return root


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "project")


@pytest.fixture(scope="module")
def expected(tmp_path_factory):
    """What each front end prints for `project` without a cache (its paths are relative)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LINTGEVENT_CACHE_DIR", str(tmp_path_factory.mktemp("unused-cache")))
        found = without_cache(make_project(tmp_path_factory.mktemp("expected") / "project"))
    assert found["check"][0] == 1 and "GEV301" in found["check"][1] and found["check"][2] == ""
    assert found["fix --check"][0] == 1 and found["flake8"][0] == 1 and found["flake8"][2] == ""
    return found


def lintgevent(cwd: Path, *args: str) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "lintgevent", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)
    return done.returncode, done.stdout, done.stderr


def flake8(cwd: Path, *args: str) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "flake8", "--select", "GEV", *args, "."], cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, "\n".join(sorted(done.stdout.splitlines())), done.stderr


def every_front_end(root: Path) -> dict[str, tuple[int, str, str]]:
    return {"check": lintgevent(root, "check"), "fix --check": lintgevent(root, "fix", "--check"),
            "flake8": flake8(root)}


def without_cache(root: Path) -> dict[str, tuple[int, str, str]]:
    return {"check": lintgevent(root, "check", "--no-cache"),
            "fix --check": lintgevent(root, "fix", "--check", "--no-cache"),
            "flake8": flake8(root, "--lintgevent-no-cache")}


def engine_keys(root: Path, monkeypatch, fix: bool = True) -> set[tuple[str, str]]:
    """(kind, key) of every entry that `check` (and `fix --check`) of this project look up."""
    seen = set()

    class Recording(Cache):
        def get(self, kind, key):
            seen.add((kind, key))  # and a miss

        def put(self, kind, key, value):
            pass

        def put_encoded(self, kind, key, payload):
            pass

    with monkeypatch.context() as patch:
        patch.setattr(engine, "Cache", Recording)
        patch.chdir(root)
        cli.main(["check", "."])
        if fix:
            cli.main(["fix", "--check"])
    assert {kind for kind, _ in seen} == {"summary", "results", "snapshot"}
    return seen


def old_path(root: Path, kind: str, key: str) -> Path:
    """Where lintgevent used to keep an entry: in the project."""
    return root / ".lintgevent_cache" / kind / key[:2] / f"{key}.pickle"


def plant(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def files_below(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if not p.is_dir())


class RunsCode:
    """Unpickling this creates the marker file: a stand-in for any code a pickle can run."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


# -- nothing planted in a project or a store runs or counts ------------------------------------

@pytest.mark.parametrize("store_entry", ["unsigned", "signed"])
def test_a_crafted_pickle_runs_nothing_and_changes_nothing(project, cache_dir, tmp_path, monkeypatch, store_entry,
                                                           expected):
    assert without_cache(project) == expected
    assert flake8(project) == expected["flake8"]  # fills the store: its key exists from here on
    keys = engine_keys(project, monkeypatch)
    written = {key for _, key in stored(cache_dir, "results")}
    assert written and written <= {key for kind, key in keys if kind == "results"}, "flake8 looks up the same keys"

    marker = tmp_path / "marker"
    evil = pickle.dumps(RunsCode(marker))
    for kind, key in keys:
        plant(old_path(project, kind, key), evil)
        entry = evil if store_entry == "unsigned" else signed(cache_dir, kind, key, evil)
        put_entry(cache_dir, kind, key, entry)
    assert every_front_end(project) == expected
    assert not marker.exists(), "a pickle in the project or the store was loaded"


@pytest.mark.parametrize("forgery", ["in the project", "unsigned", "another key", "wrong mac"])
def test_a_forged_results_entry_does_not_hide_findings(project, cache_dir, monkeypatch, forgery, expected):
    assert lintgevent(project, "check") == expected["check"]
    payload = codec.dumps("results", FORGED_REPORT)
    for kind, key in engine_keys(project, monkeypatch):
        if kind != "results":
            continue
        if forgery == "in the project":
            plant(old_path(project, kind, key), pickle.dumps(FORGED_REPORT))
            continue
        mac = {"unsigned": b"",
               "another key": cache._mac(secrets.token_bytes(cache.KEY_SIZE), kind, key, payload),
               "wrong mac": cache._mac((cache_dir / "key").read_bytes(), kind, key, payload + b" ")}[forgery]
        put_entry(cache_dir, kind, key, mac + payload)
    assert lintgevent(project, "check") == expected["check"]
    assert lintgevent(project, "fix", "--check") == expected["fix --check"]


def test_a_project_cache_symlink_is_not_written_through(project, tmp_path, expected):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / ".lintgevent_cache").symlink_to(elsewhere, target_is_directory=True)
    assert every_front_end(project) == expected
    assert every_front_end(project) == expected
    assert files_below(elsewhere) == []


def test_a_symlinked_cache_root_turns_caching_off(project, tmp_path, monkeypatch, expected):
    target = tmp_path / "target"
    target.mkdir()
    (tmp_path / "link").symlink_to(target, target_is_directory=True)
    for root in (tmp_path / "link", str(tmp_path / "link") + os.sep):
        monkeypatch.setenv("LINTGEVENT_CACHE_DIR", str(root))
        assert every_front_end(project) == expected
    assert files_below(target) == []
    assert not (project / ".lintgevent_cache").exists()


def test_a_symlinked_key_turns_caching_off(project, cache_dir, tmp_path, monkeypatch, expected):
    assert lintgevent(project, "check") == expected["check"]
    known = tmp_path / "known-key"
    known.write_bytes(b"k" * cache.KEY_SIZE)
    (cache_dir / "key").unlink()
    (cache_dir / "key").symlink_to(known)
    payload = codec.dumps("results", FORGED_REPORT)
    for kind, key in engine_keys(project, monkeypatch, fix=False):
        if kind == "results":
            put_entry(cache_dir, kind, key, cache._mac(known.read_bytes(), kind, key, payload) + payload)
    assert every_front_end(project) == expected


def remove_store(store: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(store / cache.STORE) + suffix).unlink(missing_ok=True)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_place_of_the_store_does_not_hang(project, cache_dir, expected):
    assert lintgevent(project, "check") == expected["check"]
    remove_store(cache_dir)
    os.mkfifo(cache_dir / cache.STORE)
    assert every_front_end(project) == expected
    assert stat.S_ISFIFO(os.lstat(cache_dir / cache.STORE).st_mode)


def test_a_store_that_is_a_symlink_is_not_read_nor_written_through(project, cache_dir, tmp_path, monkeypatch,
                                                                    expected):
    assert lintgevent(project, "check") == expected["check"]
    for kind, key in engine_keys(project, monkeypatch, fix=False):
        if kind == "results":
            # Signed with the real key, so only the link check keeps it out.
            put_entry(cache_dir, kind, key, signed(cache_dir, kind, key, codec.dumps(kind, FORGED_REPORT)))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with closing(sqlite3.connect(cache_dir / cache.STORE)) as db:  # a whole store, in one file
        db.execute(f"VACUUM INTO '{elsewhere / 'forged.sqlite3'}'")
    remove_store(cache_dir)
    (cache_dir / cache.STORE).symlink_to(elsewhere / "forged.sqlite3")
    before = files_below(elsewhere), (elsewhere / "forged.sqlite3").read_bytes()
    assert every_front_end(project) == expected
    assert (files_below(elsewhere), (elsewhere / "forged.sqlite3").read_bytes()) == before


def corrupt(corruption: str, store: Path, kind: str, key: str) -> bytes:
    """An entry that is not one this machine wrote under that name, or not of that shape."""
    if corruption == "random bytes":
        return os.urandom(4096)
    if corruption == "empty":
        return b""
    values = {"results": FORGED_REPORT, "summary": next(summaries_of(REPO / "rules" / "GEV301")),
              "snapshot": Snapshot({}, "", set(), FORGED_RESULTS, {})}
    if corruption == "truncated":
        good = signed(store, kind, key, codec.dumps(kind, values[kind]))
        return good[: len(good) // 2]
    other = "summary" if kind != "summary" else "results"
    payload = {"signed random bytes": os.urandom(4096),
               "signed wrong shape": msgpack.packb([[], ["stale", "shape"]]),
               "signed other kind": codec.dumps(other, values[other]),
               "signed deep nesting": b"[" * 100_000 + b"]" * 100_000,
               "signed invalid utf-8": b'[[], ["\xff\xfe"]]'}[corruption]
    return signed(store, kind, key, payload)


@pytest.mark.parametrize("corruption", ["random bytes", "empty", "truncated", "signed random bytes",
                                        "signed wrong shape", "signed other kind", "signed deep nesting",
                                        "signed invalid utf-8"])
def test_a_corrupt_entry_is_a_silent_miss(project, cache_dir, monkeypatch, corruption, expected):
    assert lintgevent(project, "check") == expected["check"]
    for kind, key in engine_keys(project, monkeypatch):
        data = corrupt(corruption, cache_dir, kind, key)
        put_entry(cache_dir, kind, key, data)
        plant(old_path(project, kind, key), data)
    assert every_front_end(project) == expected  # the same stderr too: nothing about the cache


@pytest.mark.parametrize("content", [b"", b"random", b"SQLite format 3\x00" + bytes(4096), b"another table"],
                         ids=["empty", "random", "header and zeros", "a database with another entry table"])
def test_a_store_that_is_not_a_database_is_a_silent_miss_and_made_again(project, cache_dir, content, expected):
    assert every_front_end(project) == expected
    keys = set(stored(cache_dir))
    remove_store(cache_dir)
    if content == b"another table":
        with closing(sqlite3.connect(cache_dir / cache.STORE)) as db:
            db.execute("CREATE TABLE entry (kind, key, value, used, extra)")
    else:
        (cache_dir / cache.STORE).write_bytes(os.urandom(8192) if content == b"random" else content)
    assert every_front_end(project) == expected
    assert set(stored(cache_dir)) == keys, "the next run that writes makes the store again"


def test_no_cache_reads_and_writes_nothing(project, cache_dir, tmp_path, monkeypatch, expected):
    assert lintgevent(project, "check") == expected["check"]
    marker = tmp_path / "marker"
    for kind, key in engine_keys(project, monkeypatch):
        plant(old_path(project, kind, key), pickle.dumps(RunsCode(marker)))
        if kind == "results":
            put_entry(cache_dir, kind, key, signed(cache_dir, kind, key, codec.dumps(kind, FORGED_REPORT)))
    old = time.time() - 86400
    for path in files_below(cache_dir):
        os.utime(path, (old, old))
    before = {p: (p.read_bytes(), p.stat().st_mtime) for p in files_below(cache_dir)}
    assert without_cache(project) == expected
    assert {p: (p.read_bytes(), p.stat().st_mtime) for p in files_below(cache_dir)} == before
    assert not marker.exists()


def test_no_cache_makes_no_store(project, cache_dir, monkeypatch):
    monkeypatch.setenv("LINTGEVENT_CACHE_DIR", str(cache_dir / "store"))
    without_cache(project)
    assert list(cache_dir.iterdir()) == []


# -- where the store is, and who may use it -------------------------------------------------

def test_the_store_is_in_the_user_cache_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("LINTGEVENT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == os.path.abspath(platformdirs.user_cache_dir("lintgevent"))
    if sys.platform.startswith("linux"):
        assert cache.cache_dir() == str(tmp_path / "xdg" / "lintgevent")
    monkeypatch.setenv("LINTGEVENT_CACHE_DIR", "")
    assert cache.cache_dir() == os.path.abspath(platformdirs.user_cache_dir("lintgevent"))
    monkeypatch.setenv("LINTGEVENT_CACHE_DIR", "relative")
    assert cache.cache_dir() == os.path.abspath("relative")


def test_the_store_is_made_private_and_tagged(project, cache_dir, monkeypatch):
    store = cache_dir / "new" / "store"
    monkeypatch.setenv("LINTGEVENT_CACHE_DIR", str(store))
    code, out, err = lintgevent(project, "check")
    assert (code, err) == (1, "") and "GEV301" in out
    assert not (project / ".lintgevent_cache").exists()
    assert (store / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert len((store / "key").read_bytes()) == cache.KEY_SIZE
    if os.name == "posix":
        assert store.stat().st_mode & 0o777 == 0o700
        assert all(p.stat().st_mode & 0o777 == 0o600 for p in files_below(store))
    assert len(stored(store, "summary")) == 2 and len(stored(store, "results")) == 1


def test_one_store_serves_every_project(tmp_path, run, monkeypatch):
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "setup.cfg").write_text("")
        (tmp_path / name / "app.py").write_text(APP)
    assert run("check", "one")[0] == 1

    def must_not_run(*args, **kwargs):
        raise AssertionError("the summary was not taken from the store")

    monkeypatch.setattr(summarising, "summarise", must_not_run)
    code, out, _ = run("check", "two")
    assert code == 1 and out[0].startswith(os.path.join("two", "app.py") + ":")


def test_an_unusable_store_still_gives_findings(project, tmp_path, monkeypatch, expected):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("LINTGEVENT_CACHE_DIR", str(tmp_path / "a-file" / "store"))
    assert every_front_end(project) == expected
    assert not (project / ".lintgevent_cache").exists()


def test_a_warm_run_takes_the_noqa_comments_from_the_cache(project, cache_dir, monkeypatch, capsys):
    monkeypatch.chdir(project)
    cli.main(["check"])
    first = capsys.readouterr().out.splitlines()[0]  # "app.py:LINE:COL: GEV..."
    path, line = first.split(":")[:2]
    lines = (project / path).read_text().splitlines()
    lines[int(line) - 1] += "  # noqa: " + first.split()[1]
    (project / path).write_text("\n".join(lines) + "\n")
    cli.main(["check", "--no-cache"])
    cold = capsys.readouterr()
    assert first not in cold.out
    cli.main(["check"])  # fills the cache
    assert capsys.readouterr() == cold

    parse_noqa = noqa.parse_noqa

    def tokenized(text):
        assert "# noqa" not in text, "app.py, unchanged, was tokenized again for its noqa comments"
        return parse_noqa(text)

    with monkeypatch.context() as patch:
        patch.setattr(noqa, "parse_noqa", tokenized)
        cli.main(["check"])  # from the results entry
        assert capsys.readouterr() == cold
    # An edit of another file that moves its lines (the last results are moved), then one that adds
    # a finding there (the global step runs): app.py keeps the last run's comments.
    check_project, steps = analysis.check_project, []
    for helpers, step in (("# moves every line\n" + HELPERS, []),
                          (HELPERS + "\n\ndef load(path):\n    return open(path).read()\n", [True])):
        (project / "helpers.py").write_text(helpers)
        cli.main(["check", "--no-cache"])
        cold = capsys.readouterr()
        with monkeypatch.context() as patch:
            patch.setattr(noqa, "parse_noqa", tokenized)
            patch.setattr(analysis, "check_project", lambda *args: steps.append(True) or check_project(*args))
            cli.main(["check"])
            assert capsys.readouterr() == cold
        assert steps == step, "moved, then analysed again"


def test_a_store_owned_by_someone_else_is_not_used(project, cache_dir, monkeypatch, capsys):
    monkeypatch.chdir(project)
    assert cli.main(["check"]) == 1
    expected = capsys.readouterr()
    [(kind, key)] = [(k, key) for k, key in engine_keys(project, monkeypatch, fix=False) if k == "results"]
    capsys.readouterr()
    put_entry(cache_dir, kind, key, signed(cache_dir, kind, key, codec.dumps(kind, FORGED_REPORT)))
    monkeypatch.setattr(cache.os, "getuid", lambda: os.stat(cache_dir).st_uid + 1, raising=False)
    assert cli.main(["check"]) == 1
    assert capsys.readouterr() == expected


def test_a_store_is_linked_in_whole_and_one_linked_first_is_kept(cache_dir):
    path = str(cache_dir / cache.STORE)
    cache._make_store(path)
    put_entry(cache_dir, "results", "first", b"value")
    cache._make_store(path)  # another run that found no store a moment ago
    assert stored(cache_dir) == {("results", "first"): (b"value", stored(cache_dir)[("results", "first")][1])}
    assert sorted(os.listdir(cache_dir)) == [cache.STORE], "no temporary store left behind"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_workers_starting_together_share_one_key(cache_dir, tmp_path):
    start = tmp_path / "start"
    worker = textwrap.dedent(f"""\
        import os, sys, time
        from lintgevent.cache import Cache
        while not os.path.exists({str(start)!r}):
            time.sleep(0.001)
        with Cache() as store:
            store.put("results", "%040x" % int(sys.argv[1]), (([], [], {{}}, [], {{}}), {{}}))
        print(store._key.hex())
        """)
    workers = [subprocess.Popen([sys.executable, "-c", worker, str(i)], stdout=subprocess.PIPE, text=True)
               for i in range(8)]
    time.sleep(1)
    start.write_text("")
    keys = {w.communicate(timeout=60)[0].strip() for w in workers}
    assert keys == {(cache_dir / "key").read_bytes().hex()}
    store = Cache()
    assert all(store.get("results", "%040x" % i) == FORGED_REPORT for i in range(8))
    assert len(stored(cache_dir)) == 8, "every writer's entry, none lost to another's transaction"


# -- the codec ---------------------------------------------------------------------------------

def assert_same(a, b, where: str = "value") -> None:
    """Equal, and of the same types all the way down (== alone has True == 1 == 1.0 and -0.0 == 0.0)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} became {type(b).__name__}"
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif type(a) in (tuple, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif type(a) is dict:
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif type(a) is set:
        assert sorted(map(repr, a)) == sorted(map(repr, b)), where
    else:
        assert repr(a) == repr(b), where


def summaries_of(*folders: Path):
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            data = path.read_bytes()
            _, module, is_package = import_root(str(path))
            try:
                tree = parse_source(data, str(path))
            except SourceError:  # the fixtures that do not parse on purpose
                continue
            yield summarise(tree, str(path), module, is_package)


def lists_in(value) -> int:
    """How many lists a value holds, anywhere in it."""
    if dataclasses.is_dataclass(value):
        return sum(lists_in(getattr(value, f.name)) for f in dataclasses.fields(value))
    if type(value) is dict:
        return sum(lists_in(k) + lists_in(v) for k, v in value.items())
    if type(value) in (tuple, set, frozenset, list):
        return (type(value) is list) + sum(lists_in(v) for v in value)
    return 0


def test_summaries_of_real_code_round_trip_exactly_through_the_cache_and_pickle():
    count = 0
    kinds = set()
    for summary in summaries_of(REPO / "fixtures", REPO / "rules", REPO / "tests" / "programs", REPO / "lintgevent"):
        # A project's summaries are held at once: tuples, not lists (an empty tuple is shared).
        assert lists_in(summary) == 0, summary.path
        assert_same(summary, codec.loads("summary", codec.dumps("summary", summary)), summary.path)
        # and from a worker process to the parent, by pickle (summary.pickled_as_fields)
        assert_same(summary, pickle.loads(pickle.dumps(summary, pickle.HIGHEST_PROTOCOL)), summary.path)
        count += 1
        kinds |= {type(v) for v in (*summary.injectors.values(), *summary.escapes.values())}
        kinds |= {type(v) for f in summary.functions.values() for v in (*f.writes, *f.loops)}
    assert count > 100
    assert {k.__name__ for k in kinds} == {"Injection", "Escapes", "Write", "Loop"}, "the fixtures use every record"


def test_results_of_real_projects_round_trip_exactly():
    fixes = directives = 0
    for root in sorted(p for p in (REPO / "fixtures").iterdir() if p.is_dir()):
        result = analyse_project(str(root), load_config(str(root)), use_cache=False)
        value = ((result.findings, [], result.deployments, result.processes, {"/srv/gunicorn.conf": "0a1b"}),
                 result.noqa)
        assert_same(value, codec.loads("results", codec.dumps("results", value)), str(root))
        fixes += sum(1 for f in result.findings if f.fix)
        directives += sum(len(noqa.directives) for noqa in result.noqa.values())
    assert fixes, "some findings carry a fix plan"
    assert directives, "some files with findings have `# noqa` comments"


def test_scalars_keep_their_types():
    source = textwrap.dedent("""\
        f(1, True, 1.0, None, 10 ** 30, 1e999, 12345678901234567890, "\\ud800", "\\u00e9t\\u00e9")
        g(True)
        g(1)
        g(1.0)
        """)
    summary = summarise(parse_source(source.encode(), "m.py"), "m.py", "m", False)
    back = codec.loads("summary", codec.dumps("summary", summary))
    assert_same(summary, back)
    assert [c.args for c in back.module_calls][1:] == [(("const", True),), (("const", 1),), (("const", 1.0),)]
    assert [type(c.args[0][1]) for c in back.module_calls[1:]] == [bool, int, float]
    assert math.isinf(back.module_calls[0].args[5][1])


def strings_in(value):
    """Every string a value holds, anywhere in it (dict keys too)."""
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from strings_in(getattr(value, f.name))
    elif type(value) is dict:
        for k, v in value.items():
            yield from strings_in(k)
            yield from strings_in(v)
    elif type(value) in (tuple, set, frozenset, list):
        for v in value:
            yield from strings_in(v)
    elif type(value) is str:
        yield value


def test_decoded_summaries_share_one_object_per_string():
    # A project's decoded summaries are held at once: msgpack's one object per string read would
    # nearly double their size.
    decoded = [codec.loads("summary", codec.dumps("summary", s)) for s in summaries_of(REPO / "lintgevent")]
    strings = list(strings_in(decoded))
    assert len(strings) > 10_000 and len(set(strings)) < len(strings) / 3
    assert len({id(s) for s in strings}) == len(set(strings))


def test_values_the_codec_cannot_carry_exactly_are_refused():
    summary = next(summaries_of(REPO / "rules" / "GEV301"))
    call = summary.module_calls[0]
    for broken in (dataclasses.replace(call, args=([1],)), dataclasses.replace(call, line=True),
                   dataclasses.replace(call, func=object())):
        with pytest.raises(TypeError):
            codec.dumps("summary", dataclasses.replace(summary, module_calls=(broken,)))
    with pytest.raises(TypeError):
        codec.dumps("summary", dataclasses.replace(summary, imports={1: "x"}))
    with pytest.raises(TypeError):  # a list where a tuple belongs would not come back as it went
        codec.dumps("summary", dataclasses.replace(summary, module_calls=list(summary.module_calls)))
    with pytest.raises(TypeError):
        codec.dumps("results", ([], [], {}, [], {}, []))
    with pytest.raises(TypeError):
        codec.dumps("summary", FORGED_RESULTS)


def _results_entry(finding: list, deployments: dict | None = None, table: list | None = None, noqa: dict | None = None,
                   extra: tuple = ()) -> bytes:
    """A results entry as the codec writes one (see VALID_RESULTS), with the parts given."""
    return msgpack.packb([[()] if table is None else table,
                          [[[finding], [], deployments or {}, [], {}], noqa or {}], *extra])


# One finding: path, line, col, code, message, chain, fix plan (tree 0), severity, lines (tree 0).
FINDING = ["p", 1, 0, "GEV101", "GEV101 m", "", 0, "high", 0]
VALID_RESULTS = _results_entry(FINDING)


def test_the_entries_refused_below_differ_from_a_valid_one_in_one_part():
    (findings, *_), noqa = codec.loads("results", VALID_RESULTS)
    assert findings[0].line == 1 and findings[0].fix == () and noqa == {}


@pytest.mark.parametrize("payload", [
    b"", msgpack.packb(None), msgpack.packb([]), msgpack.packb({"a": 1}), msgpack.packb([[], []]),
    msgpack.packb([[], ["stale", "shape"]]), msgpack.packb([{}, []]), msgpack.packb([[], [["a"], [], {}]]),
    _results_entry(["p", "1", *FINDING[2:]]),  # a line that is not an int
    _results_entry([*FINDING[:6], 7, *FINDING[7:]]),  # a fix plan that is not in the table
    _results_entry([*FINDING, 0]),  # a field too many
    _results_entry(FINDING, table=[{}]),  # a table entry that is not a tuple
    _results_entry(FINDING, table=[(b"bytes",)]),  # bytes in a tree
    _results_entry(FINDING, table=[(msgpack.ExtType(7, b"1"),)]),  # an extension of another type
    _results_entry(FINDING, table=[(msgpack.ExtType(codec.BIG_INT, b"1e9"),)]),  # a big int that is not one
    _results_entry(FINDING, {"r": [True, [1], False, False, []]}),  # a patched module that is not a str
    msgpack.packb([[()], [[[FINDING], [], {b"r": [True, [], False, False, []]}, [], {}], {}]]),  # a bytes key
    _results_entry(FINDING, noqa={"p": [False, [[1, 0, "GEV1", 1, 1]]]}),  # noqa codes that are not a tree
    _results_entry(FINDING, extra=([],)),  # more than a pair
    b"\x91" * 100_000, b"\xff", b"\xc1", VALID_RESULTS[:-1], VALID_RESULTS + b"\x00",
])
def test_anything_but_an_encoded_entry_is_refused(payload):
    with pytest.raises(ValueError):
        codec.loads("results", payload)
    with pytest.raises(ValueError):
        codec.loads("summary", payload)


def test_a_forged_results_entry_is_valid_data():
    """What the forgeries above carry is a well-formed entry: only the MAC keeps it out."""
    assert codec.loads("results", codec.dumps("results", FORGED_REPORT)) == FORGED_REPORT


# -- hits, misses and pruning ------------------------------------------------------------------

def test_a_hit_marks_the_entry_as_used(project, cache_dir, monkeypatch):
    assert lintgevent(project, "check")[0] == 1
    old = time.time() - 10 * 86400
    mark_used(cache_dir, old)
    now = old + 5 * 86400  # this run's clock: its mark must be exactly this
    with monkeypatch.context() as patch:
        patch.setattr(cache.time, "time", lambda: now)
        patch.chdir(project)
        assert cli.main(["check", "."]) == 1
    [(_, used)] = stored(cache_dir, "results").values()
    assert used == now, "marked as used by this run"
    assert all(used == old for _, used in stored(cache_dir, "summary").values()), "not read on a hit"
    mark_used(cache_dir, time.time() - cache.TOUCH_EVERY / 2)
    before = (cache_dir / cache.STORE).read_bytes()
    assert lintgevent(project, "check")[0] == 1
    assert (cache_dir / cache.STORE).read_bytes() == before, "marked less than a day ago: the hit writes nothing"


def make_entries(store: Path, count: int, size: int, start: float) -> list[tuple[str, str]]:
    entries = [("summary", f"{start:.0f}-{i:040x}") for i in range(count)]
    for i, (kind, key) in enumerate(entries):
        put_entry(store, kind, key, b"x" * size, used=start + i)
    return entries


def store_size(store: Path) -> int:
    return sum(len(value) for value, _ in stored(store).values())


def test_prune_deletes_the_least_recently_used_first(tmp_path):
    store = tmp_path / "store"
    entries = make_entries(store, 20, 1000, time.time() - 86400)
    with closing(cache._open_store(str(store / cache.STORE), create=True)) as db:
        cache.prune_store(db, 20_000)
        assert set(stored(store)) == set(entries), "under the limit: nothing to do"
        cache.prune_store(db, 10_000)
    assert sorted(stored(store)) == entries[-7:], "the newest, down to 75% of the limit"
    assert store_size(store) <= 7_500


def test_a_run_that_wrote_prunes_the_store_at_most_once_an_hour(project, cache_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("LINTGEVENT_CACHE_MAX_MB", str(64 / 1024))  # 64 KiB
    limit = 64 * 1024
    old = time.time() - 86400
    junk = make_entries(cache_dir, 40, 4096, old)
    legacy = cache_dir / "summary" / "00" / f"{'0' * 40}.entry"  # the file per entry of earlier versions
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"x" * 4096)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kept.entry").write_bytes(b"x")
    (cache_dir / "results").symlink_to(outside, target_is_directory=True)
    assert lintgevent(project, "check")[0] == 1
    assert store_size(cache_dir) <= limit * cache.PRUNE_TO
    assert junk[0] not in stored(cache_dir) and junk[-1] in stored(cache_dir), "least recently used first"
    assert len(stored(cache_dir, "results")) == 1, "this run's entries are the newest"
    assert not (cache_dir / "summary").exists(), "the earlier versions' store is deleted"
    assert (outside / "kept.entry").exists(), "a symlinked folder is not followed"

    junk = make_entries(cache_dir, 40, 4096, old)
    (project / "helpers.py").write_text(HELPERS + "\n")
    assert lintgevent(project, "check")[0] == 1
    assert set(junk) <= set(stored(cache_dir)), "pruned less than an hour ago"

    stamp = cache_dir / "pruned"
    os.utime(stamp, (old, old))
    assert lintgevent(project, "check")[0] == 1
    assert set(junk) <= set(stored(cache_dir)), "a run that wrote nothing does not prune"
    (project / "helpers.py").write_text(HELPERS + "\n\n")
    assert lintgevent(project, "check")[0] == 1
    assert store_size(cache_dir) <= limit * cache.PRUNE_TO
    assert (cache_dir / cache.STORE).stat().st_size < 4 * limit, "the pages of deleted entries are given back"


def test_the_size_limit_comes_from_the_environment(monkeypatch):
    assert cache.max_bytes() == 512 * 1024 * 1024
    monkeypatch.setenv("LINTGEVENT_CACHE_MAX_MB", "2")
    assert cache.max_bytes() == 2 * 1024 * 1024
    for bad in ("lots", "0", "-5"):
        monkeypatch.setenv("LINTGEVENT_CACHE_MAX_MB", bad)
        assert cache.max_bytes() == 512 * 1024 * 1024
