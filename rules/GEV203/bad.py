# Page service on gunicorn -k gevent: the views spawn greenlets that use Flask's context.
from gevent import monkey

monkey.patch_all()

import gevent
import requests
from flask import Flask, current_app, jsonify, request

app = Flask(__name__)
app.config["AUDIT_URL"] = "https://audit.internal/events"

TRACK_URL = "https://track.internal/visits"


def track_visit(name):
    requests.post(TRACK_URL, json={"page": name, "referrer": request.referrer or ""})


@app.route("/pages/<name>")
def show_page(name):
    gevent.spawn(track_visit, name)  # error: GEV203
    return jsonify(page=name)


def send_audit(event):
    requests.post(current_app.config["AUDIT_URL"], json=event)


def audit_upload(size):
    send_audit({"kind": "upload", "size": size})


@app.route("/upload", methods=["POST"])
def upload():
    size = len(request.get_data())
    gevent.spawn(audit_upload, size)  # error: GEV203
    return jsonify(size=size)
