"""`python -m lintgevent`; `run` is also fit to be the `lintgevent` console script's entry point.

Ctrl-C exits 130 without a traceback from the first instruction on: the imports of the command
line take about half a second, and `main` only catches KeyboardInterrupt once they are done.

Once the command is done and its output flushed, the process leaves at once: tearing down the heap
of a whole-program analysis object by object costs up to a tenth of a cold run, and nothing is
left to do then (no atexit handlers, no threads, every file written and closed).
"""
import os
import sys
import threading

EXIT_INTERRUPTED = 130


def run() -> int:
    try:
        from .cli import main

        code = main()
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    _leave(code)
    return code


def _leave(code: int) -> None:
    """Exit without tearing down the heap, when the output is out and no other thread runs."""
    if threading.active_count() != 1:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: let the interpreter report it as usual
        return
    os._exit(0 if code is None else code)


if __name__ == "__main__":
    sys.exit(run())
