"""The only HTTP types the core sees; the function entry points convert to and from them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]  # keys lower-cased
    body: bytes = b""

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    @classmethod
    def build(cls, method: str, path: str, headers, body: bytes) -> HttpRequest:
        return cls(method.upper(), path or "/", {k.lower(): v for k, v in dict(headers).items()}, body)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: dict | list | str = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body, ensure_ascii=False).encode(), {
                "Content-Type": "application/json; charset=utf-8", **self.headers}
        return str(self.body).encode(), {"Content-Type": "text/plain; charset=utf-8", **self.headers}


def error(status: int, message: str) -> HttpResponse:
    return HttpResponse(status, {"error": {"code": status, "message": message}})
