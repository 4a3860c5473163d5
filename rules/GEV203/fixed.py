# Page service on gunicorn -k gevent: the views spawn greenlets that use Flask's context.
from gevent import monkey

monkey.patch_all()

import gevent
import requests
from flask import Flask, current_app, jsonify, request, copy_current_request_context

app = Flask(__name__)
app.config["AUDIT_URL"] = "https://audit.internal/events"

TRACK_URL = "https://track.internal/visits"


def track_visit(name):
    requests.post(TRACK_URL, json={"page": name, "referrer": request.referrer or ""})


@app.route("/pages/<name>")
def show_page(name):
    gevent.spawn(copy_current_request_context(track_visit), name)
    return jsonify(page=name)


def send_audit(event):
    requests.post(current_app.config["AUDIT_URL"], json=event)


def audit_upload(size):
    send_audit({"kind": "upload", "size": size})


@app.route("/upload", methods=["POST"])
def upload():
    size = len(request.get_data())
    gevent.spawn(copy_current_request_context(audit_upload), size)
    return jsonify(size=size)
