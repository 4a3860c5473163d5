"""The results of a project's last run, moved to the new lines of files whose edit moved lines only.

After an edit, the global step (index, entry points, values, reachability, checks) would be redone
for every file although most edits of a function body change no fact it reads.  A changed file is
*moved only* when its new syntax tree, with each line renumbered onto its last version (a line the
diff matches gets the old line's number, any other line a number between two old lines, never a
whole one), summarises to exactly the summary of its last version.  The summary of the new
version is then the old summary with its lines renumbered, and so are the results: the global step
compares positions, keeps them and shows them, and never computes with them (messages show lines as
marks, see positions.py), so renumbering its input renumbers its output.  Files whose text the
global step reads (the config modules whose launchers it parses) are never moved: it would read
their text, not their summary.

Which old line a new line matches is a guess (a diff of CRC-32s of lines): a wrong guess cannot
make the results wrong, only make the summaries differ, and then the global step runs as usual.
"""
from __future__ import annotations

import ast
import dataclasses
import difflib

from . import codec, positions
from .cache import Cache
from .digests import line_digests, lines_of
from .reads import unchanged
from .snapshot import Snapshot
from .sources import SourceError, module_of, parse_source
from .summarising import summaries
from .summary import FileSummary, summarise

# More changed files than this are not worth the comparison: the global step runs.
MAX_MOVED_FILES = 8
# The parts of a fix plan that are positions, (line, column) or several of them, and those that are
# not; a plan with any other part is not moved (the global step runs).
PLAN_POSITIONS = {"call": 1, "loop": 1, "sleeps": 2}
PLAN_VALUES = frozenset({"arg", "arrives_at", "counter", "data", "decorator", "function", "hint", "inject_at",
                         "keyword", "param", "refuse", "shape", "slot", "statement", "target"})


def _renumbering(old: list[str], new: list[str]) -> tuple[list, dict[int, int]]:
    """(new line -> its number among the old lines, or a fraction between two of them; index 0
    unused), and old line -> new line for the lines the diff matches."""
    numbers: list = [0.0] * (len(new) + 1)
    moves: dict[int, int] = {}
    next_new, previous_old = 1, 0
    for old_start, new_start, size in _matching_blocks(old, new):
        gap = range(next_new, new_start + 1)  # new lines the diff did not match, before this block
        for i, line in enumerate(gap):
            numbers[line] = previous_old + (i + 1) / (len(gap) + 1)
        for k in range(1, size + 1):
            numbers[new_start + k] = old_start + k
            moves[old_start + k] = new_start + k
        next_new, previous_old = new_start + size + 1, old_start + size
    return numbers, moves


def _matching_blocks(old: list[str], new: list[str]) -> list[tuple[int, int, int]]:
    """difflib's matching blocks, the last one empty, of the lines between the common beginning and
    end, which match as they are: an edit changes a few lines of a long file, and the diff of the
    whole file costs more than the rest of moving it."""
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    middle = difflib.SequenceMatcher(None, old[prefix:len(old) - suffix], new[prefix:len(new) - suffix], autojunk=False)
    return [(0, 0, prefix),
            *((prefix + a, prefix + b, size) for a, b, size in middle.get_matching_blocks() if size),
            (len(old) - suffix, len(new) - suffix, suffix), (len(old), len(new), 0)]


def moved_lines(old: FileSummary, old_digests: str, data: bytes, path: str, module: str,
                is_package: bool) -> dict[int, int] | None:
    """Old line -> new line of a file whose new contents `data` moved its lines only, or None."""
    numbers, moves = _renumbering(lines_of(old_digests), lines_of(line_digests(data)))
    try:
        tree = parse_source(data, path)
        for node in ast.walk(tree):
            if getattr(node, "lineno", None):
                node.lineno = numbers[node.lineno]
            if getattr(node, "end_lineno", None):
                node.end_lineno = numbers[node.end_lineno]
        renumbered = summarise(tree, path, module, is_package)
        renumbered.path = old.path
        # Encoded, so that the order of every dict counts and a fraction in a line is a mismatch.
        same = codec.dumps("summary", renumbered) == codec.dumps("summary", old)
    except (SourceError, TypeError, ValueError, IndexError, RecursionError, MemoryError):
        return None  # a line number used as a whole number: not a summary this comparison can judge
    return moves if same else None


def relocated(results: tuple, moves: dict[str, dict[int, int]]) -> tuple | None:
    """The results with the lines of every file in `moves` moved; None if one of them is not a
    line that the moves know."""
    def move(path: str, line: int) -> int | None:
        lines = moves.get(path)
        return line if lines is None else lines.get(line)

    findings, errors, deployments, processes, elsewhere = results
    moved_findings = []
    for finding in findings:
        message, chain = positions.moved(finding.message, move), positions.moved(finding.chain, move)
        if message is None or chain is None:
            return None
        changes = {"message": message, "chain": chain}
        if finding.path in moves:
            changes.update(line=move(finding.path, finding.line),
                           lines=tuple(move(finding.path, line) for line in finding.lines),
                           fix=_moved_plan(finding.fix, finding.path, move))
            if changes["line"] is None or None in changes["lines"] or changes["fix"] is None:
                return None
        moved_findings.append(dataclasses.replace(finding, **changes))
    for deployment in [*deployments.values(), *(p.deployment for p in processes)]:
        texts = [positions.moved(text, move) for text in deployment.source]
        if None in texts:
            return None
        deployment.source[:] = texts
    for process in processes:
        process.where = positions.moved(process.where, move)
        if process.where is None:
            return None
    return moved_findings, errors, deployments, processes, elsewhere


def _moved_plan(plan: tuple, path: str, move) -> tuple | None:
    moved = []
    for name, value in plan:
        kind = PLAN_POSITIONS.get(name)
        if kind is None and name not in PLAN_VALUES:
            return None
        if kind is not None:
            value = [(move(path, line), col) for line, col in ([value] if kind == 1 else value)]
            if any(line is None for line, _ in value):
                return None
            value = value[0] if kind == 1 else tuple(value)
        moved.append((name, value))
    return tuple(moved)


def moved_results(snapshot: Snapshot | None, keys: dict[str, str], inputs: str, contents: dict[str, bytes],
                   cache: Cache, jobs: int | str) -> tuple | None:
    """The last run's results with the lines of the files that changed moved, when that is all
    their edit did; None when the global step must run."""
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
