"""The TaskQueue port: hand one step of one job to a queue that will call the worker over HTTP."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Task:
    queue: str  # the queue's name from the queue definitions
    name: str  # unique per (job, step, generation): re-creating it is de-duplicated
    payload: dict
    deadline: float = 60.0  # seconds the worker may take (the dispatch deadline)
    delay: float = 0.0  # seconds before the first attempt
    headers: dict[str, str] = field(default_factory=dict)


def task_name(job_id: str, step: int, generation: int) -> str:
    """A hash, as Google recommends (sequential names slow a queue down), that is the same for
    the same job step, so enqueueing twice is harmless."""
    return hashlib.sha256(f"{job_id}:{step}:{generation}".encode()).hexdigest()[:40]


@dataclass(frozen=True)
class QueueState:
    """What an operator sees of one queue, as its backend reports it (None: not reported there)."""

    name: str
    state: str  # RUNNING, PAUSED, DISABLED (Cloud Tasks); ACTIVE (SQS: it cannot pause)
    waiting: int | None = None  # tasks waiting (Cloud Tasks, counted up to WAITING_CAP) / visible messages
    waiting_capped: bool = False  # there are more than ``waiting``
    in_flight: int | None = None  # SQS: received, not yet deleted
    delayed: int | None = None  # SQS: not yet visible
    dead: int | None = None  # SQS: messages in the dead-letter queue
    max_dispatches_per_second: float | None = None
    max_concurrent_dispatches: int | None = None
    max_attempts: int | None = None
    min_backoff: float | None = None
    max_backoff: float | None = None
    max_doublings: int | None = None
    can_pause: bool = False
    can_redrive: bool = False


WAITING_CAP = 1000  # tasks counted per queue view: an operator needs "a thousand or more", not the figure


class TaskQueue(Protocol):
    deduplicates: bool  # whether the backend refuses a second task of the same name

    def enqueue(self, task: Task) -> bool:
        """Create the task; True if created, False if a task of that name exists or recently ran.

        Backends that cannot refuse by name (``deduplicates = False``) always create and return
        True; the worker's claim makes a repeated delivery harmless. Raises QueueUnavailable when
        the queue cannot be reached, does not exist, or refuses the task.
        """


class QueueControl(Protocol):
    """What the console asks of a queue backend; Cloud Tasks and SQS each do what they can.

    ``pause``/``resume`` stop and restart dispatch (Cloud Tasks; SQS cannot pause a queue);
    ``redrive`` moves messages from the dead-letter queue back to the queue (SQS; Cloud Tasks has
    no dead-letter queue: the job's Retry does that). Each raises QueueUnavailable when the backend
    cannot be reached or refuses, and NotSupported for what the backend cannot do.
    """

    def state(self, queue: str) -> QueueState: ...

    def pause(self, queue: str) -> QueueState: ...

    def resume(self, queue: str) -> QueueState: ...

    def redrive(self, queue: str, limit: int = 100) -> int: ...
