"""One HTTP attempt of a task, as Cloud Tasks makes it, and the token bucket that paces attempts."""

from __future__ import annotations

import http.client
import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from ackflow.auth.signing import LocalSigner

from .resources import HttpTarget

log = logging.getLogger(__name__)

GOOGLE_ISSUER = "https://accounts.google.com"

# HTTP status -> google.rpc.Code, for Attempt.response_status.
GRPC_CODE_FOR_HTTP = {
    400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 412: 9, 429: 8, 499: 1,
    500: 13, 501: 12, 503: 14, 504: 4,
}


def grpc_code(http_status: int | None) -> int:
    if http_status is None:
        return 14  # UNAVAILABLE: no response
    if 200 <= http_status < 300:
        return 0
    return GRPC_CODE_FOR_HTTP.get(http_status, 2 if http_status < 500 else 13)


class TokenBucket:
    """Cloud Tasks' rate limit: ``rate`` tokens per second, at most ``size`` at once."""

    def __init__(self, rate: float, size: int, now: float):
        self.rate = rate
        self.size = size
        self.tokens = float(size)
        self.stamp = now

    def reconfigure(self, rate: float, size: int) -> None:
        self.rate = rate
        self.size = size
        self.tokens = min(self.tokens, float(size))

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(float(self.size), self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def take(self, now: float) -> bool:
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def next_token_at(self, now: float) -> float:
        self._refill(now)
        return now + max(0.0, (1.0 - self.tokens) / self.rate)


@dataclass
class Outcome:
    """What one attempt produced: an HTTP status, or no response at all (with a reason)."""

    status: int | None
    retry_after: float | None = None
    reason: str | None = None  # why it failed, when it did

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class AttemptInfo:
    queue_id: str
    task_id: str
    retry_count: int
    execution_count: int
    eta: float
    previous_response: int | None
    retry_reason: str | None
    deadline: float


class TokenCache:
    """Google reuses an OIDC token for a service account and audience until shortly before it
    expires; so does the local service (signing is the costliest part of an attempt)."""

    LIFETIME = 3600
    RENEW_BEFORE = 300

    def __init__(self, signer: LocalSigner):
        self.signer = signer
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def token(self, email: str, audience: str) -> str:
        now = time.time()
        with self._lock:
            cached = self._tokens.get((email, audience))
            if cached and cached[1] - self.RENEW_BEFORE > now:
                return cached[0]
        token = self.signer.id_token(issuer=GOOGLE_ISSUER, audience=audience, email=email,
                                     lifetime=self.LIFETIME)
        with self._lock:
            self._tokens[(email, audience)] = (token, now + self.LIFETIME)
        return token


def build_headers(target: HttpTarget, info: AttemptInfo, tokens: TokenCache) -> dict[str, str]:
    headers = {k: v for k, v in target.headers.items() if not k.lower().startswith("x-cloudtasks-")}
    headers.setdefault("User-Agent", "Google-Cloud-Tasks")
    if target.body and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/octet-stream"
    # A fresh connection per attempt: a pooled keep-alive connection that the target has since
    # closed would fail an attempt that never reached it, which Cloud Tasks would not count.
    headers["Connection"] = "close"
    headers["X-CloudTasks-QueueName"] = info.queue_id
    headers["X-CloudTasks-TaskName"] = info.task_id
    headers["X-CloudTasks-TaskRetryCount"] = str(info.retry_count)
    headers["X-CloudTasks-TaskExecutionCount"] = str(info.execution_count)
    headers["X-CloudTasks-TaskETA"] = f"{info.eta:.6f}"
    if info.previous_response is not None:
        headers["X-CloudTasks-TaskPreviousResponse"] = str(info.previous_response)
    if info.retry_reason:
        headers["X-CloudTasks-TaskRetryReason"] = info.retry_reason
    if target.oidc_email:
        token = tokens.token(target.oidc_email, target.oidc_audience or target.url)
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _retry_after(response: http.client.HTTPResponse) -> float | None:
    value = response.getheader("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _connection(url: str, deadline: float) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an HTTP URL: {url}")
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname, parts.port, timeout=min(10.0, deadline))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return connection, path


def deliver(target: HttpTarget, info: AttemptInfo, tokens: TokenCache) -> Outcome:
    """Make one attempt on a connection of its own; a handler that does not answer within the
    deadline is cut off. (The standard library's client: one request per connection needs no pool,
    and it is the cheapest per attempt.)"""
    headers = build_headers(target, info, tokens)
    try:
        connection, path = _connection(target.url, info.deadline)
    except ValueError as exc:  # create_task checks URLs; a port out of range still lands here
        log.warning("attempt of %s: %s", info.task_id, exc)
        return Outcome(None, reason="UNAVAILABLE")
    try:
        connection.connect()
        connection.sock.settimeout(info.deadline)
        connection.request(target.method, path, body=target.body or None, headers=headers)
        response = connection.getresponse()
        response.read()
    except TimeoutError:
        return Outcome(None, reason="DEADLINE_EXCEEDED")
    except (OSError, http.client.HTTPException) as exc:
        log.debug("attempt of %s failed: %s", info.task_id, exc)
        return Outcome(None, reason="UNAVAILABLE")
    finally:
        connection.close()
    reason = None if 200 <= response.status < 300 else f"HTTP {response.status}"
    return Outcome(response.status, retry_after=_retry_after(response), reason=reason)
