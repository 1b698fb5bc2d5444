"""Cloud Tasks retry arithmetic, shared by the local Cloud Tasks service and the worker.

Google documents the schedule as: the first retry comes after ``min_backoff``; the interval
doubles ``max_doublings`` times, then grows linearly by ``2**max_doublings * min_backoff`` per
retry, capped at ``max_backoff``. With min 10 s, max 300 s and 3 doublings the retries come after
10, 20, 40, 80, 160, 240, 300, 300, ... seconds.

Attempts stop when both limits are met (the wording of ``RetryConfig`` in the v2 API): the task
has been attempted ``max_attempts`` times (``-1`` = unlimited) *and* ``max_retry_duration`` has
passed since the first attempt (``0`` = no time limit, so only the attempt count matters).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# Defaults Cloud Tasks picks when a queue is created without a retry config.
DEFAULT_MAX_ATTEMPTS = 100
DEFAULT_MIN_BACKOFF = 0.1
DEFAULT_MAX_BACKOFF = 3600.0
DEFAULT_MAX_DOUBLINGS = 16


@dataclass(frozen=True)
class RetryConfig:
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    min_backoff: float = DEFAULT_MIN_BACKOFF
    max_backoff: float = DEFAULT_MAX_BACKOFF
    max_doublings: int = DEFAULT_MAX_DOUBLINGS
    max_retry_duration: float = 0.0

    def __post_init__(self) -> None:
        if self.max_attempts < -1 or self.max_attempts == 0:
            raise ValueError("max_attempts must be -1 (unlimited) or at least 1")
        if self.min_backoff < 0 or self.max_backoff < self.min_backoff:
            raise ValueError("backoffs must satisfy 0 <= min_backoff <= max_backoff")
        if self.max_doublings < 0:
            raise ValueError("max_doublings must be >= 0")
        if self.max_retry_duration < 0:
            raise ValueError("max_retry_duration must be >= 0")

    def delay(self, retry_number: int) -> float:
        """Seconds to wait before retry number ``retry_number`` (1 = the first retry)."""
        if retry_number < 1:
            raise ValueError("retry_number starts at 1")
        steps = retry_number - 1
        if steps <= self.max_doublings:
            interval = self.min_backoff * (2**steps)
        else:
            top = self.min_backoff * (2**self.max_doublings)
            interval = top + (steps - self.max_doublings) * top
        return min(interval, self.max_backoff)

    def exhausted(self, attempts: int, elapsed: float) -> bool:
        """True when no attempt may follow ``attempts`` attempts, ``elapsed`` s after the first."""
        attempts_done = self.max_attempts != -1 and attempts >= self.max_attempts
        duration_done = self.max_retry_duration > 0 and elapsed >= self.max_retry_duration
        if self.max_attempts == -1:
            return duration_done
        if self.max_retry_duration == 0:
            return attempts_done
        return attempts_done and duration_done

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RetryConfig:
        return cls(**data)
