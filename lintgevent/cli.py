"""`lintgevent`: check, fix, verify, rules, explain."""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__
from .baseline import BaselineError, new_findings, read_baseline, write_baseline
from .catalog import load_catalog
from .config import JOBS_AUTO, Config, describe, load_config, parse_per_file_ignores
from .config_files import ConfigError, find_project_root
from .deployment import DEPLOYMENTS
from .engine import analyse_project
from .findings import FileError, Finding
from .fixes import FIXED_CODES
from .fixes.options import WRITE_STRATEGIES, FixOptions
from .lines import decode_source, split_lines
from .output import FORMATS, display_path, render, statistics
from .ruledocs import rule_doc
from .reporting import asked_for, reported
from .rules import NOT_ANALYSED, RULES, SEVERITIES
from .runtime.verify_arguments import add_arguments as add_verify_arguments
from .sources import import_root, python_files

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def _codes(text: str) -> list[str]:
    return [c.strip().upper() for c in text.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lintgevent", description="Find code that blocks the gevent hub.")
    parser.add_argument("--version", action="version", version=f"lintgevent {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="report blocking calls and escaping handles")
    _project_options(check)
    check.add_argument("--format", choices=FORMATS, default="text",
                       help="text (default), json, sarif (SARIF 2.1.0) or github (workflow annotations)")
    check.add_argument("--statistics", action="store_true", help="count the findings of each code (after them)")
    check.add_argument("--quiet", "-q", action="store_true", help="print no findings (statistics and errors still)")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--baseline", metavar="FILE",
                       help="report only findings that FILE does not record (matched by file, code, function "
                            "and source line, so shifted lines still match)")
    check.add_argument("--update-baseline", action="store_true",
                       help="record the current findings in the --baseline FILE instead of reporting them")
    check.add_argument("--show-deployment", action="store_true",
                       help="print, on stderr, what each import root runs under (gevent worker, patching)")

    fix = commands.add_parser("fix", help=f"apply the codemods ({', '.join(FIXED_CODES)})",
                              description="Rewrite the code of fixable findings. Exit 0: nothing to fix; "
                                          "1: files changed (or would be, with --diff/--check); 2: errors.")
    _project_options(fix)
    fix.add_argument("--diff", action="store_true", help="print a unified diff instead of writing")
    fix.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything would change")
    fix.add_argument("--strategy", choices=WRITE_STRATEGIES, default=WRITE_STRATEGIES[0],
                     help="how GEV301 fixes an unbounded write: run it in gevent's threadpool (default), "
                          "or write 1 MiB chunks with gevent.idle() between them")

    verify = commands.add_parser(
        "verify", help="measure live, under gunicorn's gevent worker, what the rules and fixes claim",
        description="With no arguments: run the bundled fixture app and prove every rule and fix (exit 1 unless "
                    "all are confirmed). --app: measure your own app. --events: join a staging recording "
                    "with the findings.")
    add_verify_arguments(verify)

    rules = commands.add_parser("rules", help="list the rules")
    rules.add_argument("--calls", action="store_true", help="also list each rule's catalog entries")
    explain = commands.add_parser("explain", help="print a rule's documentation")
    explain.add_argument("code")
    return parser


def _project_options(command: argparse.ArgumentParser) -> None:
    """What `check` and `fix` share: which files, which rules, and what the project runs under.
    List options may be repeated: their values add up."""
    command.add_argument("paths", nargs="*", default=["."], help="files or directories (default: .)")
    for name, what in (("select", "codes or prefixes to report (replaces the configured ones)"),
                       ("ignore", "codes or prefixes to leave out (replaces the configured ones)"),
                       ("extend-select", "codes or prefixes to report on top of the selected ones"),
                       ("extend-ignore", "codes or prefixes to leave out on top of the ignored ones")):
        command.add_argument(f"--{name}", type=_codes, action="append", metavar="CODES", help=f"comma-separated {what}")
    command.add_argument("--per-file-ignores", metavar="GLOB:CODES", action="append",
                         help="codes to leave out in some files, flake8's spelling: 'tests/*:GEV101 app.py:GEV1'")
    command.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    command.add_argument("--entry-point", action="append", dest="entry_points", metavar="NAME",
                         help="extra entry point: dotted name or glob (repeatable)")
    command.add_argument("--test-entry-points", action="store_true", default=None,
                         help="let routes and greenlet targets in test code start request paths too")
    command.add_argument("--deployment", choices=DEPLOYMENTS, help="override deployment detection")
    command.add_argument("-j", "--jobs", type=_jobs, metavar="N",
                         help='worker processes that summarise files: a number, or "auto" (every core; the default)')
    command.add_argument("--min-severity", choices=SEVERITIES,
                         help="report only findings of this severity or higher (low, medium, high; default low)")
    command.add_argument("--unpatched", type=_names, action="append", metavar="MODULES",
                         help="comma-separated modules gevent does not patch here (e.g. subprocess,thread)")
    command.add_argument("--exclude", type=_names, action="append", metavar="GLOBS",
                         help="comma-separated globs of files not to check or report (still indexed, so chains "
                              "through them are found)")
    command.add_argument("--index-exclude", type=_names, action="append", metavar="GLOBS",
                         help="comma-separated globs of files to leave out of the analysis entirely (vendored code)")
    command.add_argument("--config", metavar="FILE",
                         help="read the settings from FILE (a pyproject.toml, or a TOML file of lintgevent options) "
                              "instead of the project's [tool.lintgevent]")
    command.add_argument("--isolated", action="store_true", help="read no configuration file")
    command.add_argument("--show-settings", action="store_true",
                         help="print the resolved settings of each project, and where each came from; check nothing")


def _jobs(text: str) -> int | str:
    if text == JOBS_AUTO:
        return text
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f'must be a positive number or "{JOBS_AUTO}", not {text!r}')
    return int(text)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _joined(values: list[list[str]] | None) -> list[str] | None:
    return None if values is None else [item for value in values for item in value]


def _paths_by_project(paths: list[str], errors: list[FileError]) -> dict[str, list[str]]:
    """Project root -> the files and directories asked for in it."""
    by_root: dict[str, list[str]] = {}
    for path in paths:
        try:
            os.lstat(path)
        except FileNotFoundError:
            raise ConfigError(f"no such file or directory: {path}") from None
        except OSError as error:  # in a folder we may not read
            errors.append(FileError(os.path.abspath(path), f"cannot read: {error.strerror}"))
            continue
        by_root.setdefault(find_project_root(path), []).append(os.path.abspath(path))
    return by_root


def _expand(paths: list[str], root: str, config: Config, notices: list[str], errors: list[FileError],
            listings: dict[str, list[str]]) -> list[str]:
    """The files to check of the paths asked for; `listings` gets the Python files of each folder."""
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found = listings[os.path.abspath(path)] = python_files(path, root, config.index_exclude, errors)
        else:
            found = [path]
        found = asked_for(found, root, config)
        if not found:
            notices.append(f"no Python files to check in {display_path(path)}")
        files.extend(found)
    return files


def _overrides(args: argparse.Namespace) -> dict:
    per_file = None
    if args.per_file_ignores:
        per_file = {}
        for text in args.per_file_ignores:
            for pattern, codes in parse_per_file_ignores(text, "command line").items():
                per_file.setdefault(pattern, []).extend(codes)
    return {"select": _joined(args.select), "ignore": _joined(args.ignore),
            "extend_select": _joined(args.extend_select), "extend_ignore": _joined(args.extend_ignore),
            "per_file_ignores": per_file, "entry_points": args.entry_points, "deployment": args.deployment,
            "unpatched": _joined(args.unpatched), "exclude": _joined(args.exclude),
            "index_exclude": _joined(args.index_exclude), "test_entry_points": args.test_entry_points,
            "min_severity": args.min_severity, "jobs": args.jobs}


def _projects(args: argparse.Namespace, notices: list[str], errors: list[FileError],
              listings: dict[str, list[str]] | None = None):
    """(root, config, files asked for) for each project the paths belong to; every project's
    configuration is read before any is analysed, so a mistake fails at once.  Paths and folders
    that cannot be read are added to `errors`; `listings` gets the Python files of every folder asked for."""
    overrides = _overrides(args)
    projects = [(root, paths, load_config(root, overrides, args.config, args.isolated))
                for root, paths in _paths_by_project(args.paths, errors).items()]
    for root, paths, config in projects:
        yield root, config, _expand(paths, root, config, notices, errors, {} if listings is None else listings)


def _show_settings(args: argparse.Namespace) -> int:
    for root, config, files in _projects(args, [], []):
        print(f"# project root: {root} ({len(files)} files to check)")
        print("\n".join(describe(config)))
    return EXIT_CLEAN


def _not_checked(result, config: Config, files: list[str]) -> list[str]:
    """A notice per import root of the checked files that runs no gevent: nothing is reported there."""
    if config.deployment != "auto":
        return []
    roots = sorted({import_root(f)[0] for f in files})
    run = {root for process in result.processes if process.deployment.uses_gevent for root in process.roots}
    return [f"no gevent detected in {display_path(root)}: not checked (see --show-deployment, or set deployment)"
            for root in roots if root in result.deployments and not result.deployments[root].uses_gevent
            and root not in run]


def _show_deployment(result, roots: set[str]) -> None:
    """The processes that run the checked roots, then what the own code says of each root no process runs."""
    run = set()
    for process in result.processes:
        mine = [r for r in process.roots if r in roots]
        run.update(mine)
        if mine:
            print(f"process {process.launcher} ({process.where}): {process.deployment.describe()}; "
                  f"runs {', '.join(map(display_path, mine))}", file=sys.stderr)
    for root_dir, deployment in sorted(result.deployments.items()):
        if root_dir in roots and root_dir not in run:
            print(f"{display_path(root_dir)}: {deployment.describe()}", file=sys.stderr)


def _report_errors(errors: list[FileError]) -> None:
    for error in sorted(errors):
        print(f"{display_path(error.path)}: error: {error.reason}; skipped", file=sys.stderr)


def _report_notices(notices: list[str]) -> None:
    for notice in notices:
        print(f"lintgevent: {notice}", file=sys.stderr)


def run_check(args: argparse.Namespace) -> int:
    if args.update_baseline and not args.baseline:
        raise ConfigError("--update-baseline needs --baseline FILE")
    recorded = read_baseline(args.baseline) if args.baseline and not args.update_baseline else None
    if args.show_settings:
        return _show_settings(args)
    findings: list[Finding] = []
    errors: list[FileError] = []
    notices: list[str] = []
    listings: dict[str, list[str]] = {}
    for root, config, files in _projects(args, notices, errors, listings):
        wanted = set(files)
        result = analyse_project(root, config, use_cache=not args.no_cache, extra_files=tuple(files),
                                 listing=listings.get(root))
        broken = [e for e in result.errors if e.path in wanted]
        findings.extend(reported(result.findings, files, root, config, broken, result.noqa))
        errors.extend(broken)
        notices.extend(_not_checked(result, config, files))
        if args.show_deployment:
            _show_deployment(result, {import_root(f)[0] for f in wanted})
    findings.sort()
    shown = {f.path for f in findings if f.code == NOT_ANALYSED} if args.format == "text" and not args.quiet else set()
    _report_errors([e for e in errors if e.path not in shown])  # the others are GEV001 lines already
    if not args.quiet:
        _report_notices(notices)
    if args.update_baseline:
        write_baseline(args.baseline, findings)
        print(f"lintgevent: recorded {len(findings)} findings in {args.baseline}", file=sys.stderr)
        return EXIT_FINDINGS if errors else EXIT_CLEAN
    if recorded is not None:
        findings = new_findings(args.baseline, recorded, findings)
    if not args.quiet:
        sys.stdout.write(render(findings, args.format, errors=sorted(errors), notices=notices))
    if args.statistics:
        (sys.stderr if args.format in ("json", "sarif") else sys.stdout).write(statistics(findings))
    if args.exit_zero:
        return EXIT_CLEAN
    return EXIT_FINDINGS if findings or errors else EXIT_CLEAN


def run_fix(args: argparse.Namespace) -> int:
    from .fixer import fix_project, write_atomically  # libcst: a seventh of a warm check's time to import

    changed: list[str] = []
    unwritten: list[str] = []
    errors: list[FileError] = []
    if args.show_settings:
        return _show_settings(args)
    notices: list[str] = []
    for root, config, files in _projects(args, notices, errors):
        result = fix_project(root, config, files, FixOptions(args.strategy), use_cache=not args.no_cache)
        errors.extend(result.errors)
        for path in result.changed:
            shown = display_path(path)
            if args.diff:
                before = split_lines(decode_source(result.originals[path]), keepends=True)
                after = split_lines(decode_source(result.fixed[path]), keepends=True)
                import difflib

                sys.stdout.writelines(difflib.unified_diff(before, after, f"a/{shown}", f"b/{shown}"))
            elif args.check:
                print(f"would fix {shown}", file=sys.stderr)
            else:
                refusal = write_atomically(path, result.fixed[path], result.originals[path])
                if refusal:
                    print(f"{shown}: not fixed: {refusal}", file=sys.stderr)
                    unwritten.append(path)
                    continue
                through = f" (the file it links to, {display_path(os.path.realpath(path))})" \
                    if os.path.islink(path) else ""
                print(f"fixed {shown}{through}", file=sys.stderr)
            changed.append(path)
        for finding, reason in sorted(result.refused.values()):
            print(f"{display_path(finding.path)}:{finding.line}:{finding.col + 1}: {finding.code} not fixed: {reason}",
                  file=sys.stderr)
    _report_errors(errors)
    _report_notices(notices)
    if errors or unwritten:
        return EXIT_USAGE
    return EXIT_FINDINGS if changed else EXIT_CLEAN


def run_rules(with_calls: bool) -> int:
    calls = [entry for entries in load_catalog().calls.values() for entry in entries]
    for rule in RULES.values():
        print(f"{rule.code}  {rule.title}")
        if with_calls:
            for entry in (e for e in calls if e.code == rule.code):
                condition = f" [{entry.when}]" if entry.when else ""
                print(f"    {entry.pattern}{condition}  blocks: {entry.blocks}  severity: {entry.severity}")
    return EXIT_CLEAN


def run_explain(code: str) -> int:
    doc = rule_doc(code.upper())
    if doc is None:
        print(f"lintgevent: unknown rule {code!r}; `lintgevent rules` lists them", file=sys.stderr)
        return EXIT_USAGE
    print(doc, end="" if doc.endswith("\n") else "\n")
    return EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):  # paths are printed as the OS gives them, whatever their bytes
            stream.reconfigure(errors="surrogateescape")
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            return run_check(args)
        if args.command == "fix":
            return run_fix(args)
        if args.command == "verify":
            from .runtime.verify_cli import run_verify  # gunicorn's side: not imported by the other commands

            return run_verify(args)
        if args.command == "rules":
            return run_rules(args.calls)
        return run_explain(args.code)
    except (ConfigError, BaselineError) as error:
        print(f"lintgevent: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `lintgevent check | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FINDINGS
    except Exception as error:  # a bug of ours: one clear line, never a traceback
        if os.environ.get("LINTGEVENT_DEBUG"):
            raise
        print(f"lintgevent: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_USAGE
