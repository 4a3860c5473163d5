"""The cache's entries as MessagePack, data only: decoding builds no type but the ones listed here.

An entry is `[trees, body]`.  `trees` lists, once each, the tuples of scalars and tuples (descriptors,
argument lists, fix plans...) that the body refers to by their index: a file repeats the same ones
many times, and building each of them once makes decoding a third faster.  The body holds a record
(a dataclass, or the tuple of a run's results) as an array of its fields in order, each field as
its kind says:

    int, str, bool, float, nil  itself (an int beyond 64 bits as an extension of type BIG_INT:
                                its decimal digits)
    TREE / DESC                 an index into `trees` / the same, or nil
    list_of(k), tuple_of(k)     an array of k
    set_of_str                  an array of str
    dict_of(k)                  a map of k (the keys are str)

MessagePack (msgpack, a C extension) rather than JSON: it parses in half the time and reads arrays
straight into tuples (Django's summaries: 14% faster to load, 16% faster to write, 24% smaller).
Strings keep lone surrogates (`"\ud800"` in a literal) through `surrogatepass`.

Decoding interns every string of a summary (sys.intern): msgpack makes a new string object of each
one it reads, where the summariser's strings were shared (every tree begins with one of a few tags,
"ref", "attr", "call"...).  Django's decoded summaries take 86 MB less (-46%) for 0.23 s more
(+31%): a run that decodes them all holds them all, and memory is what limits the largest trees.

Kinds of entry: a file's summary, a run's results (with the `# noqa` comments of the files they
report on), a project's snapshot (the last run's inputs and results, relocation.py) and a file's
line digests.

Encoding checks every value against its kind (TypeError otherwise: an array would turn a tuple
into a list, or a list into a tuple, without a word).  Decoding checks the type of every field
before it builds anything: any other shape is a ValueError, which the cache takes as a miss.
"""
from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from functools import lru_cache
from operator import attrgetter
from sys import intern

import msgpack

from .deployment import Deployment, Process
from .findings import FileError, Finding
from .noqa import Directive, NoqaMap
from .snapshot import Snapshot

_NONE = type(None)
_SCALARS = frozenset({str, int, float, bool, _NONE})
BIG_INT = 1  # the extension type of an int that does not fit in 64 bits
_STR = frozenset({str})
_INT = frozenset({int})
_INT_OR_NONE = frozenset({int, _NONE})


class _Kind:
    """How values of one kind are written: the types they are read back as, and both directions."""

    __slots__ = ("types", "encode", "decode")

    def __init__(self, types: tuple, encode: Callable, decode: Callable | None):
        self.types = types  # what it is written as, as decoded: tuple for an array, dict for a map
        self.encode = encode  # (value, _Trees) -> what is written
        self.decode = decode  # (a value of one of self.types, decoded trees) -> value; None: a tree


class _Trees:
    """The trees of an entry being encoded, each once."""

    def __init__(self):
        self.index: dict[tuple | str, int] = {}
        self.trees: list[tuple] = []
        # id(tree) -> its index: a summary shares its descriptors (summary.py), so most trees come
        # again as the same object.  The value being encoded keeps every one of them alive.
        self.seen: dict[int, int] = {}

    def add(self, tree) -> int:
        index = self.seen.get(id(tree))
        if index is not None:
            return index
        if type(tree) is not tuple:
            raise TypeError(f"not a tuple: {type(tree).__name__}")
        # (1,), (True,) and (1.0,) are equal tuples: only tuples of str are their own key.
        key = tree if _STR.issuperset(map(type, tree)) else repr(tree)
        index = self.index.get(key)
        if index is None:
            _check_tree(tree)
            index = self.index[key] = len(self.trees)
            self.trees.append(tree)
        self.seen[id(tree)] = index
        return index


def _check_tree(tree: tuple) -> None:
    if not _SCALARS.issuperset(map(type, tree)):
        for value in tree:
            if type(value) is tuple:
                _check_tree(value)
            elif type(value) not in _SCALARS:
                raise TypeError(f"a {type(value).__name__} in a tuple")


def _tree(x) -> tuple:
    """A tree as read, made again with its strings interned: a tuple of scalars and trees, and
    nothing else."""
    if type(x) is not tuple:
        raise ValueError("a tree is not an array")
    out = []
    append = out.append
    for value in x:
        kind = type(value)
        if kind is str:
            append(intern(value))
        elif kind is tuple:
            append(_tree(value))
        elif kind in _SCALARS:
            append(value)
        else:
            raise ValueError("a map or bytes in a tree")
    return tuple(out)


TREE = _Kind((int,), lambda value, trees: trees.add(value), None)
DESC = _Kind((int, _NONE), lambda value, trees: None if value is None else trees.add(value), None)


def _sequence(kind) -> tuple[Callable, Callable]:
    """(encode, decode) of a sequence of values of one kind, as lists."""
    if kind is str:
        def encode(values, trees):
            if not _STR.issuperset(map(type, values)):
                raise TypeError("not all str")
            return list(values)

        def decode(items, trees):
            if not _STR.issuperset(map(type, items)):
                raise ValueError("not all str")
            return list(map(intern, items))
    elif kind is TREE or kind is DESC:
        allowed = _INT if kind is TREE else _INT_OR_NONE

        def encode(values, trees):
            return [kind.encode(v, trees) for v in values]

        def decode(items, trees):
            if not allowed.issuperset(map(type, items)):
                raise ValueError("not all tree indices")
            return [trees[i] if i is not None else None for i in items]
    else:
        record_encode, record_decode = kind.encode, kind.decode

        def encode(values, trees):
            return [record_encode(v, trees) for v in values]

        def decode(items, trees):
            return [record_decode(i, trees) for i in items]
    return encode, decode


def _checked(value, kind: type):
    if type(value) is not kind:
        raise TypeError(f"not a {kind.__name__}: {type(value).__name__}")
    return value


def list_of(kind) -> _Kind:
    encode, decode = _sequence(kind)
    return _Kind((tuple,), lambda value, trees: encode(_checked(value, list), trees), decode)


def tuple_of(kind) -> _Kind:
    encode, decode = _sequence(kind)
    return _Kind((tuple,), lambda value, trees: encode(_checked(value, tuple), trees),
                 lambda x, trees: tuple(decode(x, trees)))


def dict_of(kind) -> _Kind:
    encode, decode = _sequence(kind)

    def encode_dict(value, trees):
        if not _STR.issuperset(map(type, _checked(value, dict))):
            raise TypeError("a key that is not a str")
        return dict(zip(value, encode(value.values(), trees)))

    def decode_dict(x, trees):
        if not _STR.issuperset(map(type, x)):
            raise ValueError("a key that is not a str")
        return dict(zip(map(intern, x), decode(tuple(x.values()), trees)))

    return _Kind((dict,), encode_dict, decode_dict)


_encode_strs, _decode_strs = _sequence(str)
set_of_str = _Kind((tuple,), lambda value, trees: sorted(_encode_strs(_checked(value, set), trees)),
                   lambda x, trees: set(_decode_strs(x, trees)))


class _Record(_Kind):
    """A dataclass (or a tuple of fixed shape) as the array of its fields.  Every combination of
    the types the fields are read as is a signature: one set lookup checks a whole record."""

    def __init__(self, cls: type, *kinds, build: Callable | None = None):
        if cls is not tuple and len(kinds) != len(dataclasses.fields(cls)):
            raise AssertionError(f"the kinds of {cls.__name__} do not match its fields")
        self.cls = cls
        self.build = build or cls
        self.fields = tuple if cls is tuple else attrgetter(*(f.name for f in dataclasses.fields(cls)))
        self.nested = tuple((i, k.encode, k.decode) for i, k in enumerate(kinds)
                            if isinstance(k, _Kind) and k.decode is not None)
        self.tree_fields = tuple(i for i, k in enumerate(kinds) if k is TREE or k is DESC)
        self.str_fields = tuple(i for i, k in enumerate(kinds) if k is str or (type(k) is tuple and str in k))
        self.encoded = tuple((i, k.encode) for i, k in enumerate(kinds) if isinstance(k, _Kind))
        types = [k.types if isinstance(k, _Kind) else k if type(k) is tuple else (k,) for k in kinds]
        self.signatures = frozenset(itertools.product(*types))
        # What encoding makes before it is written: a list for each array.
        self.written = frozenset(tuple(list if t is tuple else t for t in s) for s in self.signatures)
        super().__init__((tuple,), self._encode, self._decode)

    def _encode(self, value, trees: _Trees) -> list:
        values = list(self.fields(_checked(value, self.cls)))
        for i, encode in self.encoded:
            values[i] = encode(values[i], trees)
        if tuple(map(type, values)) not in self.written:
            raise TypeError(f"a field of {self.cls.__name__} of another type")
        return values

    def _decode(self, x, trees: list):
        if type(x) is not tuple or tuple(map(type, x)) not in self.signatures:
            raise ValueError(f"not a {self.cls.__name__}")
        x = list(x)
        for i in self.str_fields:
            if type(x[i]) is str:
                x[i] = intern(x[i])
        for i in self.tree_fields:
            if x[i] is not None:
                x[i] = trees[x[i]]
        for i, _, decode in self.nested:
            x[i] = decode(x[i], trees)
        return self.build(*x)


@lru_cache(maxsize=1)
def _summary() -> _Record:
    """A file's summary: its types come with the summariser, which a run whose results are cached
    does not import."""
    from .handles import Escapes, Flow, Injection, WithBlock
    from .summary import Call, ClassInfo, FileSummary, Function
    from .writes import Loop, Passed, Write

    optional_int = (int, _NONE)
    write = _Record(Write, int, TREE, bool, TREE)
    loop = _Record(Loop, int, int, str, str, str, TREE, DESC)
    passed = _Record(Passed, int, (int, str), str, str, TREE, TREE)
    injection = _Record(Injection, int, optional_int, str, str, str)
    flow = _Record(Flow, int, int, TREE, TREE, TREE)
    with_block = _Record(WithBlock, int, int, str, int, int, str)
    escapes = _Record(Escapes, tuple_of(flow), tuple_of(with_block), TREE)
    call = _Record(Call, int, int, DESC, TREE, TREE, str, str, int, bool)
    function = _Record(Function, str, int, int, TREE, str, tuple_of(call), tuple_of(call), tuple_of(str),
                       tuple_of(TREE), tuple_of(write), tuple_of(loop), tuple_of(passed), tuple_of(DESC),
                       tuple_of(DESC), DESC, TREE, TREE, TREE, TREE, str, str)
    class_info = _Record(ClassInfo, str, int, TREE, set_of_str, dict_of(DESC), tuple_of(call))
    return _Record(FileSummary, str, str, bool, dict_of(function), dict_of(class_info), dict_of(str), dict_of(DESC),
                   tuple_of(call), tuple_of(TREE), bool, dict_of(injection), dict_of(escapes), dict_of(DESC),
                   tuple_of(TREE), tuple_of(str), tuple_of(TREE))


_FINDING = _Record(Finding, str, int, int, str, str, str, TREE, str, TREE)
_FILE_ERROR = _Record(FileError, str, str, int)
_DEPLOYMENT = _Record(Deployment, bool, set_of_str, bool, bool, bool, list_of(str))
_PROCESS = _Record(Process, str, str, _DEPLOYMENT, list_of(str))
# A run's (findings, errors of files that did not parse, import root -> its own code's deployment,
# processes, config files read from disk -> their digests: reads.py).
_RESULTS = _Record(tuple, list_of(_FINDING), list_of(_FILE_ERROR), dict_of(_DEPLOYMENT), list_of(_PROCESS),
                   dict_of(str), build=lambda *v: v)
_NOQA = _Record(NoqaMap, bool, list_of(_Record(Directive, int, int, TREE, int, int)))
# A run's results and the `# noqa` comments of the files they report on.
_REPORT = _Record(tuple, _RESULTS, dict_of(_NOQA), build=lambda *v: v)

_SNAPSHOT = _Record(Snapshot, dict_of(str), str, set_of_str, _RESULTS, dict_of(_NOQA))


def _decode_str(x, trees):
    if type(x) is not str:
        raise ValueError("not a str")
    return x


# A file's line digests (digests.py).
_TEXT = _Kind((str,), lambda value, trees: _checked(value, str), _decode_str)

# Each kind of entry -> its record, made when first asked for.
ENTRIES = {"summary": _summary, "results": lambda: _REPORT, "snapshot": lambda: _SNAPSHOT, "lines": lambda: _TEXT}


def _big_int(value):
    if type(value) is int:
        return msgpack.ExtType(BIG_INT, str(value).encode())
    raise TypeError(f"not data: {type(value).__name__}")


def _extension(code: int, data: bytes) -> int:
    if code != BIG_INT:
        raise ValueError(f"an extension of type {code}")
    return int(data)  # ValueError for anything but digits, and for more than Python reads


def dumps(kind: str, value) -> bytes:
    """An entry of that kind (see ENTRIES); TypeError for anything else."""
    trees = _Trees()
    body = ENTRIES[kind]().encode(value, trees)
    return msgpack.packb([trees.trees, body], default=_big_int, unicode_errors="surrogatepass")


def loads(kind: str, data: bytes):
    """The value `dumps` encoded; ValueError for anything else."""
    try:
        table, body = msgpack.unpackb(data, use_list=False, ext_hook=_extension, unicode_errors="surrogatepass")
        return ENTRIES[kind]().decode(body, [_tree(t) for t in _checked(table, tuple)])
    except (TypeError, IndexError, RecursionError, msgpack.UnpackException) as error:
        # not a pair, a bad index, nested too deep, not MessagePack
        raise ValueError(f"not a {kind} entry: {error}") from None
