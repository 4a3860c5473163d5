# Gateway app served by gevent.pywsgi with no monkey-patching anywhere: it uses
# gevent's own sleep and sockets, and runs stdlib-socket clients in the threadpool.
import time
import urllib.request

import gevent
import gevent.socket
import redis
import requests
from flask import Flask, jsonify, request
from gevent.pywsgi import WSGIServer

app = Flask(__name__)

RATES_URL = "http://rates.internal/v1/rates"
PAYMENTS_URL = "http://payments.internal/charge"
WEBHOOK_URL = "https://hooks.example.com/orders"
CACHE = redis.Redis(host="redis", port=6379)

# Import time: fetched once when the process starts.
FEATURES = requests.get("http://config.internal/features", timeout=5).json()


def get_json(url):
    return requests.get(url, timeout=5).json()


def post_json(url, payload, timeout):
    return requests.post(url, json=payload, timeout=timeout).status_code


def read_url(url):
    return urllib.request.urlopen(url, timeout=5).read()


def incr_hits(key):
    return CACHE.incr(key)


@app.route("/rates")
def rates():
    return jsonify(gevent.get_hub().threadpool.apply(get_json, (RATES_URL,)))


@app.route("/geo/<ip>")
def geo(ip):
    return gevent.get_hub().threadpool.apply(read_url, ("http://geo.internal/lookup/" + ip,))


@app.route("/pages/<name>/hits", methods=["POST"])
def hit(name):
    count = gevent.get_hub().threadpool.apply(incr_hits, ("hits:" + name,))
    return jsonify(hits=count)


@app.route("/health")
def health():
    return jsonify(mysql=port_open("mysql", 3306), features=FEATURES)


def port_open(host, port):
    try:
        with gevent.socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@app.route("/orders", methods=["POST"])
def create_order():
    charge(request.get_json())
    return jsonify(status="paid"), 201


def charge(order):
    return post_with_retry(PAYMENTS_URL, order)


def post_with_retry(url, payload, attempts=3):
    for attempt in range(attempts):
        status = gevent.get_hub().threadpool.apply(post_json, (url, payload, 5))
        if status < 500:
            return status
        gevent.sleep(2**attempt)
    return None


@app.route("/orders/<int:oid>/ship", methods=["POST"])
def ship(oid):
    gevent.spawn(notify_webhook, {"order": oid, "event": "shipped"})
    return "", 202


def notify_webhook(payload):
    gevent.get_hub().threadpool.apply(post_json, (WEBHOOK_URL, payload, 10))


@app.route("/rates/<currency>")
def rate(currency):
    return jsonify(gevent.get_hub().threadpool.apply(get_json, (RATES_URL + "/" + currency,)))


if __name__ == "__main__":
    time.sleep(1)  # let the sidecars come up
    WSGIServer(("127.0.0.1", 8000), app).serve_forever()
