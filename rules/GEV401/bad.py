"""Server module (`python server.py`): it patches after the app is imported."""
import logging
import threading

import requests
from flask import Flask, jsonify
from gevent import monkey

from billing.settings import load_settings

monkey.patch_all()  # error: GEV401

log = logging.getLogger("billing")
settings = load_settings()
app = Flask(__name__)
refresh_lock = threading.Lock()


@app.route("/rates")
def rates():
    with refresh_lock:
        resp = requests.get(settings["rates_url"], timeout=5)
    log.info("rates refreshed")
    return jsonify(resp.json())


if __name__ == "__main__":
    from gevent.pywsgi import WSGIServer

    WSGIServer(("127.0.0.1", 8000), app).serve_forever()
