"""Writes and loops, read from a function's syntax: the facts the GEV3xx rules and fixes need.

Two kinds of facts, kept as plain data in the file summary:

* a Write: a call that may write data to a file (`.write`, `.writelines`, `json.dump`,
  `.write_text`...), with, for each of its first positional arguments, why that value has no size
  bound;
* a Loop: a `for` or `while` loop whose body makes such a call: why what it runs over has no size
  bound, the name it already counts with, and the calls its body makes;
* a Passed: an argument of a call that may run a project function, when it has no size bound or
  is one of the caller's own parameters reshaped (`zlib.compress(body)`): the check joins these,
  and the parameters passed on as they are (their descriptors say so), with the calls that run, so
  that data built by a caller is judged where a helper writes it.

Sizes are judged on the syntax alone, following local names back to their last assignment:
`"\\n".join(codes)`, `data += row` in a loop, `request.get_data()` and `src.read()` have no bound;
literals, small formatted strings, fixed-size slices and one item of a loop have one.  A list
attribute that another method of the class grows (`self.rows.append(row)`) has no bound either.
Anything else is unknown and reported by no rule, except where the operation itself consumes a
collection of any length (`join`, `writelines`, a loop).  A parameter written as it is, or reshaped
(`body.encode()`, `zlib.compress(body)`), is named, so that the check can ask what the callers pass.
Calls are named by their index in Function.calls; the index resolves what they are later.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

import sys

from .syntax import callee_text, child_nodes, dotted

WRITE_HINTS = frozenset({"write", "writelines", "dump", "write_text", "write_bytes"})
# Methods whose result is as big as their receiver: `data.encode()`.
RESHAPE_METHODS = frozenset({"encode", "decode", "strip", "lstrip", "rstrip", "upper", "lower", "replace",
                             "casefold", "title", "swapcase", "expandtabs", "translate", "tobytes"})
# Functions whose result is as big as their first argument: `zlib.compress(data)`.
RESHAPE_FUNCTIONS = frozenset({"bytes", "bytearray", "memoryview", "compress", "b64encode",
                               "b64decode", "urlsafe_b64encode", "hexlify", "unhexlify"})
SERIALISERS = frozenset({"dumps"})
# Calls whose result is a collection of any length, and how a message calls it.
QUERY_METHODS = frozenset({"fetchall", "all", "filter", "exclude", "order_by", "values_list", "iterator",
                           "execute", "scalars", "find", "query", "select", "fetch"})
LISTING_FUNCTIONS = frozenset({"listdir", "scandir", "glob", "iglob", "rglob", "iterdir", "walk"})
PASS_THROUGH = frozenset({"list", "tuple", "set", "frozenset", "sorted", "reversed", "enumerate", "dict", "iter"})
VIEW_METHODS = frozenset({"items", "values", "keys", "copy"})
SPLIT_METHODS = frozenset({"split", "splitlines", "rsplit"})
GROW_METHODS = frozenset({"append", "extend", "add", "insert", "update", "appendleft"})
REQUEST_NAMES = ("request", "req")
REQUEST_BODY_ATTRS = frozenset({"body", "data", "stream"})
REQUEST_JSON = frozenset({"json", "get_json", "form", "POST"})
MAX_HOPS = 8
MAX_TEXT = 40
MAX_ARGS = 2
# Modules whose functions are never the project's: a call of one passes nothing worth recording.
NOT_THE_PROJECT = frozenset({"builtins", *sys.stdlib_module_names})
DATA, COLLECTION = "data", "collection"
REQUEST_ATTRS = REQUEST_BODY_ATTRS | REQUEST_JSON
STATEMENT_LIKE = (ast.stmt, ast.excepthandler, ast.match_case)
# The last names of the calls whose result a size judgement looks into.
JUDGED_CALLS = frozenset({"join", "get_data", "read", "read_bytes", "read_text", "getvalue", "readlines", "get_json",
                          "loads", "load", "range", "zip", "iter", *RESHAPE_METHODS, *RESHAPE_FUNCTIONS,
                          *SERIALISERS, *QUERY_METHODS, *LISTING_FUNCTIONS, *PASS_THROUGH, *VIEW_METHODS,
                          *SPLIT_METHODS})
# Nodes the walk has nothing to learn from: names read, literals, operators, contexts.
LEAVES = frozenset({ast.Name, ast.Constant, ast.Load, ast.Store, ast.Del, *ast.operator.__subclasses__(),
                    *ast.boolop.__subclasses__(), *ast.cmpop.__subclasses__(), *ast.unaryop.__subclasses__(),
                    ast.alias})

# A size judgement: "" bounded, a reason when unbounded, None when nothing is known.
Size = str | None


@dataclass(frozen=True, slots=True)
class Write:
    call: int  # index in Function.calls
    unbounded: tuple  # per positional argument: why it has no size bound, or ""
    statement: bool  # the call is a statement of its own: its value is not used
    # per positional argument: (parameter, DATA | COLLECTION) when nothing local bounds it but it is
    # as big as that parameter of the function, judged as text or as a collection; else ()
    params: tuple


@dataclass(frozen=True, slots=True)
class Loop:
    line: int
    col: int
    kind: str  # "for" | "while"
    unbounded: str  # why what it runs over has no size bound; "" when it has one
    counter: str  # the name it counts with (enumerate's index, `n += 1`), or ""
    calls: tuple  # indices in Function.calls of the calls in its body, nested loops included
    source: tuple | None = None  # a `for` loop's descriptor (summary.py) of what it iterates over


@dataclass(frozen=True, slots=True)
class Passed:
    """One argument of a call that may run a project function, as the callee's parameter would
    be judged: as text or bytes (DATA) and as a collection (COLLECTION).  Recorded only when one of
    the four is known: a reason, or the caller's own parameter that it is as big as."""

    call: int  # index in Function.calls
    slot: int | str  # its position among the positional arguments, or its keyword
    data: str  # why it has no size bound as text or bytes, or ""
    collection: str  # why it has no size bound as a collection, or ""
    data_from: tuple  # (parameter of the caller, DATA | COLLECTION) it is as big as, as data; or ()
    collection_from: tuple  # the same, as a collection


def _added_terms(node: ast.BinOp) -> list:
    """The terms of `a + b + c`, left to right, without recursing (sums nest to the left)."""
    terms, pending = [], [node]
    while pending:
        term = pending.pop()
        if type(term) is ast.BinOp and type(term.op) is ast.Add:
            pending += (term.right, term.left)
        else:
            terms.append(term)
    return terms


def _text(node: ast.AST) -> str:
    text = dotted(node) or ast.unparse(node)  # most are names: not worth unparsing
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def _is_request(node: ast.AST) -> bool:
    name = dotted(node)
    return bool(name) and name.rsplit(".", 1)[-1] in REQUEST_NAMES


def _constant_like(node: ast.AST) -> bool:
    """A literal number, an ALL_CAPS name, or arithmetic of those: a size fixed when the code was written."""
    kind = type(node)
    if kind is ast.Constant:
        return True
    if kind is ast.Name or kind is ast.Attribute:
        name = node.id if kind is ast.Name else node.attr
        return name.isupper()
    if kind is ast.BinOp:
        return _constant_like(node.left) and _constant_like(node.right)
    if kind is ast.UnaryOp:
        return _constant_like(node.operand)
    return False


def _fixed_slice(node: ast.Slice) -> bool:
    """`[:1024]`, `[i:i + CHUNK]`, `[start:start + size]`: one chunk of a fixed size."""
    upper = node.upper
    if upper is None:
        return False
    if _constant_like(upper):
        return True
    if type(upper) is not ast.BinOp or type(upper.op) is not ast.Add:
        return False
    lower = ast.dump(node.lower) if node.lower is not None else None
    return any(_constant_like(side) or ast.dump(side) == lower for side in (upper.left, upper.right))


class _Body:
    """One function body: its assignments, loops and write calls, in source order.  The body is
    walked the first time any of them is asked for; without `writes`, only its statements are (the
    assignments and growth that sizes of names need; not a walrus inside an expression)."""

    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef, calls: list, qualname: str = "",
                 self_name: str = "", grown_attr=None, writes: bool = True, assigned=lambda name: ()):
        self.assigned: dict[str, list] = {}  # name -> [(line, kind, node)], kind: "value" | "item" | "other"
        self.grown: set[str] = set()  # names grown inside a loop: `x.append(...)`, `x += ...`
        self.counters: dict[int, str] = {}  # id(loop) -> name incremented in its body
        self.loops: list = []  # [(loop node, [call nodes])]
        self.writes: list = []  # [(call node, is a statement)]
        self._pending = node.body  # the statements, until they are walked
        self._expressions = writes  # walk into expressions too: writes and the calls of loops are there
        args = node.args
        # The parameters a caller passes: what a value as big as one of them is named by.
        self.params = frozenset(a.arg for a in args.posonlyargs + args.args + args.kwonlyargs) - {self_name}
        self.qualname = qualname
        self.self_name = self_name  # `self` in a method, else ""
        self.grown_attr = grown_attr  # attribute -> the method of the class that grows it, or ""
        self._records = calls
        self._index: dict | None = None  # (line, col, hint) -> index in Function.calls
        self._assigned = assigned  # name -> what the body assigns to it, or grows it with (summary.py)

    def _known(self) -> None:
        """Walk the body, once."""
        if self._pending is not None:
            statements, self._pending = self._pending, None
            self._walk(statements, self._expressions)

    def _walk(self, statements: list, expressions: bool = True) -> None:
        stack = [(s, ()) for s in reversed(statements)]
        statement_calls = set()
        while stack:
            node, loops = stack.pop()
            kind = type(node)
            if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda):
                continue
            if kind is ast.For or kind is ast.AsyncFor or kind is ast.While:
                self.loops.append((node, []))
                # A counter is stepped once per iteration: by a statement of the body itself, not
                # one inside an `if` that counts only some items.
                counter = next((s.target.id for s in node.body if type(s) is ast.AugAssign and _counts(s)), "")
                if counter:
                    self.counters[id(node)] = counter
                inner = (*loops, len(self.loops) - 1)
                if kind is not ast.While:
                    self._assign(node.target, node.lineno, "item", node.iter)
                stack.extend((s, loops) for s in reversed(node.orelse))
                stack.extend((s, inner) for s in reversed(node.body))
                if expressions:
                    stack.append((node.iter, loops) if kind is not ast.While else (node.test, inner))
                continue
            if kind is ast.Call:
                for loop in loops:
                    self.loops[loop][1].append(node)
                hint = callee_text(node.func)[1]
                if hint in WRITE_HINTS:
                    self.writes.append((node, id(node) in statement_calls))
                if loops and hint in GROW_METHODS and type(node.func) is ast.Attribute:
                    grown = dotted(node.func.value)
                    if grown:
                        self.grown.add(grown)
            elif kind is ast.Expr and type(node.value) is ast.Call:
                statement_calls.add(id(node.value))
            elif kind is ast.Assign:
                for target in node.targets:
                    self._assign(target, node.lineno, "value", node.value)
            elif kind is ast.AnnAssign and node.value is not None:
                self._assign(node.target, node.lineno, "value", node.value)
            elif kind is ast.AugAssign and type(node.target) is ast.Name:
                if loops and not _counts(node):
                    self.grown.add(node.target.id)
            elif kind in (ast.With, ast.AsyncWith):
                for item in node.items:
                    if item.optional_vars is not None:
                        self._assign(item.optional_vars, node.lineno, "other", None)
            elif kind is ast.NamedExpr:
                self._assign(node.target, node.lineno, "value", node.value)
            if expressions:
                stack.extend((child, loops) for child in reversed(child_nodes(node))
                             if type(child) not in LEAVES)
            elif kind is ast.Expr:
                if type(node.value) is ast.Call:
                    stack.append((node.value, loops))  # `parts.append(row)`
            elif kind is not ast.Call:
                stack.extend((child, loops) for child in reversed(child_nodes(node))
                             if isinstance(child, STATEMENT_LIKE))

    def _assign(self, target: ast.AST, line: int, kind: str, value: ast.AST | None) -> None:
        if type(target) is ast.Name:
            self.assigned.setdefault(target.id, []).append((line, kind, value))
        elif type(target) in (ast.Tuple, ast.List):
            # `for i, row in enumerate(rows)`: each name is one item's part.
            for element in target.elts:
                self._assign(element.value if type(element) is ast.Starred else element, line,
                             "item" if kind == "item" else "other", value)

    # -- sizes -----------------------------------------------------------------------------------
    def _last(self, name: str, line: int) -> tuple | None:
        found = None
        for entry in self.assigned.get(name, ()):
            if entry[0] <= line:
                found = entry
        return found

    def name_size(self, name: str, line: int, want: str, hops: int) -> Size:
        if name.isupper():
            return ""
        self._known()
        if name in self.grown:
            return f"`{name}` is built up in a loop"
        entry = self._last(name, line)
        if entry is None or hops > MAX_HOPS:
            return None
        at, kind, value = entry
        if kind == "item":
            return ""
        if kind == "other" or value is None:
            return None
        judge = self.data_size if want == "data" else self.collection_size
        return judge(value, at - 1, hops + 1)

    def attr_growth(self, node: ast.Attribute) -> Size:
        """`self.rows` that another method grows (`self.rows.append(row)`), or an attribute grown in
        a loop here: no bound; else unknown."""
        method = self._grown_elsewhere(node)
        if method:
            return f"`{_text(node)}` grows in {method}"
        name = dotted(node)
        if name:
            self._known()
            if name in self.grown:
                return f"`{name}` is built up in a loop"
        return None

    def _grown_elsewhere(self, node: ast.Attribute) -> str:
        """The other method of the class that grows `self.x`, or ""."""
        if self.grown_attr is None or type(node.value) is not ast.Name or node.value.id != self.self_name:
            return ""
        method = self.grown_attr(node.attr)
        return method if method != self.qualname else ""

    def data_size(self, node: ast.AST, line: int, hops: int = 0) -> Size:
        """Text or bytes: why it has no size bound."""
        kind = type(node)
        if kind is ast.Constant:
            return ""
        if kind is ast.JoinedStr:
            parts = [self.data_size(v.value, line, hops) for v in node.values if type(v) is ast.FormattedValue]
            return next((p for p in parts if p), "")
        if kind is ast.BinOp:
            if type(node.op) is ast.Add:  # `a + b + c` nests to the left: judged as a flat list
                terms = [self.data_size(term, line, hops) for term in _added_terms(node)]
                return next((t for t in terms if t), None if None in terms else "")
            if type(node.op) is ast.Mod:
                return ""  # a small formatted string
            return None
        if kind is ast.IfExp:
            return self.data_size(node.body, line, hops) or self.data_size(node.orelse, line, hops)
        if kind is ast.Name:
            return self.name_size(node.id, line, "data", hops)
        if kind is ast.Subscript:
            if type(node.slice) is ast.Slice:
                return "" if _fixed_slice(node.slice) else self.data_size(node.value, line, hops)
            return None
        if kind is ast.Attribute:
            if node.attr in REQUEST_BODY_ATTRS and _is_request(node.value):
                return f"it is the whole request body (`{_text(node)}`)"
            return self.attr_growth(node)
        if kind is not ast.Call:
            return None
        func = node.func
        name = callee_text(func)[1]
        if type(func) is ast.Attribute:
            receiver = func.value
            if name == "join" and len(node.args) == 1:
                over = self.collection_size(node.args[0], line, hops)
                if over == "":
                    return ""
                return f"it is built by `join` over `{_text(node.args[0])}`" + (f" ({over})" if over else "")
            if name in RESHAPE_METHODS:
                return self.data_size(receiver, line, hops)
            if name == "format" and type(receiver) is ast.Constant:
                return ""
            if name == "get_data" and _is_request(receiver):
                return f"it is the whole request body (`{_text(node)}`)"
            if name in ("read", "read_bytes", "read_text") and _unsized(node):
                if _is_request(receiver) or (type(receiver) is ast.Attribute and _is_request(receiver.value)) \
                        or "wsgi.input" in _text(receiver):
                    return f"it is the whole request body (`{_text(node)}` without a size)"
                return f"it is the whole content of `{_text(receiver)}` (`.{name}()` without a size)"
            if name == "getvalue" and type(receiver) is ast.Name:
                self._known()
                if receiver.id in self.grown:
                    return f"it is everything written to `{receiver.id}` in a loop"
        if name in SERIALISERS and node.args:
            over = self.collection_size(node.args[0], line, hops)
            return f"it serialises {over}" if over else over
        if name in RESHAPE_FUNCTIONS and node.args:
            return self.data_size(node.args[0], line, hops)
        return None

    def collection_size(self, node: ast.AST, line: int, hops: int = 0) -> Size:
        """A collection (what `join`, `writelines`, `dump` and loops consume): why it has no size bound."""
        kind = type(node)
        if kind in (ast.List, ast.Tuple, ast.Set):
            if any(type(e) is ast.Starred for e in node.elts):
                return None
            return next((s for s in (self.collection_size(e, line, hops) for e in node.elts) if s), "")
        if kind is ast.Dict:
            return next((s for s in (self.collection_size(v, line, hops) for v in node.values if v) if s), "")
        if kind in (ast.Constant, ast.JoinedStr):
            return ""
        if kind in (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp):
            over = self.collection_size(node.generators[0].iter, line, hops)
            if over == "":
                return ""
            return f"a comprehension over `{_text(node.generators[0].iter)}`" + (f", {over}" if over else "")
        if kind is ast.Name:
            return self.name_size(node.id, line, "collection", hops)
        if kind is ast.Attribute:
            if node.attr.isupper():
                return ""
            if node.attr in REQUEST_JSON and _is_request(node.value):
                return f"the request's data (`{_text(node)}`)"
            return self.attr_growth(node)
        if kind is ast.Subscript:
            if type(node.slice) is ast.Slice and _fixed_slice(node.slice):
                return ""
            return None
        if kind is not ast.Call:
            return None
        func = node.func
        name = callee_text(func)[1]
        receiver = func.value if type(func) is ast.Attribute else None
        if name == "range":
            return "" if all(_constant_like(a) for a in node.args) else f"`{_text(node)}`"
        if name == "zip" and type(func) is ast.Name:
            sizes = [self.collection_size(a, line, hops) for a in node.args]
            if "" in sizes:
                return ""
            return next((s for s in sizes if s), None)
        if name in PASS_THROUGH and type(func) is ast.Name and node.args:
            if name == "iter" and len(node.args) == 2:
                return f"an iterator called until it returns `{_text(node.args[1])}`"
            return self.collection_size(node.args[0], line, hops)
        if receiver is not None:
            if name in VIEW_METHODS:
                return self.collection_size(receiver, line, hops)
            if name in SPLIT_METHODS:
                return self.data_size(receiver, line, hops)
            if name in REQUEST_JSON and _is_request(receiver):
                return f"the request's data (`{_text(node)}`)"
            if name == "readlines" and _unsized(node):
                return f"every line of `{_text(receiver)}`"
        if name in QUERY_METHODS:
            return f"a query result (`{_text(node)}`)"
        if name in LISTING_FUNCTIONS:
            return f"a directory listing (`{_text(node)}`)"
        if name in ("load", "loads") and dotted(func).split(".")[0] in ("json", "pickle", "marshal", "yaml"):
            if name == "loads":
                return self.data_size(node.args[0], line, hops) if node.args else None
            return f"data loaded by `{_text(node)}`"
        return None

    def param_of(self, node: ast.AST, line: int, want: str, hops: int = 0) -> tuple:
        """(parameter, DATA | COLLECTION) when a value judged as `want` that nothing here bounds is
        as big as one of the function's parameters, judged that way: `body`, `body.encode()`,
        `zlib.compress(body)`, `header + body`, `json.dumps(rows)`, `list(rows)`; else ()."""
        kind = type(node)
        if hops > MAX_HOPS:
            return ()
        if kind is ast.Name:
            name = node.id
            self._known()
            if name in self.grown or name.isupper():
                return ()
            entry = self._last(name, line)
            if entry is None:
                return (name, want) if name in self.params else ()
            at, how, value = entry
            return self.param_of(value, at - 1, want, hops + 1) if how == "value" and value is not None else ()
        if kind is ast.Call:
            func = node.func
            name = callee_text(func)[1]
            receiver = func.value if type(func) is ast.Attribute else None
            first = node.args[0] if node.args and type(node.args[0]) is not ast.Starred else None
            if want == DATA:
                if receiver is not None and name in RESHAPE_METHODS:
                    return self.param_of(receiver, line, DATA, hops)
                if first is not None and name in RESHAPE_FUNCTIONS:
                    return self.param_of(first, line, DATA, hops)
                if first is not None and name in SERIALISERS:
                    return self.param_of(first, line, COLLECTION, hops)
                return ()
            if first is not None and name in PASS_THROUGH and receiver is None and len(node.args) == 1:
                return self.param_of(first, line, COLLECTION, hops)
            if receiver is not None and name in VIEW_METHODS:
                return self.param_of(receiver, line, COLLECTION, hops)
            if receiver is not None and name in SPLIT_METHODS:
                return self.param_of(receiver, line, DATA, hops)
            if first is not None and name == "loads" and dotted(func).split(".")[0] in ("json", "pickle", "marshal"):
                return self.param_of(first, line, DATA, hops)
            return ()
        if want == DATA:
            if kind is ast.BinOp and type(node.op) is ast.Add:
                # `header + body + b"\n"`: as big as the one term nothing bounds
                open_terms = [t for t in _added_terms(node) if self.data_size(t, line, hops) != ""]
                return self.param_of(open_terms[0], line, DATA, hops) if len(open_terms) == 1 else ()
            if kind is ast.IfExp:
                sides = [self.param_of(side, line, DATA, hops) for side in (node.body, node.orelse)]
                return next((side for side in sides if side), ())
            if kind is ast.Subscript and type(node.slice) is ast.Slice and not _fixed_slice(node.slice):
                return self.param_of(node.value, line, DATA, hops)
            return ()
        if kind in (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp):
            return self.param_of(node.generators[0].iter, line, COLLECTION, hops)
        return ()

    def iterable_size(self, loop: ast.AST) -> str:
        """Why a loop runs an unbounded number of times; "" when it is bounded."""
        if type(loop) is ast.While:
            return "its condition"
        size = self.collection_size(loop.iter, loop.lineno)
        text = f"`{_text(loop.iter)}`"
        if size is None:
            return f"{text}, built elsewhere"
        if not size or text in size:
            return size
        return f"{text}, {size}"

    # -- results -----------------------------------------------------------------------------------
    def _call_index(self, node: ast.Call) -> int | None:
        if self._index is None:
            self._index = {}
            for i, call in enumerate(self._records):
                self._index.setdefault((call.line, call.col, call.hint), i)
        return self._index.get((node.lineno, node.col_offset, callee_text(node.func)[1]))

    def results(self, iterables: dict) -> tuple[tuple, tuple]:
        self._known()
        writes = []
        for node, statement in self.writes:
            i = self._call_index(node)
            if i is not None:
                args = node.args[:MAX_ARGS]
                sizes = tuple(_judged(self.data_or_collection, node, a) for a in args)
                params = tuple(() if size else _judged(self.write_param, node, a, unknown=())
                               for a, size in zip(args, sizes))
                writes.append(Write(i, sizes, statement, params))
        write_ids = {id(node) for node, _ in self.writes}
        loops = []
        for node, calls in self.loops:
            if not any(id(c) in write_ids for c in calls):
                continue
            indices = tuple(i for i in map(self._call_index, calls) if i is not None)
            counter = self.counters.get(id(node), "") or _enumerate_index(node)
            kind = "while" if type(node) is ast.While else "for"
            unbounded = _judged(self.iterable_size, node)
            source = iterables.get((node.lineno, node.col_offset)) if kind == "for" else None
            loops.append(Loop(node.lineno, node.col_offset, kind, unbounded, counter, indices, source))
        return tuple(writes), tuple(loops)

    def passes(self, calls: list, passing: list, nodes: dict) -> tuple:
        """The arguments of the calls that may run a project function (`passing`, their indices),
        where one is known: no bound, or as big as one of this function's parameters after a
        reshaping (a parameter passed as it is needs no record: its descriptor says so).  `nodes`
        maps a Call to its ast.Call."""
        out = []
        for i in passing:
            record = calls[i]
            node = nodes.get(id(record))
            if node is None:
                continue
            slots = []
            for position, (arg, desc) in enumerate(zip(node.args, record.args)):
                kind = type(arg)
                if kind is ast.Starred:
                    break  # the positions after it are not known
                if kind is not ast.Constant and kind is not ast.JoinedStr and self._worth_judging(arg, desc):
                    slots.append((position, arg))
            for keyword in node.keywords:
                if keyword.arg and self._worth_judging(keyword.value, record.keyword(keyword.arg)):
                    slots.append((keyword.arg, keyword.value))
            for slot, arg in slots:
                passed = _judged(self.passed, i, slot, arg, node.lineno, unknown=None)
                if passed is not None:
                    out.append(passed)
        return tuple(out)

    def _worth_judging(self, arg: ast.AST, desc, looked: bool = False) -> bool:
        """Whether the syntax of an argument (or, for a name, the value its descriptor gives) may be
        judged unbounded or a reshaped parameter: the rest is unknown without looking further.
        `looked`: the argument is what a name was assigned, whose own names are not looked into."""
        kind = type(arg)
        if kind is ast.Name:
            if desc is None:  # the summary could not tell: see what is assigned to it (once), if anything
                return looked or arg.id in self.params or any(map(self._may_grow_or_judge, self._assigned(arg.id)))
            return _may_be_unbounded(desc)
        if kind is ast.Call:
            return callee_text(arg.func)[1] in JUDGED_CALLS
        if kind is ast.Attribute:
            return arg.attr in REQUEST_ATTRS or bool(self._grown_elsewhere(arg))
        if kind is ast.Subscript:
            return type(arg.slice) is ast.Slice and self._worth_judging(arg.value, desc[1] if desc else None, looked)
        if kind is ast.BinOp:
            return type(arg.op) is ast.Add
        return kind in (ast.IfExp, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)

    def _may_grow_or_judge(self, value: ast.AST) -> bool:
        """Whether a name assigned this, or grown by it (`name += ...`, `name.append(...)`), may
        be judged when it has no descriptor: a collection literal may be grown, another name may
        hold anything.  A name only bound by a loop, a `with` or unpacking is bounded or unknown."""
        kind = type(value)
        return kind in (ast.List, ast.Dict, ast.Set, ast.Tuple, ast.Name, ast.AugAssign, ast.Call) \
            or self._worth_judging(value, None, looked=True)

    def passed(self, call: int, slot: int | str, arg: ast.AST, line: int) -> Passed | None:
        data, collection = self.data_size(arg, line), self.collection_size(arg, line)
        data_from = self.param_of(arg, line, DATA) if data is None else ()
        collection_from = self.param_of(arg, line, COLLECTION) if collection is None else ()
        if not (data or collection or data_from or collection_from):
            return None
        return Passed(call, slot, data or "", collection or "", data_from, collection_from)

    def write_param(self, call: ast.Call, arg: ast.AST) -> tuple:
        """(parameter, DATA | COLLECTION) a write's argument is as big as, when nothing here tells
        its size; `writelines` of anything unknown is unbounded already."""
        line = call.lineno
        hint = callee_text(call.func)[1]
        if hint == "writelines":
            return ()
        if hint == "dump":
            return self.param_of(arg, line, COLLECTION) if self.collection_size(arg, line) is None else ()
        return self.param_of(arg, line, DATA) if self.data_size(arg, line) is None else ()

    def data_or_collection(self, call: ast.Call, arg: ast.AST) -> str:
        """Why one argument of a write has no size bound, or "": judged as text or bytes, or as a
        collection for `writelines` and `dump` (writelines takes any number of lines)."""
        line = call.lineno
        hint = callee_text(call.func)[1]
        if hint in ("writelines", "dump"):
            size = self.collection_size(arg, line)
            if size is None and hint == "writelines":
                return f"`{_text(arg)}` is a collection built elsewhere"
            if size and size.startswith("`"):
                return size  # `rows` is built up in a loop
            return f"it writes {size}" if size else ""
        return self.data_size(arg, line) or ""


def _judged(judge, *nodes, unknown=""):
    """A size judgement, or `unknown` (nothing reported) for an expression nested too deep to judge."""
    try:
        return judge(*nodes)
    except RecursionError:
        return unknown


def _may_be_project(desc) -> bool:
    """Whether a callee's descriptor may be a function of the project: not a builtin, not the
    standard library, not a method of a literal (`",".join`)."""
    while desc is not None and desc[0] in ("attr", "call", "item"):
        desc = desc[1]
    if desc is None or desc[0] in ("str", "strs", "const", "items"):
        return False
    return desc[0] != "ref" or desc[1].split(".", 1)[0] not in NOT_THE_PROJECT


def _counts(node: ast.AugAssign) -> bool:
    """`n += 1`."""
    return (type(node.target) is ast.Name and type(node.op) is ast.Add and type(node.value) is ast.Constant
            and node.value.value == 1)


def _unsized(call: ast.Call) -> bool:
    """`f.read()`, `f.read(-1)`, `f.read(None)`: everything that is left."""
    if call.keywords:
        return False
    if not call.args:
        return True
    arg = call.args[0]
    if type(arg) is ast.UnaryOp and type(arg.op) is ast.USub and type(arg.operand) is ast.Constant:
        return True
    return len(call.args) == 1 and type(arg) is ast.Constant and arg.value is None


def _enumerate_index(loop: ast.AST) -> str:
    """`for i, row in enumerate(rows)`: the loop counts with `i`."""
    if type(loop) is ast.While or type(loop.iter) is not ast.Call:
        return ""
    if callee_text(loop.iter.func)[0] != "enumerate" or type(loop.target) is not ast.Tuple:
        return ""
    first = loop.target.elts[0] if loop.target.elts else None
    return first.id if type(first) is ast.Name else ""


def _may_be_unbounded(desc) -> bool:
    """Whether a name holding this value may be judged unbounded: an unknown value, a call whose
    result writes.py judges, the request's body, a collection (it may be grown), `""` (it may be
    grown: `text += row`).  A parameter is not: the check reads it from the descriptor."""
    if desc is None:
        return True
    kind = desc[0]
    if kind == "str":
        return desc[1] == ""
    if kind == "call":
        func = desc[1]
        name = "" if func is None else func[2] if func[0] == "attr" else func[1].rsplit(".", 1)[-1] \
            if func[0] == "ref" else ""
        return name in JUDGED_CALLS
    if kind == "attr":
        return desc[2] in REQUEST_ATTRS
    if kind == "ref":
        return desc[1].rsplit(".", 1)[-1] in REQUEST_ATTRS
    if kind == "items":
        return True
    if kind == "one_of":
        return any(_may_be_unbounded(d) for d in desc[1])
    if kind in ("item", "typed"):
        return _may_be_unbounded(desc[1])
    return False


def passing_calls(calls: list) -> list[int]:
    """The indices of the calls whose arguments a Passed may describe: calls with arguments of what
    may be a project function."""
    return [i for i, c in enumerate(calls) if (c.args or c.kwargs) and _may_be_project(c.func)]


def function_writes(node: ast.FunctionDef | ast.AsyncFunctionDef, calls: list, passing: list, nodes: dict,
                    assigned, qualname: str = "", self_name: str = "", grown_attr=None,
                    writes: bool = True, iterables: dict | None = None) -> tuple[tuple, tuple, tuple]:
    """The writes of a function body and the loops that hold them (when `writes`), and what the
    calls `passing` (see passing_calls) pass (Passed).  `nodes` maps each Call to its ast.Call;
    `assigned(name)` gives the expressions `name = ...` assigns in the body and the statements that
    grow the name; `self_name` is a
    method's `self`, `grown_attr(attribute)` the function of its class that grows that attribute,
    or ""; `iterables` maps a `for` loop's (line, col) to the descriptor of what it iterates."""
    body = _Body(node, calls, qualname, self_name, grown_attr, writes, assigned)
    found = body.results(iterables or {}) if writes else ((), ())
    return (*found, body.passes(calls, passing, nodes))


def grown_attributes(functions: dict, augmented: list) -> dict[str, dict[str, str]]:
    """Class qualname -> attribute -> the first function of the module that grows it on the
    instance: `self.rows.append(row)` (from the calls' descriptors), `self.buf += data` (`augmented`:
    (function, class, attribute) triples)."""
    out: dict[str, dict[str, str]] = {}
    for qualname, function in functions.items():
        for call in function.calls:
            desc = call.func
            if call.hint in GROW_METHODS and desc is not None and desc[0] == "attr":
                owner = desc[1]
                if owner is not None and owner[0] == "attr" and owner[1] is not None and owner[1][0] == "self":
                    out.setdefault(owner[1][1], {}).setdefault(owner[2], qualname)
    for qualname, cls, attr in augmented:
        out.setdefault(cls, {}).setdefault(attr, qualname)
    return out
