"""A fault-injecting HTTP proxy in front of the local Chat service, for the chaos suite.

The worker's Chat endpoint points here. Each message write (POST/PATCH/PUT under /v1/spaces/) may
be answered 429 RESOURCE_EXHAUSTED without reaching Chat, or 503 UNAVAILABLE either before it
reaches Chat or after Chat applied it (the answer lost on the way back) — in Google's error shape,
so the official client maps them as it would Google's. Everything else passes through.
"""

from __future__ import annotations

import random
import threading

import requests
from werkzeug.wrappers import Request, Response

from ackflow_tools.emulators.web import ServerThread

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


def _google_error(code: int, status: str, message: str) -> Response:
    import json

    body = json.dumps({"error": {"code": code, "message": message, "status": status}})
    return Response(body, status=code, content_type="application/json; charset=UTF-8")


class FaultProxy:
    def __init__(self, seed: int = 0):
        self.upstream = ""
        self.random = random.Random(seed)
        self._lock = threading.Lock()
        self.p429 = 0.0
        self.p5xx = 0.0
        self.counts = {"429": 0, "5xx": 0, "passed": 0}
        self.http = requests.Session()
        self.server = ServerThread(self._app)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> FaultProxy:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def set_faults(self, p429: float, p5xx: float) -> None:
        with self._lock:
            self.p429, self.p5xx = p429, p5xx

    def injected(self) -> tuple[int, int]:
        with self._lock:
            return self.counts["429"], self.counts["5xx"]

    def _roll(self) -> str:
        with self._lock:
            roll = self.random.random()
            if roll < self.p429:
                self.counts["429"] += 1
                return "429"
            if roll < self.p429 + self.p5xx:
                self.counts["5xx"] += 1
                return "5xx-before" if self.random.random() < 0.5 else "5xx-after"
            self.counts["passed"] += 1
            return "pass"

    def _app(self, environ, start_response):
        request = Request(environ)
        fault = "pass"
        if request.method in ("POST", "PATCH", "PUT") and request.path.startswith("/v1/spaces/"):
            fault = self._roll()
        if fault == "429":
            return _google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded (chaos).")(environ, start_response)
        if fault == "5xx-before":
            return _google_error(503, "UNAVAILABLE", "The service is unavailable (chaos).")(environ, start_response)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            upstream = self.http.request(request.method, self.upstream + request.full_path.rstrip("?"),
                                         data=request.get_data(), headers=headers, timeout=60)
        except requests.RequestException:
            return _google_error(503, "UNAVAILABLE", "Upstream unreachable.")(environ, start_response)
        if fault == "5xx-after":
            return _google_error(503, "UNAVAILABLE", "The answer was lost (chaos).")(environ, start_response)
        out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
        return Response(upstream.content, status=upstream.status_code, headers=out)(environ, start_response)
