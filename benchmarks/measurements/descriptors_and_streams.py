"""What the catalog's descriptor and loop entries rest on, measured live under gunicorn's gevent worker.

    pip install -e '.[runtime]' requests
    cd benchmarks/measurements
    lintgevent verify --app descriptors_and_streams:app --url /pipe-read --url /pipe-select \
        --url /pipe-wait-read --url /pipe-nonblocking --url /iter-content --url /queue-loop

Measured 2026-12-02 (CPython 3.11.7, gevent 26.9, gunicorn 27.0.1, 2 cores): /pipe-read stalled
the hub 2.01 s (os.read waits for the child on the hub); /pipe-select 0.01 s, /pipe-wait-read
0.01 s, /pipe-nonblocking 0.02 s (a readiness check or O_NONBLOCK first); /iter-content 0.01 s (a
write loop over a slow streamed response yields in each recv); /queue-loop 0.01 s (a write loop
over queue.Queue.get under patched threading). The app's one server binds where verify binds it
(127.0.0.1); /iter-content streams from the same worker's /slow-chunks.
"""
import os
import queue
import select
import subprocess
import tempfile

import gevent
import gevent.socket
import requests


def slow_writer():
    """A pipe whose writer (a child process) writes one line after 2 s."""
    r, w = os.pipe()
    child = subprocess.Popen(["sh", "-c", "sleep 2; echo ready"], stdout=w)
    os.close(w)
    return r, child


def app(environ, start_response):
    path = environ["PATH_INFO"]
    body = b"ok"
    if path == "/pipe-read":
        r, child = slow_writer()
        body = os.read(r, 100)
        os.close(r)
        child.wait()
    elif path == "/pipe-select":
        r, child = slow_writer()
        ready, _, _ = select.select([r], [], [], 5)
        if ready:
            body = os.read(r, 100)
        os.close(r)
        child.wait()
    elif path == "/pipe-wait-read":
        r, child = slow_writer()
        gevent.socket.wait_read(r)
        body = os.read(r, 100)
        os.close(r)
        child.wait()
    elif path == "/pipe-nonblocking":
        r, child = slow_writer()
        os.set_blocking(r, False)
        while True:
            try:
                body = os.read(r, 100)
                break
            except BlockingIOError:
                gevent.sleep(0.05)
        os.close(r)
        child.wait()
    elif path == "/slow-chunks":

        def chunks():
            for _ in range(6):
                gevent.sleep(0.5)
                yield b"x" * 65536
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return chunks()
    elif path == "/iter-content":
        resp = requests.get(f"http://127.0.0.1:{environ['SERVER_PORT']}/slow-chunks", stream=True)
        with tempfile.TemporaryFile() as out:
            for chunk in resp.iter_content(65536):
                out.write(chunk)
        body = b"copied"
    elif path == "/queue-loop":
        q = queue.Queue()

        def produce():
            for _ in range(6):
                gevent.sleep(0.5)
                q.put(b"x" * 65536)
            q.put(None)
        gevent.spawn(produce)
        with tempfile.TemporaryFile() as out:
            while True:
                item = q.get()
                if item is None:
                    break
                out.write(item)
        body = b"drained"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
