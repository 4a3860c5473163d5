"""Tables and JSON for `lintgevent verify`."""
from __future__ import annotations

import os

from .fixture_run import CONFIRMED, CaseResult, VariantResult, describe
from .live import Measurement


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [headers, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _static(variant: VariantResult) -> str:
    if not variant.static:
        return "none"
    return f"{variant.static[0].code} line {', '.join(str(f.line) for f in variant.static)}"


def _blamed(measured: Measurement | None, root: str) -> str:
    worst = measured.worst_line() if measured else None
    return f"{os.path.relpath(worst[0], root)}:{worst[1]}" if worst else "-"


def fixture_table(results: list[CaseResult], root: str, threshold: float) -> str:
    rows = []
    for r in results:
        fixed = "; ".join(describe(f.measured, threshold) + (f" ({f.variant.strategy})" if f.variant.strategy else "")
                          for f in r.fixed) or "-"
        verdict = r.verdict + (f": {r.reason}" if r.reason and r.verdict != CONFIRMED else "")
        rows.append([r.case.rule, r.case.title, _static(r.bad), describe(r.bad.measured, threshold), fixed,
                     _blamed(r.bad.measured, os.path.join(root, r.case.deployment)), verdict])
    return table(rows, ["rule", "case", "static finding", "bad", "fixed", "blamed line", "verdict"])


def measurement_json(measured: Measurement | None, root: str) -> dict | None:
    """A measurement as data, with blamed files relative to `root`."""
    if measured is None:
        return None
    return {"method": measured.method, "url": measured.url, "status": measured.status,
            "max_stall_s": round(measured.stall, 4), "lost_work": measured.lost,
            "worker_killed": measured.worker_killed, "error": measured.error or None,
            "exceptions": list(measured.exceptions),
            "blamed": [{"file": os.path.relpath(f, root), "line": n, "max_stall_s": round(s, 4)}
                       for (f, n), s in sorted(measured.blamed.items(), key=lambda kv: -kv[1])]}


def _variant_json(variant: VariantResult, root: str) -> dict:
    return {"file": variant.variant.file, "strategy": variant.variant.strategy or None,
            "static": [{"code": f.code, "line": f.line} for f in variant.static],
            "measured": measurement_json(variant.measured, root)}


def fixture_json(results: list[CaseResult], root: str, threshold: float) -> dict:
    return {
        "threshold_s": threshold,
        "ok": all(r.verdict == CONFIRMED for r in results),
        "cases": [{"rule": r.case.rule, "title": r.case.title, "deployment": r.case.deployment,
                   "cooperative": r.case.cooperative, "verdict": r.verdict, "reason": r.reason or None,
                   "bad": _variant_json(r.bad, os.path.join(root, r.case.deployment)),
                   "fixed": [_variant_json(f, os.path.join(root, r.case.deployment)) for f in r.fixed]}
                  for r in results],
    }
