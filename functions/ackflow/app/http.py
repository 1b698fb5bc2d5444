"""The only HTTP types the core sees; the function entry points convert to and from them.

Bodies are read defensively: at most ``MAX_BODY`` bytes (a Chat event is at most a 32,000-byte
message plus a little; a task is a few dozen bytes), strict UTF-8, JSON without NaN or Infinity,
at most ``MAX_DEPTH`` levels deep (the json module raises RecursionError, not ValueError, past
about a thousand), no unpaired surrogate (it cannot be stored or sent back as UTF-8) and no integer
beyond 64 bits. Whatever is wrong is said in our words; exception text never reaches a body.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

MAX_BODY = 256 * 1024
MAX_DEPTH = 64
MAX_INT = 2**63
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadBody(ValueError):
    """The body is not JSON we accept; the message says why, in words fit for an answer."""


def _no_constants(name: str):
    raise BadBody(f"the JSON holds {name}, which is not a number")


def read_json(body: bytes) -> object:
    """The JSON document in ``body``, or BadBody saying why not."""
    if len(body) > MAX_BODY:
        raise BadBody(f"the body is larger than {MAX_BODY} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody("the body is not UTF-8") from None
    try:
        document = json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise BadBody(f"the JSON is nested more than {MAX_DEPTH} levels deep") from None
    except BadBody:
        raise
    except ValueError:
        raise BadBody("the body is not JSON") from None
    _check(document)
    return document


def _check(document: object) -> None:
    """Walk the document without recursion: depth, surrogates, numbers."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise BadBody("the JSON holds an unpaired surrogate (\\ud800-\\udfff)")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not -MAX_INT <= value < MAX_INT:
                raise BadBody("the JSON holds an integer beyond 64 bits")
        elif isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise BadBody("the JSON holds a number too large for a float")
        elif depth > MAX_DEPTH:
            raise BadBody(f"the JSON is nested more than {MAX_DEPTH} levels deep")
        elif isinstance(value, dict):
            stack.extend((key, depth) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        else:
            stack.extend((item, depth + 1) for item in value)


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
            try:
                data = json.dumps(self.body, ensure_ascii=False).encode()
            except UnicodeEncodeError:  # an unpaired surrogate (from a job's output): escaped instead
                data = json.dumps(self.body).encode()
            return data, {"Content-Type": "application/json; charset=utf-8", **self.headers}
        return str(self.body).encode("utf-8", "replace"), {"Content-Type": "text/plain; charset=utf-8", **self.headers}


def error(status: int, message: str) -> HttpResponse:
    return HttpResponse(status, {"error": {"code": status, "message": message}})
