"""The global step and what feeds it: each file's summary, made in worker processes or read from
the cache; the last run's results with their lines moved, when an edit moved lines only; and the
checks over the whole project's index.  Imported only when a run's results are not in the cache."""
from __future__ import annotations

from contextlib import closing

from . import codec, values
from .cache import Cache
from .catalog import load_catalog
from .checks import blocking, handles, patch_order, request_context, writes
from .config import Config
from .deployment import Deployment, Process
from .entrypoints import EntryPoints
from .findings import FileError, Finding
from .index import ProjectIndex
from .processes import CELERY_WORKER, ProcessFinder
from .reads import Reads, unchanged
from .relocation import MAX_MOVED_FILES, line_digests, moved_lines, relocated
from .rules import RULES, without_superseded
from .snapshot import Snapshot
from .sources import SourceError, module_of, parse_source
from .summary import FileSummary, summarise
from .workers import ordered_map, worker_count


def summarise_file(item: tuple[str, bytes, bool]) -> tuple[FileSummary | tuple[str, int], bytes | None, bytes | None]:
    """A file's summary, or (reason, line) when it cannot be made; and, when `encode`, the summary
    as the cache stores it (if the codec knows its values) and the file's line digests (what the
    run after an edit of it diffs with, relocation.py).  Runs in a worker process (workers.py)."""
    path, data, encode = item
    _, module, is_package = module_of(path)
    try:
        tree = parse_source(data, path)
        try:
            summary = summarise(tree, path, module, is_package)
        except (RecursionError, MemoryError):
            raise SourceError("too deeply nested to analyse") from None
    except SourceError as error:
        return (str(error), error.line), None, None
    if not encode:
        return summary, None, None
    try:
        return summary, codec.dumps("summary", summary), codec.dumps("lines", line_digests(data))
    except (TypeError, ValueError, RecursionError):
        return summary, None, None


def summaries(contents: dict[str, bytes], keys: dict[str, str], cache: Cache,
               jobs: int | str) -> tuple[list[FileSummary], list[FileError]]:
    """The summary of every file of `contents` (`keys` holds their cache keys), from the cache or
    made by `jobs` workers; in the order of `contents`."""
    found: dict[str, FileSummary | tuple[str, int]] = {}
    for path in contents:
        summary = cache.get("summary", keys[path])
        if summary is not None:
            found[path] = summary
    misses = [(path, data, cache.enabled) for path, data in contents.items() if path not in found]
    with closing(ordered_map(summarise_file, misses, worker_count(jobs, len(misses)))) as made:
        for (path, *_), (summary, payload, lines) in zip(misses, made):  # each stored as it comes
            found[path] = summary
            if payload is not None:
                cache.put_encoded("summary", keys[path], payload)
                cache.put_encoded("lines", keys[path], lines)
    cache.save()  # the summaries are kept even if the global step fails
    summaries, errors = [], []
    for path in contents:
        summary = found[path]
        if isinstance(summary, FileSummary):
            summary.path = path
            summaries.append(summary)
        else:
            errors.append(FileError(path, *summary))
    return summaries, errors


def moved_results(snapshot: Snapshot | None, keys: dict[str, str], inputs: str, contents: dict[str, bytes],
                   cache: Cache, jobs: int | str) -> tuple | None:
    """The last run's results with the lines of the files that changed moved, when that is all
    their edit did (relocation.py); None when the global step must run."""
    if snapshot is None or snapshot.inputs != inputs or snapshot.files.keys() != keys.keys() \
            or not unchanged(snapshot.results[-1]):
        return None
    changed = [path for path in keys if snapshot.files[path] != keys[path]]
    if len(changed) > MAX_MOVED_FILES or snapshot.text_read.intersection(changed):
        return None
    moves = {}
    summaries({path: contents[path] for path in changed}, keys, cache, jobs)  # the next runs' summaries
    for path in changed:
        old, old_lines = cache.get("summary", snapshot.files[path]), cache.get("lines", snapshot.files[path])
        if old is None or old_lines is None:
            return None
        _, module, is_package = module_of(path)
        moves[path] = moved_lines(old, old_lines, contents[path], path, module, is_package)
        if moves[path] is None:
            return None
    return relocated(snapshot.results, moves)


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
