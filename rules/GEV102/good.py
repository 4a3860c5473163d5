# Media service. It patches everything except subprocess, so it starts and
# waits for child processes with gevent.subprocess, which yields to the hub.
from gevent import monkey

monkey.patch_all(subprocess=False)

import os
import subprocess

import gevent
import gevent.subprocess
from flask import Flask, jsonify, request

app = Flask(__name__)

MEDIA = "/srv/media"
BACKUPS = "/srv/backups"

# Import time: runs once when the worker boots.
GIT_SHA = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True).strip()


@app.route("/health")
def health():
    disk = gevent.subprocess.check_output(["df", "-h", MEDIA], text=True)
    return jsonify(version=GIT_SHA, disk=disk)


@app.route("/backup", methods=["POST"])
def backup():
    target = os.path.join(BACKUPS, "shop.sql")
    result = gevent.subprocess.run(["pg_dump", "--file", target, "shop"])
    return jsonify(ok=result.returncode == 0)


@app.route("/images/<name>/thumbnail", methods=["POST"])
def thumbnail(name):
    src = os.path.join(MEDIA, name)
    gevent.subprocess.run(["convert", src, "-resize", "200x200", src + ".thumb.png"], check=True)
    return "", 201


@app.route("/pages/<name>.pdf")
def page_pdf(name):
    return render_pdf(name)


def render_pdf(name):
    html = os.path.join(MEDIA, name + ".html")
    return run_wkhtmltopdf(html)


def run_wkhtmltopdf(html):
    return gevent.subprocess.check_output(["wkhtmltopdf", "--quiet", html, "-"])


@app.route("/videos/<name>/transcode", methods=["POST"])
def transcode(name):
    gevent.spawn(transcode_video, os.path.join(MEDIA, name), request.args.get("preset", "fast"))
    return "", 202


def transcode_video(path, preset):
    gevent.subprocess.run(["ffmpeg", "-y", "-i", path, "-preset", preset, path + ".mp4"], check=True)
    os.chmod(path + ".mp4", 0o644)


# The other remedy: the stdlib call, run in gevent's native threadpool.
def optimize_png(path):
    subprocess.run(["optipng", "-o2", path], check=True)


@app.route("/images/<name>/optimize", methods=["POST"])
def optimize(name):
    gevent.get_hub().threadpool.apply(optimize_png, (os.path.join(MEDIA, name),))
    return "", 204


if __name__ == "__main__":
    os.makedirs(MEDIA, exist_ok=True)
    app.run()
