"""The small patched Flask app several tests build projects around, and the finding it gives."""

PATCHED_APP_HEAD = """\
from gevent import monkey; monkey.patch_all()
from flask import Flask

app = Flask(__name__)
"""
READ_APP = PATCHED_APP_HEAD + """

@app.route("/read")
def read():
    data = open("data.txt")
    return data
"""


def read_app_finding(filename: str) -> str:
    """The one line `lintgevent check` prints for READ_APP saved as `filename`: a file named by a
    literal and opened to read is low severity."""
    return (f"{filename}:9:12: GEV101 blocking file IO `open` on a request path (route GET /read); "
            "offload it with gevent's threadpool [low]")
