# Experiment assignment service: each greenlet gets its handle from the decorator on its own function.
from gevent import monkey

monkey.patch_all()

import functools

import gevent
import pymysql
from gevent.pool import Pool

DATABASES = {
    "primary": {"host": "db.internal", "user": "exp", "password": "exp", "database": "experiments"},
    "replica": {"host": "db-replica.internal", "user": "exp", "password": "exp", "database": "experiments"},
}


def get_dbc(func):
    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):
        conn = pymysql.connect(autocommit=True, **DATABASES["primary"])
        dbc = conn.cursor()
        try:
            return func(self, dbc, *args, **kwargs)
        finally:
            dbc.close()
            conn.close()
    return wrapper


class Test(object):
    def __init__(self):
        self.g_pool = Pool(10)

    def assign_user_to_exp(self, user_id, cell_id):
        self.g_pool.spawn(
            self.async_assign_user_to_exp,
            user_id,
            cell_id,
        )
        return

    # The cursor is opened when the greenlet runs and closed when it is done with it.
    @get_dbc
    def async_assign_user_to_exp(self, dbc, user_id, cell_id):
        return dbc.execute(''' there is a sql sentence that refering user_id and cell_id, just leave details here ''')


def with_db(name):
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with pymysql.connect(**DATABASES[name]) as conn:
                return func(conn, *args, **kwargs)
        return wrapper
    return decorate


def refresh_report(report_id):
    gevent.spawn(build_report, report_id)
    return report_id


@with_db("replica")
def build_report(conn, report_id):
    with conn.cursor() as cur:
        cur.execute("SELECT cell_id, COUNT(*) FROM assignment WHERE report_id = %s GROUP BY cell_id", (report_id,))
        return cur.fetchall()

