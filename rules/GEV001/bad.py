# A view module saved half-way through an edit: it does not parse, so nothing in it is checked.
from gevent import monkey

monkey.patch_all()

from flask import Flask

app = Flask(__name__)


@app.route("/report")
def report()  # error: GEV001
    return open("report.txt").read()
