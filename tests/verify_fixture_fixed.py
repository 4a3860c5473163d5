"""The fixed/ modules of the verify fixture are `lintgevent fix` output, not hand-written.

    python tests/verify_fixture_fixed.py     # regenerate them after a codemod changes

Each is its case's bad module, without markers, fixed in a copy of the fixture with the variant's
strategy; markers are then added for what the linter still reports there (the `open` of an
offloaded write stays GEV101).
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile

from markers import unmarked, with_markers

from lintgevent.config import load_config
from lintgevent.engine import analyse_project
from lintgevent.fixer import fix_project
from lintgevent.fixes.options import WRITE_STRATEGIES, FixOptions
from lintgevent.runtime.cases import fixture_directory, load_cases


def generate(fixture: str) -> dict[str, str]:
    """Relative path -> text of every fixed variant, generated from the fixture's bad modules."""
    _, cases = load_cases(fixture)
    with tempfile.TemporaryDirectory() as tmp:
        root = os.path.join(tmp, "fixture")
        shutil.copytree(fixture, root, ignore=shutil.ignore_patterns("__pycache__"))
        open(os.path.join(root, "setup.cfg"), "w").close()
        config = load_config(root, {})
        generated = []
        for case in cases:
            with open(os.path.join(root, case.deployment, case.bad.file), encoding="utf-8") as handle:
                bad = unmarked(handle.read())
            for variant in case.fixed:
                path = os.path.join(root, case.deployment, variant.file)
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(bad)
                options = FixOptions(variant.strategy or WRITE_STRATEGIES[0])
                result = fix_project(root, load_config(root, {"select": [case.rule]}), [path], options, use_cache=False)
                if result.errors or path not in result.fixed:
                    why = result.errors or result.refused
                    raise AssertionError(f"lintgevent fix did not fix {variant.file}: {why}")
                with open(path, "wb") as handle:
                    handle.write(result.fixed[path])
                generated.append((case.deployment, variant.file, path))
        findings = analyse_project(root, config, use_cache=False).findings
        out = {}
        for deployment, file, path in generated:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            remaining = {(f.line, f.code) for f in findings if f.path == path}
            out[os.path.join(deployment, file)] = with_markers(text, remaining)
        return out


if __name__ == "__main__":
    fixture = fixture_directory()
    for relative, text in generate(fixture).items():
        with open(os.path.join(fixture, relative), "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"wrote {relative}", file=sys.stderr)
