"""lintgevent: find code that blocks the gevent hub on request paths."""
__version__ = "0.1.0"
