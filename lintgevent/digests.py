"""A file's lines as CRC-32s, stored with its summary: what the run after an edit diffs the new
text with (relocation.py)."""
from __future__ import annotations

import zlib
from array import array

_DIGEST_WIDTH = 2 * array("I").itemsize  # hex digits of one line's CRC-32


def line_digests(data: bytes) -> str:
    """A CRC-32 of every line, as ast numbers the lines (bytes break lines at \\r and \\n only):
    what the next run diffs an edit with."""
    return array("I", map(zlib.crc32, data.splitlines())).tobytes().hex()


def lines_of(digests: str) -> list[str]:
    """The digests of each line, as line_digests wrote them."""
    return [digests[i:i + _DIGEST_WIDTH] for i in range(0, len(digests), _DIGEST_WIDTH)]
