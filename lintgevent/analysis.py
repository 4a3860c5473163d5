"""The global step: the checks over the whole project's index (entry points, values,
reachability, the rules), from every file's summary (summarising.py).  Imported only when a run's
results are not in the cache and cannot be moved from the last run's (relocation.py)."""
from __future__ import annotations

from . import values
from .catalog import load_catalog
from .checks import blocking, handles, patch_order, request_context, writes
from .config import Config
from .deployment import Deployment, Process
from .entrypoints import EntryPoints
from .findings import Finding
from .index import ProjectIndex
from .processes import CELERY_WORKER, ProcessFinder
from .reads import Reads
from .rules import RULES, without_superseded
from .sources import module_of
from .summary import FileSummary


def check_project(summaries: list[FileSummary], project_root: str, config: Config,
           deployment_texts: dict[str, dict[str, bytes]], contents: dict[str, bytes],
           ) -> tuple[list[Finding], dict[str, Deployment], list[Process], Reads]:
    """The global step: (findings, each import root's deployment, the processes, what it read of
    the contents and from disk)."""
    contents = Reads(contents)
    index = ProjectIndex(summaries, {s.path: module_of(s.path)[0] for s in summaries}, load_catalog())
    processes, deployments, own_code = ProcessFinder(index, project_root, config, deployment_texts, contents).judge()
    entries = EntryPoints(index, deployments, celery_gevent=any(p.launcher == CELERY_WORKER for p in processes))
    reach = values.solve(index, entries, entries.collect(config.entry_points, config.test_entry_points))
    findings = list(writes.check(index, reach, deployments))
    refined = frozenset((f.path, f.line, f.col) for f in findings if blocking.FILE_IO in RULES[f.code].supersedes)
    findings.extend(blocking.check(index, reach, deployments, refined))
    findings.extend(handles.check(index, entries, deployments))
    findings.extend(request_context.check(index, reach, entries, deployments))
    findings.extend(patch_order.check(index, deployments))
    return without_superseded(findings), own_code, processes, contents
