"""`lintgevent verify` on its own fixture: prove each rule's claim and each fix live, with verdicts.

Verdicts, from the static findings and the measurements of a case:
  confirmed      the rule reports the pattern and it stalls the hub (or loses work), and every fixed
                 version does not; or, for a pattern expected to be cooperative, neither.
  rule unproven  reported, but no stall was measured (or the work landed); or a blocking pattern
                 that neither stalls nor is reported.
  fix ineffective  a fixed version still stalls (or still loses the work), is still reported, or does not
                 answer with a success.
  static miss    a stall the rule did not report, or blamed on a line that no finding explains.
"""
from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from .cases import Case, Variant, load_cases
from .live import LiveApp, Measurement
from .server import Gunicorn, gunicorn_command
from .static_join import StaticFindings

CONFIRMED, UNPROVEN, FIX_INEFFECTIVE, STATIC_MISS = "confirmed", "rule unproven", "fix ineffective", "static miss"
WORKER_TIMEOUT = 5  # gunicorn --timeout: the bad cases stall about 1 s, a hang is cut short here
# A measurement that disagrees with what its version should show is taken again, up to this many times in
# all: a stall the code causes comes back every time, one a busy machine causes (a probe late by a
# scheduler hiccup) does not.
ATTEMPTS = 3
PROBE_PATH = "/ping"


@dataclass
class VariantResult:
    variant: Variant
    static: list  # findings of the case's rule in the variant's file
    measured: Measurement | None = None


@dataclass
class CaseResult:
    case: Case
    bad: VariantResult
    fixed: list = field(default_factory=list)
    verdict: str = ""
    reason: str = ""


def harmful(measured: Measurement, threshold: float) -> bool:
    """Did the request stall the hub, or lose the work it spawned?"""
    return measured.stall >= threshold or bool(measured.lost)


def still_failing(fixed: VariantResult, threshold: float) -> str:
    """What is still wrong with a fixed version, or "": reported, harmful, or no longer answering."""
    if fixed.static:
        return "is still reported"
    if harmful(fixed.measured, threshold):
        return "still does harm"
    status = fixed.measured.status
    if not 200 <= status < 300:
        return f"answered {status}" if status else f"did not answer ({fixed.measured.error})"
    return ""


def judge(result: CaseResult, statics: StaticFindings, threshold: float) -> None:
    bad = result.bad.measured
    flagged = bool(result.bad.static)
    stalled = harmful(bad, threshold)
    worst = bad.worst_line()
    if stalled and not flagged:
        result.verdict, result.reason = STATIC_MISS, f"{result.case.rule} does not report it"
    elif flagged and not stalled:
        result.verdict, result.reason = UNPROVEN, "reported, but it did not stall the hub nor lose work"
    elif not stalled and not result.case.cooperative:
        result.verdict, result.reason = UNPROVEN, "expected to block, but neither stalls nor is reported"
    elif bad.stall >= threshold and worst and not statics.explaining(*worst):
        result.verdict, result.reason = STATIC_MISS, f"the stall is at line {worst[1]}, which nothing reports"
    else:
        still = [f"{f.variant.file} {why}" for f in result.fixed if (why := still_failing(f, threshold))]
        if still:
            result.verdict, result.reason = FIX_INEFFECTIVE, ", ".join(still)
        else:
            result.verdict = CONFIRMED
            result.reason = "cooperative and not reported" if not stalled else ""


def copy_fixture(fixture: str, destination: str) -> str:
    root = os.path.join(destination, "fixture")
    shutil.copytree(fixture, root, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".lintgevent_cache"))
    open(os.path.join(root, "setup.cfg"), "w").close()  # the copy is a project of its own
    return root


def run_fixture(fixture: str, workdir: str, threshold: float, progress: Callable[[str], None],
                mysql_url: str | None = None) -> tuple[str, list[CaseResult]]:
    """Lint a copy of the fixture in `workdir`, run each deployment under gunicorn, and judge every case
    (those that need MySQL only with `mysql_url`).  Returns the copy's directory and the results."""
    root = copy_fixture(fixture, workdir)
    deployments, cases = load_cases(root)
    extra_env = {"FIXTURE_MYSQL_URL": mysql_url} if mysql_url else {}
    skipped = [c for c in cases if c.requires == "mysql" and not mysql_url]
    if skipped:
        progress(f"skipping {len(skipped)} case(s) that need a server: --mysql-url")
        cases = [c for c in cases if c not in skipped]
    progress(f"linting the fixture ({len(cases)} cases)")
    statics = StaticFindings.of_project(root)

    def variant_result(case: Case, variant: Variant) -> VariantResult:
        path = os.path.join(root, case.deployment, variant.file)
        return VariantResult(variant, statics.in_file(path, case.rule))

    results = [CaseResult(case, variant_result(case, case.bad), [variant_result(case, f) for f in case.fixed])
               for case in cases]
    data_dir = os.path.join(workdir, "data")
    os.makedirs(data_dir, exist_ok=True)
    done = 0
    for deployment, description in deployments.items():
        mine = [r for r in results if r.case.deployment == deployment]
        if not mine:
            continue
        progress(f"starting gunicorn for {deployment} ({description})")
        with _live(root, workdir, deployment, data_dir, threshold, extra_env) as app:
            for result in mine:
                done += 1
                for version in (result.bad, *result.fixed):
                    should_harm = version is result.bad and not result.case.cooperative
                    version.measured = measure_steadily(app, result.case.method, version.variant, should_harm,
                                                        threshold)
                progress(f"[{done}/{len(results)}] {result.case.rule} {result.case.title}: "
                         f"{describe(result.bad.measured, threshold)}")
    for result in results:
        judge(result, statics, threshold)
    return root, results


def measure_steadily(app: LiveApp, method: str, variant: Variant, should_harm: bool,
                     threshold: float) -> Measurement:
    """The first measurement of `variant` that shows what it should (harm or none), else the last of
    ATTEMPTS: a version is judged by what it does every time."""
    for _ in range(ATTEMPTS):
        measured = app.measure(method, variant.url, done=variant.done, timeout=WORKER_TIMEOUT * 4)
        if harmful(measured, threshold) == should_harm:
            break
    return measured


def _live(root: str, workdir: str, deployment: str, data_dir: str, threshold: float, extra_env: dict) -> LiveApp:
    events = os.path.join(workdir, f"events-{deployment}.jsonl")
    env = dict(os.environ, LINTGEVENT_EVENTS=events, LINTGEVENT_MAX_BLOCKING_TIME=str(min(0.1, threshold / 2)),
               FIXTURE_DATA_DIR=data_dir, PYTHONDONTWRITEBYTECODE="1", **extra_env)
    command = gunicorn_command("app:app", "gunicorn.conf.py", WORKER_TIMEOUT, [], workdir)
    server = Gunicorn(command, os.path.join(root, deployment), env, os.path.join(workdir, f"gunicorn-{deployment}.log"),
                      workdir)
    return LiveApp(server, events, PROBE_PATH, threshold)


def describe(measured: Measurement | None, threshold: float) -> str:
    """A measurement in a few words: the stall, and what happened to the work or the worker."""
    if measured is None:
        return "not run"
    text = f"{measured.stall:.2f} s"
    if measured.lost is not None:
        lost = "work lost" + (f" ({measured.exceptions[0].split(':')[0]})" if measured.exceptions else "")
        text = (lost if measured.lost else "work done") + (f", {text}" if measured.stall >= threshold else "")
    if measured.worker_killed:
        text += ", worker killed"
    elif measured.status == 0:
        text += ", no response"
    return text


def print_progress(message: str) -> None:
    print(f"lintgevent verify: {message}", file=sys.stderr, flush=True)
