# The same view once the edit is finished: it parses, and its blocking read is offloaded.
from gevent import monkey

monkey.patch_all()

import gevent
from flask import Flask

app = Flask(__name__)


def read_report():
    with open("report.txt") as handle:
        return handle.read()


@app.route("/report")
def report():
    return gevent.get_hub().threadpool.apply(read_report)
