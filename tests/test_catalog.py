"""The catalog is data: check that it is coherent, so a typo cannot silently switch a rule off."""
import re

from lintgevent.catalog import load_catalog
from lintgevent.checks.blocking import argument_holds
from lintgevent.deployment import PATCH_ALL_DEFAULTS, Deployment
from lintgevent.rules import RULES

CATALOG = load_catalog()
TAG = re.compile(r"^<[a-z0-9_]+>")


def test_every_entry_names_a_known_rule_a_valid_condition_and_a_reason():
    for pattern, entry in CATALOG.calls.items():
        assert entry.code in RULES, pattern
        assert len(entry.why) > 30, pattern
        kind, _, what = entry.blocks.partition(":")
        assert entry.blocks in ("always", "never") or (kind == "unpatched" and what in PATCH_ALL_DEFAULTS) \
            or (kind == "unless" and hasattr(Deployment(), what)), pattern
        assert entry.when.partition(":")[0] in ("", "path_arg", "file_arg", "arg0_is"), pattern


def test_every_tag_a_pattern_uses_is_produced_by_the_types_table():
    produced = set(CATALOG.types.values()) | {"<unknown>"}
    used = {TAG.match(p).group() for p in [*CATALOG.calls, *CATALOG.runners, *CATALOG.types] if TAG.match(p)}
    assert used <= produced, used - produced


def test_every_blocking_call_rule_has_catalog_entries():
    codes = {entry.code for entry in CATALOG.calls.values()}
    assert codes == {code for code in RULES if code.startswith("GEV1")}


def test_handle_tags_and_context_names_are_known():
    produced = set(CATALOG.types.values())
    assert CATALOG.handle_tags <= produced, CATALOG.handle_tags - produced
    assert set(CATALOG.context.values()) == {"request", "app"}
    assert CATALOG.context["flask.request"] == "request" and CATALOG.context["flask.g"] == "app"
    waiting = {p for p, r in CATALOG.runners.items() if r.waits}
    assert waiting == {"<gpool>.apply", "<gpool>.map", "<gpool>.imap", "<gpool>.imap_unordered"}


def test_folding_and_wildcards():
    assert CATALOG.fold("gzip.open()") == "<file>"
    assert CATALOG.fold("<mysqldb>.cursor()") == "<mysqldb>"
    assert CATALOG.fold("<file>.name") == "<file>.name"
    assert CATALOG.blocking("<mysqldb>.execute").code == "GEV103"
    assert CATALOG.blocking("zmq.green.Context").blocks == "never"
    assert CATALOG.blocking("zmq.Context").blocks == "always"
    assert CATALOG.blocking("os.path.join") is None


def test_deployment_conditions():
    patched = Deployment(uses_gevent=True)
    patched.patch_all({"subprocess": False})
    assert patched.blocks("unpatched:subprocess") and not patched.blocks("unpatched:time")
    assert patched.blocks("unless:psycogreen")
    patched.psycogreen = True
    assert not patched.blocks("unless:psycogreen")
    assert argument_holds("", None, None, None)
