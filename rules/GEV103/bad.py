# Shop API served by gunicorn -k gevent. The socket module is patched, but
# these drivers do their IO in C, where gevent's patches cannot reach.
from gevent import monkey

monkey.patch_all()

import json
import os
import sqlite3

import gevent
import MySQLdb
import psycopg2
import pylibmc
from flask import Flask, jsonify, request

app = Flask(__name__)

MYSQL = {"host": "mysql", "user": "shop", "passwd": os.environ.get("DB_PASSWORD", ""), "db": "shop"}
PG_DSN = "dbname=billing host=postgres user=billing"
STATS_DB = "/srv/stats.db"

# Import time: create the stats schema once, before the worker serves requests.
_boot = sqlite3.connect(STATS_DB)
_boot.execute("CREATE TABLE IF NOT EXISTS views (path TEXT, agent TEXT)")
_boot.close()


@app.route("/orders/<int:order_id>")
def get_order(order_id):
    conn = MySQLdb.connect(**MYSQL)  # error: GEV103
    cur = conn.cursor()  # error: GEV103
    cur.execute("SELECT id, status, total FROM orders WHERE id = %s", (order_id,))  # error: GEV103
    row = cur.fetchone()  # error: GEV103
    conn.close()  # error: GEV103
    return jsonify(row)


@app.route("/customers/<int:cid>/invoices")
def invoices(cid):
    return jsonify(load_invoices(cid))


def load_invoices(cid):
    return [{"id": r[0], "amount": str(r[1])} for r in query_invoices(cid)]


def query_invoices(cid):
    conn = psycopg2.connect(PG_DSN)  # error: GEV103
    cur = conn.cursor()  # error: GEV103
    cur.execute("SELECT id, amount FROM invoices WHERE customer_id = %s", (cid,))  # error: GEV103
    rows = cur.fetchall()  # error: GEV103
    conn.close()  # error: GEV103
    return rows


@app.route("/products/<sku>")
def product(sku):
    mc = pylibmc.Client(["memcached:11211"], binary=True)  # error: GEV103
    cached = mc.get("product:" + sku)  # error: GEV103
    if cached is None:
        cached = json.dumps({"sku": sku, "name": sku.title()})
        mc.set("product:" + sku, cached, time=300)  # error: GEV103
    return cached


@app.route("/articles/<slug>")
def article(slug):
    gevent.spawn(record_view, request.path, request.headers.get("User-Agent", ""))
    return jsonify(slug=slug)


def record_view(path, agent):
    conn = sqlite3.connect(STATS_DB)  # error: GEV103
    conn.execute("INSERT INTO views VALUES (?, ?)", (path, agent))  # error: GEV103
    conn.commit()  # error: GEV103
    conn.close()  # error: GEV103


# Offloaded: this function only ever runs in gevent's native threadpool.
def count_views():
    conn = sqlite3.connect(STATS_DB)
    cur = conn.execute("SELECT COUNT(*) FROM views")
    total = cur.fetchone()[0]
    conn.close()
    return total


@app.route("/stats")
def stats():
    return jsonify(views=gevent.get_hub().threadpool.apply(count_views, ()))


# Nobody calls this from a request path (an operator runs it by hand).
def rebuild_search_index():
    conn = psycopg2.connect(PG_DSN)
    conn.cursor().execute("REINDEX TABLE invoices")
    conn.commit()


if __name__ == "__main__":
    migration = MySQLdb.connect(**MYSQL)
    migration.cursor().execute("ALTER TABLE orders ADD COLUMN IF NOT EXISTS note TEXT")
    app.run()
