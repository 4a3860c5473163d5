#!/usr/bin/env python3
"""Time `lintgevent check` on large real code bases against the parse floor, and flake8 with and
without the plugin.

The code base is one or more sdists (Django by default; `--package` again adds one), every
application of benchmarks/realworld/apps.toml (`--apps`), or existing directories (`--source`),
copied side by side into one temporary tree (`--copies N` puts it there N times, for a tree of
millions of lines).  Then, each the best of `--repeat` runs:

  (a) the floor: reading and parsing every .py file once with ast.parse, in this one process;
  (b) cold: `lintgevent check --no-cache` (the whole engine runs: `--deployment gunicorn-gevent
      --test-entry-points`, so that a framework whose own code answers no request is analysed too);
  (c) first run: the same with an empty cache, which it fills (CI without a restored cache);
  (d) warm: the same with the cache the runs before filled;
  (e) one file edited: a warm cache and one statement added to a function body of one file
      (pre-commit, an editor), a different statement every run, an assignment of a constant,
      which leaves the file's summary as it was;
  (e2) one call added: the same with a call (`str(N)`) instead, which changes the file's summary,
      so the global step runs again (what most real edits do);
  (f) flake8 --select E,F,W, and (g) flake8 --select E,F,W,GEV with an empty lintgevent cache;
  (h) flake8-async's standalone command, a peer (`--flake8-async-repeat`, off by default);
  (i) `--random-edits N` random edits of the tree (random_edits.py: calls, routes, imports,
      patch_all, decorators, lines moved), after each of which the output of a run that reuses
      the cache must be the output of a cold run, byte for byte.

It prints the core count, every figure as a ratio to the floor next to its target, PASS or MISS.
With --baseline REF, (b)-(e2) also run with the lintgevent package of commit REF (exported into a
temporary directory put first on PYTHONPATH), the two taking turns within each round.

A missed target is reported, not treated as an error: the exit status is non-zero only when a
command fails to run.  Standard library only (flake8 and flake8-async come from the venv).
"""

from __future__ import annotations

import argparse
import ast
import compileall
import io
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from random_edits import KINDS, RandomEdits

DEFAULT_PACKAGE = "django==5.1.4"
DEFAULT_REPEAT = 3
CACHE_ROOT = Path(tempfile.gettempdir()) / "lintgevent-bench"
REPO_ROOT = Path(__file__).resolve().parent.parent
APPS = REPO_ROOT / "benchmarks" / "realworld" / "apps.toml"
SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".zip")

# Every ratio is to the floor (a), measured in the same run.
TARGETS = {"cold": 1.5, "first run": 1.5, "warm": 0.1, "one file edited": 0.2, "one call added": 0.2}
LETTERS = dict(zip(TARGETS, ("b", "c", "d", "e", "e2")))
MEMORY_TARGET = 1_000_000_000  # peak RSS of any lintgevent run < 1 GB (bytes)
FLAKE8_TARGET = 0.10  # flake8 with the plugin at most 10% slower than without it
BASELINE_LIMIT = 1.25  # a change may add at most 25% to a figure of the baseline
FLAKE8_SELECT = "E,F,W"

# ru_maxrss is in KiB on Linux and in bytes on macOS.
RSS_UNIT = 1 if sys.platform == "darwin" else 1024
# Characters of file names per flake8-async invocation, well under ARG_MAX.
ARG_BUDGET = 500_000
FINDING = re.compile(r"^.+:\d+:\d+: [A-Z]+\d+ ", re.MULTILINE)


class BenchError(Exception):
    """A command could not be run or did not succeed."""


@dataclass(frozen=True)
class Corpus:
    """The .py files of the code base, relative to its root."""

    root: Path
    files: list[Path]
    unparsable: list[Path]
    lines: int


@dataclass(frozen=True)
class Timing:
    """Wall time, peak RSS (bytes) and number of findings of a measurement."""

    seconds: float
    max_rss: int = 0
    findings: int = 0


@dataclass(frozen=True)
class Version:
    """A lintgevent to time: the tree put first on PYTHONPATH and its own cache directory."""

    name: str
    tree: Path
    cache_dir: Path


@dataclass
class Edit:
    """One function body of one file, where each edit adds a different statement."""

    path: Path
    original: bytes
    line: int  # the new statement goes after this line (1-based)
    indent: str
    count: int = 0
    statement: str = "_lintgevent_bench_edit = {n}"  # what is added, {n} the edit's number

    def apply(self) -> None:
        self.count += 1
        lines = self.original.decode().splitlines(keepends=True)
        lines.insert(self.line, f"{self.indent}{self.statement.format(n=self.count)}\n")
        self.path.write_text("".join(lines))

    def restore(self) -> None:
        self.path.write_bytes(self.original)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--package", action="append", metavar="NAME==VER",
                        help=f"an sdist to download and add to the tree; repeatable (default: {DEFAULT_PACKAGE})")
    parser.add_argument("--apps", action="store_true",
                        help="add every application of benchmarks/realworld/apps.toml to the tree")
    parser.add_argument("--source", action="append", type=Path, metavar="DIR",
                        help="add a copy of an existing directory to the tree; repeatable")
    parser.add_argument("--copies", type=int, default=1, metavar="N",
                        help="put the tree N times side by side (default: 1)")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, metavar="N",
                        help=f"runs per measurement; the best is kept (default: {DEFAULT_REPEAT})")
    parser.add_argument("--flake8-repeat", type=int, metavar="N",
                        help="runs of (f) and (g), each a minute or more on a large tree; 0 skips them "
                        "(default: --repeat)")
    parser.add_argument("--flake8-async-repeat", type=int, default=0, metavar="N",
                        help="runs of flake8-async, about 25 minutes each on Django (default: 0, skipped)")
    parser.add_argument("--random-edits", type=int, default=len(KINDS), metavar="N",
                        help="random edits after which a run from the cache must print what a cold run "
                        f"prints; 0 skips them (default: {len(KINDS)}, one of each kind)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random edits (default: 0)")
    parser.add_argument("--python", default=sys.executable, metavar="EXE",
                        help="interpreter that runs pip, lintgevent and the peers (default: this one)")
    parser.add_argument("--baseline", metavar="REF",
                        help="also time the lintgevent of this git commit of the repository "
                        "(a hash, a tag, HEAD~3), alternating with the current checkout")
    args = parser.parse_args(argv)
    if args.flake8_repeat is None:
        args.flake8_repeat = args.repeat
    if args.repeat < 1 or args.copies < 1 or min(args.flake8_repeat, args.flake8_async_repeat, args.random_edits) < 0:
        parser.error("--repeat and --copies must be at least 1, the other repeats at least 0")
    if not (args.package or args.apps or args.source):
        args.package = [DEFAULT_PACKAGE]
    return args


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cores() -> int:
    """The cores this process may run on (what lintgevent's default --jobs uses)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# ---------------------------------------------------------------- the tree


def find_sdist(directory: Path) -> Path | None:
    found = [p for p in directory.glob("*") if p.name.endswith(SDIST_SUFFIXES)]
    if len(found) > 1:
        raise BenchError(f"more than one sdist in {directory}: {found}")
    return found[0] if found else None


def download_sdist(python: str, requirement: str) -> Path:
    """Return the sdist of `requirement`, downloading it once into the cache."""
    directory = CACHE_ROOT / "sdists" / re.sub(r"[^\w.=-]+", "_", requirement)
    cached = find_sdist(directory) if directory.is_dir() else None
    if cached:
        progress(f"using cached {cached}")
        return cached
    directory.mkdir(parents=True, exist_ok=True)
    progress(f"downloading {requirement} into {directory}")
    command = [python, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
               "--dest", str(directory), requirement]
    if subprocess.run(command, stdout=sys.stderr).returncode != 0:
        raise BenchError(f"pip download failed: {' '.join(command)}")
    sdist = find_sdist(directory)
    if sdist is None:
        raise BenchError(f"pip download left no sdist in {directory}")
    return sdist


def requirements(args: argparse.Namespace) -> list[str]:
    """The sdists of the tree: --package, then the applications of apps.toml with --apps."""
    wanted = list(args.package or [])
    if args.apps:
        with APPS.open("rb") as handle:
            wanted += [f"{app['name']}=={app['version']}" for app in tomllib.load(handle)["app"]]
    return wanted


def build_tree(args: argparse.Namespace, work: Path) -> tuple[str, Path]:
    """Unpack and copy every part of the code base into `work`/tree (N times with --copies);
    returns its label and root.  The benchmark edits files there, never in a --source."""
    parts = work / "parts"
    parts.mkdir()
    names = []
    for requirement in requirements(args):
        target = parts / re.sub(r"[^\w.-]+", "-", requirement)
        shutil.unpack_archive(download_sdist(args.python, requirement), target, filter="data")
        names.append(requirement)
    for source in args.source or []:
        if not source.is_dir():
            raise BenchError(f"not a directory: {source}")
        shutil.copytree(source, parts / f"{len(names)}-{source.resolve().name}", symlinks=True)
        names.append(str(source))
    tree = work / "tree"
    if args.copies == 1:
        parts.rename(tree)
    else:
        tree.mkdir()
        for copy in range(args.copies):
            shutil.copytree(parts, tree / f"copy{copy}", symlinks=True)
        shutil.rmtree(parts)
    label = ", ".join(names) + (f", {args.copies} copies" if args.copies > 1 else "")
    return label, tree


def iter_py_files(root: Path) -> Iterator[Path]:
    """Yield the .py files under `root` (relative, sorted), skipping dot-dirs."""
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in sorted(names):
            if name.endswith(".py"):
                yield Path(directory, name).relative_to(root)


def parsed(source: bytes, filename: str) -> ast.Module | None:
    try:
        return ast.parse(source, filename)
    except (SyntaxError, ValueError):
        return None


def scan(root: Path) -> Corpus:
    """Count files and lines and set aside the files ast cannot parse."""
    files: list[Path] = []
    unparsable: list[Path] = []
    lines = 0
    for path in iter_py_files(root):
        source = (root / path).read_bytes()
        lines += source.count(b"\n")
        (files if parsed(source, str(path)) else unparsable).append(path)
    return Corpus(root, files, unparsable, lines)


def choose_edit(corpus: Corpus) -> Edit:
    """The file of median size among those with a top-level function whose body starts on a line
    of its own; its edits go after the last statement of that body, at the body's indentation."""
    candidates = []
    for path in corpus.files:
        source = (corpus.root / path).read_bytes()
        try:
            source.decode()
        except UnicodeDecodeError:
            continue
        for node in parsed(source, str(path)).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body[0].lineno > node.lineno:
                last = node.body[-1]
                candidates.append((len(source), str(path), last.end_lineno, node.body[0].col_offset))
                break
    if not candidates:
        raise BenchError(f"no file under {corpus.root} has a top-level function to edit")
    candidates.sort()
    size, path, line, column = candidates[len(candidates) // 2]
    edit = Edit(corpus.root / path, (corpus.root / path).read_bytes(), line, " " * column)
    edit.apply()
    broken = parsed(edit.path.read_bytes(), path) is None
    edit.restore()
    edit.count = 0
    if broken:
        raise BenchError(f"an edit after line {line} of {path} does not parse")
    return edit


def call_added(edit: Edit) -> Edit:
    """The same place, where each edit adds a different call: the file's summary changes."""
    return replace(edit, statement="str({n})", count=0)


# ---------------------------------------------------------------- running and timing


def best(timings: Sequence[Timing]) -> Timing:
    """Least time, highest peak RSS, last findings."""
    return Timing(
        seconds=min(t.seconds for t in timings),
        max_rss=max(t.max_rss for t in timings),
        findings=timings[-1].findings,
    )


def best_of(repeat: int, label: str, measure: Callable[[], Timing]) -> Timing:
    timings = []
    for index in range(1, repeat + 1):
        progress(f"{label}: run {index}/{repeat}")
        timings.append(measure())
    return best(timings)


def best_of_each(repeat: int, label: str, versions: Sequence[Version],
                 measure: Callable[[Version], Timing]) -> list[Timing]:
    """Run `measure` `repeat` times on each version, the versions taking turns within
    each round so that noise falls on all alike, and keep the best of each."""
    timings: list[list[Timing]] = [[] for _ in versions]
    for index in range(1, repeat + 1):
        for version, runs in zip(versions, timings):
            progress(f"{label}, {version.name}: run {index}/{repeat}")
            runs.append(measure(version))
    return [best(runs) for runs in timings]


def time_parse(corpus: Corpus) -> Timing:
    start = time.perf_counter()
    for path in corpus.files:
        ast.parse((corpus.root / path).read_bytes(), str(path))
    return Timing(time.perf_counter() - start)


def run_timed(command: Sequence[str], cwd: Path, env: dict[str, str]) -> Timing:
    """Run `command`, timing it and reading its peak RSS from os.wait4.

    Exit status 0 is success, and so is 1 when findings were printed (every tool here exits 1
    for findings; an uncaught Python exception also exits 1).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C: stop the child before its directories are removed
            proc.kill()
            proc.wait()
            raise
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        findings = len(FINDING.findall(out.read().decode(errors="replace")))
        err.seek(0)
        stderr = err.read().decode(errors="replace")
        skipped = "; skipped" in stderr  # a file that does not parse is reported, and exits 1 as a finding does
        if proc.returncode != 0 and not (proc.returncode == 1 and (findings or skipped)):
            raise BenchError(f"exit status {proc.returncode} from {shorten(command)}"
                             f" in {cwd}\n{stderr[-4000:]}")
    return Timing(seconds, usage.ru_maxrss * RSS_UNIT, findings)


def shorten(command: Sequence[str], limit: int = 12) -> str:
    shown = " ".join(command[:limit])
    return shown + (f" ... ({len(command) - limit} more)" if len(command) > limit else "")


def batches(paths: Sequence[Path]) -> Iterator[list[str]]:
    """Split file names into groups that fit on one command line."""
    batch: list[str] = []
    size = 0
    for path in map(str, paths):
        if batch and size + len(path) + 1 > ARG_BUDGET:
            yield batch
            batch, size = [], 0
        batch.append(path)
        size += len(path) + 1
    if batch:
        yield batch


def git(*arguments: str) -> bytes:
    """Standard output of a git command run in this repository."""
    command = ["git", "-C", str(REPO_ROOT), *arguments]
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True)
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace").strip()
        raise BenchError(f"{shorten(command)} failed: {stderr}")
    return result.stdout


def resolve(ref: str) -> str:
    """The commit that `ref` names in this repository."""
    return git("rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}").decode().strip()


def export_package(commit: str, tree: Path) -> None:
    """Write the lintgevent package of `commit` into `tree` (git archive: no worktree, no trace)."""
    archive = git("archive", "--format=tar", commit, "lintgevent")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")


@contextmanager
def lintgevent_versions(baseline: str | None, store: Path) -> Iterator[list[Version]]:
    """This checkout, then the baseline commit if given, each with an empty cache directory and
    compiled."""
    versions = [Version("current", REPO_ROOT, store / "cache-current")]
    if baseline:
        tree = store / "baseline"
        export_package(baseline, tree)
        versions.append(Version("baseline", tree, store / "cache-baseline"))
    for version in versions:
        version.cache_dir.mkdir()
        # The bytecode an installed package has (pip compiles it): with PYTHONDONTWRITEBYTECODE
        # set, every run would otherwise compile lintgevent from source first.
        if not compileall.compile_dir(str(version.tree / "lintgevent"), quiet=1):
            raise BenchError(f"{version.name}: lintgevent does not compile")
    yield versions


def lintgevent_env(version: Version, cache_dir: Path | None = None) -> dict[str, str]:
    """Environment that imports lintgevent from `version`'s tree and keeps its cache apart."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(version.tree), env.get("PYTHONPATH")]))
    env["LINTGEVENT_CACHE_DIR"] = str(cache_dir or version.cache_dir)
    return env


def check_import(python: str, corpus: Corpus, version: Version) -> None:
    """Fail unless lintgevent, run where the benchmark runs it, comes from `version`'s tree
    (and not from the editable install of this checkout or from the code base)."""
    command = [python, "-c", "import lintgevent; print(lintgevent.__file__)"]
    result = subprocess.run(command, cwd=corpus.root, env=lintgevent_env(version),
                            stdin=subprocess.DEVNULL, capture_output=True, text=True)
    found = result.stdout.strip()
    expected = version.tree / "lintgevent" / "__init__.py"
    if result.returncode != 0 or Path(found).resolve() != expected.resolve():
        raise BenchError(f"{version.name}: `import lintgevent` in {corpus.root} gives "
                         f"{found or result.stderr.strip()[-2000:]!r}, not {expected}")


def lintgevent_command(python: str, no_cache: bool) -> list[str]:
    command = [python, "-m", "lintgevent", "check", ".", "--deployment", "gunicorn-gevent", "--test-entry-points"]
    return command + ["--no-cache"] if no_cache else command


def time_lintgevent(python: str, corpus: Corpus, version: Version, no_cache: bool = False,
                    cache_dir: Path | None = None) -> Timing:
    return run_timed(lintgevent_command(python, no_cache), corpus.root, lintgevent_env(version, cache_dir))


def time_first_run(python: str, corpus: Corpus, version: Version, store: Path) -> Timing:
    """A run that finds an empty cache and fills it."""
    with tempfile.TemporaryDirectory(prefix="first-", dir=store) as empty:
        return time_lintgevent(python, corpus, version, cache_dir=Path(empty))


def time_edited(python: str, corpus: Corpus, version: Version, edit: Edit) -> Timing:
    edit.apply()
    return time_lintgevent(python, corpus, version)


def time_flake8(python: str, corpus: Corpus, version: Version, select: str, store: Path) -> Timing:
    """flake8 on the tree with its default jobs; with GEV selected, the plugin finds an empty cache."""
    command = [python, "-m", "flake8", "--select", select, "--lintgevent-deployment", "gunicorn-gevent",
               "--lintgevent-test-entry-points", "."]
    with tempfile.TemporaryDirectory(prefix="flake8-", dir=store) as empty:
        return run_timed(command, corpus.root, lintgevent_env(version, Path(empty)))


def run_output(command: Sequence[str], cwd: Path, env: dict[str, str]) -> bytes:
    """What `command` prints on stdout and stderr, once it exits 0 or 1."""
    done = subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True)
    if done.returncode not in (0, 1):
        raise BenchError(f"exit status {done.returncode} from {shorten(command)} in {cwd}\n"
                         f"{done.stderr.decode(errors='replace')[-4000:]}")
    return done.stdout + b"\0" + done.stderr


def compare_after_edits(args: argparse.Namespace, corpus: Corpus, version: Version) -> tuple[int, list[str]]:
    """(i): apply the random edits one by one (they stay: this runs last); after each, a run that
    reuses the cache and a cold run.  (edits applied, the edits after which the two differed)."""
    edits = RandomEdits(corpus.root, random.Random(args.seed))
    env = lintgevent_env(version)
    applied, differed = 0, []
    for number in range(args.random_edits):
        kind = KINDS[number % len(KINDS)]
        edit = edits.apply(kind)
        if edit is None:
            progress(f"(i) no file takes a {kind!r} edit")
            continue
        applied += 1
        progress(f"(i) edit {number + 1}/{args.random_edits}: {edit}")
        incremental = run_output(lintgevent_command(args.python, no_cache=False), corpus.root, env)
        cold = run_output(lintgevent_command(args.python, no_cache=True), corpus.root, env)
        if incremental != cold:
            differed.append(str(edit))
    return applied, differed


def time_flake8_async(python: str, corpus: Corpus) -> Timing:
    """Run flake8-async on every parseable file, in as few invocations as fit."""
    runs = [run_timed([python, "-m", "flake8_async", *batch], corpus.root, dict(os.environ))
            for batch in batches(corpus.files)]
    return Timing(
        seconds=sum(r.seconds for r in runs),
        max_rss=max(r.max_rss for r in runs),
        findings=sum(r.findings for r in runs),
    )


# ---------------------------------------------------------------- reporting


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


def report_corpus(label: str, corpus: Corpus, args: argparse.Namespace, baseline: str | None,
                  edit: Edit) -> None:
    print(f"code base: {label}")
    print(f"root:      {corpus.root}")
    print(f"files:     {len(corpus.files) + len(corpus.unparsable):,} .py files, "
          f"{corpus.lines:,} lines")
    if corpus.unparsable:
        names = ", ".join(map(str, corpus.unparsable[:3]))
        more = ", ..." if len(corpus.unparsable) > 3 else ""
        print(f"           {len(corpus.unparsable)} not parseable by ast ({names}{more}):"
              " left out of (a) and (h)")
    print(f"edited:    {edit.path.relative_to(corpus.root)}, a statement after line {edit.line} (e, e2)")
    print(f"cores:     {cores()} (lintgevent and flake8 use them all by default)")
    if baseline:
        print(f"baseline:  lintgevent of {args.baseline} ({baseline}), "
              "alternating with the current checkout in (b)-(e2)")
    print(f"timings:   best of {args.repeat} run(s), flake8 best of {args.flake8_repeat}, "
          f"flake8-async best of {args.flake8_async_repeat}\n", flush=True)


def report_timing(label: str, timing: Timing, parse: Timing | None = None) -> None:
    line = f"{label:<44} {timing.seconds:9.3f} s"
    if parse is not None:
        line += f" {timing.seconds / parse.seconds:8.3f}x"
        line += f"   peak RSS {megabytes(timing.max_rss):>10}   findings {timing.findings:,}"
    print(line, flush=True)


def report_targets(title: str, parse: Timing, figures: dict[str, Timing],
                   flake8: tuple[Timing, Timing] | None) -> None:
    print(f"\n{title}")
    for name, target in TARGETS.items():
        ratio = figures[name].seconds / parse.seconds
        print(f"  {name + ' / floor':<26}{ratio:8.3f}x   target <= {target}x{'':8}{verdict(ratio <= target)}")
    peak = max(timing.max_rss for timing in figures.values())
    print(f"  {'peak RSS':<21}{megabytes(peak):>13}   target < {megabytes(MEMORY_TARGET)}"
          f"   {verdict(peak < MEMORY_TARGET)}")
    if flake8 is not None:
        without, with_plugin = flake8
        extra = with_plugin.seconds / without.seconds - 1
        print(f"  {'flake8 + GEV / flake8':<26}{extra:+8.1%}    target <= +{FLAKE8_TARGET:.0%}{'':8}"
              f"{verdict(extra <= FLAKE8_TARGET)}")


def report_comparison(figures: Sequence[dict[str, Timing]]) -> None:
    """Current against baseline: each figure, both values and their ratio."""
    current, base = figures
    print(f"\n{'current / baseline':<22}{'current':>12}{'baseline':>13}{'ratio':>11}")
    for name in TARGETS:
        ratio = current[name].seconds / base[name].seconds
        print(f"  {name:<20}{current[name].seconds:10.3f} s{base[name].seconds:11.3f} s{ratio:10.3f}x"
              f"   limit {BASELINE_LIMIT}x  {verdict(ratio <= BASELINE_LIMIT)}")
    peak, base_peak = (max(t.max_rss for t in f.values()) for f in figures)
    print(f"  {'peak RSS':<20}{megabytes(peak):>12}{megabytes(base_peak):>13}{peak / base_peak:10.3f}x")


# ---------------------------------------------------------------- the run


def measure_versions(args: argparse.Namespace, corpus: Corpus, versions: Sequence[Version],
                     edit: Edit, store: Path) -> list[dict[str, Timing]]:
    """(b)-(e2) for every version, in that order: the warm runs use the cache the first runs filled
    last, and each edit run starts from the cache of the run before it."""
    python, repeat = args.python, args.repeat
    for version in versions:
        check_import(python, corpus, version)
        progress(f"lintgevent, {version.name}: filling the cache (and writing its bytecode)")
        time_lintgevent(python, corpus, version)
    call = call_added(edit)
    measures = {
        "cold": lambda v: time_lintgevent(python, corpus, v, no_cache=True),
        "first run": lambda v: time_first_run(python, corpus, v, store),
        "warm": lambda v: time_lintgevent(python, corpus, v),
        "one file edited": lambda v: time_edited(python, corpus, v, edit),
        "one call added": lambda v: time_edited(python, corpus, v, call),
    }
    figures: list[dict[str, Timing]] = [{} for _ in versions]
    try:
        for name, measure in measures.items():
            for figure, timing in zip(figures, best_of_each(repeat, name, versions, measure)):
                figure[name] = timing
    finally:
        edit.restore()
    return figures


def benchmark(label: str, root: Path, args: argparse.Namespace, baseline: str | None, store: Path) -> None:
    progress(f"scanning {root}")
    corpus = scan(root)
    if not corpus.files:
        raise BenchError(f"no parseable .py files under {root}")
    edit = choose_edit(corpus)
    report_corpus(label, corpus, args, baseline, edit)
    parse = best_of(args.repeat, "(a) ast.parse", lambda: time_parse(corpus))
    report_timing("(a) floor: read + ast.parse, one process", parse)
    with lintgevent_versions(baseline, store) as versions:
        figures = measure_versions(args, corpus, versions, edit, store)
        for name in TARGETS:
            report_timing(f"({LETTERS[name]}) lintgevent check, {name}", figures[0][name], parse)
            for version, figure in zip(versions[1:], figures[1:]):
                report_timing(f"    {version.name}", figure[name], parse)
        flake8 = None
        if args.flake8_repeat:
            flake8 = tuple(best_of(args.flake8_repeat, f"flake8 --select {select}",
                                   lambda s=select: time_flake8(args.python, corpus, versions[0], s, store))
                           for select in (FLAKE8_SELECT, FLAKE8_SELECT + ",GEV"))
            report_timing(f"(f) flake8 --select {FLAKE8_SELECT}", flake8[0], parse)
            report_timing(f"(g) flake8 --select {FLAKE8_SELECT},GEV, first run", flake8[1], parse)
    if args.flake8_async_repeat:
        peer = best_of(args.flake8_async_repeat, "(h) flake8-async", lambda: time_flake8_async(args.python, corpus))
        report_timing("(h) flake8-async (standalone)", peer, parse)
    for version, figure in zip(versions, figures):
        title = f"ratios and targets, {version.name}" if baseline else "ratios and targets"
        report_targets(title, parse, figure, flake8 if version is versions[0] else None)
    if baseline:
        report_comparison(figures)
    if args.random_edits:
        applied, differed = compare_after_edits(args, corpus, versions[0])
        print(f"\n(i) random edits (seed {args.seed}): {applied} applied; the run from the cache printed "
              f"what the cold run printed after {applied - len(differed)}: {verdict(not differed)}")
        for edit in differed:
            print(f"    differed after: {edit}")


def interrupt(signum: int, frame) -> None:
    """SIGTERM (a `timeout`, CI cancelling) ends the run like Ctrl-C: children stopped, temp dirs removed."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        baseline = resolve(args.baseline) if args.baseline else None
        CACHE_ROOT.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="work-", dir=CACHE_ROOT) as work:
            label, root = build_tree(args, Path(work))
            store = Path(work, "store")
            store.mkdir()
            benchmark(label, root, args, baseline, store)
    except (BenchError, OSError) as error:
        print(f"bench_check: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench_check: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
