#!/usr/bin/env python3
"""Time `lintgevent check` on a large real code base.

Downloads and unpacks an sdist (Django by default) or uses an existing
directory, then prints, each as the best of N runs:

  (a) reading and parsing every .py file once with ast.parse, in-process;
  (b) a cold `lintgevent check --no-cache --deployment gunicorn-gevent --test-entry-points` run
      (the test code's views and spawns are entry points too, so that the whole engine runs on a
      framework whose own code answers no request);
  (c) a warm `lintgevent check --deployment gunicorn-gevent --test-entry-points` run (after one
      run that fills the cache, in a temporary directory removed at the end);
  (d) flake8-async's standalone command on the same files;

followed by the ratios cold/parse, warm/parse and cold/flake8-async, and the
peak memory (max RSS) of the cold run, each next to its target.

With --baseline REF, (b) and (c) are also run with the lintgevent package of
commit REF of this repository (exported into a temporary directory put first
on PYTHONPATH), the two taking turns within each round so that noise falls on
both alike, and each figure is also given as the ratio current/baseline.

A missed target is reported, not treated as an error: the exit status is
non-zero only when a command fails to run.  Standard library only.
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PACKAGE = "django==5.1.4"
DEFAULT_REPEAT = 3
CACHE_ROOT = Path(tempfile.gettempdir()) / "lintgevent-bench"
REPO_ROOT = Path(__file__).resolve().parent.parent
SDIST_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".zip")

COLD_TARGET = 3.0  # cold run <= 3x parse time
WARM_TARGET = 0.5  # warm run <= 0.5x parse time
MEMORY_TARGET = 1_000_000_000  # cold run peak RSS < 1 GB (bytes)
BASELINE_COLD_LIMIT = 1.25  # the new analysis may add at most 25% to the cold figure

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


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--package",
        default=DEFAULT_PACKAGE,
        metavar="NAME==VER",
        help=f"sdist to download and unpack (default: {DEFAULT_PACKAGE})",
    )
    source.add_argument(
        "--source",
        type=Path,
        metavar="DIR",
        help="benchmark an existing directory instead of downloading an sdist",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=DEFAULT_REPEAT,
        metavar="N",
        help=f"runs per measurement; the best is kept (default: {DEFAULT_REPEAT})",
    )
    parser.add_argument(
        "--flake8-async-repeat",
        type=int,
        metavar="N",
        help="runs of flake8-async, which takes minutes per run on a large "
        "code base; 0 skips it (default: --repeat)",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        metavar="EXE",
        help="interpreter that runs pip, lintgevent and flake8-async "
        "(default: the one running this script)",
    )
    parser.add_argument(
        "--baseline",
        metavar="REF",
        help="also time the lintgevent of this git commit of the repository "
        "(a hash, a tag, HEAD~3), alternating with the current checkout",
    )
    args = parser.parse_args(argv)
    if args.flake8_async_repeat is None:
        args.flake8_async_repeat = args.repeat
    if args.repeat < 1 or args.flake8_async_repeat < 0:
        parser.error("--repeat must be at least 1 and --flake8-async-repeat at least 0")
    return args


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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


def unpack(sdist: Path, work: Path) -> Path:
    """Unpack `sdist` into `work` and return its top-level directory."""
    shutil.unpack_archive(sdist, work, filter="data")
    entries = list(work.iterdir())
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else work


def iter_py_files(root: Path) -> Iterator[Path]:
    """Yield the .py files under `root` (relative, sorted), skipping dot-dirs."""
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in sorted(names):
            if name.endswith(".py"):
                yield Path(directory, name).relative_to(root)


def parses(source: bytes, filename: str) -> bool:
    try:
        ast.parse(source, filename)
    except (SyntaxError, ValueError):
        return False
    return True


def scan(root: Path) -> Corpus:
    """Count files and lines and set aside the files ast cannot parse."""
    files: list[Path] = []
    unparsable: list[Path] = []
    lines = 0
    for path in iter_py_files(root):
        source = (root / path).read_bytes()
        lines += source.count(b"\n")
        (files if parses(source, str(path)) else unparsable).append(path)
    return Corpus(root, files, unparsable, lines)


def best(timings: Sequence[Timing]) -> Timing:
    """Least time, highest peak RSS, last findings."""
    return Timing(
        seconds=min(t.seconds for t in timings),
        max_rss=max(t.max_rss for t in timings),
        findings=timings[-1].findings,
    )


def best_of(repeat: int, label: str, measure: Callable[[], Timing]) -> Timing:
    """Run `measure` `repeat` times and keep the best."""
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

    Exit status 0 is success, and so is 1 when findings were printed (both
    linters exit 1 for findings; an uncaught Python exception also exits 1).
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
def lintgevent_versions(baseline: str | None) -> Iterator[list[Version]]:
    """This checkout, then the baseline commit if given, each with an empty cache directory,
    all in one temporary directory removed at the end."""
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="store-", dir=CACHE_ROOT) as store:
        versions = [Version("current", REPO_ROOT, Path(store, "cache-current"))]
        if baseline:
            tree = Path(store, "baseline")
            export_package(baseline, tree)
            versions.append(Version("baseline", tree, Path(store, "cache-baseline")))
        for version in versions:
            version.cache_dir.mkdir()
        yield versions


def lintgevent_env(version: Version) -> dict[str, str]:
    """Environment that imports lintgevent from `version`'s tree and keeps its cache apart."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(version.tree), env.get("PYTHONPATH")]))
    env["LINTGEVENT_CACHE_DIR"] = str(version.cache_dir)
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


def time_lintgevent(python: str, corpus: Corpus, version: Version, no_cache: bool) -> Timing:
    return run_timed(lintgevent_command(python, no_cache), corpus.root, lintgevent_env(version))


def time_flake8_async(python: str, corpus: Corpus) -> Timing:
    """Run flake8-async on every parseable file, in as few invocations as fit."""
    runs = [run_timed([python, "-m", "flake8_async", *batch], corpus.root, dict(os.environ))
            for batch in batches(corpus.files)]
    return Timing(
        seconds=sum(r.seconds for r in runs),
        max_rss=max(r.max_rss for r in runs),
        findings=sum(r.findings for r in runs),
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


def report_corpus(label: str, corpus: Corpus, args: argparse.Namespace,
                  baseline: str | None) -> None:
    print(f"code base: {label}")
    print(f"root:      {corpus.root}")
    print(f"files:     {len(corpus.files) + len(corpus.unparsable):,} .py files, "
          f"{corpus.lines:,} lines")
    if corpus.unparsable:
        names = ", ".join(map(str, corpus.unparsable[:3]))
        more = ", ..." if len(corpus.unparsable) > 3 else ""
        print(f"           {len(corpus.unparsable)} not parseable by ast ({names}{more}):"
              " left out of (a) and (d)")
    if baseline:
        print(f"baseline:  lintgevent of {args.baseline} ({baseline}), "
              "alternating with the current checkout in (b) and (c)")
    print(f"timings:   best of {args.repeat} run(s), flake8-async best of "
          f"{args.flake8_async_repeat}\n", flush=True)


def report_timing(label: str, timing: Timing, tool: bool = True) -> None:
    line = f"{label:<42} {timing.seconds:9.3f} s"
    if tool:
        line += f"   peak RSS {megabytes(timing.max_rss):>10}   findings {timing.findings:,}"
    print(line, flush=True)


def report_each(label: str, versions: Sequence[Version], timings: Sequence[Timing]) -> None:
    """The current checkout's timing under `label`, each other version's below it."""
    report_timing(label, timings[0])
    for version, timing in zip(versions[1:], timings[1:]):
        report_timing(f"    {version.name}", timing)


def report_targets(title: str, parse: Timing, cold: Timing, warm: Timing,
                   flake8: Timing | None) -> None:
    cold_ratio = cold.seconds / parse.seconds
    warm_ratio = warm.seconds / parse.seconds
    print(f"\n{title}")
    print(f"  cold / parse          {cold_ratio:8.3f}x   target <= {COLD_TARGET}x"
          f"      {verdict(cold_ratio <= COLD_TARGET)}")
    print(f"  warm / parse          {warm_ratio:8.3f}x   target <= {WARM_TARGET}x"
          f"      {verdict(warm_ratio <= WARM_TARGET)}")
    if flake8 is not None:
        print(f"  cold / flake8-async   {cold.seconds / flake8.seconds:8.3f}x   (no target)")
    print(f"  cold peak RSS     {megabytes(cold.max_rss):>12}   target < "
          f"{megabytes(MEMORY_TARGET)}   {verdict(cold.max_rss < MEMORY_TARGET)}")


def report_comparison(colds: Sequence[Timing], warms: Sequence[Timing]) -> None:
    """Current against baseline: each figure, both values and their ratio."""
    (cold, base_cold), (warm, base_warm) = colds, warms
    cold_ratio = cold.seconds / base_cold.seconds
    warm_ratio = warm.seconds / base_warm.seconds
    print(f"\n{'current / baseline':<22}{'current':>12}{'baseline':>13}{'ratio':>11}")
    print(f"  {'cold':<20}{cold.seconds:10.3f} s{base_cold.seconds:11.3f} s{cold_ratio:10.3f}x")
    print(f"  {'warm':<20}{warm.seconds:10.3f} s{base_warm.seconds:11.3f} s{warm_ratio:10.3f}x")
    print(f"  {'cold peak RSS':<20}{megabytes(cold.max_rss):>12}{megabytes(base_cold.max_rss):>13}"
          f"{cold.max_rss / base_cold.max_rss:10.3f}x")
    print(f"  cold current/baseline = {cold_ratio:.2f}x (limit {BASELINE_COLD_LIMIT}x)"
          f"   {verdict(cold_ratio <= BASELINE_COLD_LIMIT)}")
    print(f"  warm current/baseline = {warm_ratio:.2f}x")


def prepare(python: str, corpus: Corpus, version: Version) -> None:
    """Check where `version` is imported from, then fill its cache (and write its bytecode)
    in one untimed run."""
    check_import(python, corpus, version)
    progress(f"lintgevent, {version.name}: filling the cache")
    time_lintgevent(python, corpus, version, no_cache=False)


def benchmark(label: str, root: Path, args: argparse.Namespace, baseline: str | None) -> None:
    if not root.is_dir():
        raise BenchError(f"not a directory: {root}")
    progress(f"scanning {root}")
    corpus = scan(root)
    if not corpus.files:
        raise BenchError(f"no parseable .py files under {root}")
    report_corpus(label, corpus, args, baseline)
    python, repeat = args.python, args.repeat
    parse = best_of(repeat, "(a) ast.parse", lambda: time_parse(corpus))
    report_timing("(a) ast.parse, in-process (read + parse)", parse, tool=False)
    with lintgevent_versions(baseline) as versions:
        for version in versions:
            prepare(python, corpus, version)
        colds = best_of_each(repeat, "(b) lintgevent cold", versions,
                             lambda v: time_lintgevent(python, corpus, v, no_cache=True))
        report_each("(b) lintgevent check --no-cache (cold)", versions, colds)
        warms = best_of_each(repeat, "(c) lintgevent warm", versions,
                             lambda v: time_lintgevent(python, corpus, v, no_cache=False))
        report_each("(c) lintgevent check (warm cache)", versions, warms)
    flake8 = None
    if args.flake8_async_repeat:
        flake8 = best_of(args.flake8_async_repeat, "(d) flake8-async",
                         lambda: time_flake8_async(python, corpus))
        report_timing("(d) flake8-async (standalone)", flake8)
    for version, cold, warm in zip(versions, colds, warms):
        title = f"ratios and targets, {version.name}" if baseline else "ratios and targets"
        report_targets(title, parse, cold, warm, flake8)
    if baseline:
        report_comparison(colds, warms)


def interrupt(signum: int, frame) -> None:
    """SIGTERM (a `timeout`, CI cancelling) ends the run like Ctrl-C: children stopped, temp dirs removed."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        baseline = resolve(args.baseline) if args.baseline else None
        if args.source:
            benchmark(str(args.source), args.source.resolve(), args, baseline)
            return 0
        sdist = download_sdist(args.python, args.package)
        CACHE_ROOT.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="work-", dir=CACHE_ROOT) as work:
            root = unpack(sdist, Path(work))
            benchmark(args.package, root, args, baseline)
    except (BenchError, OSError) as error:
        print(f"bench_check: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench_check: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
