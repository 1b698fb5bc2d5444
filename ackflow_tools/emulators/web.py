"""Small WSGI plumbing shared by the local Google services: routing, Google-shaped errors, serving.

Google's REST APIs use custom verbs after a colon (``queues/q:pause``), which do not fit the
usual route converters, so routes here are regular expressions over the path.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

log = logging.getLogger(__name__)

HTTP_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


class GoogleError(Exception):
    """An error answered in Google's JSON shape: ``{"error": {code, message, status}}``."""

    def __init__(self, status: str, message: str, *, details: list[dict] | None = None,
                 headers: dict[str, str] | None = None, errors: list[dict] | None = None,
                 code: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code or HTTP_STATUS[status]
        self.message = message
        self.details = details or []
        self.errors = errors or []  # the older APIs' {"domain", "reason", "message"} list (Gmail's)
        self.headers = headers or {}

    def response(self) -> Response:
        body = {"error": {"code": self.code, "message": self.message, "status": self.status}}
        if self.errors:
            body["error"]["errors"] = self.errors
        if self.details:
            body["error"]["details"] = self.details
        return json_response(body, self.code, headers=self.headers or None)


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


def read_json(request: Request) -> dict:
    """The request body as a JSON object; an empty body is ``{}``."""
    raw = request.get_data()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise GoogleError("INVALID_ARGUMENT", f"Invalid JSON payload received. {exc}") from exc
    if not isinstance(data, dict):
        raise GoogleError("INVALID_ARGUMENT", "Invalid JSON payload received. Expected an object.")
    return data


def ints_for_enums(request: Request) -> bool:
    """True when the client asked for numeric enums (``$alt=json;enum-encoding=int``)."""
    return "enum-encoding=int" in request.args.get("$alt", "")


Handler = Callable[..., Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern
    handler: Handler


class Router:
    """Maps (method, path regex) to handlers; regex groups become positional arguments."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append(Route(method.upper(), re.compile(f"^{pattern}$"), handler))

    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except GoogleError as exc:
            response = exc.response()
        except Exception:  # the service must answer, as Google would, with INTERNAL
            log.exception("unhandled error for %s %s", request.method, request.path)
            response = GoogleError("INTERNAL", "Internal error encountered.").response()
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path_matched = False
        for route in self.routes:
            match = route.pattern.match(request.path)
            if not match:
                continue
            path_matched = True
            if route.method == request.method:
                return route.handler(request, *match.groups())
        if path_matched:
            raise GoogleError("NOT_FOUND", f"Method {request.method} not found for {request.path}")
        raise GoogleError("NOT_FOUND", f"The requested URL {request.path} was not found.")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        # a request line too long to read (414) has no command or path yet: logging them raised,
        # and the client got its connection closed instead of the 414
        log.debug("%s %s -> %s", getattr(self, "command", "-"), getattr(self, "path", "-"), code)


def serve(app, host: str, port: int) -> BaseWSGIServer:
    """A threaded HTTP server for ``app`` (werkzeug's: a thread per connection). It closes each
    connection after its answer; measured on the pipeline it still beats a keep-alive server with
    a thread pool, because it never hands a request from one thread to another."""
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    server.daemon_threads = True
    return server


class ServerThread:
    """Runs a WSGI server in a background thread (used by ``ackflow dev`` and tests)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        self.server = serve(app, host, port)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
