"""Launchers written in deployment files: the command lines and settings that start the project's code.

A gunicorn command line (Dockerfiles in shell and exec form, compose `command:`, Procfiles, shell
scripts, systemd units, Kubernetes `args:`, Makefiles), `GUNICORN_CMD_ARGS`, a gunicorn config's
`worker_class`, a uWSGI `gevent = N`, a Celery worker's `-P gevent` or `worker_pool = "gevent"`:
each is a Launcher at its file and line, with the module it loads (`module:app`, `-A proj`) and
the config file it names (`-c conf.py`) when written.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .deployment import GUNICORN_GEVENT, UWSGI_GEVENT, UWSGI_MONKEY

GUNICORN, UWSGI, CELERY = "gunicorn", "uwsgi", "celery"
TOKEN = re.compile(r"""[^\s"'\[\],=]+""")
# `module:app`, `pkg.wsgi:application`, `app:create_app()`
APP_ARGUMENT = re.compile(r"([A-Za-z_][\w.]*):[A-Za-z_]\w*(?:\(.*\))?")
GUNICORN_WORD = re.compile(r"\bgunicorn\b|GUNICORN_CMD_ARGS", re.IGNORECASE)
CELERY_WORD = re.compile(r"\bcelery\b", re.IGNORECASE)
# Commands that take `-k` for something else: `pytest -k gevent` selects tests.
OTHER_K_COMMAND = re.compile(r"\b(?:py\.?test|tox|nox|grep|egrep|ack|rg|pkill|killall)\b")
CELERY_POOL = re.compile(r"""(?:^|[\s"'\[,])(?:-P\s*|--pool[=\s]+)["']?gevent\b""")
CELERY_POOL_SETTING = re.compile(r"""\b(?:worker_pool|CELERYD_POOL)["']?\s*[=:]\s*["']?gevent\b""")
UWSGI_MODULE = re.compile(r"""(?:^|\s)-{0,2}(?:module|wsgi-file|wsgi)\s*[\s=:]\s*["']?([A-Za-z_][\w./]*)""",
                          re.MULTILINE)
WSGI_APP_SETTING = re.compile(r"""^\s*wsgi_app\s*=\s*["']([A-Za-z_][\w.]*):""", re.MULTILINE)


@dataclass(frozen=True)
class Launcher:
    kind: str  # GUNICORN, UWSGI or CELERY
    path: str  # the file that says it
    line: int
    gevent: bool  # runs the code under gevent; False: a gunicorn line whose config file may say so
    patches: bool  # patches everything before the code runs (gunicorn's and Celery's gevent workers do)
    app: str = ""  # the module it loads: `pkg.wsgi` of `pkg.wsgi:app`, or Celery's `-A proj`
    config: str = ""  # the config file it names (`-c gunicorn.conf.py`)


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, the line with its backslash continuations joined) of a file."""
    joined, start, current = [], 1, []
    for number, line in enumerate(text.splitlines(), 1):
        if not current:
            start = number
        if line.rstrip().endswith("\\"):
            current.append(line.rstrip()[:-1])
            continue
        current.append(line)
        joined.append((start, " ".join(current)))
        current = []
    if current:
        joined.append((start, " ".join(current)))
    return joined


def launchers_in_text(path: str, data: bytes) -> list[Launcher]:
    """Every launcher a deployment file (or a config module) writes, in line order."""
    text = data.decode("utf-8", "replace")
    mentions_gunicorn = GUNICORN_WORD.search(text) is not None
    uwsgi_patches = UWSGI_MONKEY.search(text) is not None
    uwsgi_app = UWSGI_MODULE.search(text)
    wsgi_app = WSGI_APP_SETTING.search(text)
    found = []
    for number, line in logical_lines(text):
        tokens = TOKEN.findall(line)
        gunicorn = _gunicorn(line, tokens, mentions_gunicorn)
        if gunicorn is not None:
            gevent, config = gunicorn
            app = _after(tokens, "gunicorn", APP_ARGUMENT) or (wsgi_app.group(1) if wsgi_app else "")
            found.append(Launcher(GUNICORN, path, number, gevent, gevent, app, config))
        if UWSGI_GEVENT.search(line):
            app = uwsgi_app.group(1) if uwsgi_app else ""
            found.append(Launcher(UWSGI, path, number, True, uwsgi_patches, _module_of(app)))
        if CELERY_POOL_SETTING.search(line) or (CELERY_POOL.search(line) and CELERY_WORD.search(line)):
            found.append(Launcher(CELERY, path, number, True, True, _option(tokens, ("-A", "--app"))))
    return found


def _gunicorn(line: str, tokens: list[str], mentions_gunicorn: bool) -> tuple[bool, str] | None:
    """(gevent worker, config file) of a line that starts gunicorn or sets its worker class, else None."""
    on_gunicorn_line = GUNICORN_WORD.search(line) is not None
    if "gunicorn" in tokens:  # `sh -c "gunicorn -c conf.py app:app"`: gunicorn's own options
        tokens = tokens[tokens.index("gunicorn") + 1:]
    match = GUNICORN_GEVENT.search(line)
    if match is not None:
        setting = match.group(0).lstrip().startswith("worker")
        command = line[:match.start()]
        if setting or ((on_gunicorn_line or mentions_gunicorn) and not OTHER_K_COMMAND.search(command)):
            return True, _option(tokens, ("-c", "--config"))
    if on_gunicorn_line:
        config = _option(tokens, ("-c", "--config"))
        if config:
            return False, config
    return None


def _option(tokens: list[str], names: tuple[str, ...]) -> str:
    """The value of the first of these options: `-c conf.py`, `--config=conf.py`; Celery's `-A proj`,
    `-Aproj` as a module name."""
    module = names[0] == "-A"
    for position, token in enumerate(tokens):
        if token in names and position + 1 < len(tokens):
            value = tokens[position + 1]
        elif module and token.startswith("-A") and len(token) > 2:
            value = token[2:]
        else:
            continue
        return _module_of(value) if module else value
    return ""


def _after(tokens: list[str], command: str, pattern: re.Pattern) -> str:
    """The module of the last `module:app` token after `command` on the line."""
    if command not in tokens:
        return ""
    for token in reversed(tokens[tokens.index(command) + 1:]):
        match = pattern.fullmatch(token)
        if match:
            return match.group(1)
    return ""


def _module_of(app: str) -> str:
    """`pkg.wsgi` of `pkg.wsgi:app`; `pkg/wsgi.py` as a dotted name."""
    module = app.split(":", 1)[0]
    if module.endswith(".py"):
        module = module[:-3].replace("/", ".")
    return module.strip(".")
