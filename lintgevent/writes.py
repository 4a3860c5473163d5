"""Writes and loops, read from a function's syntax: the facts the GEV3xx rules and fixes need.

Two kinds of facts, kept as plain data in the file summary:

* a Write: a call that may write data to a file (`.write`, `.writelines`, `json.dump`,
  `.write_text`...), with, for each of its first positional arguments, why that value has no size
  bound;
* a Loop: a `for` or `while` loop whose body makes such a call: why what it runs over has no size
  bound, the name it already counts with, and the calls its body makes.

Sizes are judged on the syntax alone, following local names back to their last assignment:
`"\\n".join(codes)`, `data += row` in a loop, `request.get_data()` and `src.read()` have no bound;
literals, small formatted strings, fixed-size slices and one item of a loop have one.  Anything else
is unknown and reported by no rule, except where the operation itself consumes a collection of any
length (`join`, `writelines`, a loop).  Calls are named by their index in Function.calls; the index
resolves what they are later.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from .syntax import callee_text, dotted

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

# A size judgement: "" bounded, a reason when unbounded, None when nothing is known.
Size = str | None


@dataclass(frozen=True, slots=True)
class Write:
    call: int  # index in Function.calls
    unbounded: tuple  # per positional argument: why it has no size bound, or ""
    statement: bool  # the call is a statement of its own: its value is not used


@dataclass(frozen=True, slots=True)
class Loop:
    line: int
    col: int
    kind: str  # "for" | "while"
    unbounded: str  # why what it runs over has no size bound; "" when it has one
    counter: str  # the name it counts with (enumerate's index, `n += 1`), or ""
    calls: tuple  # indices in Function.calls of the calls in its body, nested loops included


def _text(node: ast.AST) -> str:
    text = ast.unparse(node)
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
    """One function body: its assignments, loops and write calls, in source order."""

    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef, calls: list):
        self.assigned: dict[str, list] = {}  # name -> [(line, kind, node)], kind: "value" | "item" | "other"
        self.grown: set[str] = set()  # names grown inside a loop: `x.append(...)`, `x += ...`
        self.counters: dict[int, str] = {}  # id(loop) -> name incremented in its body
        self.loops: list = []  # [(loop node, [call nodes])]
        self.writes: list = []  # [(call node, is a statement)]
        self.index = {}
        for i, call in enumerate(calls):
            self.index.setdefault((call.line, call.col, call.hint), i)
        self._walk(node.body)

    def _walk(self, statements: list) -> None:
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
                    stack.append((node.iter, loops))
                else:
                    stack.extend((s, loops) for s in reversed(node.orelse))
                    stack.extend((s, inner) for s in reversed(node.body))
                    stack.append((node.test, inner))
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
            stack.extend((child, loops) for child in reversed(list(ast.iter_child_nodes(node))))

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
                terms, pending = [], [node]
                while pending:
                    term = pending.pop()
                    if type(term) is ast.BinOp and type(term.op) is ast.Add:
                        pending += (term.right, term.left)
                    else:
                        terms.append(self.data_size(term, line, hops))
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
            return None
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
            if name == "getvalue" and type(receiver) is ast.Name and receiver.id in self.grown:
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
            return None
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
        return self.index.get((node.lineno, node.col_offset, callee_text(node.func)[1]))

    def results(self) -> tuple[tuple, tuple]:
        writes = []
        for node, statement in self.writes:
            i = self._call_index(node)
            if i is not None:
                sizes = tuple(_judged(self.data_or_collection, node, a) for a in node.args[:MAX_ARGS])
                writes.append(Write(i, sizes, statement))
        write_ids = {id(node) for node, _ in self.writes}
        loops = []
        for node, calls in self.loops:
            if not any(id(c) in write_ids for c in calls):
                continue
            indices = tuple(i for i in map(self._call_index, calls) if i is not None)
            counter = self.counters.get(id(node), "") or _enumerate_index(node)
            kind = "while" if type(node) is ast.While else "for"
            unbounded = _judged(self.iterable_size, node)
            loops.append(Loop(node.lineno, node.col_offset, kind, unbounded, counter, indices))
        return tuple(writes), tuple(loops)

    def data_or_collection(self, call: ast.Call, arg: ast.AST) -> str:
        """Why one argument of a write has no size bound, or "": judged as text or bytes, or as a
        collection for `writelines` and `dump` (writelines takes any number of lines)."""
        line = call.lineno
        hint = callee_text(call.func)[1]
        if hint in ("writelines", "dump"):
            size = self.collection_size(arg, line)
            if size is None and hint == "writelines":
                return f"`{_text(arg)}` is a collection built elsewhere"
            return f"it writes {size}" if size else ""
        return self.data_size(arg, line) or ""


def _judged(judge, *nodes: ast.AST) -> str:
    """A size judgement, or "" (nothing reported) for an expression nested too deep to judge."""
    try:
        return judge(*nodes)
    except RecursionError:
        return ""


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


def function_writes(node: ast.FunctionDef | ast.AsyncFunctionDef, calls: list) -> tuple[tuple, tuple]:
    """The writes of a function body and the loops that hold them."""
    return _Body(node, calls).results()
