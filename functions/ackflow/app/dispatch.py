"""Sending a job's step to its queue. The task name comes from (job, step, generation), so sending
the same step twice creates one task; a new generation (retry, sweep) gets a fresh name."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from ..jobs.model import Job
from ..taskqueue.base import Task, task_name

if TYPE_CHECKING:
    from .runtime import Runtime


def step_task(job: Job, index: int, deadline: float, delay: float = 0.0) -> Task:
    return Task(
        queue=job.queue,
        name=task_name(job.id, index, job.generation),
        payload={"job_id": job.id, "step": index, "generation": job.generation},
        deadline=deadline,
        delay=delay,
    )


UNKNOWN_TYPE_DEADLINE = 60.0  # a delivery whose job type this process lacks: the worker only decides its fate
LONGEST_DEADLINE = 1800.0  # Cloud Tasks' longest dispatch deadline


def step_deadline(runtime: Runtime, job: Job) -> float:
    """The dispatch deadline a task of the job's steps is sent with: its type's timeout. For a type
    this process does not know (a deploy under way: the webhook, or the worker that runs the step,
    is newer than this one) the longest a step of the job's queue may take (``max_step_timeout``),
    since the worker the task reaches may be the new one and run the step: a shorter deadline (60 s
    once) made Cloud Tasks stop listening and retry while the step still ran, and the retry, coming
    before the deadline the new worker counted from its own registry, took the step over and ran it
    a second time at once. The worker's claim of such a delivery counts ``UNKNOWN_TYPE_DEADLINE``."""
    if job.type in runtime.registry:
        return runtime.registry.get(job.type).timeout
    queue = runtime.registry.queues.get(job.queue)
    return queue.max_step_timeout if queue is not None else LONGEST_DEADLINE


def send_step(runtime: Runtime, job: Job, index: int | None = None, delay: float = 0.0) -> bool:
    """Enqueue the job's step (its current one by default); False if that task already exists."""
    step = job.current if index is None else index
    return runtime.queue.enqueue(step_task(job, step, step_deadline(runtime, job), delay))


def send_show(runtime: Runtime, job: Job, delay: float) -> bool:
    """Ask the queue to deliver the finished job's last step again in ``delay`` seconds: a delivery
    of a finished job only shows its result, so this shows it then, when the space has write budget
    again (the sweep stays behind it). Each hand-over gets a task of its own: a name shared by two
    would be refused while Cloud Tasks keeps the first one's name reserved (about an hour), and the
    result would wait for the sweep; two that meet at once only show the result once."""
    return runtime.queue.enqueue(Task(
        queue=job.queue,
        name=hashlib.sha256(f"{job.id}:show:{secrets.token_hex(8)}".encode()).hexdigest()[:40],
        payload={"job_id": job.id, "step": len(job.steps) - 1, "generation": job.generation},
        deadline=60.0,
        delay=delay,
    ))
