"""What an operator or a person may do to a job that exists: cancel it, retry it, discard its dead
letter. Each is recorded in the audit log with who did it and from where.

One implementation for every surface (the chat commands, the Retry button, ``ackflow retry`` /
``ackflow cancel`` from an operator's machine, the console), so each does the same thing: a
compare-and-set in the store, then the queue, then the job's message in its thread.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..errors import QueueUnavailable, UsageError
from ..i18n import L_, N_
from ..jobs.model import DeadLetter, Job
from .audit import recorded, restored, step_named, type_named
from .dispatch import send_step
from .notify import Notifier

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger(__name__)

SHOW_WAIT = 2.0  # seconds to wait for the write budget: a person (the webhook) waits; the sweep is behind


def cancel_job(runtime: Runtime, job_id: str, by: str, surface: str = "") -> Job:
    """Cancel a job that has not finished. JobNotFound, InvalidTransition if it has, NotCancellable if
    it is past its type's ``no_cancel_after`` step."""
    with recorded(runtime, "cancel", job_id, by, job_id=job_id, surface=surface):
        kind = runtime.store.get_job(job_id).type
        keep = runtime.registry.get(kind).no_cancel_after if kind in runtime.registry else ""
        job = runtime.store.cancel_job(job_id, runtime.clock(), by, keep)
    log.info("job %s cancelled by %s", job.id, by, extra={"job_id": job.id})
    Notifier(runtime).try_show(job, wait=SHOW_WAIT)
    return job


def retry_job(runtime: Runtime, job_id: str, by: str, surface: str = "") -> Job:
    """Send a FAILED job again from the step that failed, under new task names. JobNotFound, or
    InvalidTransition if it is not FAILED. A queue that is down leaves the job QUEUED for the
    sweep (noted on the job), never lost. UnknownJobType, before anything changes, if this
    deployment no longer has the job's type (else the job was left QUEUED with no task while the
    retry was recorded as refused)."""
    with recorded(runtime, "retry", job_id, by, job_id=job_id, surface=surface) as notes:
        runtime.registry.get(runtime.store.get_job(job_id).type)
        job = runtime.store.retry_job(job_id, runtime.clock(), by)
        try:
            send_step(runtime, job)
        except QueueUnavailable as exc:
            job = runtime.store.note_error(job.id, f"queue unavailable: {exc}", runtime.clock())
            notes["detail"] = L_("the queue was unavailable; the sweep sends it")
    log.info("job %s retried by %s", job.id, by, extra={"job_id": job.id, "step": job.current})
    Notifier(runtime).try_show(job, wait=SHOW_WAIT)
    return job


def discard_dead_letter(runtime: Runtime, letter_id: str, by: str, surface: str = "") -> DeadLetter:
    """Remove a dead letter someone has dealt with (the job stays as it is). DeadLetterNotFound if
    it is gone, e.g. discarded a moment ago from another window."""
    with recorded(runtime, "discard", letter_id, by, surface=surface) as notes:
        letter = runtime.store.discard_dead_letter(letter_id)
        notes["job_id"] = letter.job_id
        # the letter's error as the catalog message it kept (said in each reader's language), else
        # its text as recorded (the console tells a message from an exception's raw text)
        error = restored(letter.said) if letter.said else None
        notes["detail"] = L_("{job_type} step {step}: {error}", job_type=type_named(runtime, letter.job_type),
                               step=step_named(runtime, letter.job_type, letter.step),
                               error=letter.error if error is None else error)
    log.info("dead letter %s discarded by %s", letter_id, by, extra={"job_id": letter.job_id})
    return letter


def run_periodic_now(runtime: Runtime, job_type_name: str, by: str, key: str, surface: str = "") -> Job:
    """Start a periodic job outside its schedule. ``key`` names this request (e.g. a form's own
    token): asking again with the same key returns the job it started, never a second one."""
    from ..jobs.model import Requester
    from .sweep import periodic_job

    with recorded(runtime, "run-now", job_type_name, by, surface=surface) as notes:
        job_type = runtime.registry.get(job_type_name)
        if not job_type.schedule:
            raise UsageError(N_("{name} is not a periodic job"), name=job_type_name)
        now = runtime.clock()
        job = periodic_job(job_type, f"{job_type.name}-now-{key}"[:120], runtime.settings.periodic_space or None,
                           now, f"now-{key}", f"run now by {by}", requester=Requester("operator", "", by),
                           said={"event": "run_now", "by": by})
        job, created = runtime.store.create_job_once(job)
        notes["job_id"] = job.id
        if not created:  # the same form sent again (a double click, two tabs): the log says no new run
            notes["detail"] = L_("the same request again: job {job} was already started by it; nothing new was run",
                                 job=job.id)
        if created or job.status.value == "QUEUED":
            try:
                send_step(runtime, job)
            except QueueUnavailable as exc:
                job = runtime.store.note_error(job.id, f"queue unavailable: {exc}", runtime.clock())
    return job
