#!/usr/bin/env python3
"""Measure how long the seed's one big gzip write stalls the gevent hub.

Runs `write_sn_file` of rules/GEV301/bad.py (one `fh.write` of the whole
batch into `gzip.open(path, "wb")`, level 9) and of the two versions that
`lintgevent fix --strategy threadpool|chunk` makes of it, each in a fresh
child process, while a ticker greenlet sleeps 1 ms in a loop and records the
longest gap between its wakeups: the longest time the hub could not run.

    .venv/bin/python benchmarks/bench_writes.py

Exit status: 0; 1 if a variant writes other content than bad.py; 2 if a
command fails.  Apart from the --json file, only temporary directories are
written.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NoReturn

REPO_ROOT = Path(__file__).resolve().parents[1]
BAD = REPO_ROOT / "rules" / "GEV301" / "bad.py"
STRATEGIES = ("threadpool", "chunk")
CODE_LINE = 17  # 16 hex digits and a newline

Result = dict[str, float | int | str]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=int, default=39,
                        help="megabytes (10**6 bytes) of text to write (default 39)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each variant, interleaved (default 3)")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=FILE",
                        help="measure FILE's write_sn_file as NAME instead of generating it "
                             "(repeatable)")
    parser.add_argument("--json", type=Path, metavar="FILE",
                        help="also write the figures to FILE as JSON")
    parser.add_argument("--child", type=Path, metavar="FILE",
                        help="internal: measure FILE once in this process, print JSON")
    args = parser.parse_args()
    if args.repeat < 1 or args.mb < 1:
        parser.error("--repeat and --mb must be at least 1")
    for spec in args.variant:
        if not Path(spec.partition("=")[2]).is_file():
            parser.error(f"--variant {spec}: NAME=FILE with an existing FILE expected")
    return args


def fail(message: str) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(2)


def measure(variant: Path, mb: int) -> Result:
    """Child process: import the variant (it patches), time one write under a 1 ms ticker."""
    spec = importlib.util.spec_from_file_location("variant", variant)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import gevent

    rng = random.Random(0)
    codes = [f"{rng.getrandbits(64):016X}" for _ in range(mb * 10**6 // CODE_LINE)]
    longest, ticks, done = 0.0, 0, False

    def tick() -> None:
        nonlocal longest, ticks
        last = time.perf_counter()
        while not done:
            gevent.sleep(0.001)
            now = time.perf_counter()
            longest, ticks, last = max(longest, now - last), ticks + 1, now

    def write(path: str) -> float:
        start = time.perf_counter()
        module.write_sn_file(path, codes)
        return time.perf_counter() - start

    with tempfile.TemporaryDirectory(prefix="lintgevent-bench-") as tmp:
        path = str(Path(tmp) / "batch.txt.gz")
        ticker = gevent.spawn(tick)
        wall = gevent.spawn(write, path).get()
        done = True
        ticker.join()  # its last wakeup measures the gap that ends with the write
        digest = hashlib.sha256()
        with gzip.open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        size = Path(path).stat().st_size
    return {"stall": longest, "wall": wall, "ticks": ticks, "sha256": digest.hexdigest(),
            "size": size}


def generate(strategy: str, tmp: Path) -> Path:
    """Copy bad.py into its own project under tmp and let `lintgevent fix` rewrite it."""
    project = tmp / strategy
    project.mkdir()
    (project / "setup.cfg").touch()
    target = Path(shutil.copy(BAD, project / "bad.py"))
    command = [sys.executable, "-m", "lintgevent", "fix", "--no-cache", "--strategy", strategy,
               target.name]
    env = dict(os.environ)  # lintgevent from this checkout
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    # An uncaught exception exits 1 as well: the file must have changed.
    if done.returncode != 1 or target.read_bytes() == BAD.read_bytes():
        fail(f"lintgevent fix --strategy {strategy}: exit {done.returncode} "
             f"(1 and a changed file expected)\n{done.stderr}")
    return target


def run_child(variant: Path, mb: int) -> Result:
    done = subprocess.run([sys.executable, __file__, "--child", str(variant), "--mb", str(mb)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"measuring {variant} failed (exit {done.returncode})\n{done.stderr}")
    return json.loads(done.stdout)


def summarize(runs: list[Result], reference: str) -> dict[str, object]:
    stalls, walls = [r["stall"] for r in runs], [r["wall"] for r in runs]
    return {"stall_min": min(stalls), "stall_median": statistics.median(stalls),
            "wall_min": min(walls), "wall_median": statistics.median(walls),
            "same_content": all(r["sha256"] == reference for r in runs), "runs": runs}


def main() -> int:
    args = parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.mb)))
        return 0
    given = dict(spec.split("=", 1) for spec in args.variant)
    with tempfile.TemporaryDirectory(prefix="lintgevent-bench-") as tmp:
        files = {"bad": BAD}
        for strategy in STRATEGIES:
            if strategy not in given:
                files[strategy] = generate(strategy, Path(tmp))
        files.update((name, Path(file).resolve()) for name, file in given.items())
        runs: dict[str, list[Result]] = {name: [] for name in files}
        for _ in range(args.repeat):  # interleaved, so every variant shares the machine's noise
            for name, file in files.items():
                runs[name].append(run_child(file, args.mb))
    figures = {name: summarize(results, runs["bad"][0]["sha256"]) for name, results in runs.items()}

    print(f"seed 003 write: {args.mb} MB of text, one gzip write at level 9; longest hub stall "
          f"(ticker every 1 ms), {args.repeat} run{'s' if args.repeat > 1 else ''} each")
    print(f"{'variant':<12} {'longest stall min / median':<29} "
          f"{'write time min / median':<25} same content")
    for name, f in figures.items():
        stall = f"{f['stall_min']:.3f} s / {f['stall_median']:.3f} s"
        wall = f"{f['wall_min']:.3f} s / {f['wall_median']:.3f} s"
        print(f"{name:<12} {stall:<29} {wall:<25} {'yes' if f['same_content'] else 'NO'}")
    if args.json:
        data = {"mb": args.mb, "repeat": args.repeat, "variants": figures}
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0 if all(f["same_content"] for f in figures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
