"""Queue definitions: the one source of truth for queue names, rate limits and retry policy.

A JSON file (``functions/workers/queues.json``) is read here and by Terraform
(``jsondecode(file(...))``), so the queues that exist in the cloud and the retry policy the worker
assumes can never drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .retry import RetryConfig


@dataclass(frozen=True)
class QueueDefinition:
    name: str  # the queue id in Cloud Tasks / the SQS queue name
    description: str
    max_dispatches_per_second: float
    max_concurrent_dispatches: int
    retry: RetryConfig
    max_step_timeout: float = 600.0  # the longest step a job type on this queue may declare

    @property
    def max_attempts(self) -> int:
        return self.retry.max_attempts


def _definition(name: str, data: dict) -> QueueDefinition:
    try:
        limits = data["rate_limits"]
        retry = data["retry_config"]
        return QueueDefinition(
            name=name,
            description=data.get("description", ""),
            max_dispatches_per_second=float(limits["max_dispatches_per_second"]),
            max_concurrent_dispatches=int(limits["max_concurrent_dispatches"]),
            max_step_timeout=float(data.get("max_step_timeout_seconds", 600)),
            retry=RetryConfig(
                max_attempts=int(retry["max_attempts"]),
                min_backoff=float(retry["min_backoff_seconds"]),
                max_backoff=float(retry["max_backoff_seconds"]),
                max_doublings=int(retry["max_doublings"]),
                max_retry_duration=float(retry.get("max_retry_duration_seconds", 0)),
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"queue {name!r} is malformed: {exc}") from exc


def load_queues(path: str | Path) -> dict[str, QueueDefinition]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the queue definitions at {path}: {exc}") from exc
    queues = {name: _definition(name, body) for name, body in data.get("queues", {}).items()}
    if not queues:
        raise ConfigError(f"{path} defines no queues")
    for name in queues:
        if not all(c.isalnum() or c == "-" for c in name) or len(name) > 80:
            raise ConfigError(f"queue name {name!r} must be letters, digits and hyphens (at most 80)")
    return queues
