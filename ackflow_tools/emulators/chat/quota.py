"""Chat's write quotas, as the local Chat service enforces them.

Message writes (``spaces.messages.create``, ``patch``/``update``, ``delete``) are limited per
space, shared by every app in it (60 a minute), and per project (3,000 a minute), over a sliding
window; past a limit the write is answered as Google answers it: HTTP 429 with
``{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", ...}}`` and an ``ErrorInfo`` detail.
Google names no wait in that answer; ``retry_after`` adds a ``Retry-After`` header for tests of
clients that honour one. A limit of 0 turns it off; the window can be shrunk so a test sees a
minute's quota in seconds. Writes injected to fail (``:throttle``) are answered 429 first.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass

from ..web import GoogleError


@dataclass
class QuotaConfig:
    space_limit: int = 60  # writes per window per space, shared by every app there (0: no limit)
    project_limit: int = 3000  # writes per window per project (0: no limit)
    window: float = 60.0  # seconds
    retry_after: bool = False  # add a Retry-After header (Google does not)

    def update(self, body: dict) -> None:
        fields = {"spaceWriteLimit": ("space_limit", int), "projectWriteLimit": ("project_limit", int),
                  "window": ("window", float), "retryAfter": ("retry_after", bool)}
        for key, value in body.items():
            if key not in fields:
                continue
            name, kind = fields[key]
            try:
                number = kind(value)
            except (TypeError, ValueError) as exc:
                raise GoogleError("INVALID_ARGUMENT", f"{key} must be a {kind.__name__}.") from exc
            if kind is not bool and number < 0 or (name == "window" and number <= 0):
                raise GoogleError("INVALID_ARGUMENT", f"{key} must be positive.")
            setattr(self, name, number)


class WriteQuotas:
    def __init__(self, config: QuotaConfig | None = None, project: str = "local-project"):
        self.config = config or QuotaConfig()
        self.project = project
        self._spaces: dict[str, deque[float]] = {}
        self._project: deque[float] = deque()
        self._injected: dict[str, int] = {}
        self._stats: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()

    def inject(self, space: str, count: int) -> None:
        """The next ``count`` writes to ``space`` answer 429; ``count`` 0 ends those still pending."""
        with self._lock:
            if count <= 0:
                self._injected.pop(space, None)
            else:
                self._injected[space] = self._injected.get(space, 0) + count

    def admit(self, space: str, now: float | None = None) -> None:
        """Count one write to ``space``, or raise the 429 Chat would answer."""
        now = time.monotonic() if now is None else now
        with self._lock:
            stats = self._stats.setdefault(space, {"accepted": 0, "refused": 0})
            if self._injected.get(space, 0) > 0:
                self._injected[space] -= 1
                stats["refused"] += 1
                raise self._exhausted(space, "Write requests per space", 1.0)
            config = self.config
            writes = self._spaces.setdefault(space, deque())
            for log in (writes, self._project):
                while log and log[0] <= now - config.window:
                    log.popleft()
            for log, limit, metric in ((writes, config.space_limit, "Write requests per space"),
                                       (self._project, config.project_limit, "Message writes per project")):
                if limit and len(log) >= limit:
                    stats["refused"] += 1
                    raise self._exhausted(space, metric, log[0] + config.window - now)
            writes.append(now)
            self._project.append(now)
            stats["accepted"] += 1

    def _exhausted(self, space: str, metric: str, frees_in: float) -> GoogleError:
        config = self.config
        per = "minute" if config.window == 60 else f"{config.window:g} seconds"
        limit = config.space_limit if "space" in metric else config.project_limit
        headers = {"Retry-After": str(max(1, round(frees_in)))} if config.retry_after else None
        return GoogleError(
            "RESOURCE_EXHAUSTED",
            f"Quota exceeded for quota metric '{metric}' and limit '{metric} per {per}' of service "
            f"'chat.googleapis.com' for consumer 'project_number:{self.project}' ({space}).",
            details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED",
                      "domain": "googleapis.com",
                      "metadata": {"service": "chat.googleapis.com", "quota_metric": metric,
                                   "quota_limit_value": str(limit), "consumer": f"projects/{self.project}"}}],
            headers=headers)

    def reset(self) -> None:
        with self._lock:
            self._spaces.clear()
            self._project.clear()
            self._stats.clear()

    def to_dict(self) -> dict:
        with self._lock:
            config = asdict(self.config)
            return {"spaceWriteLimit": config["space_limit"], "projectWriteLimit": config["project_limit"],
                    "window": config["window"], "retryAfter": config["retry_after"],
                    "spaces": {space: dict(stats) for space, stats in self._stats.items()},
                    "injected": {space: count for space, count in self._injected.items() if count > 0}}
