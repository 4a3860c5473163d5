"""Which codes are reported where: select, ignore, their `extend-` forms and per-file ignores, decided
by flake8's own decision engine so that both front ends agree with flake8 to the letter (the longest
matching prefix wins; on a tie, ignore wins; an explicit choice beats a default one)."""
from __future__ import annotations

import argparse
import fnmatch
import os
from functools import lru_cache

from flake8.style_guide import Decision, DecisionEngine

from .rules import DEFAULT_IGNORED, RULES


def unknown_codes(values: list[str]) -> list[str]:
    """The entries that are not a prefix of any lintgevent code (`GEV999`, `GEB101`, `E501`)."""
    return [value for value in values if not value or not any(code.startswith(value) for code in RULES)]


def known_codes_hint() -> str:
    return f"lintgevent's codes are {', '.join(RULES)} (or a prefix of them, like GEV or GEV1)"


class Selection:
    """The decision for a code in a file."""

    def __init__(self, root: str, select: list[str] | None, ignore: list[str] | None,
                 extend_select: list[str], extend_ignore: list[str], per_file_ignores: dict[str, list[str]],
                 default_ignored: tuple[str, ...] = DEFAULT_IGNORED):
        self._default_ignored = list(default_ignored)
        self._options = dict(select=select, ignore=ignore, extend_select=extend_select,
                             extend_ignore=extend_ignore)
        self._default = self._engine(())
        # flake8 applies the per-file entry with the longest pattern that matches, not their union.
        self._per_file = sorted(((_normalised_pattern(p, root), tuple(codes)) for p, codes in per_file_ignores.items()),
                                key=lambda item: -len(item[0]))

    def _engine(self, extra_ignore: tuple) -> DecisionEngine:
        options = argparse.Namespace(**self._options, extended_default_select=["GEV"],
                                     extended_default_ignore=self._default_ignored)
        options.extend_ignore = [*(options.extend_ignore or []), *extra_ignore]
        return DecisionEngine(options)

    @lru_cache(maxsize=None)
    def _engine_for(self, path: str) -> DecisionEngine:
        for pattern, codes in self._per_file:
            if _matches(path, pattern):
                return self._engine(codes)
        return self._default

    def wants(self, code: str, path: str) -> bool:
        return self._engine_for(path).decision_for(code) is Decision.Selected

    def wants_anywhere(self, code: str) -> bool:
        """Before per-file ignores: is the code reported at all?"""
        return self._default.decision_for(code) is Decision.Selected and (
            code not in self._default_ignored or opted_in(code, self._options["select"], self._options["extend_select"]))


def opted_in(code: str, select: list[str] | None, extend_select: list[str] | None) -> bool:
    """A code that is off by default is on only when a selection names it by its whole code:
    `--select GEV` means the rules, not the report on suppressions."""
    return code in (*(select or ()), *(extend_select or ()))


def _normalised_pattern(pattern: str, root: str) -> str:
    """flake8's rule: a pattern with a slash is a path relative to the configuration's folder."""
    return os.path.abspath(os.path.join(root, pattern)) if "/" in pattern else pattern


def _matches(path: str, pattern: str) -> bool:
    if "/" not in pattern and os.sep not in pattern:
        return fnmatch.fnmatch(os.path.basename(path), pattern)
    return fnmatch.fnmatch(os.path.abspath(path), pattern)
