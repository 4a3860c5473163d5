"""The runtime side of lintgevent: recording where a live gevent process blocks its hub."""
