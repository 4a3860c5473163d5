# Media service. It patches everything except subprocess, so child processes
# are waited for with blocking calls that stop the whole worker.
from gevent import monkey

monkey.patch_all(subprocess=False)

import os
import subprocess

import gevent
from flask import Flask, jsonify, request

app = Flask(__name__)

MEDIA = "/srv/media"
BACKUPS = "/srv/backups"

# Import time: runs once when the worker boots.
GIT_SHA = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True).strip()


@app.route("/health")
def health():
    disk = os.popen("df -h " + MEDIA).read()  # error: GEV102
    return jsonify(version=GIT_SHA, disk=disk)


@app.route("/backup", methods=["POST"])
def backup():
    status = os.system("pg_dump shop > " + os.path.join(BACKUPS, "shop.sql"))  # error: GEV102
    return jsonify(ok=status == 0)


@app.route("/images/<name>/thumbnail", methods=["POST"])
def thumbnail(name):
    src = os.path.join(MEDIA, name)
    subprocess.run(["convert", src, "-resize", "200x200", src + ".thumb.png"], check=True)  # error: GEV102
    return "", 201


@app.route("/pages/<name>.pdf")
def page_pdf(name):
    return render_pdf(name)


def render_pdf(name):
    html = os.path.join(MEDIA, name + ".html")
    return run_wkhtmltopdf(html)


def run_wkhtmltopdf(html):
    return subprocess.check_output(["wkhtmltopdf", "--quiet", html, "-"])  # error: GEV102


@app.route("/videos/<name>/transcode", methods=["POST"])
def transcode(name):
    gevent.spawn(transcode_video, os.path.join(MEDIA, name), request.args.get("preset", "fast"))
    return "", 202


def transcode_video(path, preset):
    subprocess.Popen(["ffmpeg", "-y", "-i", path, "-preset", preset, path + ".mp4"]).wait()  # error: GEV102
    os.spawnv(os.P_WAIT, "/bin/chmod", ["chmod", "644", path + ".mp4"])  # error: GEV102


# Offloaded: this function only ever runs in gevent's native threadpool.
def optimize_png(path):
    subprocess.run(["optipng", "-o2", path], check=True)


@app.route("/images/<name>/optimize", methods=["POST"])
def optimize(name):
    gevent.get_hub().threadpool.apply(optimize_png, (os.path.join(MEDIA, name),))
    return "", 204


# Nobody calls this from a request path (cron runs it).
def rotate_backups():
    os.system("find " + BACKUPS + " -mtime +7 -delete")


if __name__ == "__main__":
    os.system("mkdir -p " + MEDIA)
    app.run()
