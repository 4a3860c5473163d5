#!/usr/bin/env python3
"""Time `lintgevent check` on a large real code base.

Downloads and unpacks an sdist (Django by default) or uses an existing
directory, then prints, each as the best of N runs:

  (a) reading and parsing every .py file once with ast.parse, in-process;
  (b) a cold `lintgevent check --no-cache --deployment gunicorn-gevent` run;
  (c) a warm `lintgevent check --deployment gunicorn-gevent` run (after one
      run that fills the cache, in a temporary directory removed at the end);
  (d) flake8-async's standalone command on the same files;

followed by the ratios cold/parse, warm/parse and cold/flake8-async, and the
peak memory (max RSS) of the cold run, each next to its target.

A missed target is reported, not treated as an error: the exit status is
non-zero only when a command fails to run.  Standard library only.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
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


def best_of(repeat: int, label: str, measure: Callable[[], Timing]) -> Timing:
    """Run `measure` `repeat` times: least time, highest peak RSS, last findings."""
    timings = []
    for index in range(1, repeat + 1):
        progress(f"{label}: run {index}/{repeat}")
        timings.append(measure())
    return Timing(
        seconds=min(t.seconds for t in timings),
        max_rss=max(t.max_rss for t in timings),
        findings=timings[-1].findings,
    )


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
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        findings = len(FINDING.findall(out.read().decode(errors="replace")))
        if proc.returncode != 0 and not (proc.returncode == 1 and findings):
            err.seek(0)
            stderr = err.read().decode(errors="replace")
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


def lintgevent_env(cache_dir: Path) -> dict[str, str]:
    """Environment that imports lintgevent from this checkout and keeps its cache in `cache_dir`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["LINTGEVENT_CACHE_DIR"] = str(cache_dir)
    return env


def lintgevent_command(python: str, no_cache: bool) -> list[str]:
    command = [python, "-m", "lintgevent", "check", ".", "--deployment", "gunicorn-gevent"]
    return command + ["--no-cache"] if no_cache else command


def time_lintgevent(python: str, corpus: Corpus, no_cache: bool, cache_dir: Path) -> Timing:
    return run_timed(lintgevent_command(python, no_cache), corpus.root, lintgevent_env(cache_dir))


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


def report_corpus(label: str, corpus: Corpus, args: argparse.Namespace) -> None:
    print(f"code base: {label}")
    print(f"root:      {corpus.root}")
    print(f"files:     {len(corpus.files) + len(corpus.unparsable):,} .py files, "
          f"{corpus.lines:,} lines")
    if corpus.unparsable:
        names = ", ".join(map(str, corpus.unparsable[:3]))
        more = ", ..." if len(corpus.unparsable) > 3 else ""
        print(f"           {len(corpus.unparsable)} not parseable by ast ({names}{more}):"
              " left out of (a) and (d)")
    print(f"timings:   best of {args.repeat} run(s), flake8-async best of "
          f"{args.flake8_async_repeat}\n", flush=True)


def report_timing(label: str, timing: Timing, tool: bool = True) -> None:
    line = f"{label:<42} {timing.seconds:9.3f} s"
    if tool:
        line += f"   peak RSS {megabytes(timing.max_rss):>10}   findings {timing.findings:,}"
    print(line, flush=True)


def report_targets(parse: Timing, cold: Timing, warm: Timing, flake8: Timing | None) -> None:
    cold_ratio = cold.seconds / parse.seconds
    warm_ratio = warm.seconds / parse.seconds
    print("\nratios and targets")
    print(f"  cold / parse          {cold_ratio:8.3f}x   target <= {COLD_TARGET}x"
          f"      {verdict(cold_ratio <= COLD_TARGET)}")
    print(f"  warm / parse          {warm_ratio:8.3f}x   target <= {WARM_TARGET}x"
          f"      {verdict(warm_ratio <= WARM_TARGET)}")
    if flake8 is not None:
        print(f"  cold / flake8-async   {cold.seconds / flake8.seconds:8.3f}x   (no target)")
    print(f"  cold peak RSS     {megabytes(cold.max_rss):>12}   target < "
          f"{megabytes(MEMORY_TARGET)}   {verdict(cold.max_rss < MEMORY_TARGET)}")


def benchmark(label: str, root: Path, args: argparse.Namespace) -> None:
    if not root.is_dir():
        raise BenchError(f"not a directory: {root}")
    progress(f"scanning {root}")
    corpus = scan(root)
    if not corpus.files:
        raise BenchError(f"no parseable .py files under {root}")
    report_corpus(label, corpus, args)
    python, repeat = args.python, args.repeat
    parse = best_of(repeat, "(a) ast.parse", lambda: time_parse(corpus))
    report_timing("(a) ast.parse, in-process (read + parse)", parse, tool=False)
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="store-", dir=CACHE_ROOT) as store:
        cache_dir = Path(store)
        cold = best_of(repeat, "(b) lintgevent cold",
                       lambda: time_lintgevent(python, corpus, no_cache=True, cache_dir=cache_dir))
        report_timing("(b) lintgevent check --no-cache (cold)", cold)
        progress("(c) lintgevent warm: filling the cache")
        time_lintgevent(python, corpus, no_cache=False, cache_dir=cache_dir)
        warm = best_of(repeat, "(c) lintgevent warm",
                       lambda: time_lintgevent(python, corpus, no_cache=False, cache_dir=cache_dir))
        report_timing("(c) lintgevent check (warm cache)", warm)
    flake8 = None
    if args.flake8_async_repeat:
        flake8 = best_of(args.flake8_async_repeat, "(d) flake8-async",
                         lambda: time_flake8_async(python, corpus))
        report_timing("(d) flake8-async (standalone)", flake8)
    report_targets(parse, cold, warm, flake8)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.source:
            benchmark(str(args.source), args.source.resolve(), args)
            return 0
        sdist = download_sdist(args.python, args.package)
        CACHE_ROOT.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="work-", dir=CACHE_ROOT) as work:
            root = unpack(sdist, Path(work))
            benchmark(args.package, root, args)
    except (BenchError, OSError) as error:
        print(f"bench_check: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
