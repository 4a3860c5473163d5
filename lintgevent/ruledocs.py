"""Each rule's documentation: rules/<CODE>/README.md, shipped inside the package as lintgevent/rule_docs/."""
from __future__ import annotations

import os


def rules_directory() -> str | None:
    """The packaged docs in an installed wheel, or the repository's rules/ in a source checkout."""
    package = os.path.dirname(os.path.abspath(__file__))
    packaged = os.path.join(package, "rule_docs")
    if os.path.isdir(packaged):
        return packaged
    checkout = os.path.join(os.path.dirname(package), "rules")
    return checkout if os.path.isdir(checkout) else None


def rule_doc(code: str) -> str | None:
    directory = rules_directory()
    if directory is None:
        return None
    path = os.path.join(directory, code, "README.md")
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def what_it_does(doc: str) -> str:
    """The first paragraph under a rule doc's "What it does" heading, on one line."""
    lines = doc.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip().lower() == "## what it does") + 1
    except StopIteration:
        return ""
    paragraph: list[str] = []
    for line in lines[start:]:
        if line.strip():
            paragraph.append(line.strip())
        elif paragraph:
            break
    return " ".join(paragraph)
