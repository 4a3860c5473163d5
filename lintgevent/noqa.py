"""`# noqa` comments, with flake8's semantics."""
from __future__ import annotations

import re

NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


def suppressed(line: str, code: str) -> bool:
    """True when the source line carries `# noqa` or `# noqa: CODE[,CODE]` (prefixes allowed)."""
    match = NOQA.search(line)
    if match is None:
        return False
    codes = match.group("codes")
    if not codes:
        return True
    return any(code.startswith(c) for c in re.split(r"[,\s]+", codes.upper()) if c)


def suppressed_at(lines: list[str], line: int, code: str) -> bool:
    """`suppressed` for line number `line` (1-based) of a file's lines."""
    return 0 < line <= len(lines) and suppressed(lines[line - 1], code)
