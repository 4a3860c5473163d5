"""`# noqa` comments with flake8's own rules, so that `lintgevent check`, `lintgevent fix` and flake8
agree on every line: flake8's pattern (case-insensitive `# noqa`, case-sensitive codes), looked for
in the whole logical line a finding is on, and `# flake8: noqa` for a whole file.  Also the
comments that silence no finding (GEV002)."""
from __future__ import annotations

import tokenize
from dataclasses import dataclass, field
from functools import cached_property

from flake8.defaults import NOQA_FILE, NOQA_INLINE_REGEXP
from flake8.utils import parse_comma_separated_list

from .findings import Finding
from .lines import decode_source, split_lines
from .rules import UNUSED_NOQA


@dataclass(frozen=True)
class Directive:
    """A `# noqa` comment: where it is, the codes it lists (empty: all of them), and the first and
    last lines of the logical line it covers."""

    line: int
    col: int
    codes: tuple
    first: int
    last: int

    @property
    def lines(self) -> range:
        return range(self.first, self.last + 1)


@dataclass
class NoqaMap:
    """One file's `# noqa` comments, by the lines they cover."""

    whole_file: bool = False  # `# flake8: noqa`
    directives: list = field(default_factory=list)

    @cached_property
    def by_line(self) -> dict[int, Directive]:
        return {number: directive for directive in self.directives for number in directive.lines}

    def suppresses(self, line: int, code: str) -> bool:
        if self.whole_file:
            return True
        directive = self.by_line.get(line)
        if directive is None:
            return False
        return not directive.codes or code in directive.codes or code.startswith(directive.codes)

    def silences(self, finding: Finding, other_lines_only: bool = False) -> bool:
        """A comment on its line or on one of the other lines it reports on (the calls on a file it
        opens) silences it.  `other_lines_only`: flake8 looks at its line itself."""
        lines = finding.lines if other_lines_only else (finding.line, *finding.lines)
        return any(self.suppresses(line, finding.code) for line in lines)


def parse_noqa(text: str) -> NoqaMap:
    """The map of a file's text, tokenized as flake8 does."""
    if "noqa" not in text.lower():  # neither of flake8's patterns can match: no need to tokenize
        return NoqaMap()
    lines = split_lines(text, keepends=True)
    noqa = NoqaMap(any(NOQA_FILE.match(line) for line in lines))
    try:
        tokens = list(tokenize.generate_tokens(iter(lines).__next__))
    except (tokenize.TokenError, SyntaxError):
        return noqa  # flake8 gives up on noqa for such a file too
    first, last, comments = len(lines) + 2, -1, []
    for token in tokens:
        if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
            continue
        first, last = min(first, token.start[0]), max(last, token.end[0])
        if token.type == tokenize.COMMENT:
            comments.append(token)
        elif token.type in (tokenize.NL, tokenize.NEWLINE):
            directive = _directive(lines, first, last, comments)
            if directive is not None:
                noqa.directives.append(directive)
            first, last, comments = len(lines) + 2, -1, []
    return noqa


def _directive(lines: list[str], first: int, last: int, comments: list) -> Directive | None:
    match = NOQA_INLINE_REGEXP.search("".join(lines[first - 1:last]))
    if match is None:
        return None
    comment = next((t for t in comments if NOQA_INLINE_REGEXP.search(t.string)), None)
    line, col = comment.start if comment else (first, 0)
    codes = match.group("codes")
    return Directive(line, col, tuple(parse_comma_separated_list(codes)) if codes else (), first, last)


def noqa_map(path: str, data: bytes | None = None) -> NoqaMap:
    """The file's map, read as flake8 reads it (its declared encoding); an unreadable file has none."""
    try:
        if data is None:
            with open(path, "rb") as handle:
                data = handle.read()
    except OSError:
        return NoqaMap()
    return parse_noqa(decode_source(data))


def unused_directives(path: str, noqa: NoqaMap, findings: list[Finding]) -> list[Finding]:
    """GEV002 for each GEV code of a `# noqa: ...` that silences none of these findings (bare
    `# noqa` comments may be there for other tools, and are left alone)."""
    if noqa.whole_file:
        return []
    codes_at: dict[int, set[str]] = {}
    for finding in findings:
        for line in (finding.line, *finding.lines):
            codes_at.setdefault(line, set()).add(finding.code)
    out = []
    for directive in noqa.directives:
        here = {code for line in directive.lines for code in codes_at.get(line, ())}
        for listed in directive.codes:
            if not listed.upper().startswith("GEV") or any(code.startswith(listed) for code in here):
                continue
            why = ("codes are case-sensitive" if any(code.startswith(listed.upper()) for code in here)
                   else "no such finding here")
            message = f"{UNUSED_NOQA} unused noqa: `{listed}` silences no finding ({why}); remove it"
            out.append(Finding(path, directive.line, directive.col, UNUSED_NOQA, message))
    return out
