"""astroid, asked lazily: what is the receiver of `x.write(...)` when the summaries could not tell?

Only candidate sites reach here (a file method on an unknown receiver, in a function on a request
path), so astroid's cost is paid for a handful of calls, never for every node.
"""
from __future__ import annotations

from .summary import Call

FILE_METHODS = frozenset({"read", "write", "writelines", "readline", "readlines", "flush", "truncate"})
FILE_TYPES = frozenset({
    "_io.TextIOWrapper", "_io.BufferedWriter", "_io.BufferedReader", "_io.BufferedRandom", "_io.FileIO",
    "gzip.GzipFile", "bz2.BZ2File", "lzma.LZMAFile",
})


class ReceiverInference:
    def __init__(self) -> None:
        self._modules: dict = {}
        self._answers: dict = {}

    def refine(self, path: str, call: Call, name: str) -> str:
        """`<unknown>.write` becomes `<file>.write` when astroid infers a real file object."""
        method = name.partition(".")[2]
        if method not in FILE_METHODS:
            return name
        key = (path, call.line, call.col)
        if key not in self._answers:
            self._answers[key] = self._is_file(path, call.line, call.col)
        return "<file>." + method if self._answers[key] else name

    def _module(self, path: str):
        if path not in self._modules:
            try:
                import astroid

                self._modules[path] = astroid.MANAGER.ast_from_file(path, source=True)
            except Exception:  # astroid cannot build it: say nothing rather than guess
                self._modules[path] = None
        return self._modules[path]

    def _is_file(self, path: str, line: int, col: int) -> bool:
        module = self._module(path)
        if module is None:
            return False
        import astroid

        try:
            for node in module.nodes_of_class(astroid.nodes.Call):
                if node.lineno == line and node.col_offset == col and isinstance(node.func, astroid.nodes.Attribute):
                    inferred = list(node.func.expr.infer())
                    return bool(inferred) and all(
                        isinstance(value, astroid.Instance) and value.pytype() in FILE_TYPES for value in inferred)
        except (Exception, RecursionError):
            return False
        return False
