"""A gunicorn config that records where the gevent hub blocks, for staging and for `lintgevent verify`:

    LINTGEVENT_EVENTS=blocking.jsonl gunicorn -k gevent -c python:lintgevent.runtime.gunicorn_conf app:app

Each worker appends its events (see blocking_events.py) to the file named by LINTGEVENT_EVENTS
(default: lintgevent-events.jsonl in the working directory).  LINTGEVENT_MAX_BLOCKING_TIME sets the
monitor's interval in seconds (default 0.1): blocks shorter than it may go unseen.  Other settings
come from the command line or from a config file of your own that imports this module's hook.

`when_ready` and `on_exit` end a master that `lintgevent verify` started when verify dies
(watchdog.py); in a master started otherwise they do nothing.
"""
from __future__ import annotations

import os

from lintgevent.runtime.blocking_events import DEFAULT_THRESHOLD, install
from lintgevent.runtime.watchdog import ParentWatch

EVENTS_FILE = "lintgevent-events.jsonl"
PARENT = ParentWatch()


def post_worker_init(worker) -> None:
    """Runs in each worker once it is set up, under the gevent worker's hub."""
    path = os.environ.get("LINTGEVENT_EVENTS", EVENTS_FILE)
    threshold = float(os.environ.get("LINTGEVENT_MAX_BLOCKING_TIME", DEFAULT_THRESHOLD))
    install(path, threshold)
    worker.log.info("lintgevent: recording hub blocks over %.3f s to %s", threshold, path)


def when_ready(server) -> None:
    """Runs in the master once it listens, before it boots a worker."""
    PARENT.start()


def on_exit(server) -> None:
    """Runs in the master last, after its workers have stopped."""
    PARENT.clean_up()
