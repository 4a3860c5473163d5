# Shop API served by gunicorn -k gevent. Pure-Python drivers use the patched
# socket module; the C drivers that stay run in gevent's native threadpool.
from gevent import monkey

monkey.patch_all()

import json
import os
import sqlite3

import gevent
import psycopg2
import pymysql
from flask import Flask, jsonify, request
from pymemcache.client.base import Client as MemcacheClient

app = Flask(__name__)

MYSQL = {"host": "mysql", "user": "shop", "password": os.environ.get("DB_PASSWORD", ""), "database": "shop"}
PG_DSN = "dbname=billing host=postgres user=billing"
STATS_DB = "/srv/stats.db"

# Import time: create the stats schema once, before the worker serves requests.
_boot = sqlite3.connect(STATS_DB)
_boot.execute("CREATE TABLE IF NOT EXISTS views (path TEXT, agent TEXT)")
_boot.close()


@app.route("/orders/<int:order_id>")
def get_order(order_id):
    # PyMySQL speaks the MySQL protocol over the (patched) socket module.
    conn = pymysql.connect(**MYSQL)
    cur = conn.cursor()
    cur.execute("SELECT id, status, total FROM orders WHERE id = %s", (order_id,))
    row = cur.fetchone()
    conn.close()
    return jsonify(row)


@app.route("/customers/<int:cid>/invoices")
def invoices(cid):
    return jsonify(load_invoices(cid))


def load_invoices(cid):
    rows = gevent.get_hub().threadpool.apply(query_invoices, (cid,))
    return [{"id": r[0], "amount": str(r[1])} for r in rows]


# psycopg2 without psycogreen: run the whole query in a native thread.
def query_invoices(cid):
    conn = psycopg2.connect(PG_DSN)
    cur = conn.cursor()
    cur.execute("SELECT id, amount FROM invoices WHERE customer_id = %s", (cid,))
    rows = cur.fetchall()
    conn.close()
    return rows


@app.route("/products/<sku>")
def product(sku):
    # pymemcache is pure Python, so it uses the patched socket module.
    mc = MemcacheClient(("memcached", 11211))
    cached = mc.get("product:" + sku)
    if cached is None:
        cached = json.dumps({"sku": sku, "name": sku.title()})
        mc.set("product:" + sku, cached, expire=300)
    return cached


@app.route("/articles/<slug>")
def article(slug):
    gevent.spawn(record_view, request.path, request.headers.get("User-Agent", ""))
    return jsonify(slug=slug)


def record_view(path, agent):
    gevent.get_hub().threadpool.apply(insert_view, (path, agent))


def insert_view(path, agent):
    conn = sqlite3.connect(STATS_DB)
    conn.execute("INSERT INTO views VALUES (?, ?)", (path, agent))
    conn.commit()
    conn.close()


def count_views():
    conn = sqlite3.connect(STATS_DB)
    cur = conn.execute("SELECT COUNT(*) FROM views")
    total = cur.fetchone()[0]
    conn.close()
    return total


@app.route("/stats")
def stats():
    return jsonify(views=gevent.get_hub().threadpool.apply(count_views, ()))


if __name__ == "__main__":
    app.run()
