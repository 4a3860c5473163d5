"""`lintgevent fix` on GEV301 and GEV302: both write strategies, the yield insertion, their refusals,
and that a second run changes nothing."""
from __future__ import annotations

import pytest
from test_cli import write

HEAD = """\
from gevent import monkey
monkey.patch_all()

import json
from flask import Flask, request

app = Flask(__name__)


"""


def fix(run, *args: str) -> tuple[int, str]:
    code, _, err = run("fix", "--no-cache", *args)
    return code, err


def fixed_text(tmp_path, run, body: str, *args: str, head: str = HEAD) -> tuple[str, str]:
    write(tmp_path, {"app.py": head + body})
    code, err = fix(run, *args)
    assert code in (0, 1), err
    text = (tmp_path / "app.py").read_text()
    assert fix(run, *args)[0] == 0, "a second fix changed something"
    return text, err


UNBOUNDED = """\
@app.route("/a", methods=["POST"])
def a(codes):
    with open("/tmp/a", "w") as fh:
        fh.write("\\n".join(codes))  # all of them
"""


def test_threadpool_is_the_default_and_imports_gevent_after_the_imports(tmp_path, run):
    text, _ = fixed_text(tmp_path, run, UNBOUNDED)
    assert text == HEAD.replace("from flask import Flask, request\n", "from flask import Flask, request\nimport gevent\n") + """\
@app.route("/a", methods=["POST"])
def a(codes):
    with open("/tmp/a", "w") as fh:
        gevent.get_hub().threadpool.apply(fh.write, ("\\n".join(codes),))  # all of them
"""


def test_threadpool_uses_the_modules_own_names_and_passes_keywords(tmp_path, run):
    head = HEAD.replace("import json\n", "import json\nfrom gevent import get_hub\n")
    text, _ = fixed_text(tmp_path, run, """\
@app.route("/a", methods=["POST"])
def a(rows):
    with open("/tmp/a", "w") as fh:
        json.dump([r["code"] for r in rows], fh, indent=2)
        fh.writelines(r["code"] for r in rows)
""", head=head)
    assert 'get_hub().threadpool.apply(json.dump, ([r["code"] for r in rows], fh), {"indent": 2})' in text
    assert 'get_hub().threadpool.apply(fh.writelines, ((r["code"] for r in rows),))' in text
    assert "import gevent\n" not in text


def test_chunk_strategy_binds_the_data_once_and_picks_free_names(tmp_path, run):
    text, _ = fixed_text(tmp_path, run, """\
@app.route("/a", methods=["POST"])
def a(codes, offset=0):
    data = "unused here"
    with open("/tmp/a", "w") as fh:
        # one write
        fh.write("\\n".join(codes))  # all of them
""", "--strategy", "chunk")
    assert """\
    with open("/tmp/a", "w") as fh:
        # one write
        data_2 = "\\n".join(codes)
        for offset_2 in range(0, len(data_2), 1024 * 1024):
            fh.write(data_2[offset_2:offset_2 + 1024 * 1024])  # all of them
            gevent.idle()
""" in text


@pytest.mark.parametrize("body, reason", [
    ("        json.dump(list(request.get_json()), fh)\n",
     "the chunk strategy splits only `.write(data)` calls; the threadpool strategy fixes this one"),
    ("        n = fh.write(request.get_data())\n",
     "the chunk strategy needs the write as a statement on a line of its own"),
    ("        fh.write(request.get_data()); fh.flush()\n", "the write shares its line with other statements"),
])
def test_chunk_strategy_refusals(tmp_path, run, body, reason):
    source = HEAD + '@app.route("/a", methods=["POST"])\ndef a():\n    with open("/tmp/a", "w") as fh:\n' + body
    write(tmp_path, {"app.py": source})
    code, err = fix(run, "--strategy", "chunk")
    assert code == 0
    assert f"GEV301 not fixed: {reason}" in err
    assert (tmp_path / "app.py").read_text() == source


@pytest.mark.parametrize("body, reason", [
    ("        fh.writelines(line + request.args['end'] for line in rows)\n",
     "a generator argument reads Flask's context"),
    ("        fh.writelines(*rows)\n", "the call unpacks `*args` or `**kwargs`"),
])
def test_threadpool_refusals(tmp_path, run, body, reason):
    source = (HEAD + '@app.route("/a", methods=["POST"])\ndef a():\n    rows = request.get_json()\n'
              '    with open("/tmp/a", "w") as fh:\n' + body)
    write(tmp_path, {"app.py": source})
    code, err = fix(run)
    assert code == 0
    assert f"GEV301 not fixed: {reason}" in err
    assert (tmp_path / "app.py").read_text() == source


def test_a_loop_gets_idle_first_or_every_hundred_iterations_where_it_counts(tmp_path, run):
    text, _ = fixed_text(tmp_path, run, """\
@app.route("/a", methods=["POST"])
def a(rows):
    with open("/tmp/a", "w") as fh:
        for row in rows:  # each row
            if not row:
                continue
            fh.write(row)
        n = 0
        for row in rows:
            n += 1
            fh.write(row)
        for i, row in enumerate(rows): fh.write(row)
""")
    assert """\
        for row in rows:  # each row
            gevent.idle()
            if not row:
                continue
            fh.write(row)
        n = 0
        for row in rows:
            if n % 100 == 0:
                gevent.idle()
            n += 1
            fh.write(row)
        for i, row in enumerate(rows):
            if i % 100 == 0:
                gevent.idle()
            fh.write(row)
""" in text


def test_an_ineffective_sleep_becomes_idle_with_the_modules_own_import(tmp_path, run):
    head = HEAD.replace("import json\n", "import json\nfrom gevent import idle, sleep\n")
    text, _ = fixed_text(tmp_path, run, """\
@app.route("/a", methods=["POST"])
def a(rows):
    with open("/tmp/a", "w") as fh:
        for row in rows:
            fh.write(row)
            sleep(0)  # let others run
""", head=head)
    assert "            fh.write(row)\n            idle()  # let others run\n" in text
    assert "import gevent\n" not in text and "sleep(0)" not in text


def test_both_rules_in_one_file_are_fixed_in_one_run(tmp_path, run):
    text, _ = fixed_text(tmp_path, run, """\
@app.route("/a", methods=["POST"])
def a(rows):
    with open("/tmp/a", "w") as fh:
        for row in rows:
            fh.write(row)
        fh.write("".join(rows))
""")
    assert text.count("import gevent\n") == 1
    assert "            gevent.idle()\n            fh.write(row)\n" in text
    assert 'gevent.get_hub().threadpool.apply(fh.write, ("".join(rows),))' in text


def test_a_refused_write_fix_does_not_stop_the_loop_fix_in_the_same_file(tmp_path, run):
    text, err = fixed_text(tmp_path, run, """\
@app.route("/a", methods=["POST"])
def a(rows):
    with open("/tmp/a", "w") as fh:
        fh.writelines(rows)
        for row in rows:
            fh.write(row)
""", "--strategy", "chunk")
    assert "GEV301 not fixed: the chunk strategy splits only `.write(data)` calls" in err
    assert "        fh.writelines(rows)\n        for row in rows:\n            gevent.idle()\n" in text


def test_a_count_kept_in_a_branch_is_not_the_loops_counter(tmp_path, run):
    text, _ = fixed_text(tmp_path, run, """\
@app.route("/a", methods=["POST"])
def a(rows):
    errors = 0
    with open("/tmp/a", "w") as fh:
        for row in rows:
            if not row:
                errors += 1
                continue
            fh.write(row)
""")
    assert "        for row in rows:\n            gevent.idle()\n            if not row:\n" in text
