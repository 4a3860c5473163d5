# Page service on gunicorn -k gevent: the greenlets get plain values or a context of their own.
from gevent import monkey

monkey.patch_all()

import gevent
import requests
from flask import Flask, copy_current_request_context, current_app, jsonify, request

app = Flask(__name__)
app.config["AUDIT_URL"] = "https://audit.internal/events"

TRACK_URL = "https://track.internal/visits"


# Read the request in the view; the greenlet gets plain values.
def track_visit(name, referrer):
    requests.post(TRACK_URL, json={"page": name, "referrer": referrer})


@app.route("/pages/<name>")
def show_page(name):
    gevent.spawn(track_visit, name, request.referrer or "")
    return jsonify(page=name)


def send_audit(event):
    requests.post(current_app.config["AUDIT_URL"], json=event)


def audit_upload(size):
    send_audit({"kind": "upload", "size": size})


# The wrapper is made in the view: the greenlet runs with a copy of this request's context.
@app.route("/upload", methods=["POST"])
def upload():
    size = len(request.get_data())
    gevent.spawn(copy_current_request_context(audit_upload), size)
    return jsonify(size=size)


# An application context pushed in the greenlet is enough for current_app.
def audit_delete(name):
    with app.app_context():
        send_audit({"kind": "delete", "page": name})


@app.route("/pages/<name>", methods=["DELETE"])
def delete_page(name):
    gevent.spawn(audit_delete, name)
    return "", 204
