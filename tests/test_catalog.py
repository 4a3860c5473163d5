"""The catalog is data: check that it is coherent, so a typo cannot silently switch a rule off."""
import re

from lintgevent.catalog import SEVERITIES, load_catalog
from lintgevent.checks.blocking import argument_holds
from lintgevent.deployment import PATCH_ALL_DEFAULTS, Deployment
from lintgevent.rules import RULES

CATALOG = load_catalog()
TAG = re.compile(r"^<[a-z0-9_]+>")


ENTRIES = [entry for entries in CATALOG.calls.values() for entry in entries]


def test_every_entry_names_a_known_rule_a_valid_condition_a_severity_and_a_reason():
    for entry in ENTRIES:
        pattern = entry.pattern
        assert entry.code in RULES, pattern
        assert len(entry.why) > 30, pattern
        assert entry.severity in SEVERITIES, pattern
        for condition in entry.blocks.split("|"):
            kind, _, what = condition.partition(":")
            assert condition in ("always", "never") or (kind == "unpatched" and what in PATCH_ALL_DEFAULTS) \
                or (kind in ("unless", "if") and hasattr(Deployment(), what)), pattern
        assert entry.when.partition(":")[0] in ("", "path_arg", "file_arg", "arg0_is", "literal_read",
                                                 "keyword_is"), pattern


def test_a_pattern_has_at_most_one_entry_without_a_condition_and_it_comes_last():
    for pattern, entries in CATALOG.calls.items():
        conditional = [bool(e.when) for e in entries]
        assert conditional == sorted(conditional, reverse=True) and conditional.count(False) <= 1, pattern


def test_descriptors_conditions_and_readiness():
    assert [e.code for e in CATALOG.entries("os.read")] == ["GEV105", "GEV104", "GEV101"]
    assert CATALOG.blocking("os.read").code == "GEV101"
    assert CATALOG.fold("os.pipe()[]") == "<pipefd>" and CATALOG.fold("<socket>.fileno()") == "<sockfd>"
    assert CATALOG.readiness["select.select"].descriptors == (0, 1, 2)
    assert CATALOG.readiness["os.set_blocking"].requires == ((1, ("const", False)),)
    assert CATALOG.yields_iterating["<response>.iter_content()"] == "socket"


def test_every_tag_a_pattern_uses_is_produced_by_the_types_table():
    produced = set(CATALOG.types.values()) | {"<unknown>"}
    patterns = [*CATALOG.calls, *CATALOG.runners, *CATALOG.types, *CATALOG.readiness, *CATALOG.yields_iterating]
    used = {TAG.match(p).group() for p in patterns if TAG.match(p)}
    assert used <= produced, used - produced


def test_every_blocking_call_rule_has_catalog_entries():
    codes = {entry.code for entry in ENTRIES}
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
