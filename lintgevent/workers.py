"""Per-file work in worker processes: results in the order of the items, whatever the number of
workers, so that output never depends on it.

Workers are forked where the platform can (they start in milliseconds, with the catalog already
loaded), else spawned.  They never outlive the run: they ignore Ctrl-C, which the parent handles
by ending them; a SIGTERM to the parent ends them the same way; and on Linux the kernel kills a
worker whose parent dies of anything (PR_SET_PDEATHSIG).  A process that is itself a worker of a
pool (flake8's `-j` workers) may not start its own, and runs the work in-process.
"""
from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from .config import JOBS_AUTO

# Fewer items than this per worker: starting the workers costs more than it saves.
MIN_ITEMS_PER_WORKER = 32
PR_SET_PDEATHSIG = 1


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(jobs: int | str, items: int) -> int:
    """How many workers `items` pieces of work get: `jobs` (a number, or "auto": every core), at
    most one per MIN_ITEMS_PER_WORKER items, and 1 (in-process) inside a daemonic worker."""
    # A process that never imported multiprocessing is no pool's worker, and need not import it
    # (an edit's few files are summarised in-process, and the import costs a tenth of such a run).
    loaded = sys.modules.get("multiprocessing")
    if loaded is not None and loaded.current_process().daemon:
        return 1
    wanted = available_cores() if jobs == JOBS_AUTO else int(jobs)
    return max(1, min(wanted, items // MIN_ITEMS_PER_WORKER))


def _die_with_parent(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker inherits the parent's SIGTERM handler; a SystemExit raised in a worker
    # while it holds the pool's queue lock would leave the parent waiting for it forever.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


@contextmanager
def _terminated_on_sigterm():
    """SIGTERM raises SystemExit in the parent, so that the pool's exit ends the workers."""
    def stop(signum, frame):
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def ordered_map(function: Callable, items: Sequence, workers: int) -> Iterator:
    """function(item) for item in items, in order, as each is ready: in `workers` processes when
    more than one (the caller may store each result before the next arrives).  `function` must be
    a module-level function, and items and results picklable."""
    if workers <= 1:
        yield from map(function, items)
        return
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    chunk = max(1, len(items) // (workers * 8))
    with _terminated_on_sigterm():
        pool = context.Pool(workers, _die_with_parent, (os.getpid(),))
        try:
            yield from pool.imap(function, items, chunk)
        except BaseException:  # GeneratorExit too: a caller that stops reading ends the workers
            pool.terminate()
            raise
        # Ending the workers by telling them (not by SIGTERM, as Pool.__exit__ does) never races
        # with a worker that is taking the next task.
        pool.close()
        pool.join()
