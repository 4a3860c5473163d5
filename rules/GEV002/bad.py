# Report views whose `# noqa` comments outlived the code they silenced.
from gevent import monkey

monkey.patch_all()

import os

from flask import Flask

app = Flask(__name__)


def load_rows():
    return [("a", 1), ("b", 2)]


@app.route("/report")
def report():
    rows = load_rows()  # noqa: GEV101  # error: GEV002
    return str(rows)


@app.route("/archive", methods=["POST"])
def archive():
    os.system("tar czf /tmp/a.tgz /srv/reports")  # noqa: GEV101  # error: GEV002, GEV102
    return "queued"


@app.route("/export")
def export():
    return open("/srv/export.csv").read()  # noqa: gev101  # error: GEV002, GEV101
