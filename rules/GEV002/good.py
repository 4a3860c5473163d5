# The same views, each `# noqa` silencing a finding that is really there.
from gevent import monkey

monkey.patch_all()

import os

from flask import Flask

app = Flask(__name__)


def load_rows():
    return [("a", 1), ("b", 2)]


@app.route("/report")
def report():
    rows = load_rows()
    return str(rows)


@app.route("/archive", methods=["POST"])
def archive():
    os.system("tar czf /tmp/a.tgz /srv/reports")  # noqa: GEV102 (an admin-only route, run once a night)
    return "queued"


@app.route("/export")
def export():
    # A 2 KB file on a tmpfs: the read never waits for a disk.
    return open("/srv/export.csv").read()  # noqa: GEV101
