"""The rules of a job's life, as pure functions from one Job to the next.

The stores apply these inside a transaction (compare-and-set), so the rules live in one place
and every store enforces the same ones:

    QUEUED → RUNNING → SUCCEEDED | FAILED | CANCELLED;  QUEUED → CANCELLED;  FAILED → QUEUED (retry)

SUCCEEDED and CANCELLED are final. A step is claimed with a lease held by one delivery of one task;
a duplicate delivery finds the step held or done and does nothing.
"""

from __future__ import annotations

from enum import Enum

from ..errors import Conflict, InvalidTransition, LeaseLost, NotCancellable
from .model import Holder, Job, JobStatus, StepStatus, without_marker

ALLOWED = {
    JobStatus.QUEUED: {JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.FAILED},
    JobStatus.RUNNING: {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.RUNNING},
    JobStatus.FAILED: {JobStatus.QUEUED},
    JobStatus.SUCCEEDED: set(),
    JobStatus.CANCELLED: set(),
}
HISTORY_LIMIT = 50
RUNS_LIMIT = 10  # attempts kept per step (the document stays small however often a step retries)
TRACE_LIMIT = 2000  # characters of a traceback kept with an attempt


def _runs(runs: tuple[dict, ...], entry: dict) -> tuple[dict, ...]:
    return (runs + (entry,))[-RUNS_LIMIT:]


def _ended(runs: tuple[dict, ...], holder: Holder, now: float, outcome: str, error: str | None = None,
           trace: str | None = None, said: dict | None = None) -> tuple[dict, ...]:
    """The attempt log with the holder's attempt marked ended (its entry is the newest one).
    ``said``: the error as a catalog message and its values (``app/audit.stored``), which a page
    says in its reader's language (``error`` is as the requester was told it)."""
    if not runs or runs[-1].get("task") != holder.task or runs[-1].get("retry") != holder.retry:
        return runs
    entry = {**runs[-1], "finished_at": now, "outcome": outcome}
    if error:
        entry["error"] = error[:1000]
    if trace:
        entry["trace"] = trace[-TRACE_LIMIT:]
    if said:
        entry["said"] = said
    return runs[:-1] + (entry,)


def transition(job: Job, to: JobStatus, now: float, note: str = "", said: dict | None = None, **changes) -> Job:
    """``note``: the history entry's words (English, for logs and the CLI); ``said``: what it is, as
    fields a person's page says in their language (``{"event": "cancelled", "by": …}``)."""
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
        if said:
            entry.update({key: value[:300] if isinstance(value, str) else value for key, value in said.items()})
        history = (job.history + (entry,))[-HISTORY_LIMIT:]
    return job.replace(status=to, updated_at=now, history=history, **changes)


class Claim(str, Enum):
    CLAIMED = "claimed"  # this delivery runs the step
    DONE = "done"  # the step already succeeded
    BUSY = "busy"  # another live delivery holds it
    FINISHED = "finished"  # the job is over (succeeded, failed, cancelled)
    NOT_CURRENT = "not-current"  # a step the job is not at
    EARLY = "early"  # an older generation's task while the step waits for its newer one (RetryLater)


def claim(job: Job, index: int, holder: Holder, now: float, lease_seconds: float,
          deadline_seconds: float | None = None, *, takeover: bool = True,
          dispatched_at: float | None = None, generation: int | None = None) -> tuple[Claim, Job]:
    """Claim the step for one delivery, leased for ``lease_seconds``; ``deadline_seconds``: the
    delivery's dispatch deadline (the queue stops waiting for its answer then), counted from
    ``dispatched_at`` (no later than the queue sent it: its schedule time, else ``now``). The
    queue's clock starts when it sends, not when a busy worker gets to the request: counted from
    ``now``, a claim read seconds late (every thread of the process waiting on the store) recorded
    a deadline past the queue's, and the queue's retry after its deadline took over the live
    attempt (a chaos run on the Firestore emulator: a step ran twice at once). ``takeover``: a
    later retry of the holder's own task means the holder's attempt ended (Cloud Tasks retries
    only then, or at the deadline); not so for SQS, which hands a message out again whenever its
    visibility lapses, while the first delivery may still run: there only the lease's end frees
    the step. ``generation``: the delivered task's; a task of an older generation than the job's,
    delivered again (at least once) while the step waits for the newer task sent delayed
    (``RetryLater``: freee's lockout, a deploy under way), is ``EARLY`` and runs nothing: the wait
    is the point, and the newer task (or the sweep, once it is due) runs the step."""
    if not 0 <= index < len(job.steps):
        raise Conflict(f"job {job.id} has no step {index}")
    step = job.steps[index]
    if step.status == StepStatus.SUCCEEDED:
        return Claim.DONE, job
    if job.status.finished:
        return Claim.FINISHED, job
    if index != job.current:
        return Claim.NOT_CURRENT, job
    if generation is not None and generation < job.generation and step.status == StepStatus.PENDING \
            and job.next_attempt_at is not None and now < job.next_attempt_at:
        return Claim.EARLY, job
    if step.status == StepStatus.RUNNING and step.lease_until and step.lease_until > now:
        # Cloud Tasks retries a task only after its previous attempt ended: an answer, a broken
        # connection (the holder died), or its dispatch deadline. Before that deadline, a later
        # retry of the holder's own task proves the holder gone, and takes over. After it, the
        # holder may still be running (Cloud Tasks stops listening; the worker does not stop), so
        # the retry waits for the lease, which outlives the deadline by the lease margin.
        taking_over = takeover and step.holder and step.holder.task == holder.task \
            and holder.retry > step.holder.retry \
            and (step.deadline_at is None or now < step.deadline_at)
        if not taking_over:
            return Claim.BUSY, job
    runs = step.runs
    if step.status == StepStatus.RUNNING and step.holder is not None:  # taking over a dead attempt
        runs = _ended(runs, step.holder, now, "lost", "a later delivery of its task took the step over")
    claimed = job.with_step(
        index,
        status=StepStatus.RUNNING,
        attempts=step.attempts + 1,
        holder=holder,
        lease_until=now + lease_seconds,
        deadline_at=min(now, dispatched_at if dispatched_at is not None else now) + deadline_seconds
        if deadline_seconds is not None else None,
        started_at=now,
        first_attempt_at=step.first_attempt_at or now,
        runs=_runs(runs, {"n": step.attempts + 1, "task": holder.task, "retry": holder.retry, "started_at": now}),
    )
    note = f"step {step.name} attempt {step.attempts + 1}"
    said = {"event": "attempt", "step": index, "attempt": step.attempts + 1}
    return Claim.CLAIMED, transition(claimed, JobStatus.RUNNING, now, note, said, next_attempt_at=None)


def _held(job: Job, index: int, holder: Holder) -> None:
    step = job.steps[index]
    if job.status != JobStatus.RUNNING or step.status != StepStatus.RUNNING or step.holder != holder:
        raise LeaseLost(f"job {job.id} step {step.name} is no longer held by this attempt "
                        f"(job {job.status.value}, step {step.status.value})")


def complete(job: Job, index: int, holder: Holder, output: dict | None, now: float, ttl: float) -> Job:
    _held(job, index, holder)
    done = job.with_step(index, status=StepStatus.SUCCEEDED, output=output or {}, error=None,
                         holder=None, lease_until=None, deadline_at=None, finished_at=now,
                         runs=_ended(job.steps[index].runs, holder, now, "succeeded"))
    if index + 1 < len(job.steps):
        return done.replace(current=index + 1, updated_at=now, last_error=None, last_said=None)
    result = without_marker(output)  # the step's marker is not part of the job's result
    return transition(done, JobStatus.SUCCEEDED, now, current=len(job.steps), result=result,
                      finished_at=now, expire_at=now + ttl, last_error=None, last_said=None)


def fail(job: Job, index: int, holder: Holder, error: str, now: float, *, final: bool,
         retry_at: float | None, ttl: float, trace: str | None = None, new_task: bool = False,
         said: dict | None = None) -> Job:
    """The holder's attempt failed: for good (``final``), or the step waits for its next attempt at
    ``retry_at``, by the queue's retry of the same task or (``new_task``) by a task of a new
    generation that the worker sends delayed (``RetryLater``)."""
    _held(job, index, holder)
    runs = _ended(job.steps[index].runs, holder, now, "failed" if final else "retrying", error, trace, said)
    if final:
        failed = job.with_step(index, status=StepStatus.FAILED, error=error, holder=None,
                               lease_until=None, deadline_at=None, finished_at=now, runs=runs)
        return transition(failed, JobStatus.FAILED, now, error, last_error=error, last_said=said, finished_at=now,
                          expire_at=now + ttl, next_attempt_at=None)
    retrying = job.with_step(index, status=StepStatus.PENDING, error=error, holder=None, lease_until=None,
                             deadline_at=None, runs=runs)
    return transition(retrying, JobStatus.RUNNING, now, f"retry after: {error}",
                      {"event": "retry_after", "error": error}, last_error=error, last_said=said,
                      next_attempt_at=retry_at,
                      generation=job.generation + 1 if new_task else job.generation)


def fail_outright(job: Job, error: str, now: float, ttl: float, said: dict | None = None) -> Job:
    """A job that can never run (its type is gone, its queue refuses it for good); ``said``: the
    error as a catalog message with its values, as ``fail`` keeps it."""
    return transition(job, JobStatus.FAILED, now, error, last_error=error, last_said=said, finished_at=now,
                      expire_at=now + ttl)


def cancel(job: Job, now: float, ttl: float, by: str, no_cancel_after: str = "", *, held: str = "") -> Job:
    """The job ends CANCELLED; the step under way (running, or between attempts) ends CANCELLED
    too, its lease released. The delivery still running it learns at its next ``complete`` or
    ``fail``, which raise LeaseLost because the job is no longer RUNNING. NotCancellable once the
    step ``no_cancel_after`` has succeeded (the job holds what that step took), or once the step
    ``held`` has held it (``JobStore.hold``: it took something before it was recorded)."""
    if no_cancel_after and not job.status.finished and any(
            s.name == no_cancel_after and s.status == StepStatus.SUCCEEDED for s in job.steps):
        raise NotCancellable(f"job {job.id} is past its step {no_cancel_after}", no_cancel_after)
    if held and not job.status.finished:
        raise NotCancellable(f"job {job.id} is held by its step {held}", held)
    step = job.step
    if step is not None and (step.status == StepStatus.RUNNING
                             or (step.status == StepStatus.PENDING and step.attempts > 0)):
        runs = _ended(step.runs, step.holder, now, "cancelled") if step.holder else step.runs
        job = job.with_step(job.current, status=StepStatus.CANCELLED, holder=None, lease_until=None, deadline_at=None,
                            finished_at=now, runs=runs)
    return transition(job, JobStatus.CANCELLED, now, f"cancelled by {by}", {"event": "cancelled", "by": by},
                      finished_at=now,
                      expire_at=now + ttl, next_attempt_at=None)


def retry(job: Job, now: float, by: str) -> Job:
    """Send a FAILED job again from the step that failed, under new task names."""
    if job.status != JobStatus.FAILED:
        raise InvalidTransition(job.id, job.status.value, JobStatus.QUEUED.value)
    index = next((i for i, s in enumerate(job.steps) if s.status != StepStatus.SUCCEEDED), job.current)
    reset = job.with_step(index, status=StepStatus.PENDING, holder=None, lease_until=None, deadline_at=None,
                          first_attempt_at=None)
    return transition(reset, JobStatus.QUEUED, now, f"retried by {by}", {"event": "retried", "by": by}, current=index,
                      generation=job.generation + 1, finished_at=None, expire_at=None,
                      next_attempt_at=None, result=None)


def release_expired_lease(job: Job, now: float, grace: float) -> Job | None:
    """For the sweep: a step whose lease ended more than ``grace`` ago becomes claimable again."""
    step = job.step
    if job.status != JobStatus.RUNNING or step is None or step.status != StepStatus.RUNNING:
        return None
    if step.lease_until is None or step.lease_until + grace > now:
        return None
    error = "the attempt stopped answering (lease expired)"
    runs = _ended(step.runs, step.holder, now, "lost", error) if step.holder else step.runs
    released = job.with_step(job.current, status=StepStatus.PENDING, holder=None, lease_until=None, deadline_at=None,
                             error=error, runs=runs)
    return transition(released, JobStatus.RUNNING, now, "lease expired; sent again", {"event": "lease_expired"},
                      generation=job.generation + 1)


def resend(job: Job, now: float) -> Job:
    """For the sweep: a QUEUED job sent again under a new task name."""
    return job.replace(generation=job.generation + 1, updated_at=now)
