"""Measure lintgevent on real gevent applications against hand-made labels.

    python benchmarks/realworld/evaluate.py                    # every app of apps.toml
    python benchmarks/realworld/evaluate.py --app pywb         # one app (repeatable)
    python benchmarks/realworld/evaluate.py --show-misses      # list false negatives and false positives
    python benchmarks/realworld/evaluate.py --show-unlabelled  # list findings at sites no label covers
    python benchmarks/realworld/evaluate.py --no-entry-points  # without the entry points of apps.toml
    python benchmarks/realworld/evaluate.py --json figures.json

Each app of apps.toml is a pinned sdist: it is downloaded once with
`pip download --no-deps --no-binary :all: NAME==VERSION` into
$TMPDIR/lintgevent-realworld/sdists/ (kept for later runs), unpacked into a fresh temporary
directory (removed at the end unless --keep), and checked with this checkout's lintgevent
(`python -m lintgevent check --no-cache --isolated --format json ...` with the checkout first
on PYTHONPATH) from the sdist root, with the options apps.toml records.

Findings are matched to the labels of labels.toml by (file, line, family), exactly (a finding
at a file's open also reports the lines of the calls on that file it names): GEV101-105
are family GEV1, GEV201-203 GEV2, GEV301-302 GEV3; other codes (GEV0xx, GEV401) are not
scored. A label with verdict "blocks" is a true positive when a finding matches it and a
false negative otherwise; a label with verdict "fine" is a false positive when a finding
matches it. Findings that match no label are counted as unlabelled.

Standard library only (plus tomli on Python 3.10, which lintgevent already needs there).
Exits 0 unless a download, an unpacking or a lintgevent run fails (then 2).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: lintgevent's own dependency
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parent.parent
FAMILIES = ("GEV1", "GEV2", "GEV3")
WORK = Path(tempfile.gettempdir()) / "lintgevent-realworld"
SDISTS = WORK / "sdists"


class Failure(Exception):
    """A download, an unpacking or a lintgevent run that failed."""


# ---------------------------------------------------------------- input files


def load_apps(path: Path) -> list[dict]:
    with path.open("rb") as fh:
        apps = tomllib.load(fh).get("app", [])
    names = set()
    for app in apps:
        for key in ("name", "version", "paths"):
            if key not in app:
                raise SystemExit(f"{path}: an [[app]] has no {key!r}")
        if app["name"] in names:
            raise SystemExit(f"{path}: app {app['name']!r} listed twice")
        names.add(app["name"])
        app.setdefault("exclude", [])
        app.setdefault("entry_points", [])
        app.setdefault("deployment", "auto")
    return apps


def load_labels(path: Path, app_names: set[str]) -> list[dict]:
    with path.open("rb") as fh:
        labels = tomllib.load(fh).get("label", [])
    seen = set()
    for lab in labels:
        where = f"{path}: label {lab.get('app')}:{lab.get('file')}:{lab.get('line')}"
        for key in ("app", "file", "line", "family", "verdict", "why"):
            if key not in lab:
                raise SystemExit(f"{where} has no {key!r}")
        if lab["app"] not in app_names:
            raise SystemExit(f"{where}: no such app in apps.toml")
        if lab["family"] not in FAMILIES:
            raise SystemExit(f"{where}: family must be one of {', '.join(FAMILIES)}")
        if lab["verdict"] not in ("blocks", "fine"):
            raise SystemExit(f"{where}: verdict must be 'blocks' or 'fine'")
        key = (lab["app"], lab["file"], lab["line"], lab["family"])
        if key in seen:
            raise SystemExit(f"{where}: labelled twice for {lab['family']}")
        seen.add(key)
    return labels


# ---------------------------------------------------------------- sdists


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def cached_sdist(name: str, version: str) -> Path | None:
    if not SDISTS.is_dir():
        return None
    want = f"{_norm(name)}-{version}"
    for entry in sorted(SDISTS.iterdir()):
        for ext in (".tar.gz", ".zip", ".tar.bz2", ".tgz"):
            if entry.name.endswith(ext):
                stem = entry.name[: -len(ext)]
                base, _, ver = stem.rpartition("-")
                if f"{_norm(base)}-{ver}" == want:
                    return entry
    return None


def download(name: str, version: str) -> Path:
    found = cached_sdist(name, version)
    if found:
        return found
    SDISTS.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           "--disable-pip-version-check", "-q", "-d", str(SDISTS), f"{name}=={version}"]
    print(f"  downloading {name}=={version}", flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise Failure(f"pip download {name}=={version} failed:\n{proc.stdout}{proc.stderr}")
    found = cached_sdist(name, version)
    if not found:
        raise Failure(f"pip download {name}=={version} left no sdist in {SDISTS}")
    return found


def unpack(archive: Path, dest: Path) -> Path:
    """Unpack archive into dest; return the sdist root (its single top folder)."""
    dest.mkdir(parents=True)
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                for member in zf.namelist():
                    target = (dest / member).resolve()
                    if not str(target).startswith(str(dest.resolve())):
                        raise Failure(f"{archive.name}: member {member!r} escapes the folder")
                zf.extractall(dest)
        else:
            with tarfile.open(archive) as tf:
                if hasattr(tarfile, "data_filter"):
                    tf.extractall(dest, filter="data")
                else:  # pragma: no cover - Python without extraction filters
                    tf.extractall(dest)
    except (OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
        raise Failure(f"cannot unpack {archive}: {exc}") from exc
    tops = [p for p in dest.iterdir()]
    if len(tops) == 1 and tops[0].is_dir():
        return tops[0]
    return dest


# ---------------------------------------------------------------- lintgevent


def lintgevent_command(app: dict, entry_points: bool) -> list[str]:
    cmd = [sys.executable, "-m", "lintgevent", "check", "--no-cache", "--isolated",
           "--format", "json", "--exit-zero", "--deployment", app["deployment"]]
    if app["exclude"]:
        cmd += ["--exclude", ",".join(app["exclude"])]
    if entry_points:
        for ep in app["entry_points"]:
            cmd += ["--entry-point", ep]
    return cmd + list(app["paths"])


def run_lintgevent(app: dict, root: Path, entry_points: bool, cache_dir: Path) -> dict:
    cmd = lintgevent_command(app, entry_points)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(CHECKOUT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env["LINTGEVENT_CACHE_DIR"] = str(cache_dir)  # belt and braces: never the user's cache
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        report = None
    if proc.returncode != 0 or not isinstance(report, dict) or "findings" not in report:
        raise Failure(f"lintgevent failed on {app['name']} (exit {proc.returncode}):\n"
                      f"{proc.stdout[-2000:]}{proc.stderr[-4000:]}")
    for finding in report["findings"]:
        path = Path(finding["path"])
        if path.is_absolute():
            path = Path(os.path.relpath(path, root))
        finding["path"] = path.as_posix()
    return report


# ---------------------------------------------------------------- scoring


def family(code: str) -> str | None:
    fam = code[:4]
    return fam if fam in FAMILIES else None


def check_snippets(app: dict, root: Path, labels: list[dict]) -> list[str]:
    warnings = []
    for lab in labels:
        snippet = lab.get("snippet")
        path = root / lab["file"]
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            warnings.append(f"{app['name']}: {lab['file']} does not exist")
            continue
        if not 1 <= lab["line"] <= len(lines):
            warnings.append(f"{app['name']}: {lab['file']}:{lab['line']} is past the end of the file")
        elif snippet and snippet not in lines[lab["line"] - 1]:
            warnings.append(f"{app['name']}: {lab['file']}:{lab['line']} does not contain {snippet!r}")
    return warnings


def score(labels: list[dict], findings: list[dict]) -> dict:
    """Counts for one app: per family and totals, with the sites behind them."""
    reported = defaultdict(list)  # (file, line, family) -> findings
    other_codes = 0
    shown = 0
    for f in findings:
        fam = family(f["code"])
        if fam is None:
            other_codes += 1
            continue
        shown += 1
        for line in (f["line"], *f.get("lines", ())):  # a file's open reports the calls on it too
            reported[(f["path"], line, fam)].append(f)
    labelled = {(lab["file"], lab["line"], lab["family"]): lab for lab in labels}
    counts = {fam: dict(tp=0, fn=0, fp=0, tn=0, unlabelled=0) for fam in FAMILIES}
    sites = dict(tp=[], fn=[], fp=[], tn=[], unlabelled=[])
    for key, lab in labelled.items():
        hit = key in reported
        kind = ("tp" if hit else "fn") if lab["verdict"] == "blocks" else ("fp" if hit else "tn")
        counts[lab["family"]][kind] += 1
        entry = dict(file=lab["file"], line=lab["line"], family=lab["family"], why=lab["why"])
        if hit:
            entry["codes"] = sorted({f["code"] for f in reported[key]})
            entry["severity"] = max((f.get("severity", "") for f in reported[key]), key=SEVERITY_ORDER.index)
        sites[kind].append(entry)
    for key, fs in sorted(reported.items()):
        if key in labelled:
            continue
        counts[key[2]]["unlabelled"] += 1
        sites["unlabelled"].append(dict(file=key[0], line=key[1], family=key[2],
                                        codes=sorted({f["code"] for f in fs}),
                                        message=fs[0]["message"]))
    return dict(counts=counts, sites=sites, other_codes=other_codes, findings=shown, reported_sites=len(reported))


SEVERITY_ORDER = ["", "low", "medium", "high"]


def by_severity(results: dict, kind: str) -> dict:
    """How many sites of a kind (tp, fp) were reported at each severity, over all apps."""
    out = {"high": 0, "medium": 0, "low": 0}
    for res in results.values():
        for site in res["sites"][kind]:
            if site.get("severity") in out:
                out[site["severity"]] += 1
    return out


def add(total: dict, counts: dict) -> None:
    for k, v in counts.items():
        total[k] = total.get(k, 0) + v


def ratios(c: dict) -> dict:
    tp, fn, fp = c.get("tp", 0), c.get("fn", 0), c.get("fp", 0)
    return dict(recall=tp / (tp + fn) if tp + fn else None,
                precision=tp / (tp + fp) if tp + fp else None)


def mean_per_app(results: dict) -> dict:
    """Unweighted mean over the apps that have a value: no app's label count dominates."""
    out = {}
    for key in ("recall", "precision"):
        values = [ratios(res["total"])[key] for res in results.values()]
        values = [v for v in values if v is not None]
        out[key] = sum(values) / len(values) if values else None
    return out


def pct(x: float | None) -> str:
    return "   -" if x is None else f"{100 * x:3.0f}%"


def row(label: str, c: dict) -> str:
    r = ratios(c)
    return (f"{label:<22} {c.get('tp', 0):>4} {c.get('fn', 0):>4} {c.get('fp', 0):>4} "
            f"{c.get('tn', 0):>4} {c.get('unlabelled', 0):>6}   "
            f"{pct(r['recall']):>6} {pct(r['precision']):>9}")


HEADER = f"{'':<22} {'TP':>4} {'FN':>4} {'FP':>4} {'TN':>4} {'unlab.':>6}   {'recall':>6} {'precision':>9}"


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--apps", type=Path, default=HERE / "apps.toml",
                    help="default: apps.toml beside this script")
    ap.add_argument("--labels", type=Path, default=HERE / "labels.toml",
                    help="default: labels.toml beside this script")
    ap.add_argument("--app", action="append", metavar="NAME", help="only this app (repeatable)")
    ap.add_argument("--no-entry-points", action="store_true",
                    help="run without the entry points recorded in apps.toml")
    ap.add_argument("--show-misses", action="store_true",
                    help="list the false negatives and false positives with their labels' why")
    ap.add_argument("--show-unlabelled", action="store_true",
                    help="list the findings at sites that no label covers")
    ap.add_argument("--json", type=Path, metavar="FILE", help="write the figures to FILE")
    ap.add_argument("--keep", action="store_true", help="keep the unpacked sdists (path printed)")
    args = ap.parse_args(argv)

    apps = load_apps(args.apps)
    labels = load_labels(args.labels, {a["name"] for a in apps})
    if args.app:
        unknown = set(args.app) - {a["name"] for a in apps}
        if unknown:
            ap.error(f"unknown app(s): {', '.join(sorted(unknown))}")
        apps = [a for a in apps if a["name"] in args.app]

    WORK.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="run-", dir=WORK))
    results = {}
    failures = []
    try:
        for app in apps:
            name = app["name"]
            print(f"{name} {app['version']}", flush=True)
            try:
                archive = download(name, app["version"])
                root = unpack(archive, tmp / name)
                app_labels = [lab for lab in labels if lab["app"] == name]
                for w in check_snippets(app, root, app_labels):
                    print(f"  warning: {w}")
                report = run_lintgevent(app, root, not args.no_entry_points, tmp / f"{name}.cache")
            except Failure as exc:
                print(f"  FAILED: {exc}", file=sys.stderr)
                failures.append(name)
                continue
            res = score(app_labels, report["findings"])
            res["errors"] = len(report.get("errors", []))
            res["command"] = " ".join(lintgevent_command(app, not args.no_entry_points)[1:])
            results[name] = res
            print(f"  {res['command']}")
            if res["errors"]:
                print(f"  {res['errors']} file(s) lintgevent could not analyse")
    finally:
        if args.keep:
            print(f"unpacked sdists kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    per_family = {fam: {} for fam in FAMILIES}
    overall: dict = {}
    print()
    print(HEADER)
    for name, res in results.items():
        app_total: dict = {}
        for fam in FAMILIES:
            add(app_total, res["counts"][fam])
            add(per_family[fam], res["counts"][fam])
        add(overall, app_total)
        res["total"] = app_total
        print(row(name, app_total))
    print()
    for fam in FAMILIES:
        print(row(f"family {fam}", per_family[fam]))
    print(row("overall", overall))
    macro = mean_per_app(results)
    print(f"{'mean over apps':<22} {'':>4} {'':>4} {'':>4} {'':>4} {'':>6}   "
          f"{pct(macro['recall']):>6} {pct(macro['precision']):>9}")
    print("\nTP/FN: labelled blocks, reported/not; FP/TN: labelled fine, reported/not; "
          "unlab.: reported at an unlabelled site")
    shown = sum(res["findings"] for res in results.values())
    sites = sum(res["reported_sites"] for res in results.values())
    print(f"findings shown (GEV1-GEV3): {shown}, reporting {sites} sites")
    for kind, title in (("tp", "true positives"), ("fp", "false positives")):
        counts = by_severity(results, kind)
        print(f"{title} by severity: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

    if args.show_misses:
        for name, res in results.items():
            for kind, title in (("fn", "false negative"), ("fp", "false positive")):
                for s in res["sites"][kind]:
                    codes = f" [{', '.join(s['codes'])}]" if s.get("codes") else ""
                    print(f"{title}: {name} {s['file']}:{s['line']} {s['family']}{codes}: {s['why']}")
    if args.show_unlabelled:
        for name, res in results.items():
            for s in res["sites"]["unlabelled"]:
                print(f"unlabelled: {name} {s['file']}:{s['line']} {','.join(s['codes'])} {s['message']}")

    if args.json:
        data = dict(
            entry_points=not args.no_entry_points,
            apps={name: dict(version=next(a["version"] for a in apps if a["name"] == name),
                             command=res["command"], errors=res["errors"],
                             other_codes=res["other_codes"], findings=res["findings"],
                             reported_sites=res["reported_sites"], total=res["total"] | ratios(res["total"]),
                             families={f: c | ratios(c) for f, c in res["counts"].items()},
                             sites=res["sites"])
                  for name, res in results.items()},
            families={f: c | ratios(c) for f, c in per_family.items()},
            overall=overall | ratios(overall),
            mean_over_apps=mean_per_app(results),
            by_severity={kind: by_severity(results, kind) for kind in ("tp", "fp")},
            failed=failures,
        )
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if failures:
        print(f"\nfailed: {', '.join(failures)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
