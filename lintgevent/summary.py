"""Per-file summaries: one iterative walk of a module's AST into plain, cacheable data.

A summary holds what the project index needs and nothing else: imports, definitions, and every
call site with a *descriptor* of its callee and arguments.  Descriptors are nested tuples that the
index later resolves across modules:

    ("ref", "pkg.mod.name")   a global name, imports already expanded
    ("attr", desc, "name")    attribute of something that is not a plain dotted name
    ("call", desc)            result of calling desc
    ("call", desc, wrapped)   result of calling desc with `fileobj=wrapped`
    ("item", desc)            desc[...]
    ("div", desc)             desc / ...   (pathlib joins)
    ("self", "Class")         the instance inside a method of Class (qualname in this module)
    ("cls", "Class")          the class itself inside a classmethod
    ("str", "text")           a string literal
    ("strs", ("a", "b"))      a list or tuple of string literals
    ("const", value)          True, False, None or a number
    ("inst", desc)            an instance of what desc names: an annotation (`store: Store`, `-> Path`)
    ("param", "f", "name", a) parameter `name` of function `f` (qualname in this module), with the
                              ("inst", desc) of its annotation or None: what it is when no caller tells
    ("enter", desc)           what `with desc as name` binds: what entering the context manager gives
    ("super", "Class")        `super()` inside a method of Class
    ("partial", desc)         `functools.partial(desc, ...)`: calling it calls desc
    ("items", (desc, ...))    a list, tuple, set or dict literal: its elements (a dict's values)
    ("iter", desc)            an element of `for name in desc`
    ("typed", desc, a)        `name: A = desc`: desc, or what the annotation a (an "inst") says
    ("prefixed", desc, "p")   `getattr(desc, "p" + name)`: any attribute of desc whose name starts with p
    ("one_of", (desc, ...))   what a name assigned in several places (branches, methods) may hold
    None                      unknown
"""
from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field, fields
from operator import attrgetter

from .catalog import load_catalog
from .handles import RELEASE_HINTS, class_wrapped_attrs, function_escapes, parameters, wrapper_injection
from .branches import call_guards, tested_names
from .opened import opened_files
from .readiness import readied_calls
from .syntax import callee_text, child_nodes
from .writes import GROW_METHODS, WRITE_HINTS, function_writes, grown_attributes, passing_calls

Desc = tuple | None

# Descriptor chains longer than this are folded to "unknown": keeps the index's resolution shallow.
MAX_CHAIN = 40
# describe's steps that are not attribute names: a call, a subscript, a `/`.
STEP_KINDS = ("call", "item", "div")
BINDING_STATEMENTS = frozenset({ast.Assign, ast.AnnAssign, ast.If, ast.With, ast.AsyncWith, ast.For,
                                ast.AsyncFor, ast.Try})
# Builtins that give a collection of the same elements as their argument.
SAME_COLLECTION = frozenset({"list", "tuple", "set", "frozenset", "sorted", "reversed", "iter"})
# Methods that add their argument to a collection, or each element of it.
ADDS_ELEMENTS = frozenset({"extend", "update"})
# A collection literal with more distinct elements than this is not described (a table of data).
MAX_ITEMS = 32
# An `if` in a function with more locals than this keeps the last assignment of a name, not both
# branches' (copying the locals at every `if` of a huge generated function would cost too much).
MAX_BRANCH_LOCALS = 256
# `os.environ.get(name, default)`, `os.getenv(name, default)`: what a deployment runs unless told otherwise.
ENVIRONMENT_GETTERS = frozenset({("ref", "os.environ.get"), ("ref", "os.getenv")})
BUILTIN_NAMES = frozenset(dir(builtins))
# `if` tests that may be tests of a parameter (branches.py reads them).
SIMPLE_TESTS = frozenset({ast.Name, ast.UnaryOp, ast.Compare, ast.BoolOp})
# Callees that work on the file (or descriptor) given as their first argument: what they make is
# judged by it (a ZipFile over a BytesIO does no disk IO; see ProjectIndex.evaluate).
OPENS_ITS_FIRST_ARGUMENT = frozenset({"ZipFile", "TarFile", "mmap"})
# Calls that import a module named by a string: `importlib.import_module(name)`, `__import__(name)`.
LOAD_HINTS = frozenset({"import_module", "__import__"})


def pickled_as_fields(cls: type) -> type:
    """Pickle a dataclass as its class and the tuple of its fields: summaries come from worker
    processes by pickle, and the default (a dict of slot names per object) is a quarter larger and
    half again as slow to load, in the parent, which is the one process that cannot wait."""
    values = attrgetter(*(f.name for f in fields(cls)))

    def __reduce__(self):
        return cls, values(self)

    cls.__reduce__ = __reduce__
    return cls


@pickled_as_fields
@dataclass(slots=True)
class Call:
    line: int
    col: int
    func: Desc
    args: tuple
    kwargs: tuple  # ((name, desc), ...)
    text: str  # the callee as written, e.g. "gzip.open" or "self.pool.spawn"
    hint: str  # the callee's last name, for cheap filtering ("open", "spawn", "route")
    parent: int  # index (in the same list) of the call whose arguments hold this one, or -1
    bare: bool = False  # a decorator used without a call: `@login_required`

    def keyword(self, name: str) -> Desc:
        return next((desc for keyword, desc in self.kwargs if keyword == name), None)

    def arg(self, index: int, keyword: str | None = None) -> Desc:
        """The argument passed by keyword, else the one at that position."""
        if keyword:
            for name, desc in self.kwargs:
                if name == keyword:
                    return desc
        return self.args[index] if 0 <= index < len(self.args) else None


@pickled_as_fields
@dataclass(slots=True)
class Function:
    qualname: str
    line: int
    col: int
    params: tuple
    cls: str  # qualname of the class it is a method of, or ""
    decorators: tuple = ()  # (Call, ...)
    calls: tuple = ()  # (Call, ...)
    nested: tuple = ()  # qualnames of functions defined directly inside
    context_reads: tuple = ()  # ((line, col, dotted), ...): Flask context names read
    writes: tuple = ()  # (Write, ...): calls that may write a file, with their data's size (writes.py)
    loops: tuple = ()  # (Loop, ...): loops whose body holds such a call
    passes: tuple = ()  # (Passed, ...): sizes its calls pass to what may be project functions (writes.py)
    returns: tuple = ()  # (desc, ...) of its `return` statements' values
    yields: tuple = ()  # (desc, ...) of its `yield` values (a contextmanager's target)
    return_annotation: Desc = None  # ("inst", desc) of `-> X`
    defaults: tuple = ()  # ((parameter, desc), ...): what a parameter is when a call leaves it out
    readied: tuple = ()  # ((readiness call, argument, later call), ...): see readiness.py
    guards: tuple = ()  # ((call, ((parameter, op, operand, outcome), ...)), ...): see branches.py
    opened: tuple = ()  # ((opening call, (calls using the file, ...)), ...): see opened.py
    star: str = ""  # the name of `*args`, if any
    double_star: str = ""  # the name of `**kwargs`, if any


@pickled_as_fields
@dataclass(slots=True)
class ClassInfo:
    qualname: str
    line: int
    bases: tuple  # (desc, ...)
    methods: set = field(default_factory=set)
    attrs: dict = field(default_factory=dict)  # name -> desc, from class body and self.x = ...
    decorators: tuple = ()  # (Call, ...): `@ns.route("/items")` on a resource class


@pickled_as_fields
@dataclass(slots=True)
class FileSummary:
    path: str
    module: str
    is_package: bool
    functions: dict = field(default_factory=dict)  # qualname -> Function
    classes: dict = field(default_factory=dict)  # qualname -> ClassInfo
    imports: dict = field(default_factory=dict)  # module-level alias -> dotted name
    globals: dict = field(default_factory=dict)  # module-level assigned name -> desc
    module_calls: tuple = ()  # calls run at import time
    import_lines: tuple = ()  # ((line, module, (names...), is_from), ...) at module level
    imports_gevent: bool = False
    injectors: dict = field(default_factory=dict)  # decorator (function or class) qualname -> Injection
    escapes: dict = field(default_factory=dict)  # function qualname -> Escapes (see handles.py)
    assigned: dict = field(default_factory=dict)  # "pkg.mod.name" -> desc of `mod.name = ...` here
    main_blocks: tuple = ()  # ((first line, last line), ...) of `if __name__ == "__main__":`
    imported: tuple = ()  # every module an import statement names, anywhere in the file, sorted
    # modules loaded by name: ((name or prefix, exact), ...) of `importlib.import_module(...)`/`__import__(...)`
    loads: tuple = ()

    def all_calls(self):
        """Every call site: import-time calls, then each function's."""
        yield from self.module_calls
        for function in self.functions.values():
            yield from function.calls


def _too_deep(desc: Desc) -> bool:
    """Descriptors nest through local variables (`x = x.next()` ten thousand times): the deep ones
    are bound as unknown, so the index, the cache and pickle never recurse far.  A descriptor that
    is not bound is at most one expression deeper than the names it reads, which the parser bounds."""
    stack = [(desc, 1)] if desc is not None else []
    while stack:
        current, depth = stack.pop()
        if depth > MAX_CHAIN:
            return True
        for part in current[1:]:
            if type(part) is tuple and part:
                if type(part[0]) is str:
                    stack.append((part, depth + 1))  # a descriptor
                else:
                    stack.extend((d, depth + 1) for d in part if type(d) is tuple)  # elements
    return False


def one_of(old: Desc, new: Desc) -> Desc:
    """Both values a name may hold ("one_of", ...); unknown adds nothing, too many are unknown."""
    members = [m for d in (old, new) if d is not None for m in (d[1] if d[0] == "one_of" else (d,))]
    members = tuple(dict.fromkeys(members))
    if len(members) <= 1:
        return members[0] if members else None
    return ("one_of", members) if len(members) <= MAX_ITEMS else None


def _binds_names(node: ast.If) -> bool:
    """Whether a branch of an `if` assigns a name itself (or in an `elif`, a `with`, a loop): the
    only `if`s whose branches need joining."""
    return any(type(stmt) in BINDING_STATEMENTS for stmt in node.body) or \
        any(type(stmt) in BINDING_STATEMENTS for stmt in node.orelse)


def _string_prefix(node: ast.AST) -> tuple[str, bool]:
    """(the string, True) for a literal, (its literal beginning, False) for a string built from one."""
    kind = type(node)
    if kind is ast.Constant and isinstance(node.value, str):
        return node.value, True
    if kind is ast.JoinedStr:
        prefix = ""
        for part in node.values:
            if type(part) is not ast.Constant:
                break
            prefix += part.value
        return prefix, False
    if kind is ast.BinOp and type(node.op) is ast.Add:
        return _string_prefix(node.left)[0], False
    if kind is ast.BinOp and type(node.op) is ast.Mod and type(node.left) is ast.Constant \
            and isinstance(node.left.value, str):
        return node.left.value.split("%", 1)[0], False
    if kind is ast.Call and type(node.func) is ast.Attribute and node.func.attr == "format" \
            and type(node.func.value) is ast.Constant and isinstance(node.func.value.value, str):
        return node.func.value.value.split("{", 1)[0], False
    return "", False


def _is_main_test(test: ast.AST) -> bool:
    """`__name__ == "__main__"`, either way round."""
    if type(test) is not ast.Compare or len(test.ops) != 1 or type(test.ops[0]) is not ast.Eq:
        return False
    sides = {type(test.left), type(test.comparators[0])}
    names = [s.id for s in (test.left, test.comparators[0]) if type(s) is ast.Name]
    values = [s.value for s in (test.left, test.comparators[0]) if type(s) is ast.Constant]
    return sides == {ast.Name, ast.Constant} and names == ["__name__"] and values == ["__main__"]


def _last_name(node: ast.AST) -> str:
    """`name` of `name` or `anything.name`, "" for anything else."""
    return node.id if type(node) is ast.Name else node.attr if type(node) is ast.Attribute else ""


def _named(node: ast.AST, name: str) -> bool:
    """`name` or `anything.name`, without walking the chain."""
    return _last_name(node) == name


class _Bind:
    """A deferred assignment on the walk's stack: bind the targets once the value was walked.
    `annotation` is the target's declared type, for an annotated assignment."""

    __slots__ = ("targets", "value", "annotation", "through")

    def __init__(self, targets: list, value: ast.AST | None, annotation: ast.AST | None = None,
                 through: str = ""):
        self.targets = targets
        self.value = value
        self.annotation = annotation
        # "enter": `with value as target`, the target is what entering gives; "iter": `for target in value`
        self.through = through


class _Return:
    """A deferred `return value` (or `yield value`), described once the value's own calls were walked."""

    __slots__ = ("value", "into")

    def __init__(self, value: ast.AST, into: str):
        self.value = value
        self.into = into  # "returns" or "yields"


class _Branch:
    """A step of a function's `if`: "start" after the test, "switch" between the branches, "join"
    after both, when the names each branch bound become one_of what either bound."""

    __slots__ = ("step", "state")

    def __init__(self, step: str, state: list):
        self.step = step
        self.state = state  # [locals before the branches, locals after the first branch]


class _Enter:
    """A deferred `with` item: calls to the context manager's __enter__ and __exit__, recorded once
    the context expression was walked."""

    __slots__ = ("item",)

    def __init__(self, item: ast.withitem):
        self.item = item


# The nodes the walk has a branch of its own for; every other one only has its children walked.
WALKED_APART = frozenset({
    ast.Name, ast.Constant, ast.Attribute, ast.Call, _Bind, _Return, _Enter, _Branch, ast.If, ast.Return,
    ast.Yield, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
    ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.comprehension, ast.ListComp, ast.SetComp,
    ast.GeneratorExp, ast.DictComp, ast.Import, ast.ImportFrom})


class _Scope:
    """A function body, a class body or the module, while it is being walked."""

    __slots__ = ("kind", "qualname", "locals", "function", "cls", "calls", "parent")

    def __init__(self, kind: str, qualname: str, parent: _Scope | None, calls: list,
                 function: Function | None = None, cls: ClassInfo | None = None):
        self.kind = kind
        self.qualname = qualname
        self.parent = parent
        self.calls = calls
        self.function = function
        self.cls = cls
        self.locals: dict = {}


def relative_base(module: str, is_package: bool, level: int) -> str:
    """The package a `from .. import x` with this many dots refers to."""
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    return ".".join(parts)


class _Summariser:
    def __init__(self, path: str, module: str, is_package: bool):
        # Built in lists, frozen into tuples when the walk is done (_frozen).
        self.summary = FileSummary(path=path, module=module, is_package=is_package, module_calls=[],
                                   import_lines=[], main_blocks=[], imported=[], loads=[])
        self.module = module
        self.is_package = is_package
        catalog = load_catalog()
        self.context_names = catalog.context
        self.context_modules = frozenset(name.rsplit(".", 1)[0] for name in catalog.context)
        self.greenlet_hints = catalog.greenlet_hints
        self.context_aliases: set[str] = set()  # local names bound to Flask's context names or modules
        self.nodes: dict = {}  # function qualname -> (node, enclosing function qualname or "", is_method)
        self.class_nodes: dict = {}
        self.binds_with: set[str] = set()  # functions with a `with ... as name`
        self.bound_globals: set[str] = set()  # module globals assigned so far (not just prescanned)
        self.augmented: list = []  # [(function qualname, class qualname, attribute)] of `self.x += ...`
        self.self_names: dict[str, str] = {}  # method qualname -> its instance parameter (`self`)
        self.call_nodes: dict = {}  # id(Call) -> its ast.Call, for the sizes of arguments (writes.py)
        self.branching: set = set()  # functions with an `if` that may test a parameter (branches.py)
        self.iterables: dict = {}  # (line, col) of a function's `for` -> the desc of what it iterates (writes.py)
        # (function qualname, name) -> the expressions `name = ...` assigns in it, and the
        # statements that grow it (`name += ...`, `name.append(...)`), for writes.py
        self.assigned_values: dict[tuple[str, str], list] = {}
        # Descriptors made once per file and shared by every place that has them: the summaries of a
        # whole project are held at once, and most of them are the same few names and chains.
        self.refs: dict[str, tuple] = {}  # dotted name -> ("ref", dotted name)
        self.steps: dict[tuple, tuple] = {}  # (id of a descriptor, step) -> the descriptor one step on
        self.texts: dict[str, str] = {}  # the callees as written
        self.literals: dict[tuple, tuple] = {}  # (type, value) -> ("str", value) or ("const", value)

    # -- names -------------------------------------------------------------------------------
    def _global_ref(self, name: str) -> str:
        return f"{self.module}.{name}" if self.module else name

    def ref(self, dotted: str) -> Desc:
        desc = self.refs.get(dotted)
        if desc is None:
            desc = self.refs[dotted] = ("ref", dotted)
        return desc

    def step(self, desc: Desc, step) -> Desc:
        """("attr", desc, name), ("call", desc), ("item", desc) or ("div", desc) for a step of
        describe's: an attribute name or 0, 1, 2.  Keyed by the descriptor's identity (which the
        table keeps alive), never by equality: (1,) == (True,)."""
        key = (id(desc), step)
        found = self.steps.get(key)
        if found is None:
            found = self.steps[key] = ("attr", desc, step) if type(step) is str else (STEP_KINDS[step], desc)
        return found

    def literal(self, value: str | bool | int | float | None) -> Desc:
        """("str", value) or ("const", value), keyed by type and value: 1 == 1.0 == True."""
        key = (type(value), value)
        desc = self.literals.get(key)
        if desc is None:
            desc = self.literals[key] = ("str" if type(value) is str else "const", value)
        return desc

    def lookup(self, name: str, scope: _Scope) -> Desc:
        s = scope
        while s is not None:
            if s.kind != "class" or s is scope:
                if name in s.locals:
                    return s.locals[name]
            s = s.parent
        summary = self.summary
        if name in summary.imports:
            return self.ref(summary.imports[name])
        if name in summary.functions or name in summary.classes or name in summary.globals:
            return self.ref(self._global_ref(name))
        if name in BUILTIN_NAMES:
            return self.ref("builtins." + name)
        return None

    def describe(self, node: ast.AST, scope: _Scope) -> Desc:
        if type(node) is ast.Name:  # the commonest case
            return self.lookup(node.id, scope)
        steps = []
        base = None  # a descriptor the walk ended on by itself (a partial)
        while True:
            kind = type(node)
            if kind is ast.Attribute:
                steps.append(node.attr)
                node = node.value
            elif kind is ast.Call:
                func, args = node.func, node.args
                if args and _named(func, "partial") and self.describe(func, scope) == ("ref", "functools.partial"):
                    base = ("partial", self.describe(args[0], scope))
                    break
                if len(args) == 2 and type(args[1]) is ast.Constant and (_named(func, "get") or _named(func, "getenv")) \
                        and self.describe(func, scope) in ENVIRONMENT_GETTERS:
                    base = self.describe(args[1], scope)  # a setting read from the environment: its default
                    break
                if len(args) >= 2 and type(func) is ast.Name and func.id == "getattr" \
                        and self.lookup("getattr", scope) == ("ref", "builtins.getattr"):
                    name, exact = _string_prefix(args[1])
                    if name:  # `getattr(self, "do_" + command)`: each method named so
                        base = ("attr" if exact else "prefixed", self.describe(args[0], scope), name)
                        break
                if len(args) == 1 and type(func) is ast.Name and func.id in SAME_COLLECTION and not node.keywords \
                        and self.lookup(func.id, scope) == ("ref", "builtins." + func.id):
                    node = args[0]  # `list(handlers)`: the same elements
                    continue
                wrapped = next((k.value for k in node.keywords if k.arg == "fileobj"), None) if node.keywords else None
                if wrapped is None and args and _last_name(func) in OPENS_ITS_FIRST_ARGUMENT:
                    wrapped = args[0]  # ZipFile(buf) / mmap(fileno): the file it works on
                steps.append(0 if wrapped is None else ("fileobj", self.describe(wrapped, scope)))
                node = func
            elif kind is ast.Subscript:
                steps.append(1)
                node = node.value
            elif kind is ast.BinOp and type(node.op) is ast.Div:
                steps.append(2)
                node = node.left
            elif kind is ast.NamedExpr:
                node = node.value
            else:
                break
            if len(steps) > MAX_CHAIN:
                return None
        kind = type(node)
        if base is not None:
            desc = base
        elif kind is ast.Name:
            desc = self.lookup(node.id, scope)
        elif kind is ast.Constant:
            value = node.value
            if isinstance(value, str) or value is None or isinstance(value, (bool, int, float)):
                desc = self.literal(value)
            else:
                desc = None
        elif kind in (ast.List, ast.Tuple, ast.Set):
            values = [e.value for e in node.elts if type(e) is ast.Constant and isinstance(e.value, str)]
            desc = ("strs", tuple(values)) if len(values) == len(node.elts) else self.items(node.elts, scope)
        elif kind is ast.Dict:
            desc = self.items(node.values, scope)
        elif kind is ast.JoinedStr:
            desc = ("str", "")
        elif kind is ast.UnaryOp and type(node.op) is ast.USub and type(node.operand) is ast.Constant \
                and type(node.operand.value) in (int, float):
            desc = ("const", -node.operand.value)
        else:
            desc = None
        if desc == ("ref", "builtins.super") and steps and steps[-1] == 0 and scope.function is not None \
                and scope.function.cls:
            desc = ("super", scope.function.cls)  # `super()` in a method: its class's bases
            steps.pop()
        for step in reversed(steps):
            if type(step) is str and desc is not None and desc[0] == "ref":
                desc = self.ref(desc[1] + "." + step)
            elif type(step) is str:
                desc = self.step(desc, step)
            elif desc is None:
                return None
            elif type(step) is tuple:  # a call wrapping an existing file object: gzip.GzipFile(fileobj=buf)
                desc = ("call", desc, step[1])
            else:
                desc = self.step(desc, step)
        return desc

    def items(self, elements: list, scope: _Scope) -> Desc:
        """("items", ...) for the known elements of a collection literal, when there are a few;
        literals among them are left out (a collection of strings or numbers holds no object)."""
        if len(elements) > 2 * MAX_ITEMS:
            return None
        kept = [e for e in elements if type(e) is not ast.Constant and type(e) is not ast.Starred]
        found = tuple(dict.fromkeys(d for d in (self.describe(e, scope) for e in kept) if d is not None))
        return ("items", found) if found and len(found) <= MAX_ITEMS else None

    def annotation(self, node: ast.AST | None, scope: _Scope, depth: int = 0) -> Desc:
        """("inst", desc) for a type annotation: `Store`, `Optional[Store]`, `Store | None`,
        `"Store"` (a string annotation); None for anything else (a union of several types...)."""
        if node is None or depth > 8:
            return None
        kind = type(node)
        if kind is ast.Constant and isinstance(node.value, str):
            try:
                parsed = ast.parse(node.value.strip(), mode="eval").body
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return None
            return self.annotation(parsed, scope, depth + 1)
        if kind is ast.BinOp and type(node.op) is ast.BitOr:
            sides = [s for s in (node.left, node.right) if not (type(s) is ast.Constant and s.value is None)]
            return self.annotation(sides[0], scope, depth + 1) if len(sides) == 1 else None
        if kind is ast.Subscript:
            outer = self.describe(node.value, scope)
            name = outer[1].rsplit(".", 1)[-1] if outer and outer[0] == "ref" else ""
            inner = node.slice
            if name == "Optional":
                return self.annotation(inner, scope, depth + 1)
            if name == "Union" and type(inner) is ast.Tuple:
                sides = [s for s in inner.elts if not (type(s) is ast.Constant and s.value is None)]
                return self.annotation(sides[0], scope, depth + 1) if len(sides) == 1 else None
            return None
        if kind is ast.Name or kind is ast.Attribute:
            desc = self.describe(node, scope)
            return ("inst", desc) if desc is not None and desc[0] == "ref" else None
        return None

    # -- records -----------------------------------------------------------------------------
    def make_call(self, node: ast.Call, scope: _Scope, parent: int) -> Call:
        text, hint = callee_text(node.func)
        text = self.texts.setdefault(text, text)
        if hint in LOAD_HINTS and node.args:
            loaded = self.loaded_name(node)
            if loaded is not None:
                self.summary.loads.append(loaded)
        describe = self.describe
        return Call(
            node.lineno, node.col_offset, describe(node.func, scope),
            tuple([None if type(a) is ast.Starred else describe(a, scope) for a in node.args]) if node.args else (),
            # `**mapping` is ("**", None): what it gives is not known
            tuple([(k.arg, describe(k.value, scope)) if k.arg else ("**", None) for k in node.keywords])
            if node.keywords else (),
            text, hint, parent)

    def loaded_name(self, node: ast.Call) -> tuple[str, bool] | None:
        """(module, True) or (prefix of the modules, False) that `import_module(...)` loads, if written
        out: `"plugins." + name`, f"plugins.{name}", "plugins.%s" % name, "plugins.{}".format(name);
        relative to this module's package when it starts with a dot."""
        name, exact = _string_prefix(node.args[0])
        if not name:
            return None
        if name.startswith("."):
            level = len(name) - len(name.lstrip("."))
            base = relative_base(self.module, self.is_package, level)
            name = ".".join(p for p in (base, name[level:]) if p) + ("." if name.endswith(".") and base else "")
        return (name, exact) if name else None

    def decorator(self, node: ast.AST, scope: _Scope) -> Call:
        if type(node) is ast.Call:
            return self.make_call(node, scope, -1)
        text, hint = callee_text(node)
        return Call(node.lineno, node.col_offset, self.describe(node, scope), (), (), text, hint, -1, bare=True)

    def enter_and_exit(self, item: ast.withitem, scope: _Scope) -> None:
        """`with X(...)` runs X's __enter__ and __exit__: two calls at the context expression."""
        desc = self.describe(item.context_expr, scope)
        if desc is None:
            return
        node = item.context_expr
        text = callee_text(node)[0]
        for method in ("__enter__", "__exit__"):
            scope.calls.append(Call(node.lineno, node.col_offset, ("attr", desc, method), (), (),
                                    f"{text}.{method}", method, -1))

    def bind(self, target: ast.AST, desc: Desc, scope: _Scope) -> None:
        kind = type(target)
        if kind is ast.Name:
            if scope.kind == "module":
                name = target.id
                bound = self.bound_globals
                self.summary.globals[name] = one_of(self.summary.globals[name], desc) if name in bound else desc
                bound.add(name)
            elif scope.kind == "class":
                scope.cls.attrs[target.id] = one_of(scope.cls.attrs.get(target.id), desc)
            else:
                scope.locals[target.id] = desc
        elif kind is ast.Attribute and desc is not None:
            owner = self.describe(target.value, scope)
            if owner and owner[0] == "self":
                cls = self.summary.classes.get(owner[1])
                if cls is not None:
                    cls.attrs[target.attr] = one_of(cls.attrs.get(target.attr), desc)
            elif owner and owner[0] == "ref":  # `config.settings = Settings()`: another module's global
                assigned = self.summary.assigned
                dotted = f"{owner[1]}.{target.attr}"
                assigned[dotted] = one_of(assigned.get(dotted), desc)
        elif kind is ast.Subscript and desc is not None:  # `HANDLERS[name] = handler`
            self.grow(target.value, desc, scope)
        elif kind in (ast.Tuple, ast.List):
            # `r, w = os.pipe()`: each name is an element of what the call returns
            element = ("item", desc) if desc is not None and desc[0] == "call" else None
            for elt in target.elts:
                starred = type(elt) is ast.Starred
                self.bind(elt.value if starred else elt, None if starred else element, scope)

    def grow(self, collection: ast.AST, element: Desc, scope: _Scope) -> None:
        """An element added to a collection a name holds (`self.handlers.append(fn)`,
        `REGISTRY[name] = cls`): the collection may hold it too."""
        added = ("items", (element,))
        if _too_deep(added):
            return
        if type(collection) is ast.Name:
            desc = self.lookup(collection.id, scope)
            if collection.id in scope.locals and scope.kind == "function":
                scope.locals[collection.id] = one_of(desc, added)
            elif desc is not None and desc[0] == "ref" and desc[1] == self._global_ref(collection.id):
                assigned = self.summary.assigned  # a module global, grown at import time or in a function
                assigned[desc[1]] = one_of(assigned.get(desc[1]), added)
        elif type(collection) is ast.Attribute:
            owner = self.describe(collection.value, scope)
            if owner and owner[0] == "self" and owner[1] in self.summary.classes:
                attrs = self.summary.classes[owner[1]].attrs
                attrs[collection.attr] = one_of(attrs.get(collection.attr), added)

    def bind_import(self, node: ast.Import | ast.ImportFrom, scope: _Scope, record: bool = True) -> None:
        names = []
        if type(node) is ast.Import:
            for alias in node.names:
                if alias.name.split(".")[0] == "gevent":
                    self.summary.imports_gevent = True
                if alias.asname:
                    self.bind_name(alias.asname, alias.name, scope)
                else:
                    top = alias.name.split(".")[0]
                    self.bind_name(top, top, scope)
                names.append(alias.name)
            module = names[0]
            if record:
                self.summary.imported.extend(names)
        else:
            base = node.module or ""
            if node.level:
                prefix = relative_base(self.module, self.is_package, node.level)
                base = ".".join(p for p in (prefix, base) if p)
            if base.split(".")[0] == "gevent":
                self.summary.imports_gevent = True
            for alias in node.names:
                if alias.name == "*":
                    continue
                self.bind_name(alias.asname or alias.name, f"{base}.{alias.name}" if base else alias.name, scope)
                names.append(alias.name)
            module = base
            if record:  # `from pkg import mod` may import the submodule pkg.mod
                self.summary.imported.extend([base] * bool(base) + [f"{base}.{n}" if base else n for n in names])
        if record and scope.kind == "module":
            self.summary.import_lines.append((node.lineno, module, tuple(names), type(node) is ast.ImportFrom))

    def bind_name(self, name: str, dotted: str, scope: _Scope) -> None:
        if dotted in self.context_names or dotted in self.context_modules:
            self.context_aliases.add(name)
        if scope.kind == "module":
            self.summary.imports[name] = dotted
        elif scope.kind == "class":
            scope.cls.attrs[name] = ("ref", dotted)
        else:
            scope.locals[name] = ("ref", dotted)

    def define_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: _Scope) -> _Scope:
        qualname = f"{scope.qualname}.{node.name}" if scope.qualname else node.name
        cls = scope.cls.qualname if scope.kind == "class" else ""
        args = node.args
        params = tuple(a.arg for a in args.posonlyargs + args.args)
        # Decorators run in the enclosing scope, at definition time.
        function = Function(qualname, node.lineno, node.col_offset, params, cls,
                            [self.decorator(d, scope) for d in node.decorator_list],
                            calls=[], nested=[], context_reads=[], returns=[], yields=[])
        self.summary.functions[qualname] = function
        self.nodes[qualname] = (node, scope.qualname if scope.kind == "function" else "", bool(cls))
        ref = ("ref", self._global_ref(qualname))
        if scope.kind == "class":
            scope.cls.methods.add(node.name)
        elif scope.kind == "function":
            scope.function.nested.append(qualname)
            scope.locals[node.name] = ref
        inner = _Scope("function", qualname, scope, function.calls, function=function)
        if cls and params:
            kinds = {d.text for d in function.decorators}
            if "classmethod" in kinds:
                inner.locals[params[0]] = ("cls", cls)
            elif "staticmethod" not in kinds:
                inner.locals[params[0]] = ("self", cls)
                self.self_names[qualname] = params[0]
        positional = args.posonlyargs + args.args
        for a in positional[1 if cls and params else 0:] + args.kwonlyargs:
            inner.locals[a.arg] = ("param", qualname, a.arg, self.annotation(a.annotation, scope))
        defaults = zip(positional[len(positional) - len(args.defaults):], args.defaults)
        function.defaults = tuple((a.arg, self.describe(d, scope)) for a, d in
                                  [*defaults, *zip(args.kwonlyargs, args.kw_defaults)] if d is not None)
        for a, field_name in ((args.vararg, "star"), (args.kwarg, "double_star")):
            if a is not None:
                setattr(function, field_name, a.arg)
                inner.locals[a.arg] = ("param", qualname, a.arg, None)
        function.return_annotation = self.annotation(node.returns, scope)
        return inner

    def define_class(self, node: ast.ClassDef, scope: _Scope) -> _Scope:
        qualname = f"{scope.qualname}.{node.name}" if scope.qualname else node.name
        info = ClassInfo(qualname, node.lineno, tuple(self.describe(b, scope) for b in node.bases))
        info.decorators = tuple(self.decorator(d, scope) for d in node.decorator_list)
        self.summary.classes[qualname] = info
        self.class_nodes[qualname] = node
        if scope.kind == "function":
            scope.locals[node.name] = ("ref", self._global_ref(qualname))
        # Class bodies run at definition time: their calls belong to the enclosing scope.
        return _Scope("class", qualname, scope, scope.calls, cls=info)

    # -- the walk ----------------------------------------------------------------------------
    def prescan(self, tree: ast.Module, scope: _Scope) -> None:
        """Module-level names first, so functions can refer to names defined or imported below them."""
        for node in tree.body:
            kind = type(node)
            if kind is ast.Import or kind is ast.ImportFrom:
                self.bind_import(node, scope, record=False)
            elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
                self.summary.globals.setdefault(node.name, None)
            elif kind is ast.Assign:
                for target in node.targets:
                    if type(target) is ast.Name:
                        self.summary.globals.setdefault(target.id, None)
            elif kind is ast.If and _is_main_test(node.test):
                self.summary.main_blocks.append((node.lineno, node.end_lineno or node.lineno))

    def walk(self, tree: ast.Module) -> FileSummary:
        module_scope = _Scope("module", "", None, self.summary.module_calls)
        self.prescan(tree, module_scope)
        # Work items: (node or _Bind, scope, index of the call whose arguments hold the node).
        stack: list = [(stmt, module_scope, -1) for stmt in reversed(tree.body)]
        pop, push = stack.pop, stack.append
        context_aliases = self.context_aliases
        while stack:
            node, scope, parent = pop()
            kind = type(node)
            if kind is ast.Name:  # the commonest nodes first
                if node.id in context_aliases and scope.function is not None:
                    self.read_context(node, node.id, "", scope)
            elif kind is ast.Constant:
                continue
            elif kind not in WALKED_APART:  # an expression or a statement with nothing of its own to record
                for child in reversed(child_nodes(node)):
                    if type(child) is not ast.Constant:  # a literal has nothing to walk
                        push((child, scope, parent))
            elif kind is ast.Attribute:
                value = node.value
                if type(value) is ast.Name and value.id in context_aliases:
                    if scope.function is not None:
                        self.read_context(node, value.id, node.attr, scope)
                else:
                    push((value, scope, parent))
            elif kind is ast.Call:
                calls = scope.calls
                index = len(calls)
                calls.append(self.make_call(node, scope, parent))
                self.call_nodes[id(calls[-1])] = node
                func = node.func
                if type(func) is ast.Attribute and func.attr in GROW_METHODS:
                    if scope.kind == "function" and type(func.value) is ast.Name:
                        self.assigned_values.setdefault((scope.qualname, func.value.id), []).append(node)
                    if len(node.args) == 1 + (func.attr == "insert"):
                        element = self.describe(node.args[-1], scope)
                        if element is not None:
                            self.grow(func.value, ("iter", element) if func.attr in ADDS_ELEMENTS else element, scope)
                for child in reversed(node.keywords):
                    push((child.value, scope, index))
                for child in reversed(node.args):
                    if type(child) is not ast.Constant:
                        push((child, scope, index))
                push((node.func, scope, parent))
            elif kind is _Bind:  # after the value's own calls were walked
                desc = self.describe(node.value, scope) if node.value is not None else None
                declared = self.annotation(node.annotation, scope) if node.annotation is not None else None
                if declared is not None:
                    desc = ("typed", desc, declared) if desc is not None else declared
                if node.through and desc is not None:
                    desc = (node.through, desc)
                if desc is not None and _too_deep(desc):
                    desc = None  # what is bound is described again from it: `x = x.next()` in a loop
                for target in node.targets:
                    self.bind(target, desc, scope)
                    if type(target) is ast.Name and scope.kind == "function" and not node.through \
                            and node.value is not None:
                        self.assigned_values.setdefault((scope.qualname, target.id), []).append(node.value)
            elif kind is _Return:
                getattr(scope.function, node.into).append(self.describe(node.value, scope))
            elif kind is _Enter:
                self.enter_and_exit(node.item, scope)
            elif kind is _Branch:
                self.branch(node, scope)
            elif kind is ast.If and scope.kind == "function" and scope.qualname not in self.branching \
                    and type(node.test) in SIMPLE_TESTS \
                    and any(name in scope.function.params for name in tested_names(node.test)):
                self.branching.add(scope.qualname)  # its tests of parameters are read once the walk is done
                push((node, scope, parent))
            elif kind is ast.If and scope.kind == "function" and len(scope.locals) <= MAX_BRANCH_LOCALS \
                    and _binds_names(node):
                state: list = [None, None]
                push((_Branch("join", state), scope, parent))
                for stmt in reversed(node.orelse):
                    push((stmt, scope, parent))
                push((_Branch("switch", state), scope, parent))
                for stmt in reversed(node.body):
                    push((stmt, scope, parent))
                push((_Branch("start", state), scope, parent))
                push((node.test, scope, parent))
            elif kind is ast.Return or kind is ast.Yield:
                if node.value is not None:
                    if scope.function is not None:
                        push((_Return(node.value, "returns" if kind is ast.Return else "yields"), scope, parent))
                    push((node.value, scope, parent))
            elif kind is ast.Assign or kind is ast.AnnAssign or kind is ast.AugAssign:
                targets = node.targets if kind is ast.Assign else [node.target]
                if kind is ast.AnnAssign:
                    push((_Bind(targets, node.value, node.annotation), scope, parent))
                elif kind is not ast.AugAssign:
                    push((_Bind(targets, node.value), scope, parent))
                elif type(node.target) is ast.Attribute and scope.function is not None:
                    self.augment(node, scope)
                elif type(node.target) is ast.Name and scope.kind == "function":
                    self.assigned_values.setdefault((scope.qualname, node.target.id), []).append(node)
                for target in targets:
                    if type(target) is not ast.Name:
                        push((target, scope, parent))
                if node.value is not None:
                    push((node.value, scope, parent))
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                inner = self.define_function(node, scope)
                for stmt in reversed(node.body):
                    push((stmt, inner, -1))
                for d in node.decorator_list:
                    if type(d) is ast.Call:  # recorded on the function; walk only what it holds
                        for child in d.args + [k.value for k in d.keywords]:
                            push((child, scope, -1))
                for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
                    push((default, scope, parent))
            elif kind is ast.ClassDef:
                inner = self.define_class(node, scope)
                for stmt in reversed(node.body):
                    push((stmt, inner, -1))
                for child in node.bases + [k.value for k in node.keywords] + node.decorator_list:
                    push((child, scope, parent))
            elif kind is ast.With or kind is ast.AsyncWith:
                if scope.kind == "function" and any(w.optional_vars is not None for w in node.items):
                    self.binds_with.add(scope.qualname)
                for stmt in reversed(node.body):
                    push((stmt, scope, parent))
                for witem in reversed(node.items):
                    if witem.optional_vars is not None:
                        push((_Bind([witem.optional_vars], witem.context_expr, through="enter"), scope, parent))
                    push((_Enter(witem), scope, parent))
                    push((witem.context_expr, scope, parent))
            elif kind is ast.For or kind is ast.AsyncFor or kind is ast.comprehension:
                body = node.orelse + node.body if kind is not ast.comprehension else node.ifs
                if kind is not ast.comprehension and scope.kind == "function":
                    self.iterables[(node.lineno, node.col_offset)] = self.describe(node.iter, scope)
                for child in reversed(body):
                    push((child, scope, parent))
                if type(node.target) is ast.Name and (kind is not ast.comprehension or (
                        scope.kind == "function" and node.target.id not in scope.locals)):
                    push((_Bind([node.target], node.iter, through="iter"), scope, parent))
                else:
                    push((node.target, scope, parent))
                push((node.iter, scope, parent))
            elif kind is ast.ListComp or kind is ast.SetComp or kind is ast.GeneratorExp or kind is ast.DictComp:
                # The element after its generators, which bind the names it uses.
                for child in (node.value, node.key) if kind is ast.DictComp else (node.elt,):
                    push((child, scope, parent))
                for generator in reversed(node.generators):
                    push((generator, scope, parent))
            elif kind is ast.Import or kind is ast.ImportFrom:
                self.bind_import(node, scope)
            else:
                for child in reversed(child_nodes(node)):
                    push((child, scope, parent))
        self.find_handles()
        self.find_writes()
        self.find_readiness()
        self.find_opened()
        self.find_guards()
        return _frozen(self.summary)

    @staticmethod
    def branch(step: _Branch, scope: _Scope) -> None:
        state = step.state
        if step.step == "start":
            state[0] = dict(scope.locals)
        elif step.step == "switch":
            state[1], scope.locals = scope.locals, dict(state[0])
        else:
            before, first, second = state[0], state[1], scope.locals
            for name in first.keys() | second.keys():
                a, b = first.get(name, before.get(name)), second.get(name, before.get(name))
                second[name] = a if a == b else one_of(a, b)

    def read_context(self, node: ast.AST, name: str, attr: str, scope: _Scope) -> None:
        """Record a read of one of Flask's context names (`request`, `flask.g`...) in a function."""
        desc = self.lookup(name, scope)
        if desc is not None and desc[0] == "ref":
            for dotted in (f"{desc[1]}.{attr}" if attr else "", desc[1]):
                if dotted in self.context_names:
                    scope.function.context_reads.append((node.lineno, node.col_offset, dotted))
                    return

    def find_handles(self) -> None:
        """Injections of decorators and flows of handles (see handles.py), for the functions that
        can have them.  Flows: functions that spawn, and decorated functions or functions binding
        `with ... as` names that call a function of this module that spawns.  Injections: nested
        functions and `__call__` methods that call what they wrap and give something back after."""
        summary = self.summary
        spawners = {q for q, f in summary.functions.items() if any(c.hint in self.greenlet_hints for c in f.calls)}
        spawner_names = {q.rsplit(".", 1)[-1] for q in spawners}
        for qualname, (node, enclosing, is_method) in self.nodes.items():
            function = summary.functions[qualname]
            if qualname in spawners or ((function.decorators or qualname in self.binds_with)
                                        and any(c.hint in spawner_names for c in function.calls)):
                escapes = function_escapes(node, is_method)
                if escapes is not None:
                    summary.escapes[qualname] = escapes
            if enclosing or (is_method and node.name == "__call__"):
                self.find_injection(qualname, node, enclosing, is_method, function)

    def find_writes(self) -> None:
        """Writes and the loops around them, and the sizes of what calls pass (see writes.py), for
        the functions that call a write or may call a project function with arguments."""
        growth: list = []  # [class qualname -> attribute -> the function that grows it], once asked for

        def grown_in(cls: str):
            def grown_attr(attr: str) -> str:
                if not growth:
                    growth.append(grown_attributes(self.summary.functions, self.augmented))
                return growth[0].get(cls, {}).get(attr, "")
            return grown_attr

        for qualname, (node, _, _) in self.nodes.items():
            function = self.summary.functions[qualname]
            writes = any(c.hint in WRITE_HINTS for c in function.calls)
            passing = passing_calls(function.calls)
            if writes or passing:
                self_name = self.self_names.get(qualname, "")
                grown_attr = grown_in(function.cls) if self_name else None
                assigned = self.assigned_values
                function.writes, function.loops, function.passes = function_writes(
                    node, function.calls, passing, self.call_nodes, lambda name: assigned.get((qualname, name), ()),
                    qualname, self_name, grown_attr, writes, self.iterables)

    def find_readiness(self) -> None:
        catalog = load_catalog()
        hints = catalog.readiness_hints
        for function in self.summary.functions.values():
            if any(c.hint in hints for c in function.calls):
                function.readied = readied_calls(function.calls, self.call_nodes, hints, catalog.readied_hints)

    def find_opened(self) -> None:
        hints = load_catalog().opener_hints
        for qualname, (node, _, _) in self.nodes.items():
            function = self.summary.functions[qualname]
            if any(c.hint in hints for c in function.calls):
                function.opened = opened_files(node, function.calls, self.call_nodes, hints)

    def find_guards(self) -> None:
        imports, module = self.summary.imports, self.module
        for qualname in self.branching:
            node = self.nodes[qualname][0]
            function = self.summary.functions[qualname]
            params = frozenset(function.params) - {self.self_names.get(qualname, "")}
            if params:
                function.guards = call_guards(node, function.calls, params, imports, module)

    def augment(self, node: ast.AugAssign, scope: _Scope) -> None:
        """`self.buf += data` in a method: the attribute grows (a counter `self.n += 1` does not)."""
        if type(node.value) is ast.Constant and not isinstance(node.value.value, (str, bytes)):
            return
        owner = self.describe(node.target.value, scope)
        if owner is not None and owner[0] == "self":
            self.augmented.append((scope.qualname, owner[1], node.target.attr))

    def find_injection(self, qualname: str, node: ast.AST, enclosing: str, is_method: bool,
                       function: Function) -> None:
        if not (qualname in self.binds_with or any(c.hint in RELEASE_HINTS for c in function.calls)):
            return
        texts = {c.text for c in function.calls}
        owners: dict[str, str] = {}  # parameter of an enclosing function -> that function
        outer = enclosing
        while outer:
            outer_node, outer_enclosing, outer_is_method = self.nodes[outer]
            for name in parameters(outer_node)[1 if outer_is_method else 0:]:
                if name in texts:
                    owners.setdefault(name, outer)
            outer = outer_enclosing
        via_self = frozenset()
        if is_method and node.name == "__call__" and function.cls in self.class_nodes:
            via_self = frozenset(a for a in class_wrapped_attrs(self.class_nodes[function.cls])
                                 if f"self.{a}" in texts)
        if owners or via_self:
            found = wrapper_injection(node, frozenset(owners), via_self)
            if found is not None:
                wrapped, injection = found
                self.summary.injectors.setdefault(owners.get(wrapped, function.cls), injection)


def _frozen(summary: FileSummary) -> FileSummary:
    """The summary with tuples for the lists it was built in: the summaries of a whole project are
    held at once, and a tuple is smaller than a list (an empty one is shared)."""
    for function in summary.functions.values():
        function.decorators, function.calls, function.nested = \
            tuple(function.decorators), tuple(function.calls), tuple(function.nested)
        function.context_reads, function.returns, function.yields = \
            tuple(function.context_reads), tuple(function.returns), tuple(function.yields)
    summary.module_calls, summary.import_lines = tuple(summary.module_calls), tuple(summary.import_lines)
    summary.main_blocks, summary.loads = tuple(summary.main_blocks), tuple(summary.loads)
    summary.imported = tuple(sorted(set(summary.imported)))
    return summary


def summarise(tree: ast.Module, path: str, module: str, is_package: bool) -> FileSummary:
    """Summarise one parsed module."""
    return _Summariser(path, module, is_package).walk(tree)
