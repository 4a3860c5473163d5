"""`lintgevent verify --app MODULE:APP --url ...`: measure the user's own app, blame lines, join the findings."""
from __future__ import annotations

import os
import sys

from .live import LiveApp, Measurement
from .report import table
from .server import Gunicorn, gunicorn_command
from .static_join import StaticFindings
from .verify_arguments import UrlSpec

OK, STALLED, NO_RESPONSE, SERVER_ERROR = "ok", "stalled", "no response", "server error"
ALLOWANCE = 10  # seconds beyond --timeout that the boot, or a request, may take before it counts as hung


def url_verdict(result: Measurement, threshold: float) -> tuple[str, str]:
    """(verdict, why) of one measured request: one that did not complete is a failure of its own."""
    if result.status == 0:
        return NO_RESPONSE, result.error
    if result.status >= 500:
        return SERVER_ERROR, f"answered {result.status}"
    if result.stall >= threshold:
        return STALLED, ""
    return OK, ""


def measure_app(app: str, urls: list[UrlSpec], probe: str, workdir: str, threshold: float,
                timeout: int) -> tuple[dict, int]:
    """Serve `app` from the current directory under gunicorn's gevent worker and measure each URL.
    Exit code 1 when any of them did not answer, failed, or stalled the hub for `threshold` or longer."""
    cwd = os.getcwd()
    print(f"lintgevent verify: linting {cwd}", file=sys.stderr, flush=True)
    statics = StaticFindings.of_project(cwd)
    measured = _measure(app, urls, probe, workdir, threshold, timeout)
    data = _data(measured, statics, threshold, cwd)
    _print(data)
    return data, 0 if all(u["verdict"] == OK for u in data["urls"]) else 1


def _measure(app: str, urls: list[UrlSpec], probe: str, workdir: str, threshold: float,
             timeout: int) -> list[tuple[UrlSpec, Measurement]]:
    events = os.path.join(workdir, "events.jsonl")
    env = dict(os.environ, LINTGEVENT_EVENTS=events, LINTGEVENT_MAX_BLOCKING_TIME=str(min(0.1, threshold / 2)),
               PYTHONDONTWRITEBYTECODE="1")
    command = gunicorn_command(app, "python:lintgevent.runtime.gunicorn_conf", timeout, ["--worker-class", "gevent"],
                               workdir)
    server = Gunicorn(command, os.getcwd(), env, os.path.join(workdir, "gunicorn.log"), workdir)
    print(f"lintgevent verify: starting gunicorn -k gevent {app}", file=sys.stderr, flush=True)
    measured = []
    with LiveApp(server, events, probe, threshold, boot_timeout=timeout + ALLOWANCE) as live:
        for n, spec in enumerate(urls, 1):
            result = live.measure(spec.method, spec.path, spec.body, timeout=timeout + ALLOWANCE)
            answer = result.status or f"no response ({result.error})"
            print(f"lintgevent verify: [{n}/{len(urls)}] {spec}: {answer}, longest stall {result.stall:.2f} s",
                  file=sys.stderr, flush=True)
            measured.append((spec, result))
    return measured


def _data(measured: list[tuple[UrlSpec, Measurement]], statics: StaticFindings, threshold: float, cwd: str) -> dict:
    def shown(path: str) -> str:
        relative = os.path.relpath(path, cwd)
        return path if relative.startswith("..") else relative

    data = {"threshold_s": threshold, "urls": [], "stalls": []}
    for spec, result in measured:
        verdict, why = url_verdict(result, threshold)
        data["urls"].append({"url": spec.path, "method": spec.method, "status": result.status,
                             "max_stall_s": round(result.stall, 4), "worker_killed": result.worker_killed,
                             "verdict": verdict, "error": why or None})
        for (file, line), stall in sorted(result.blamed.items(), key=lambda kv: -kv[1]):
            data["stalls"].append({"file": shown(file), "line": line, "max_stall_s": round(stall, 4),
                                   "url": spec.path, "method": spec.method,
                                   "static": sorted({f.code for f in statics.explaining(file, line)})})
    return data


def _print(data: dict) -> None:
    print(table([[f"{u['method']} {u['url']}", str(u["status"] or "-"), f"{u['max_stall_s']:.2f} s",
                  u["verdict"] + (f": {u['error']}" if u["error"] else "")] for u in data["urls"]],
                ["url", "status", "longest stall", "verdict"]))
    if data["stalls"]:
        print()
        print(table([[f"{s['file']}:{s['line']}", f"{s['max_stall_s']:.2f} s", f"{s['method']} {s['url']}",
                      ", ".join(s["static"]) or "not reported"] for s in data["stalls"]],
                    ["blamed line", "stall", "url", "static"]))
