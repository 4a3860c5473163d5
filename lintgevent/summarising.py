"""Each file's summary: read from the cache, or made in worker processes (workers.py) and stored
as it comes.  What both the global step (analysis.py) and the relocation of an edit's results
(relocation.py) start from."""
from __future__ import annotations

from contextlib import closing

from . import codec
from .cache import Cache
from .digests import line_digests
from .findings import FileError
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
