"""The rules of a job's life, as pure functions from one Job to the next.

The stores apply these inside a transaction (compare-and-set), so the rules live in one place
and every store enforces the same ones:

    QUEUED → RUNNING → SUCCEEDED | FAILED | CANCELLED;  QUEUED → CANCELLED;  FAILED → QUEUED (retry)

SUCCEEDED and CANCELLED are final. A step is claimed with a lease held by one delivery of one task;
a duplicate delivery finds the step held or done and does nothing.
"""

from __future__ import annotations

from enum import Enum

from ..errors import Conflict, InvalidTransition, LeaseLost
from .model import Holder, Job, JobStatus, StepStatus

ALLOWED = {
    JobStatus.QUEUED: {JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.FAILED},
    JobStatus.RUNNING: {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.RUNNING},
    JobStatus.FAILED: {JobStatus.QUEUED},
    JobStatus.SUCCEEDED: set(),
    JobStatus.CANCELLED: set(),
}
HISTORY_LIMIT = 50


def transition(job: Job, to: JobStatus, now: float, note: str = "", **changes) -> Job:
    if to not in ALLOWED[job.status]:
        raise InvalidTransition(job.id, job.status.value, to.value)
    if to.finished != job.status.finished:
        # A job that ends owes its thread a final message until one is confirmed written (the
        # sweep shows it otherwise); one that starts again (a retry) owes nothing yet.
        changes.setdefault("message_due", to.finished and bool(job.space))
        changes.setdefault("message_shown_at", None)
    history = job.history
    if to != job.status or note:
        entry = {"at": now, "status": to.value}
        if note:
            entry["note"] = note[:300]
        history = (job.history + (entry,))[-HISTORY_LIMIT:]
    return job.replace(status=to, updated_at=now, history=history, **changes)


class Claim(str, Enum):
    CLAIMED = "claimed"  # this delivery runs the step
    DONE = "done"  # the step already succeeded
    BUSY = "busy"  # another live delivery holds it
    FINISHED = "finished"  # the job is over (succeeded, failed, cancelled)
    NOT_CURRENT = "not-current"  # a step the job is not at


def claim(job: Job, index: int, holder: Holder, now: float, lease_seconds: float) -> tuple[Claim, Job]:
    if not 0 <= index < len(job.steps):
        raise Conflict(f"job {job.id} has no step {index}")
    step = job.steps[index]
    if step.status == StepStatus.SUCCEEDED:
        return Claim.DONE, job
    if job.status.finished:
        return Claim.FINISHED, job
    if index != job.current:
        return Claim.NOT_CURRENT, job
    if step.status == StepStatus.RUNNING and step.lease_until and step.lease_until > now:
        # Cloud Tasks retries a task only after its previous attempt ended (an answer, a broken
        # connection or the deadline): a later retry of the holder's own task may take over.
        taking_over = step.holder and step.holder.task == holder.task and holder.retry > step.holder.retry
        if not taking_over:
            return Claim.BUSY, job
    claimed = job.with_step(
        index,
        status=StepStatus.RUNNING,
        attempts=step.attempts + 1,
        holder=holder,
        lease_until=now + lease_seconds,
        started_at=now,
        first_attempt_at=step.first_attempt_at or now,
    )
    note = f"step {step.name} attempt {step.attempts + 1}"
    return Claim.CLAIMED, transition(claimed, JobStatus.RUNNING, now, note, next_attempt_at=None)


def _held(job: Job, index: int, holder: Holder) -> None:
    step = job.steps[index]
    if job.status != JobStatus.RUNNING or step.status != StepStatus.RUNNING or step.holder != holder:
        raise LeaseLost(f"job {job.id} step {step.name} is no longer held by this attempt "
                        f"(job {job.status.value}, step {step.status.value})")


def complete(job: Job, index: int, holder: Holder, output: dict | None, now: float, ttl: float) -> Job:
    _held(job, index, holder)
    done = job.with_step(index, status=StepStatus.SUCCEEDED, output=output or {}, error=None,
                         holder=None, lease_until=None, finished_at=now)
    if index + 1 < len(job.steps):
        return done.replace(current=index + 1, updated_at=now, last_error=None)
    result = dict(output or {})
    return transition(done, JobStatus.SUCCEEDED, now, current=len(job.steps), result=result,
                      finished_at=now, expire_at=now + ttl, last_error=None)


def fail(job: Job, index: int, holder: Holder, error: str, now: float, *, final: bool,
         retry_at: float | None, ttl: float) -> Job:
    _held(job, index, holder)
    if final:
        failed = job.with_step(index, status=StepStatus.FAILED, error=error, holder=None,
                               lease_until=None, finished_at=now)
        return transition(failed, JobStatus.FAILED, now, error, last_error=error, finished_at=now,
                          expire_at=now + ttl, next_attempt_at=None)
    retrying = job.with_step(index, status=StepStatus.PENDING, error=error, holder=None, lease_until=None)
    return transition(retrying, JobStatus.RUNNING, now, f"retry after: {error}", last_error=error,
                      next_attempt_at=retry_at)


def fail_outright(job: Job, error: str, now: float, ttl: float) -> Job:
    """A job that can never run (its type is gone, its queue refuses it for good)."""
    return transition(job, JobStatus.FAILED, now, error, last_error=error, finished_at=now,
                      expire_at=now + ttl)


def cancel(job: Job, now: float, ttl: float, by: str) -> Job:
    """The job ends CANCELLED; the step under way (running, or between attempts) ends CANCELLED
    too, its lease released. The delivery still running it learns at its next ``complete`` or
    ``fail``, which raise LeaseLost because the job is no longer RUNNING."""
    step = job.step
    if step is not None and (step.status == StepStatus.RUNNING
                             or (step.status == StepStatus.PENDING and step.attempts > 0)):
        job = job.with_step(job.current, status=StepStatus.CANCELLED, holder=None, lease_until=None,
                            finished_at=now)
    return transition(job, JobStatus.CANCELLED, now, f"cancelled by {by}", finished_at=now,
                      expire_at=now + ttl, next_attempt_at=None)


def retry(job: Job, now: float, by: str) -> Job:
    """Send a FAILED job again from the step that failed, under new task names."""
    if job.status != JobStatus.FAILED:
        raise InvalidTransition(job.id, job.status.value, JobStatus.QUEUED.value)
    index = next((i for i, s in enumerate(job.steps) if s.status != StepStatus.SUCCEEDED), job.current)
    reset = job.with_step(index, status=StepStatus.PENDING, holder=None, lease_until=None,
                          first_attempt_at=None)
    return transition(reset, JobStatus.QUEUED, now, f"retried by {by}", current=index,
                      generation=job.generation + 1, finished_at=None, expire_at=None,
                      next_attempt_at=None, result=None)


def release_expired_lease(job: Job, now: float, grace: float) -> Job | None:
    """For the sweep: a step whose lease ended more than ``grace`` ago becomes claimable again."""
    step = job.step
    if job.status != JobStatus.RUNNING or step is None or step.status != StepStatus.RUNNING:
        return None
    if step.lease_until is None or step.lease_until + grace > now:
        return None
    released = job.with_step(job.current, status=StepStatus.PENDING, holder=None, lease_until=None,
                             error="the attempt stopped answering (lease expired)")
    return transition(released, JobStatus.RUNNING, now, "lease expired; sent again",
                      generation=job.generation + 1)


def resend(job: Job, now: float) -> Job:
    """For the sweep: a QUEUED job sent again under a new task name."""
    return job.replace(generation=job.generation + 1, updated_at=now)
