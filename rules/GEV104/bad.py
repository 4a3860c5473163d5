# Gateway app served by gevent.pywsgi with no monkey-patching anywhere: the
# stdlib socket, time and ssl modules keep their blocking behaviour.
import socket
import time
import urllib.request

import gevent
import redis
import requests
from flask import Flask, jsonify, request
from gevent.pywsgi import WSGIServer

app = Flask(__name__)

RATES_URL = "http://rates.internal/v1/rates"
PAYMENTS_URL = "http://payments.internal/charge"
WEBHOOK_URL = "https://hooks.example.com/orders"

# Import time: fetched once when the process starts.
FEATURES = requests.get("http://config.internal/features", timeout=5).json()


@app.route("/rates")
def rates():
    resp = requests.get(RATES_URL, timeout=5)  # error: GEV104
    return jsonify(resp.json())


@app.route("/geo/<ip>")
def geo(ip):
    body = urllib.request.urlopen("http://geo.internal/lookup/" + ip, timeout=5).read()  # error: GEV104
    return body


@app.route("/pages/<name>/hits", methods=["POST"])
def hit(name):
    r = redis.Redis(host="redis", port=6379)
    count = r.incr("hits:" + name)  # error: GEV104
    return jsonify(hits=count)


@app.route("/health")
def health():
    return jsonify(mysql=port_open("mysql", 3306), features=FEATURES)


def port_open(host, port):
    try:
        with socket.create_connection((host, port), timeout=1):  # error: GEV104
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
        resp = requests.post(url, json=payload, timeout=5)  # error: GEV104
        if resp.status_code < 500:
            return resp
        time.sleep(2**attempt)  # error: GEV104
    return None


@app.route("/orders/<int:oid>/ship", methods=["POST"])
def ship(oid):
    gevent.spawn(notify_webhook, {"order": oid, "event": "shipped"})
    return "", 202


def notify_webhook(payload):
    requests.post(WEBHOOK_URL, json=payload, timeout=10)  # error: GEV104


# Offloaded: this function only ever runs in gevent's native threadpool.
def fetch_exchange(currency):
    return requests.get(RATES_URL + "/" + currency, timeout=5).json()


@app.route("/rates/<currency>")
def rate(currency):
    return jsonify(gevent.get_hub().threadpool.apply(fetch_exchange, (currency,)))


# Nobody calls this from a request path (a deploy script runs it).
def warm_cache():
    for name in ("rates", "geo"):
        requests.get("http://cache.internal/warm/" + name, timeout=30)


if __name__ == "__main__":
    time.sleep(1)  # let the sidecars come up
    WSGIServer(("127.0.0.1", 8000), app).serve_forever()
