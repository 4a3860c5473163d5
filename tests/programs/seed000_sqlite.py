"""The incident of seed 000 with sqlite3: a decorator's handle passed to a greenlet."""
from gevent import monkey

monkey.patch_all()

import functools
import sqlite3
import sys

from gevent.pool import Pool

DB_PATH = sys.argv[1]


def get_dbc(func):
    @functools.wraps(func)
    def wrapper(self, *args, **kwargs):
        dbc = sqlite3.connect(DB_PATH, isolation_level=None)
        try:
            return func(self, dbc, *args, **kwargs)
        finally:
            dbc.close()
    return wrapper


class Test(object):
    def __init__(self):
        self.g_pool = Pool(10)

    @get_dbc
    def assign_user_to_exp(self, dbc, user_id, cell_id):
        self.g_pool.spawn(
            self.async_assign_user_to_exp,
            dbc,
            user_id,
            cell_id,
        )
        return

    def async_assign_user_to_exp(self, dbc, user_id, cell_id):
        return dbc.execute("INSERT INTO assignment VALUES (?, ?)", (user_id, cell_id))


if __name__ == "__main__":
    setup = sqlite3.connect(DB_PATH, isolation_level=None)
    setup.execute("CREATE TABLE IF NOT EXISTS assignment (user_id INTEGER, cell_id INTEGER)")
    setup.close()

    t = Test()
    t.assign_user_to_exp(7, 3)
    t.g_pool.join()

    check = sqlite3.connect(DB_PATH)
    n = check.execute("SELECT COUNT(*) FROM assignment").fetchone()[0]
    check.close()
    print("rows", n)
