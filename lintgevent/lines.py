"""Source lines and columns counted the way Python's tokenizer counts them."""
from __future__ import annotations

import dataclasses
import io
import re
import tokenize
from typing import AnyStr

from .findings import Finding

# Python breaks lines only here; str.splitlines() also breaks at \x0b, \x0c, \x1c-\x1e, \x85,
# U+2028 and U+2029, which may sit inside a line of code (a form feed, a string literal).
_BREAK = {str: re.compile(r"(\r\n|\r|\n)"), bytes: re.compile(rb"(\r\n|\r|\n)")}


def split_lines(source: AnyStr, keepends: bool = False) -> list[AnyStr]:
    """The lines of a source, text or bytes, numbered as ast and tokenize number them."""
    parts = _BREAK[type(source)].split(source)
    lines = [parts[i] + parts[i + 1] if keepends else parts[i] for i in range(0, len(parts) - 1, 2)]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def decode_source(data: bytes) -> str:
    """A file's text as Python reads it: its coding declaration (else UTF-8), without a BOM."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except (SyntaxError, LookupError):
        encoding = "utf-8"
    return data.decode(encoding, errors="replace")


def character_column(line: str, byte_col: int) -> int:
    """An ast column (UTF-8 bytes into the line) as a count of characters (code points)."""
    if line.isascii():
        return byte_col
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def in_characters(findings: list[Finding], sources: dict[str, bytes]) -> list[Finding]:
    """The findings with character columns, from ast's byte columns; `sources` holds each file's bytes."""
    lines: dict[str, list[str]] = {}
    converted = []
    for finding in findings:
        if sources[finding.path].isascii():  # bytes are characters
            converted.append(finding)
            continue
        if finding.path not in lines:
            lines[finding.path] = split_lines(decode_source(sources[finding.path]))
        text = lines[finding.path]
        if 0 < finding.line <= len(text):
            finding = dataclasses.replace(finding, col=character_column(text[finding.line - 1], finding.col))
        converted.append(finding)
    return converted
