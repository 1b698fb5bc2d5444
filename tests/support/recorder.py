"""An HTTP endpoint that records what it receives and answers as a test tells it to."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.wrappers import Request, Response

from ackflow_tools.emulators.web import ServerThread


@dataclass
class Received:
    at: float
    method: str
    path: str
    headers: dict
    body: bytes


@dataclass
class Recorder:
    """``behaviour(request_number, Received) -> (status, body) or status``; default 200."""

    behaviour: Callable | None = None
    received: list[Received] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self.concurrent = 0
        self.max_concurrent = 0
        self.server = ServerThread(self._app).start()

    @property
    def url(self) -> str:
        return self.server.url

    def _app(self, environ, start_response):
        request = Request(environ)
        item = Received(time.time(), request.method, request.path, dict(request.headers), request.get_data())
        with self._lock:
            self.received.append(item)
            number = len(self.received)
            self.concurrent += 1
            self.max_concurrent = max(self.max_concurrent, self.concurrent)
            self._arrived.notify_all()
        try:
            result = self.behaviour(number, item) if self.behaviour else 200
        finally:
            with self._lock:
                self.concurrent -= 1
        status, body = result if isinstance(result, tuple) else (result, "")
        return Response(body, status=status)(environ, start_response)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} requests, got {len(self.received)}")
                self._arrived.wait(remaining)
            return list(self.received)

    def stop(self) -> None:
        self.server.stop()
