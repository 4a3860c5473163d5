# Nightly log shipper: resources opened by `with` are closed before the greenlets use them.
from gevent import monkey

monkey.patch_all()

import contextlib
import sys

import gevent
import pymysql
import requests
from gevent.pool import Pool

DB = {"host": "db.internal", "user": "shipper", "password": "shipper", "database": "logs"}
UPLOAD_URL = "https://archive.internal/logs/"

pool = Pool(20)


def upload(f, name):
    requests.put(UPLOAD_URL + name, data=f)


def ship_files(paths):
    for path in paths:
        with open(path, "rb") as f:
            gevent.spawn(upload, f, path.rsplit("/", 1)[-1])  # error: GEV202


def record_shipment(conn, paths):
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO shipped (path) VALUES (%s)", [(p,) for p in paths])
    conn.commit()


def record_all(paths):
    with pymysql.connect(**DB) as conn:
        pool.spawn(record_shipment, conn, paths)  # error: GEV202


def count_rows(cur, table):
    cur.execute("SELECT COUNT(*) FROM " + table)
    return cur.fetchone()[0]


def table_sizes(conn, tables):
    with contextlib.closing(conn.cursor()) as cur:
        jobs = [pool.spawn(count_rows, cur, table) for table in tables]  # error: GEV202
    return {table: job.get() for table, job in zip(tables, jobs)}


if __name__ == "__main__":
    ship_files(sys.argv[1:])
    record_all(sys.argv[1:])
    pool.join()
