# Nightly log shipper: each greenlet opens what it uses, or is joined before the block ends.
from gevent import monkey

monkey.patch_all()

import contextlib
import sys
from urllib.request import urlopen

import gevent
import pymysql
import requests
from gevent.fileobject import FileObjectThread
from gevent.pool import Pool

DB = {"host": "db.internal", "user": "shipper", "password": "shipper", "database": "logs"}
ARCHIVE_URL = "https://archive.internal/logs/"
NOTIFY_URL = "https://hooks.internal/shipped"

pool = Pool(20)


def upload(path, name):
    with FileObjectThread(path, "rb") as f:
        requests.put(ARCHIVE_URL + name, data=f)


def ship_files(paths):
    gevent.joinall([gevent.spawn(upload, path, path.rsplit("/", 1)[-1]) for path in paths])


def record_shipment(paths):
    with pymysql.connect(**DB) as conn:
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO shipped (path) VALUES (%s)", [(p,) for p in paths])
        conn.commit()


def record_all(paths):
    pool.spawn(record_shipment, paths)


def store_feed(resp, name):
    requests.put(ARCHIVE_URL + name, data=resp.read())


def mirror_feed(url, name):
    with contextlib.closing(urlopen(url)) as resp:
        saver = gevent.spawn(store_feed, resp, name)
        requests.post(NOTIFY_URL, json={"feed": name})
        saver.join()


if __name__ == "__main__":
    ship_files(sys.argv[1:])
    record_all(sys.argv[1:])
    mirror_feed("https://feeds.internal/today.log", "today.log")
    pool.join()
