"""The engine every front end shares: files -> summaries -> project index -> rules -> findings."""
from __future__ import annotations

import gc
import hashlib
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

from . import __version__
from .cache import Cache
from .catalog import catalog_digest
from .config import Config
from .deployment import Deployment, Process, read_deployment_files
from .findings import FileError, Finding
from .lines import in_characters
from .noqa import NoqaMap, noqa_map
from .positions import rendered_results
from .reads import unchanged
from .snapshot import Snapshot
from .sources import SourceError, module_of, python_files, read_source

# Bump when the shape of cached summaries or results changes.
CACHE_FORMAT = 30


@dataclass
class ProjectResult:
    root: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    deployments: dict[str, Deployment] = field(default_factory=dict)  # import root -> what its own code says
    processes: list[Process] = field(default_factory=list)  # the programs that run the project's code
    noqa: dict[str, NoqaMap] = field(default_factory=dict)  # the `# noqa` comments of the files with findings


@lru_cache(maxsize=1)
def _salt() -> bytes:
    return f"{__version__}|{CACHE_FORMAT}|{catalog_digest()}|{sys.version_info[:2]}".encode()


def _digest(*parts: bytes) -> str:
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def _summary_key(path: str, content_digest: bytes) -> str:
    _, module, is_package = module_of(path)
    return _digest(_salt(), os.fsencode(module), bytes([is_package]), content_digest)


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


def _noqa_maps(findings: list[Finding], contents: dict[str, bytes], keys: dict[str, str],
               last: Snapshot | None) -> dict[str, NoqaMap]:
    """The `# noqa` comments of the files the findings are in, each file tokenized once per
    content: the last run's map of a file that has not changed since is kept, and the results
    entry holds them all, so that a warm run reports without reading a file again."""
    kept = last.noqa if last is not None else {}
    return {path: kept[path] if path in kept and last.files.get(path) == keys[path] else noqa_map(path, contents[path])
            for path in sorted({f.path for f in findings}) if path in contents}


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
    roots = {module_of(p)[0] for p in contents}
    deployment_texts = read_deployment_files(sorted({d for r in roots for d in _deployment_chain(r, project_root)}))
    # Each input hashed once: the results key, the summary keys and the snapshot's inputs are made of these.
    content_digests = {path: hashlib.blake2b(data).digest() for path, data in contents.items()}
    deployment_digests = {path: hashlib.blake2b(data).digest() for files in deployment_texts.values()
                          for path, data in files.items()}
    every_input = {**content_digests, **deployment_digests}
    results_key = _digest(_salt(), config.fingerprint().encode(),
                          *(os.fsencode(p) + b"\0" + every_input[p] for p in sorted(every_input)))
    cached = cache.get("results", results_key)  # the codec gives back only what was put
    if cached is not None and unchanged(cached[0][-1]):
        (result.findings, errors, result.deployments, result.processes, _), result.noqa = cached
        result.errors.extend(errors)
        return result

    keys = {path: _summary_key(path, content_digests[path]) for path in contents}
    snapshot_key = _digest(_salt(), config.fingerprint().encode(), os.fsencode(project_root))
    snapshot = cache.get("snapshot", snapshot_key)
    inputs = _digest(*(os.fsencode(d) + b"\0" + os.fsencode(p) + b"\0" + deployment_digests[p]
                       for d, files in sorted(deployment_texts.items()) for p in sorted(files)))
    from . import relocation  # the summariser: a run whose results are cached never loads it

    results = relocation.moved_results(snapshot, keys, inputs, contents, cache, config.jobs)
    if results is not None:
        text_read = snapshot.text_read
    else:
        from . import analysis, summarising  # the global step's modules: only when it runs

        summaries, parse_errors = summarising.summaries(contents, keys, cache, config.jobs)
        findings, deployments, processes, reads = analysis.check_project(
            summaries, project_root, config, deployment_texts, contents)
        results = (findings, parse_errors, deployments, processes, reads.elsewhere)
        text_read = reads.read
    findings, parse_errors, result.deployments, result.processes, elsewhere = results
    result.noqa = _noqa_maps(findings, contents, keys, snapshot)
    cache.put("snapshot", snapshot_key, Snapshot(keys, inputs, text_read, results, result.noqa))  # encoded now
    result.findings = sorted(set(in_characters(rendered_results(findings, result.deployments, result.processes),
                                               contents)))
    result.errors.extend(parse_errors)
    cache.put("results", results_key,
              ((result.findings, parse_errors, result.deployments, result.processes, elsewhere), result.noqa))
    return result
