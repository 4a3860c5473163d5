"""The engine every front end shares: files -> summaries -> project index -> rules -> findings."""
from __future__ import annotations

import gc
import hashlib
import os
import sys
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

from . import __version__
from .cache import Cache
from .catalog import load_catalog
from .checks import blocking, handles, patch_order, request_context, writes
from .config import Config
from .deployment import Deployment, read_deployment_files
from .entrypoints import EntryPoints
from .findings import FileError, Finding
from .index import ProjectIndex
from .lines import in_characters
from .positions import rendered_results
from .relocation import MAX_MOVED_FILES, line_digests, moved_lines, relocated
from .processes import CELERY_WORKER, Process, ProcessFinder
from .rules import RULES, without_superseded
from .snapshot import Snapshot
from . import codec, values
from .sources import SourceError, import_root, parse_source, python_files, read_source
from .summary import FileSummary, summarise
from .workers import ordered_map, worker_count

# Bump when the shape of cached summaries or results changes.
CACHE_FORMAT = 25


@dataclass
class ProjectResult:
    root: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    deployments: dict[str, Deployment] = field(default_factory=dict)  # import root -> what its own code says
    processes: list[Process] = field(default_factory=list)  # the programs that run the project's code


@lru_cache(maxsize=1)
def _salt() -> bytes:
    return f"{__version__}|{CACHE_FORMAT}|{load_catalog().digest}|{sys.version_info[:2]}".encode()


def _digest(*parts: bytes) -> str:
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


# The folders' packages as this process first looked them up, like each file's import root below.
_PACKAGES: dict[str, tuple[str, list[str]]] = {}


@lru_cache(maxsize=None)
def _import_root(path: str) -> tuple[str, str, bool]:
    return import_root(path, _PACKAGES)


def _summary_key(path: str, content_digest: bytes) -> str:
    _, module, is_package = _import_root(path)
    return _digest(_salt(), os.fsencode(module), bytes([is_package]), content_digest)


def _summarise(item: tuple[str, bytes, bool]) -> tuple[FileSummary | tuple[str, int], bytes | None, bytes | None]:
    """A file's summary, or (reason, line) when it cannot be made; and, when `encode`, the summary
    as the cache stores it (if the codec knows its values) and the file's line digests (what the
    run after an edit of it diffs with, relocation.py).  Runs in a worker process (workers.py)."""
    path, data, encode = item
    _, module, is_package = _import_root(path)
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


def _summaries(contents: dict[str, bytes], keys: dict[str, str], cache: Cache,
               jobs: int | str) -> tuple[list[FileSummary], list[FileError]]:
    """The summary of every file of `contents` (`keys` holds their cache keys), from the cache or
    made by `jobs` workers; in the order of `contents`."""
    found: dict[str, FileSummary | tuple[str, int]] = {}
    for path in contents:
        summary = cache.get("summary", keys[path])
        if summary is not None:
            found[path] = summary
    misses = [(path, data, cache.enabled) for path, data in contents.items() if path not in found]
    with closing(ordered_map(_summarise, misses, worker_count(jobs, len(misses)))) as made:
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


def _moved_results(snapshot: Snapshot | None, keys: dict[str, str], inputs: str, contents: dict[str, bytes],
                   cache: Cache, jobs: int | str) -> tuple | None:
    """The last run's results with the lines of the files that changed moved, when that is all
    their edit did (relocation.py); None when the global step must run."""
    if snapshot is None or snapshot.inputs != inputs or snapshot.files.keys() != keys.keys():
        return None
    changed = [path for path in keys if snapshot.files[path] != keys[path]]
    if len(changed) > MAX_MOVED_FILES or snapshot.text_read.intersection(changed):
        return None
    moves = {}
    _summaries({path: contents[path] for path in changed}, keys, cache, jobs)  # the next runs' summaries
    for path in changed:
        old, old_lines = cache.get("summary", snapshot.files[path]), cache.get("lines", snapshot.files[path])
        if old is None or old_lines is None:
            return None
        _, module, is_package = _import_root(path)
        moves[path] = moved_lines(old, old_lines, contents[path], path, module, is_package)
        if moves[path] is None:
            return None
    return relocated(snapshot.results, moves)


def _deployment_chain(root: str, project_root: str) -> list[str]:
    """An import root and its ancestors up to the project root: where deployment files may live."""
    chain, current = [root], root
    while current != project_root and current.startswith(project_root + os.sep):
        current = os.path.dirname(current)
        chain.append(current)
    return chain


@contextmanager
def _gc_paused():
    """Summaries and index hold no reference cycles; the cyclic collector would rescan all of them
    after every few thousand AST nodes (it halves the time of a cold run on a large code base)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def project_files(project_root: str, config: Config, extra_files: tuple[str, ...] | list[str] = (),
                  listing: list[str] | None = None) -> list[str]:
    """What the analysis reads: every Python file below the root but the `index-exclude`d ones
    (`listing`, when the caller has just listed them), then the files asked for by name that the
    walk does not hold."""
    project_root = os.path.abspath(project_root)
    paths = python_files(project_root, project_root, config.index_exclude) if listing is None else listing
    return paths + sorted(set(map(os.path.abspath, extra_files)) - set(paths))


def analyse_project(project_root: str, config: Config, use_cache: bool = True,
                    extra_files: tuple[str, ...] = (), sources: dict[str, bytes] | None = None,
                    listing: list[str] | None = None) -> ProjectResult:
    """Check every Python file of a project; findings and errors for all of them.  `sources` gives
    the contents of some files instead of the disk (a fix not written yet); `listing`, the Python
    files of the project root as `python_files` listed them in this run (a walk saved)."""
    with _gc_paused(), Cache(enabled=use_cache) as cache:
        return _analyse_project(project_root, config, cache, extra_files, sources or {}, listing)


def _analyse_project(project_root: str, config: Config, cache: Cache, extra_files: tuple[str, ...],
                     sources: dict[str, bytes], listing: list[str] | None) -> ProjectResult:
    project_root = os.path.abspath(project_root)
    paths = project_files(project_root, config, extra_files, listing)
    result = ProjectResult(project_root, files=paths)

    contents: dict[str, bytes] = {}
    for path in paths:
        try:
            contents[path] = sources[path] if path in sources else read_source(path, config.max_file_size)
        except SourceError as error:
            result.errors.append(FileError(path, str(error), error.line))
    roots = {_import_root(p)[0] for p in contents}
    deployment_texts = read_deployment_files(sorted({d for r in roots for d in _deployment_chain(r, project_root)}))
    # Each input hashed once: the results key, the summary keys and the snapshot's inputs are made of these.
    content_digests = {path: hashlib.blake2b(data).digest() for path, data in contents.items()}
    deployment_digests = {path: hashlib.blake2b(data).digest() for files in deployment_texts.values()
                          for path, data in files.items()}
    every_input = {**content_digests, **deployment_digests}
    results_key = _digest(_salt(), config.fingerprint().encode(),
                          *(os.fsencode(p) + b"\0" + every_input[p] for p in sorted(every_input)))
    cached = cache.get("results", results_key)  # the codec gives back only what was put
    if cached is not None:
        result.findings, errors, result.deployments, result.processes = cached
        result.errors.extend(errors)
        return result

    keys = {path: _summary_key(path, content_digests[path]) for path in contents}
    snapshot_key = _digest(_salt(), config.fingerprint().encode(), os.fsencode(project_root))
    snapshot = cache.get("snapshot", snapshot_key)
    inputs = _digest(*(os.fsencode(d) + b"\0" + os.fsencode(p) + b"\0" + deployment_digests[p]
                       for d, files in sorted(deployment_texts.items()) for p in sorted(files)))
    results = _moved_results(snapshot, keys, inputs, contents, cache, config.jobs)
    if results is not None:
        text_read = snapshot.text_read
    else:
        summaries, parse_errors = _summaries(contents, keys, cache, config.jobs)
        findings, deployments, processes, text_read = _check(summaries, project_root, config, deployment_texts,
                                                             contents)
        results = (findings, parse_errors, deployments, processes)
    cache.put("snapshot", snapshot_key, Snapshot(keys, inputs, text_read, results))  # encoded now: marks and all
    findings, parse_errors, result.deployments, result.processes = results
    result.findings = sorted(set(in_characters(rendered_results(findings, result.deployments, result.processes),
                                               contents)))
    result.errors.extend(parse_errors)
    cache.put("results", results_key, (result.findings, parse_errors, result.deployments, result.processes))
    return result


class _Reads(dict):
    """The contents of the files, noting which the global step reads."""

    def __init__(self, contents: dict[str, bytes]):
        super().__init__(contents)
        self.read: set[str] = set()

    def __getitem__(self, path: str) -> bytes:
        self.read.add(path)
        return super().__getitem__(path)

    def get(self, path: str, default=None):
        if path in self:
            self.read.add(path)
        return super().get(path, default)


def _check(summaries: list[FileSummary], project_root: str, config: Config,
           deployment_texts: dict[str, dict[str, bytes]], contents: dict[str, bytes],
           ) -> tuple[list[Finding], dict[str, Deployment], list[Process], set[str]]:
    """The global step: (findings, each import root's deployment, the processes, the paths whose
    contents it read)."""
    contents = _Reads(contents)
    index = ProjectIndex(summaries, {s.path: _import_root(s.path)[0] for s in summaries}, load_catalog())
    processes, deployments, own_code = ProcessFinder(index, project_root, config, deployment_texts, contents).judge()
    entries = EntryPoints(index, deployments, celery_gevent=any(p.launcher == CELERY_WORKER for p in processes))
    reach = values.solve(index, entries, entries.collect(config.entry_points, config.test_entry_points))
    findings = list(writes.check(index, reach, deployments))
    refined = frozenset((f.path, f.line, f.col) for f in findings if blocking.FILE_IO in RULES[f.code].supersedes)
    findings.extend(blocking.check(index, reach, deployments, refined))
    findings.extend(handles.check(index, entries, deployments))
    findings.extend(request_context.check(index, reach, entries, deployments))
    findings.extend(patch_order.check(index, deployments))
    return without_superseded(findings), own_code, processes, contents.read
