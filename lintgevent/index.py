"""The project index: joins file summaries, resolves names across modules, evaluates descriptors.

Resolved values are tuples:
    ("func", (path, qualname))    a function or method of the project
    ("class", (path, qualname))   a class of the project
    ("obj", (path, qualname))     an instance of a project class
    ("module", path)              a module of the project
    ("super", (path, qualname))   `super()` in a method of that class: its bases' methods
    ("ext", "gzip.open()")        anything outside the project, as a catalog name (see catalog.toml)
    ("str", s) / ("strs", (...)) / ("const", v)   literals
    ("many", value)               a collection (list, tuple, set, dict values) whose elements are value
    ("any", (value, ...))         one of a few values: what different returns or callers give
    None                          unknown

The lattice is the union of the known values, at most MAX_ALTERNATIVES of them besides up to
MAX_CALLABLES functions and classes: an unknown alternative adds nothing (a call on it is not
judged), and more alternatives than that are unknown, so a helper called with everything is not
taken to be everything.
"""
from __future__ import annotations

import functools
import sys

from .catalog import Catalog
from .summary import ClassInfo, FileSummary, Function

STDLIB = frozenset(sys.stdlib_module_names)
# Names resolved through more aliases and re-exports than this are left unknown.
MAX_RESOLUTION_DEPTH = 64
CONTEXT_MANAGERS = frozenset({("ext", "contextlib.contextmanager")})
PROPERTIES = frozenset({("ext", "builtins.property"), ("ext", "functools.cached_property")})


MAX_ALTERNATIVES = 4
# Functions and classes are counted apart, up to a dispatch table's worth: what a call may run is
# each of them (`HANDLERS[command](...)`), where a receiver of many kinds is better left unknown.
MAX_CALLABLES = 32
CALLABLES = frozenset({"func", "class"})
# Methods of a collection that give one of its elements.
ELEMENT_GETTERS = frozenset({"get", "pop", "setdefault", "popitem", "__getitem__"})
NOTHING = ("const", None)


def join(values) -> tuple | None:
    """The union of values: one value, ("any", alternatives) for a few, None for none or too many.
    `None` the constant and calls on unknown receivers are no value."""
    members = set()
    for value in values:
        if value is None or value == NOTHING or (value[0] == "ext" and value[1].startswith("<unknown>.")):
            continue
        if value[0] == "any":
            members.update(value[1])
        else:
            members.add(value)
    if not members:
        return None
    callables = sum(1 for m in members if m[0] in CALLABLES)
    if len(members) - callables > MAX_ALTERNATIVES or callables > MAX_CALLABLES:
        return None
    if len(members) == 1:
        return members.pop()
    return ("any", tuple(sorted(members, key=repr)))


def alternatives(value) -> tuple:
    """The values a value may be: none for unknown."""
    if value is None:
        return ()
    return value[1] if value[0] == "any" else (value,)


def over_alternatives(method):
    """A method of one value, made to take a union too: applied to every alternative, joined."""
    @functools.wraps(method)
    def spread(self, value, *args):
        if value is not None and value[0] == "any":
            return join(method(self, member, *args) for member in value[1])
        return method(self, value, *args)
    return spread


def is_test_module(module: str) -> bool:
    """Test code by its module name: a `tests`/`test` package, `test_*`, `*_test` or `conftest`."""
    return any(part in ("tests", "test", "conftest") or part.startswith("test_") or part.endswith("_test")
               for part in module.split("."))


# What a call makes that works on the file it is given (summary.OPENS_ITS_FIRST_ARGUMENT, `fileobj=`).
MMAP = ("ext", "<mmap>")
FILE_WRAPPERS = frozenset({("ext", "<file>"), ("ext", "<archive>"), MMAP})


class RoundMemo(dict):
    """A memo of the index whose entries outlive a round of parameters (values.py) unless they
    rest on it: `bound` holds those keys.  A value rests on the round when computing it read the
    parameters, used an entry that does, or was cut short by a cycle (guarded)."""

    __slots__ = ("bound",)

    def __init__(self):
        super().__init__()
        self.bound: set = set()

    def forget_bound(self) -> None:
        for key in self.bound:
            self.pop(key, None)
        self.bound.clear()


class ProjectIndex:
    def __init__(self, summaries: list[FileSummary], roots: dict[str, str], catalog: Catalog):
        """`roots` maps each summary's path to its import root directory."""
        self.catalog = catalog
        self.files: dict[str, FileSummary] = {s.path: s for s in summaries}
        self.root_of = roots
        self.by_root: dict[str, dict[str, FileSummary]] = {}
        self.by_name: dict[str, list[FileSummary]] = {}
        # "pkg.mod.name" -> [(desc, file)] of `mod.name = ...` assignments made in other modules
        self.assigned: dict[str, list] = {}
        for s in summaries:
            self.by_root.setdefault(roots[s.path], {})[s.module] = s
            self.by_name.setdefault(s.module, []).append(s)
            if not is_test_module(s.module):  # tests wire fakes, not the program
                for dotted, desc in s.assigned.items():
                    self.assigned.setdefault(dotted, []).append((desc, s))
        self._global_memo = RoundMemo()
        self._method_memo = RoundMemo()  # (class key, name) -> find_method
        self._ancestor_memo: dict = {}  # asked once, by entry-point collection, before the rounds
        self._returns_memo = RoundMemo()
        self._attr_memo = RoundMemo()  # (class key, attribute) -> class_attr
        self._bases_memo = RoundMemo()  # class key -> bases
        self._property_memo = RoundMemo()
        self._called_memo = RoundMemo()  # (id of a call's callee descriptor, path) -> called
        self._round_memos = (self._global_memo, self._method_memo, self._returns_memo, self._attr_memo,
                             self._bases_memo, self._property_memo, self._called_memo)
        self._bound = False  # whether the value being computed so far rests on the round's parameters
        self._methods_by_name: dict | None = None
        self._subclasses: dict | None = None
        # what the callers pass: .get((path, function qualname, parameter)) (values.Parameters)
        self._parameters = None
        self._busy: set = set()
        self._depth = 0

    # -- lookups -----------------------------------------------------------------------------
    def function(self, key: tuple) -> Function | None:
        fs = self.files.get(key[0])
        return fs.functions.get(key[1]) if fs else None

    def class_info(self, key: tuple) -> ClassInfo | None:
        fs = self.files.get(key[0])
        return fs.classes.get(key[1]) if fs else None

    def find_module(self, name: str, root: str) -> FileSummary | None:
        found = self.by_root.get(root, {}).get(name)
        if found is not None:
            return found
        if name.split(".")[0] in STDLIB:
            return None
        candidates = self.by_name.get(name, ())
        return candidates[0] if len(candidates) == 1 else None

    # -- resolution --------------------------------------------------------------------------
    def resolve_global(self, dotted: str, root: str):
        key = (dotted, root)
        return self._remembered(self._global_memo, key,
                                lambda: self.guarded(key, lambda: self._resolve_global(dotted, root)))

    def _remembered(self, memo: RoundMemo, key, compute):
        """memo[key], computed the first time; noted as resting on the round when it does."""
        bound = memo.bound
        if key in memo:
            if key in bound:
                self._bound = True
            return memo[key]
        outer, self._bound = self._bound, False
        try:
            value = memo[key] = compute()
        finally:
            if self._bound:
                bound.add(key)
            else:
                bound.discard(key)
            self._bound |= outer
        return value

    def holds_every_round(self, compute) -> tuple:
        """(compute(), whether the value holds whatever the parameters: it does not rest on them)."""
        outer, self._bound = self._bound, False
        try:
            value = compute()
            return value, not self._bound
        finally:
            self._bound |= outer

    def rests_on_round(self) -> None:
        """Note that the value being computed rests on the round's parameters (it read a value
        worked out for this round only)."""
        self._bound = True

    @property
    def parameters(self):
        """The round's parameters; what reads them rests on the round."""
        self._bound = True
        return self._parameters

    def guarded(self, key: tuple, compute):
        """compute(), unless `key` is already being resolved further up (an import or alias cycle) or
        the chain of resolutions is too long to follow: then the value is unknown, and depends on
        the order of evaluation, so it is not kept past the round."""
        if key in self._busy or self._depth >= MAX_RESOLUTION_DEPTH:
            self._bound = True
            return None
        self._busy.add(key)
        self._depth += 1
        try:
            return compute()
        finally:
            self._busy.discard(key)
            self._depth -= 1

    def _resolve_global(self, dotted: str, root: str):
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            module = self.find_module(".".join(parts[:cut]), root)
            if module is not None:
                return self.resolve_in_module(module, parts[cut:])
        value = ("ext", parts[0])
        for part in parts[1:]:
            value = self.attr(value, part)
        return value

    def resolve_in_module(self, fs: FileSummary, rest: list[str]):
        if not rest:
            return ("module", fs.path)
        for cut in range(len(rest), 0, -1):
            qualname = ".".join(rest[:cut])
            if qualname in fs.functions:
                value = ("func", (fs.path, qualname))
            elif qualname in fs.classes:
                value = ("class", (fs.path, qualname))
            else:
                continue
            return self.attrs(value, rest[cut:])
        name = rest[0]
        root = self.root_of[fs.path]
        if name in fs.imports:
            return self.resolve_global(".".join([fs.imports[name], *rest[1:]]), root)
        elsewhere = self.assigned.get(f"{fs.module}.{name}" if fs.module else name)
        if name in fs.globals or elsewhere:
            value = self.guarded(("global", fs.path, name), lambda: self._module_global(fs, name, elsewhere))
            return self.attrs(value, rest[1:])
        if fs.is_package:
            sub = self.find_module(f"{fs.module}.{name}" if fs.module else name, root)
            if sub is not None:
                return self.resolve_in_module(sub, rest[1:])
        return None

    def _module_global(self, fs: FileSummary, name: str, elsewhere: list | None):
        """What a module global holds: its own assignments and annotation, and what other modules
        assign to it (`config.settings = Settings()`)."""
        own = self.evaluate(fs.globals.get(name), fs)
        if not elsewhere:
            return own
        return join([own, *(self.evaluate(desc, home) for desc, home in elsewhere)])

    def attrs(self, value, names: list[str]):
        for name in names:
            value = self.attr(value, name)
        return value

    @over_alternatives
    def attr(self, value, name: str):
        if value is None:
            return ("ext", "<unknown>." + name)
        kind = value[0]
        if kind == "many":
            return ("getter", value[1]) if name in ELEMENT_GETTERS else ("many", value[1])
        if kind == "ext":
            return ("ext", self.catalog.fold(f"{value[1]}.{name}"))
        if kind == "module":
            return self.resolve_in_module(self.files[value[1]], [name])
        if kind in ("class", "obj"):
            method = self.find_method(value[1], name)
            if method is not None:
                return self.returned(method) if kind == "obj" and self.is_property(method) else ("func", method)
            return self.class_attr(value[1], name)
        if kind == "super":  # the bases' method, in order
            for base in self.bases(value[1]):
                if base[0] == "class":
                    method = self.find_method(base[1], name)
                    if method is not None:
                        return ("func", method)
        return None

    def find_method(self, cls_key: tuple, name: str, depth: int = 0) -> tuple | None:
        return self._remembered(self._method_memo, (cls_key, name), lambda: self._find_method(cls_key, name, depth))

    def _find_method(self, cls_key: tuple, name: str, depth: int) -> tuple | None:
        if depth >= 20:  # a cycle of bases, or a chain too long: depends on where the search began
            self._bound = True
            return None
        info = self.class_info(cls_key)
        if info is None:
            return None
        if name in info.methods:
            return (cls_key[0], f"{info.qualname}.{name}")
        for base in self.bases(cls_key):  # a class made from a parameter has bases that rest on the round
            if base[0] == "class":
                found = self.find_method(base[1], name, depth + 1)
                if found:
                    return found
        return None

    def class_attr(self, cls_key: tuple, name: str):
        """A class attribute's (or `self.name = ...`'s) value: the class's own definition, else the
        first base's, in order, whose definition is known."""
        return self._remembered(self._attr_memo, (cls_key, name), lambda: self._class_attr(cls_key, name))

    def _class_attr(self, cls_key: tuple, name: str):
        for owner, desc in self.attr_definitions(cls_key, name):
            value = self.guarded(("attr", owner, name), lambda: self.evaluate(desc, self.files[owner[0]]))
            if value is not None or owner == cls_key:
                return value
        return None

    def attr_definitions(self, cls_key: tuple, name: str, depth: int = 0):
        """(class, descriptor) of the definitions of an attribute class_attr reads: the class's own,
        else each base's, depth first (a class that defines it hides its own bases')."""
        info = self.class_info(cls_key)
        if info is None or depth > 20:
            return
        if name in info.attrs:
            yield cls_key, info.attrs[name]
            return
        for base in self.bases(cls_key):
            if base[0] == "class":
                yield from self.attr_definitions(base[1], name, depth + 1)

    def bases(self, cls_key: tuple) -> list:
        info = self.class_info(cls_key)
        if info is None:
            return []
        fs = self.files[cls_key[0]]
        return self._remembered(self._bases_memo, cls_key,
                                lambda: [v for v in (self.evaluate(b, fs) for b in info.bases) if v is not None])

    def external_ancestors(self, cls_key: tuple) -> tuple[str, ...]:
        """The external names among a class's bases and theirs, its own first.  Memoised and
        iterative: a generated chain of 20,000 classes costs each class its own bases only."""
        memo = self._ancestor_memo
        stack, open_keys = [cls_key], set()
        while stack:
            key = stack[-1]
            if key in memo:
                stack.pop()
                continue
            bases = self.bases(key)
            pending = [b[1] for b in bases if b[0] == "class" and b[1] not in memo and b[1] not in open_keys]
            if pending and key not in open_keys:
                open_keys.add(key)
                stack.extend(pending)
                continue
            names = [b[1] for b in bases if b[0] == "ext"]
            for base in bases:
                if base[0] == "class":
                    names.extend(memo.get(base[1], ()))  # a cycle's open class adds nothing
            memo[key] = tuple(dict.fromkeys(names))
            open_keys.discard(key)
            stack.pop()
        return memo[cls_key]

    def called(self, call, fs: FileSummary):
        """The value of what a call (or a decorator) calls, for the calls that the rounds of
        values.solve ask about in every round: memoised by the descriptor's identity (a file shares
        its descriptors, summary.py) and kept from round to round unless it rests on the parameters.
        A single pass over every call of the project evaluates instead: the memo would hold them all."""
        desc = call.func
        return self._remembered(self._called_memo, (id(desc), fs.path), lambda: self.evaluate(desc, fs))

    def evaluate(self, desc, fs: FileSummary):
        """Resolve a summary descriptor, in the context of the file it comes from."""
        if desc is None:
            return None
        kind = desc[0]
        if kind == "ref":
            return self.resolve_global(desc[1], self.root_of[fs.path])
        if kind == "attr":
            return self.attr(self.evaluate(desc[1], fs), desc[2])
        if kind == "call":
            result = self.call_result(self.evaluate(desc[1], fs))
            if len(desc) == 3 and result in FILE_WRAPPERS:
                wrapped = self.evaluate(desc[2], fs)
                if result == MMAP:  # a descriptor, not a file object: only -1, anonymous memory, is no file
                    return ("ext", "<memfile>") if wrapped == ("const", -1) else result
                if wrapped and wrapped[0] == "ext" and wrapped[1].startswith("<") and wrapped[1] != "<file>":
                    return wrapped  # a file or archive over memory or a socket stays what it wraps
            return result
        if kind == "item" or kind == "div" or kind == "iter":
            return self.element(self.evaluate(desc[1], fs), kind)
        if kind == "items":
            return ("many", join(self.evaluate(d, fs) for d in desc[1]))
        if kind == "self":
            return ("obj", (fs.path, desc[1]))
        if kind == "cls":
            return ("class", (fs.path, desc[1]))
        if kind == "inst":
            return self.instance_of(self.evaluate(desc[1], fs))
        if kind == "param":  # what the callers pass, else what its annotation says
            passed = self.parameters.get((fs.path, desc[1], desc[2])) if self.parameters is not None else None
            return passed if passed is not None else self.evaluate(desc[3], fs)
        if kind == "enter":
            return self.entered(desc[1], fs)
        if kind == "super":
            return ("super", (fs.path, desc[1]))
        if kind == "partial":  # calling it calls the function it wraps
            return self.evaluate(desc[1], fs)
        if kind == "one_of":
            return join(self.evaluate(d, fs) for d in desc[1])
        if kind == "typed":  # `name: Annotation = value`: the value, else what the annotation says
            return join([self.evaluate(desc[1], fs)]) or self.evaluate(desc[2], fs)
        if kind == "prefixed":
            return self.prefixed(self.evaluate(desc[1], fs), desc[2])
        return desc  # literals

    @over_alternatives
    def prefixed(self, value, prefix: str):
        """The methods of a class or instance whose name starts with `prefix`, its own, its bases'
        (mixins) and its project subclasses': what name-based dispatch (`getattr(self, "do_" + command)`)
        may call, `self` being an instance of any of them."""
        if value is None or value[0] not in ("class", "obj"):
            return None
        found, todo, seen = set(), [(value[1], True), (value[1], False)], set()
        while todo:
            key, upwards = todo.pop()
            info = self.class_info(key)
            if info is None or (key, upwards) in seen:
                continue
            seen.add((key, upwards))
            found.update((key, n) for n in info.methods if n.startswith(prefix))
            if upwards:
                todo.extend((b[1], True) for b in self.bases(key) if b[0] == "class")
            else:
                todo.extend((sub, False) for sub in self.subclasses().get(key, ()))
        return join(self.attr((value[0], key), name) for key, name in sorted(found))

    def subclasses(self) -> dict[tuple, list[tuple]]:
        """Class key -> the project classes that name it as a base; built once, when first asked."""
        if self._subclasses is None:
            self._subclasses = {}
            for path, fs in self.files.items():
                for qualname in fs.classes:
                    for base in self.bases((path, qualname)):
                        if base[0] == "class":
                            self._subclasses.setdefault(base[1], []).append((path, qualname))
        return self._subclasses

    @over_alternatives
    def element(self, value, how: str):
        """`value[...]`, `value / ...` or an element of `for x in value`."""
        if value is None:
            return None
        if value[0] == "many":
            return None if how == "div" else value[1]
        if value[0] == "ext":
            return ("ext", self.catalog.fold(value[1] + ("/" if how == "div" else "[]")))
        return None

    def learn_parameters(self, parameters) -> None:
        """New parameter values: what was worked out from the old ones is forgotten."""
        self._parameters = parameters
        # A module global may be a call's result (`store = build(Disk)`), an attribute a parameter.
        for memo in self._round_memos:
            memo.forget_bound()
        self._subclasses = None

    def decorated_with(self, key: tuple, names) -> bool:
        """Whether a project function has a decorator that resolves to one of `names`."""
        function, home = self.function(key), self.files[key[0]]
        return function is not None and any(self.evaluate(d.func, home) in names for d in function.decorators)

    def is_property(self, key: tuple) -> bool:
        return self._remembered(self._property_memo, key, lambda: self.decorated_with(key, PROPERTIES))

    def entered(self, desc, fs: FileSummary):
        """What `with desc as name` binds: a project class's __enter__ result, a contextmanager's
        yield, or the value itself for everything else (files, locks and sockets give themselves)."""
        if desc[0] == "call":
            made = self.evaluate(desc[1], fs)
            if made is not None and made[0] == "func" and self.decorated_with(made[1], CONTEXT_MANAGERS):
                return join(self.evaluate(y, self.files[made[1][0]]) for y in self.function(made[1]).yields)
        return self._entered(self.evaluate(desc, fs))

    @over_alternatives
    def _entered(self, value):
        if value is not None and value[0] == "obj":
            enter = self.find_method(value[1], "__enter__")
            if enter is not None:
                return self.returned(enter)
        return value

    @over_alternatives
    def instance_of(self, value):
        """What an annotation names: an instance of a project class, or of an external type."""
        if value is None:
            return None
        if value[0] == "class":
            return ("obj", value[1])
        if value[0] == "ext":
            return ("ext", self.catalog.fold(value[1] + "()"))
        return None

    @over_alternatives
    def call_result(self, value):
        if value is None:
            return None
        kind = value[0]
        if kind == "func":
            return self.returned(value[1])
        if kind == "getter":  # `REGISTRY.get(kind)`: one of the elements
            return value[1]
        if kind == "many":  # another method of a collection (`handlers.copy()`): the collection
            return value
        return self.instance_of(value)

    def returned(self, key: tuple):
        """What calling a project function gives: the union of what its `return`s give, else its
        return annotation."""
        function = self.function(key)
        if function is None:
            return None
        home = self.files[key[0]]
        return self._remembered(self._returns_memo, key,
                                lambda: self.guarded(("returns", key), lambda: self._returned(function, home)))

    def _returned(self, function: Function, fs: FileSummary):
        value = join(self.evaluate(desc, fs) for desc in function.returns)
        return value if value is not None else self.evaluate(function.return_annotation, fs)

    @over_alternatives
    def callee(self, value):
        """What calling a value runs: a project function, a class, or a catalog name (or a few of them)."""
        if value is None:
            return None
        if value[0] == "class":
            init = self.find_method(value[1], "__init__")
            return ("func", init) if init else value
        if value[0] == "obj":
            method = self.find_method(value[1], "__call__")
            return ("func", method) if method else None
        return value

    def methods_named(self, name: str) -> tuple:
        """The methods of that name of the project's classes outside tests."""
        if self._methods_by_name is None:
            by_name: dict = {}
            for fs in self.files.values():
                if not is_test_module(fs.module):
                    for info in fs.classes.values():
                        for method in info.methods:
                            by_name.setdefault(method, []).append((fs.path, f"{info.qualname}.{method}"))
            self._methods_by_name = {n: tuple(keys) for n, keys in by_name.items()}
        return self._methods_by_name.get(name, ())

    def nested_functions(self, key: tuple) -> list[tuple]:
        """Functions defined inside a function, at any depth (a decorator's wrappers)."""
        out, todo = [], [key]
        while todo:
            function = self.function(todo.pop())
            if function is None:
                continue
            for qualname in function.nested:
                child = (key[0], qualname)
                out.append(child)
                todo.append(child)
        return out
