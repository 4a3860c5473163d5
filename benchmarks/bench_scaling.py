"""Does any step of `lintgevent check` grow faster than its input?

Tree mode (`--package NAME==VER`, `--source DIR`, each repeatable: the trees side by side): the
tree is checked at 25, 50, 100 and 200% of its size (every fourth file, every second file, all of
them, two copies), and for each the script prints the lines, the floor (reading and parsing every
file with `ast` in this process) and `lintgevent check --no-cache` (the whole engine, as
bench_check.py runs it), each in seconds per 1,000 lines, the best of --repeat runs.  A step that
grows faster than the tree shows as a time per 1,000 lines that rises with the size; the script
flags lintgevent's at 200% above 1.5 times its time at 25% as SUPER-LINEAR.

Shape mode (the default): for each pathological shape below, a one-module gevent project is generated at size N and at
size FACTOR * N, and three commands are timed on both (best of --repeat runs, each a fresh
process that has imported everything first, so start-up is not timed): reading and parsing the
module with `ast` (the floor), `lintgevent check --no-cache`, and flake8's default checks on the
same file (a peer).  A linear tool grows by about FACTOR, like the floor; the script prints each
growth and flags a lintgevent growth above 1.5 * FACTOR as SUPER-LINEAR.  It reports figures, it is not a test: it exits 0 unless a command fails.

    python benchmarks/bench_scaling.py                    # N = 2000, FACTOR = 4
    python benchmarks/bench_scaling.py --size 5000 --shape class-chain
    python benchmarks/bench_scaling.py --package django==5.1.4            # tree mode
    python benchmarks/bench_scaling.py --package django==5.1.4 --package sympy==1.13.3
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_check

HEAD = "from gevent import monkey; monkey.patch_all()\nfrom flask import Flask\n\napp = Flask(__name__)\n"


def class_chain(n: int) -> str:
    """Each class derives from the one before: ancestors were recomputed per class."""
    lines = [HEAD, "from django.views import View\n", "class C0(View):\n    def get(self, request):\n"
             "        return open('x').read()\n"]
    lines += [f"class C{i}(C{i - 1}):\n    pass\n" for i in range(1, n)]
    return "".join(lines)


def many_classes(n: int) -> str:
    return HEAD + "".join(f"class K{i}:\n    def run(self):\n        return open('f{i}')\n" for i in range(n))


def many_routes(n: int) -> str:
    return HEAD + "".join(f"@app.route('/r{i}')\ndef r{i}():\n    return helper{i % 50}()\n" for i in range(n)) + \
        "".join(f"def helper{i}():\n    return open('h{i}').read()\n" for i in range(50))


def deep_nesting(n: int) -> str:
    """Nested functions, each calling the next: a call chain n deep from one route."""
    depth = min(n, 90)  # Python's parser stops at 100 nested blocks; repeat the tower instead
    towers = []
    for t in range(max(1, n // depth)):
        body = [f"@app.route('/t{t}')\ndef t{t}_0():\n"]
        for level in range(1, depth):
            body.append("    " * level + f"def t{t}_{level}():\n")
        body.append("    " * depth + "return open('deep').read()\n")
        for level in range(depth - 1, 0, -1):
            body.append("    " * level + f"return t{t}_{level}()\n")
        towers.append("".join(body))
    return HEAD + "".join(towers)


def findings_per_line(n: int) -> str:
    """n blocking calls on one line, under a `# noqa` naming another code."""
    calls = ", ".join(f"open('f{i}')" for i in range(n))
    return HEAD + f"@app.route('/many')\ndef many():\n    return [{calls}]  # noqa: GEV102\n"


def noqa_lines(n: int) -> str:
    return HEAD + "@app.route('/n')\ndef n():\n" + "".join(f"    open('f{i}')  # noqa: GEV102\n" for i in range(n))


SHAPES = {"class-chain": class_chain, "many-classes": many_classes, "many-routes": many_routes,
          "deep-nesting": deep_nesting, "findings-per-line": findings_per_line, "noqa-lines": noqa_lines}


def _child(tool: str) -> None:
    """Time one tool in this process, on app.py of the current directory; print the seconds."""
    import ast
    import contextlib

    from flake8.main.application import Application

    from lintgevent import cli

    sink = open(os.devnull, "w")  # flake8 writes to sys.stdout.buffer
    start = time.perf_counter()
    with sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        if tool == "parse":
            with open("app.py", "rb") as handle:
                ast.parse(handle.read())
        elif tool == "lintgevent":
            cli.main(["check", "--no-cache", "--extend-select", "GEV002", "app.py"])
        else:
            Application().run(["--isolated", "--select", "E,F,W", "app.py"])
    print(time.perf_counter() - start)


def best(tool: str, cwd: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", tool], cwd=cwd,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{tool} failed ({done.returncode}):\n{done.stderr[-2000:]}")
        times.append(float(done.stdout.split()[-1]))
    return min(times)


def measure(name: str, source: str, repeat: int, workdir: str) -> dict[str, float]:
    project = os.path.join(workdir, name)
    os.makedirs(project)
    with open(os.path.join(project, "setup.cfg"), "w") as handle:
        handle.write("[metadata]\nname = bench\n")
    with open(os.path.join(project, "app.py"), "w") as handle:
        handle.write(source)
    return {tool: best(tool, project, repeat) for tool in ("parse", "lintgevent", "flake8")}


TREE_FRACTIONS = (25, 50, 100, 200)  # percent of the tree's files


def fraction_of(tree: Path, percent: int, target: Path) -> None:
    """`percent` of the tree's .py files into `target`, spread evenly (every fourth file for 25),
    with every __init__.py and every other file, so packages and configuration stay whole; 200 is
    two copies of all of it."""
    if percent > 100:
        for copy in range(percent // 100):
            shutil.copytree(tree, target / f"copy{copy}", symlinks=True)
        return
    files = sorted(p for p in tree.rglob("*.py") if p.is_file())
    kept = {path for i, path in enumerate(files) if (i * percent) % 100 < percent or path.name == "__init__.py"}
    for path in tree.rglob("*"):
        if path.is_file() and (path.suffix != ".py" or path in kept):
            destination = target / path.relative_to(tree)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


def tree_mode(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="scaling-", dir=bench_check.CACHE_ROOT) as work:
        work = Path(work)
        tree_args = argparse.Namespace(package=args.package, apps=False, source=args.source, copies=1,
                                       python=sys.executable)
        label, tree = bench_check.build_tree(tree_args, work)
        print(f"tree: {label}; time per 1,000 lines, best of {args.repeat}; cores: {bench_check.cores()}")
        print(f"{'size':>5} {'files':>7} {'lines':>10} {'floor':>10} {'lintgevent':>11} {'ratio':>7} {'peak RSS':>10}")
        per_kline = {}
        for percent in TREE_FRACTIONS:
            root = work / f"at-{percent}"
            root.mkdir()
            fraction_of(tree, percent, root)
            corpus = bench_check.scan(root)
            floor = min(bench_check.time_parse(corpus).seconds for _ in range(args.repeat))
            command = bench_check.lintgevent_command(sys.executable, no_cache=True)
            env = dict(os.environ, PYTHONPATH=str(bench_check.REPO_ROOT))
            runs = [bench_check.run_timed(command, root, env) for _ in range(args.repeat)]
            seconds, rss = min(r.seconds for r in runs), max(r.max_rss for r in runs)
            kilolines = corpus.lines / 1000
            per_kline[percent] = seconds / kilolines
            print(f"{percent:>4}% {len(corpus.files):>7,} {corpus.lines:>10,} {floor / kilolines * 1000:>7.2f} ms"
                  f" {per_kline[percent] * 1000:>8.2f} ms {seconds / floor:>6.2f}x {rss / 1e6:>7.0f} MB", flush=True)
            shutil.rmtree(root)
        growth = per_kline[TREE_FRACTIONS[-1]] / per_kline[TREE_FRACTIONS[0]]
        verdict = "SUPER-LINEAR" if growth > 1.5 else "linear"
        print(f"lintgevent per 1,000 lines at {TREE_FRACTIONS[-1]}% / at {TREE_FRACTIONS[0]}%: {growth:.2f}x  {verdict}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", action="append", metavar="NAME==VER",
                        help="tree mode: an sdist in the tree (repeatable; downloaded once, as bench_check.py does)")
    parser.add_argument("--source", action="append", type=Path, metavar="DIR",
                        help="tree mode: a copy of this directory in the tree (repeatable)")
    parser.add_argument("--size", type=int, default=2000, help="N (default 2000)")
    parser.add_argument("--factor", type=int, default=4, help="the larger size is FACTOR * N (default 4)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command, best kept (default 3)")
    parser.add_argument("--shape", choices=sorted(SHAPES), action="append", help="only these shapes")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    if args.package or args.source:
        bench_check.CACHE_ROOT.mkdir(parents=True, exist_ok=True)
        try:
            return tree_mode(args)
        except (bench_check.BenchError, OSError) as error:
            print(f"bench_scaling: error: {error}", file=sys.stderr)
            return 2
    print(f"growth from N={args.size} to N={args.size * args.factor} (linear: about {args.factor}x)")
    print(f"{'shape':<18} {'parse':>14} {'lintgevent':>22} {'flake8 (peer)':>18}  verdict")
    with tempfile.TemporaryDirectory(prefix="lintgevent-scaling-") as workdir:
        for shape in args.shape or sorted(SHAPES):
            small = measure(f"{shape}-small", SHAPES[shape](args.size), args.repeat, workdir)
            large = measure(f"{shape}-large", SHAPES[shape](args.size * args.factor), args.repeat, workdir)
            growth = {tool: large[tool] / small[tool] for tool in small}
            verdict = "SUPER-LINEAR" if growth["lintgevent"] > 1.5 * args.factor else "linear"
            print(f"{shape:<18} {growth['parse']:>13.2f}x {large['lintgevent']:>9.2f} s {growth['lintgevent']:>9.2f}x"
                  f" {growth['flake8']:>17.2f}x  {verdict}", flush=True)
    return 0


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

if __name__ == "__main__":
    sys.exit(main())
