"""What an operator or a person may do to a job that exists: cancel it, retry it.

One implementation for every surface (the chat commands, the Retry button, ``ackflow retry`` /
``ackflow cancel`` from an operator's machine, the console), so each does the same thing: a
compare-and-set in the store, then the queue, then the job's message in its thread.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..errors import QueueUnavailable
from ..jobs.model import Job
from .dispatch import send_step
from .notify import Notifier

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger(__name__)

SHOW_WAIT = 2.0  # seconds to wait for the write budget: a person (the webhook) waits; the sweep is behind


def cancel_job(runtime: Runtime, job_id: str, by: str) -> Job:
    """Cancel a job that has not finished. JobNotFound, or InvalidTransition if it has."""
    job = runtime.store.cancel_job(job_id, runtime.clock(), by)
    log.info("job %s cancelled by %s", job.id, by, extra={"job_id": job.id})
    Notifier(runtime).try_show(job, wait=SHOW_WAIT)
    return job


def retry_job(runtime: Runtime, job_id: str, by: str) -> Job:
    """Send a FAILED job again from the step that failed, under new task names. JobNotFound, or
    InvalidTransition if it is not FAILED. A queue that is down leaves the job QUEUED for the
    sweep (noted on the job), never lost."""
    job = runtime.store.retry_job(job_id, runtime.clock(), by)
    try:
        send_step(runtime, job)
    except QueueUnavailable as exc:
        job = runtime.store.note_error(job.id, f"queue unavailable: {exc}", runtime.clock())
    log.info("job %s retried by %s", job.id, by, extra={"job_id": job.id, "step": job.current})
    Notifier(runtime).try_show(job, wait=SHOW_WAIT)
    return job
