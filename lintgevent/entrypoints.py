"""Where request paths start: web handlers, greenlet targets, servers' handlers, configured names."""
from __future__ import annotations

import fnmatch

from .catalog import Runner
from .deployment import Deployment
from .index import ProjectIndex, alternatives, is_test_module
from .summary import Call, FileSummary

ROUTE_HINTS = {"route": None, "get": "GET", "post": "POST", "put": "PUT", "delete": "DELETE",
               "patch": "PATCH", "head": "HEAD", "options": "OPTIONS", "websocket": "WS"}
VIEW_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "dispatch_request", "dispatch",
                "list", "create", "retrieve", "update", "partial_update", "destroy")
FALCON_PREFIXES = ("on_get", "on_post", "on_put", "on_patch", "on_delete", "on_head", "on_options")
VIEW_BASES = ("flask.views.", "quart.views.", "django.views.", "rest_framework.")
DJANGO_ROUTES = ("django.urls.path", "django.urls.re_path", "django.conf.urls.url")
PYRAMID_VIEWS = ("pyramid.view.view_config", "pyramid.view.view_defaults")
CALL_HINTS = frozenset({"add_url_rule", "add_route", "add_view", "add_resource", "register", "path", "re_path",
                        "url"})

# The methods of a REST resource class that answer requests.
RESOURCE_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
# Tastypie's resource methods that answer requests, and the data methods they call.
TASTYPIE_METHODS = tuple(f"{verb}_{what}" for verb in ("get", "post", "put", "patch", "delete")
                         for what in ("list", "detail")) + ("dispatch_list", "dispatch_detail")
# Decorators whose function the framework runs in a greenlet: realtime message handlers, locust tasks.
# Celery's task decorators count only under a gevent pool (CELERY_TASKS).
HANDLER_DECORATORS = {
    "flask_socketio.SocketIO().on": "Socket.IO handler", "flask_socketio.SocketIO().event": "Socket.IO handler",
    "socketio.Server().on": "Socket.IO handler", "socketio.Server().event": "Socket.IO handler",
    "locust.task": "locust task", "locust.user.task.task": "locust task",
}
CELERY_TASKS = ("celery.Celery().task", "celery.shared_task", "celery.task", "celery.app.shared_task")
CELERY_TASK_BASES = ("celery.Task", "celery.app.task.Task")
SOCKETIO_NAMESPACES = ("flask_socketio.Namespace", "socketio.Namespace")
LOCUST_BASES = ("locust.User", "locust.HttpUser", "locust.FastHttpUser", "locust.TaskSet",
                "locust.SequentialTaskSet", "locust.contrib.fasthttp.FastHttpUser")
ZERORPC_SERVERS = ("zerorpc.Server", "zerorpc.core.Server")

# Priority of labels: a web route names the request better than a generic greenlet label.
ROUTE, VIEW, GREENLET, CONFIGURED = 0, 1, 2, 3


class EntryPoints:
    """Collects entry points: function key -> (priority, label)."""

    def __init__(self, index: ProjectIndex, deployments: dict[str, Deployment], celery_gevent: bool = False):
        """`deployments`: each file's; `celery_gevent`: a Celery worker with the gevent pool runs the tasks."""
        self.index = index
        self.deployments = deployments
        self.celery_gevent = celery_gevent
        self.found: dict[tuple, tuple[int, str]] = {}

    def add(self, key: tuple | None, priority: int, label: str) -> None:
        if key is None or self.index.function(key) is None:
            return
        if key not in self.found or priority < self.found[key][0]:
            self.found[key] = (priority, label)

    def threads_patched(self, path: str) -> bool:
        return "thread" in self.deployments[path].patched

    # -- the ways in --------------------------------------------------------------------------
    def collect(self, configured: list[str], tests: bool = False) -> dict[tuple, tuple[int, str]]:
        """Every way in; test code's routes and greenlet targets only with `tests` (a test that
        spawns does not make its target a request path), the configured names everywhere."""
        index = self.index
        for fs in index.files.values():
            if not self.deployments[fs.path].uses_gevent:
                continue
            if not tests and is_test_module(fs.module):
                continue
            falcon = any(v.split(".")[0] == "falcon" for v in fs.imports.values())
            for function in fs.functions.values():
                key = (fs.path, function.qualname)
                for decorator in function.decorators:
                    self.from_decorator(key, decorator, fs)
                params = function.params[1:] if function.cls else function.params
                if len(params) >= 2 and params[1] == "start_response":  # `(environ, start_response)`, any first name
                    self.add(key, ROUTE, f"WSGI app {function.qualname}")
                name = function.qualname.rsplit(".", 1)[-1]
                if falcon and function.cls and name.startswith(FALCON_PREFIXES):
                    self.add(key, VIEW, f"Falcon responder {function.qualname}")
            for cls in fs.classes.values():
                self.from_class((fs.path, cls.qualname))
                for decorator in cls.decorators:
                    self.from_class_decorator((fs.path, cls.qualname), decorator)
            for call in fs.all_calls():
                self.from_call(call, fs)
        self.from_config(configured)
        return self.found

    def from_decorator(self, key: tuple, decorator: Call, fs: FileSummary) -> None:
        hint = decorator.hint
        route = _route(decorator)
        if route is not None:
            methods = decorator.keyword("methods") or decorator.keyword("method")
            if ROUTE_HINTS[hint]:
                verbs = ROUTE_HINTS[hint]
            elif methods and methods[0] == "strs":
                verbs = ",".join(m.upper() for m in methods[1])
            elif methods and methods[0] == "str":
                verbs = methods[1].upper()
            else:
                verbs = "GET"
            self.add(key, ROUTE, f"route {verbs} {route}")
            return
        value = self.index.evaluate(decorator.func, fs)
        name = value[1] if value and value[0] == "ext" else ""
        if name in HANDLER_DECORATORS:
            event = decorator.arg(0)
            event = event[1] if event and event[0] == "str" and not decorator.bare else key[1].rsplit(".", 1)[-1]
            self.add(key, GREENLET, f"{HANDLER_DECORATORS[name]} {event}")
        elif name in CELERY_TASKS and self.celery_gevent:
            self.add(key, GREENLET, f"Celery task {key[1]}")
        if name in PYRAMID_VIEWS:
            route = decorator.keyword("route_name")
            name = route[1] if route and route[0] == "str" else key[1]
            self.add(key, VIEW, f"view {name}")

    def from_class_decorator(self, cls_key: tuple, decorator: Call) -> None:
        """`@ns.route("/items")` on a resource class (Flask-RESTX, flask-restplus): each HTTP
        method of the class is a route; its other methods are not."""
        route = _route(decorator)
        if route is not None and decorator.hint == "route":
            self.add_methods(cls_key, RESOURCE_METHODS, ROUTE, f"route {route}")

    def from_class(self, cls_key: tuple) -> None:
        index = self.index
        info = index.class_info(cls_key)
        for name in index.external_ancestors(cls_key):
            if name.startswith(VIEW_BASES):
                for method in VIEW_METHODS:
                    self.add(index.find_method(cls_key, method), VIEW, f"view {info.qualname}.{method}")
                return
            if name.startswith("tastypie.resources."):
                self.add_methods(cls_key, TASTYPIE_METHODS, VIEW, "Tastypie resource")
                self.wrapped_views(cls_key)
                return
            if name in SOCKETIO_NAMESPACES:
                self.add_methods(cls_key, tuple(m for m in info.methods if m.startswith("on_")), GREENLET,
                                 "Socket.IO handler")
                return
            if name in LOCUST_BASES:
                self.add_methods(cls_key, ("on_start", "on_stop"), GREENLET, "locust user")
                return
            if name in CELERY_TASK_BASES:
                if self.celery_gevent:
                    self.add(index.find_method(cls_key, "run"), GREENLET, f"Celery task {info.qualname}.run")
                return
            if name in ("threading.Thread", "gevent.Greenlet", "gevent.greenlet.Greenlet"):
                if name != "threading.Thread" or self.threads_patched(cls_key[0]):
                    run = "run" if name == "threading.Thread" else "_run"
                    self.add(index.find_method(cls_key, run), GREENLET, f"greenlet {info.qualname}.{run}")
                return

    def wrapped_views(self, cls_key: tuple) -> None:
        """Tastypie's `prepend_urls`: `self.wrap_view("name")` makes the method `name` a view."""
        fs = self.index.files[cls_key[0]]
        for function in fs.functions.values():
            if function.cls != cls_key[1]:
                continue
            for call in function.calls:
                name = call.arg(0) if call.hint == "wrap_view" else None
                if name and name[0] == "str":
                    self.add(self.index.find_method(cls_key, name[1]), VIEW, f"Tastypie view {name[1]}")

    def view_class(self, desc, fs: FileSummary) -> tuple | None:
        """The class of `SomeView.as_view(...)`, given the descriptor of that call."""
        if not desc or desc[0] != "call" or not desc[1]:
            return None
        func = desc[1]
        if func[0] == "ref" and func[1].endswith(".as_view"):
            value = self.index.resolve_global(func[1][: -len(".as_view")], self.index.root_of[fs.path])
        elif func[0] == "attr" and func[2] == "as_view":
            value = self.index.evaluate(func[1], fs)
        else:
            return None
        return value[1] if value and value[0] == "class" else None

    def add_view(self, desc, fs: FileSummary, priority: int, label: str,
                 methods: tuple[str, ...] = (*VIEW_METHODS, *FALCON_PREFIXES, "__call__")) -> None:
        """A view given as a function, a class instance, or `Class.as_view()`: a class's `methods`."""
        cls_key = self.view_class(desc, fs)
        for value in alternatives(("class", cls_key) if cls_key else self.index.evaluate(desc, fs)):
            if value[0] == "func":
                self.add(value[1], priority, label)
            elif value[0] in ("class", "obj"):
                self.add_methods(value[1], methods, priority, label)

    def add_methods(self, cls_key: tuple, methods: tuple[str, ...], priority: int, label: str) -> None:
        """The methods of a class (or of its bases) that answer requests, each an entry point."""
        info = self.index.class_info(cls_key)
        for method in methods:
            found = self.index.find_method(cls_key, method)
            if found:
                self.add(found, priority, f"{label} ({info.qualname}.{method})")

    def from_call(self, call: Call, fs: FileSummary) -> None:
        hint = call.hint
        index = self.index
        if hint in CALL_HINTS:
            rule = call.arg(0, "rule")
            path = rule[1] if rule and rule[0] == "str" else "?"
            if hint == "add_url_rule":
                self.add_view(call.arg(2, "view_func"), fs, ROUTE, f"route {path}")
                return
            if hint == "add_resource":  # Flask-RESTful, Flask-RESTX: api.add_resource(Resource, "/items", ...)
                rule = call.arg(1)
                self.add_view(call.arg(0, "resource"), fs, ROUTE,
                              f"route {rule[1] if rule and rule[0] == 'str' else '?'}", RESOURCE_METHODS)
                return
            if hint == "add_route":
                self.add_view(call.arg(1, "resource"), fs, ROUTE, f"route {path}")
                return
            if hint == "register":
                self.add_view(call.arg(1, "viewset"), fs, VIEW, f"view {path}")
                return
            if hint == "add_view":  # Pyramid's Configurator.add_view(view, route_name=...)
                name = call.keyword("route_name")
                self.add_view(call.arg(0, "view"), fs, VIEW, f"view {name[1] if name and name[0] == 'str' else '?'}")
                return
            value = index.evaluate(call.func, fs)
            if value and value[0] == "ext" and value[1] in DJANGO_ROUTES:
                self.add_view(call.arg(1, "view"), fs, VIEW, f"view {path}")
            return
        callee = index.evaluate(call.func, fs)
        if callee and callee[0] == "ext" and callee[1] in ZERORPC_SERVERS:  # zerorpc.Server(Service()): its methods
            for value in alternatives(index.evaluate(call.arg(0, "methods"), fs)):
                if value[0] in ("obj", "class"):
                    info = index.class_info(value[1])
                    public = tuple(sorted(m for m in info.methods if not m.startswith("_"))) if info else ()
                    self.add_methods(value[1], public, ROUTE, "zerorpc method")
            return
        if hint == "on_event":  # socketio.on_event("message", handler)
            self.add_view(call.arg(1, "handler"), fs, GREENLET, "Socket.IO handler")
            return
        runner = self.runner_of(call, fs, callee)
        if runner is None:
            return
        spec, target = runner
        kind = spec.kind
        if kind == "greenlet" or (kind == "thread" and self.threads_patched(fs.path)):
            label = "greenlet" if kind == "greenlet" else "thread (a greenlet under patching)"
            for key in self.callables(target):
                self.add(key, GREENLET, f"{label} {key[1]}")
        elif kind == "server":
            server = index.evaluate(call.func, fs)
            label = "WSGI app" if server and "WSGI" in server[1] else "StreamServer handler"
            for key in self.callables(target):
                self.add(key, ROUTE, f"{label} {key[1]}")

    def runner_of(self, call: Call, fs: FileSummary, function) -> tuple[Runner, object] | None:
        """(the catalog's runner, resolved target) when the call, whose callee evaluated to
        `function`, hands a function to a greenlet, a thread or a threadpool."""
        value = function
        if value is None or value[0] != "ext":
            return None
        runner = self.index.catalog.runner(value[1])
        if runner is None:
            return None
        return runner, self.index.evaluate(call.arg(runner.arg, runner.keyword or None), fs)

    def callables(self, value) -> list[tuple]:
        """Function keys a value (or each of its alternatives) runs when called."""
        out = []
        for value in alternatives(value):
            if value[0] == "func":
                out.append(value[1])
            elif value[0] in ("obj", "class"):
                method = self.index.find_method(value[1], "__call__" if value[0] == "obj" else "__init__")
                if method:
                    out.append(method)
        return out

    def from_config(self, patterns: list[str]) -> None:
        """Configured entry points: dotted names (`pkg.mod.func`, `pkg.mod:Class.method`) or globs."""
        if not patterns:
            return
        for fs in self.index.files.values():
            for function in fs.functions.values():
                dotted = f"{fs.module}.{function.qualname}" if fs.module else function.qualname
                for pattern in patterns:
                    normal = pattern.replace(":", ".")
                    if (fnmatch.fnmatchcase(dotted, normal) or dotted.startswith(normal + ".")
                            or fnmatch.fnmatchcase(function.qualname, normal)):
                        self.add((fs.path, function.qualname), CONFIGURED, f"entry point {pattern}")
                        break


def _route(decorator: Call) -> str | None:
    """The rule of `@app.route("/x")`, `@app.get("/x")`...; None for any other decorator."""
    hint = decorator.hint
    if hint not in ROUTE_HINTS or decorator.bare:
        return None
    rule = decorator.arg(0, "rule")
    if rule and rule[0] == "str" and (hint == "route" or rule[1].startswith("/")):
        return rule[1]
    return None
