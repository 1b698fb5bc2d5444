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


class TaskQueue(Protocol):
    deduplicates: bool  # whether the backend refuses a second task of the same name

    def enqueue(self, task: Task) -> bool:
        """Create the task; True if created, False if a task of that name exists or recently ran.

        Backends that cannot refuse by name (``deduplicates = False``) always create and return
        True; the worker's claim makes a repeated delivery harmless. Raises QueueUnavailable when
        the queue cannot be reached, does not exist, or refuses the task.
        """
