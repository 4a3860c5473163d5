"""`python -m lintgevent`; `run` is also fit to be the `lintgevent` console script's entry point.

Ctrl-C exits 130 without a traceback from the first instruction on: the imports of the command
line take about half a second, and `main` only catches KeyboardInterrupt once they are done.
"""
import sys

EXIT_INTERRUPTED = 130


def run() -> int:
    try:
        from .cli import main

        return main()
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(run())
