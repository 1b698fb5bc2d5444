"""The sweep: find work that was lost and send it again; start periodic jobs that are due.

Called every minute by Cloud Scheduler (``POST <worker>/sweep``), every few seconds by
``ackflow dev``, or by hand with ``ackflow sweep``. Safe to run twice at once: sending uses task
names, and a periodic job's id contains its slot.

- A QUEUED job untouched for ``sweep_queued_after`` seconds is sent again under the same task name
  (harmless if its task exists). After the name-reservation window it gets a new generation.
- A RUNNING job whose step lease ended (or whose retry was due) more than ``sweep_stalled_after``
  seconds ago is sent again under a new generation; the claim keeps the step from running twice.
- On a queue that cannot refuse a second task of a name (SQS), every send is one more message:
  while the queue holds messages nobody has received (the relay is down, or behind), the first two
  rules send nothing to it (a job waiting there is not lost, and a copy would only wait behind it),
  except for a job that has waited ``BACKLOG_PATIENCE`` (its task may never have been sent).
- A finished job whose final message was not confirmed written ``sweep_unshown_after`` seconds
  after it finished (its worker died before writing, or Chat was down or out of quota for longer
  than the queue retried) is shown again: same message id, so never twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import ChatBudgetSpent, ChatUnavailable, QueueUnavailable, StoreUnavailable
from ..jobs import lifecycle
from ..jobs.model import SYSTEM, Job, JobStatus, StepState, StepStatus
from ..jobs.registry import JobType
from .dispatch import send_show, send_step
from .notify import Notifier

if TYPE_CHECKING:
    from .runtime import Runtime


log = logging.getLogger(__name__)

NAME_RESERVATION = 3600.0  # Cloud Tasks keeps a task name reserved for about an hour
RESEND_BATCH = 2000  # queued jobs sent again per sweep, oldest first
RESEND_FOR = 60.0  # seconds a sweep spends sending them (the rest: next sweep)
RESHOW_WAIT = 2.0  # seconds the sweep waits for a space's write budget per job (the rest: next sweep)
RESHOW_BATCH = 500  # unshown results read per sweep, oldest first
RESHOW_SPACES = 8  # spaces shown at once
RESHOW_FOR = 20.0  # seconds a sweep spends showing the results of one space
UNDELIVERED_AFTER = 900.0  # seconds QUEUED after which a job is noted as not delivered (once)
UNDELIVERED = "not delivered"  # how that note begins (its last_error)
BUSY_IN_A_ROW = 5  # jobs in a row the store was too busy to update before a phase of the sweep stops
SLOTS_LOOKED_AT = 400  # slots of a schedule read to find the last and next that start a job
BACKLOG_PATIENCE = 900.0  # seconds a job waits on a backlogged SQS queue before it is sent again anyway


@dataclass
class SweepReport:
    resent: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    reshown: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    tasks: dict[str, object] = field(default_factory=dict)  # the registry's sweep tasks' summaries
    backlogged: list[str] = field(default_factory=list)  # queues whose waiting messages held sends back

    def to_dict(self) -> dict:
        return {"resent": self.resent, "released": self.released, "started": self.started,
                "reshown": self.reshown, "errors": self.errors, "tasks": self.tasks, "backlogged": self.backlogged}


def sweep(runtime: Runtime, now: float | None = None) -> SweepReport:
    now = runtime.clock() if now is None else now
    report = SweepReport()
    settings = runtime.settings
    backlogs = _Backlogs(runtime, report)  # read once per queue for both phases that send again
    phases = (("resend", lambda: _resend_queued(runtime, now, settings.sweep_queued_after, report, backlogs)),
              ("release", lambda: _release_stalled(runtime, now, settings.sweep_stalled_after, report, backlogs)),
              ("periodic", lambda: _start_periodic(runtime, now, settings.sweep_catch_up, report)),
              ("reshow", lambda: _reshow_unshown(runtime, now, settings.sweep_unshown_after, report)))
    for name, phase in phases:
        try:  # each on its own: a busy store in one (contention on a job) never skips the others
            phase()
        except StoreUnavailable as exc:
            report.errors.append(f"store ({name}): {exc}")
    for name, task in runtime.registry.sweep_tasks.items():
        try:
            summary = task(runtime, now)
        except Exception as exc:  # one task's failure never stops the others (or the sweep)
            log.exception("sweep task %s failed", name)
            report.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        if summary is not None:
            report.tasks[name] = summary
    if report.resent or report.released or report.started or report.reshown or report.errors or report.backlogged:
        log.info("sweep: %s", report.to_dict())
    return report


def _send(runtime: Runtime, job: Job, report: SweepReport, bucket: list[str]) -> None:
    try:
        if send_step(runtime, job):
            bucket.append(job.id)
    except QueueUnavailable as exc:
        report.errors.append(f"{job.id}: {exc}")


class _Backlogs:
    """Whether a queue that cannot refuse a second task of a name (SQS: ``deduplicates`` False) has
    messages waiting that nobody has received: its consumer (the relay) is down or behind, so a
    job sent to it is most likely still there. Read once per queue per sweep; a queue that refuses
    duplicates by name never counts (sending again costs nothing there), nor one that cannot be
    read (the sends will say what is wrong)."""

    def __init__(self, runtime: Runtime, report: SweepReport):
        self.runtime = runtime
        self.report = report
        self.known: dict[str, bool] = {}

    def hold(self, job: Job, now: float) -> bool:
        """True if the job is not to be sent again now: its queue has a backlog, and the job has
        waited less than BACKLOG_PATIENCE since it last changed."""
        if self.runtime.queue.deduplicates or now - job.updated_at >= BACKLOG_PATIENCE:
            return False
        if job.queue not in self.known:
            try:
                waiting = self.runtime.queue.state(job.queue).waiting
            except Exception as exc:  # QueueUnavailable, NotSupported, a backend's own error
                log.warning("could not read the backlog of %s: %s", job.queue, exc)
                waiting = None
            self.known[job.queue] = bool(waiting)
            if waiting:
                self.report.backlogged.append(job.queue)
        return self.known[job.queue]


class _BusyJobs:
    """Updates a phase's jobs one by one: a job the store is too busy to update (contention: a
    worker holds it) is reported and skipped for this sweep, never a reason to stop the others;
    BUSY_IN_A_ROW of them in a row mean the store itself is failing, and stop the phase."""

    def __init__(self, runtime: Runtime, report: SweepReport):
        self.runtime = runtime
        self.report = report
        self.in_a_row = 0

    def update(self, job_id: str, change) -> Job | None:
        try:
            job = self.runtime.store.update_job(job_id, change)
        except StoreUnavailable as exc:
            self.in_a_row += 1
            if self.in_a_row >= BUSY_IN_A_ROW:
                raise
            self.report.errors.append(f"{job_id}: {exc}")
            return None
        self.in_a_row = 0
        return job


def _resend_queued(runtime: Runtime, now: float, after: float, report: SweepReport, backlogs: _Backlogs) -> None:
    """Send again the jobs still QUEUED: their task was never created (the queue was down when Run
    was pressed) or was lost. After a queue outage that may be every job asked for meanwhile, so a
    sweep sends up to RESEND_BATCH of them (for up to RESEND_FOR), not a page: at a hundred a sweep,
    1,000 jobs asked for during a 30-second outage took three minutes to start (benchmarks/chaos.py)."""
    until = time.monotonic() + RESEND_FOR
    busy = _BusyJobs(runtime, report)
    for job in runtime.store.stale_jobs(JobStatus.QUEUED, now - after, limit=RESEND_BATCH):
        if time.monotonic() > until:
            return  # the rest: next sweep
        if backlogs.hold(job, now):
            continue
        if now - job.created_at > UNDELIVERED_AFTER and not (job.last_error or "").startswith(UNDELIVERED):
            job = _note_undelivered(runtime, busy, job, now)
            if job is None:
                continue
        if now - job.updated_at > NAME_RESERVATION:
            job = busy.update(job.id, lambda j: lifecycle.resend(j, now) if j.status == JobStatus.QUEUED else None)
            if job is None or job.status != JobStatus.QUEUED:
                continue
        _send(runtime, job, report, report.resent)


def _note_undelivered(runtime: Runtime, busy: _BusyJobs, job: Job, now: float) -> Job | None:
    """A job still QUEUED long after Run: its queue has not delivered it to a worker that took it
    (the queue was down all along, or it cannot reach the worker: a wrong target URL or OIDC
    audience, the SQS relay's key). The sweep keeps sending it; this says so once, as an error
    log line for alerting and on the job (the console, ``ackflow jobs show``), without touching the
    times the sweep's own rules read."""
    from ..i18n import ENGLISH, L_
    from .audit import stored

    minutes = round((now - job.created_at) / 60)
    text = L_("not delivered: queued {minutes} min ago and no worker has taken it (the sweep keeps sending it); "
              "check that the queue {queue} runs and reaches the worker (its target URL and OIDC audience, or "
              "the SQS relay's key)", minutes=minutes, queue=job.queue)
    note = text.render(ENGLISH)  # (begins with UNDELIVERED) …and kept to be said in a reader's language
    said = stored(text)

    def change(current: Job) -> Job | None:
        if current.status != JobStatus.QUEUED or (current.last_error or "").startswith(UNDELIVERED):
            return None
        return current.replace(last_error=note, last_said=said)

    noted = busy.update(job.id, change)
    if noted is not None and noted.last_error == note:
        log.error("job %s %s", job.id, note, extra={"job_id": job.id, "job_type": job.type, "space": job.space})
    return noted if noted is not None and noted.status == JobStatus.QUEUED else None


def _stalled(job: Job, now: float, grace: float) -> Job | None:
    step = job.step
    if job.status != JobStatus.RUNNING or step is None:
        return None
    if step.status == StepStatus.RUNNING:
        return lifecycle.release_expired_lease(job, now, grace)
    due = job.next_attempt_at or job.updated_at
    if step.status == StepStatus.PENDING and due + grace < now:
        return lifecycle.resend(job, now)
    return None


def _release_stalled(runtime: Runtime, now: float, grace: float, report: SweepReport, backlogs: _Backlogs) -> None:
    busy = _BusyJobs(runtime, report)
    for candidate in runtime.store.stale_jobs(JobStatus.RUNNING, now - grace):
        if _stalled(candidate, now, grace) is None or backlogs.hold(candidate, now):
            continue
        job = busy.update(candidate.id, lambda j: _stalled(j, now, grace))
        if job is not None and job.generation != candidate.generation:
            _send(runtime, job, report, report.released)


def slot_of(job_type: JobType, now: float, zone: str = "UTC") -> dt.datetime | None:
    """The latest time at or before ``now`` that the job type's cron schedule names, read on the
    wall clock of ``zone`` (the deployment's time zone): ``0 9 * * 1-5`` is nine in the morning
    there, summer and winter. On a day that skips the hour, the slot is when the clock jumps (as
    cron does); on a day that repeats it, the first one. An aware datetime."""
    from cronsim import CronSim

    moment = dt.datetime.fromtimestamp(now + 1, _zone(zone))
    return next(CronSim(job_type.schedule, moment, reverse=True), None)


def slot_stamp(slot: dt.datetime) -> str:
    """A slot's name in a job id: its UTC minute (unique even when a wall clock repeats an hour)."""
    return slot.astimezone(dt.UTC).strftime("%Y%m%d%H%M")


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def periodic_job(job_type: JobType, job_id: str, space: str | None, now: float, slot: str, note: str,
                 requester=SYSTEM, said: dict | None = None) -> Job:
    """``note``: how the job began, in English (logs, the command line); ``said``: the same as
    fields a page says in its reader's language (``{"event": "scheduled", "slot": …}``)."""
    return Job(id=job_id, type=job_type.name, params={}, requester=requester, space=space, thread=None,
               queue=job_type.queue, steps=tuple(StepState(s.name) for s in job_type.steps), created_at=now,
               updated_at=now, slot=slot, history=({"at": now, "status": "QUEUED", "note": note, **(said or {})},))


def scheduled_job(job_type: JobType, slot: dt.datetime, space: str | None, now: float) -> Job:
    """The job a slot of the job type's schedule starts (one per slot: the slot names it)."""
    stamp = slot_stamp(slot)
    return periodic_job(job_type, f"{job_type.name}-{stamp}", space, now, stamp, f"schedule {stamp}",
                        said={"event": "scheduled", "slot": stamp})


def last_and_next(job_type: JobType, now: float, zone: str = "UTC",
                  runtime: Runtime | None = None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The schedule's latest slot at or before ``now`` and its next one after (aware, in ``zone``);
    with ``runtime``, only slots that start a job (``JobType.runs_on``)."""
    from cronsim import CronSim

    def first(slots) -> dt.datetime | None:
        for _, slot in zip(range(SLOTS_LOOKED_AT), slots, strict=False):
            if runtime is None or runs_on(runtime, job_type, slot):
                return slot
        return None

    moment = dt.datetime.fromtimestamp(now, _zone(zone))
    return (first(CronSim(job_type.schedule, dt.datetime.fromtimestamp(now + 1, _zone(zone)), reverse=True)),
            first(CronSim(job_type.schedule, moment)))


def runs_on(runtime: Runtime, job_type: JobType, slot: dt.datetime) -> bool:
    """Whether this slot of the job type's schedule starts a job. A rule that fails starts it (the
    job says what is wrong, where a skipped slot would say nothing)."""
    if job_type.runs_on is None:
        return True
    try:
        return bool(job_type.runs_on(runtime, slot))
    except Exception:
        log.exception("the slot rule of %s failed; starting its job", job_type.name)
        return True


def _start_periodic(runtime: Runtime, now: float, catch_up: float, report: SweepReport) -> None:
    space = runtime.settings.periodic_space or None
    for job_type in runtime.registry:
        if not job_type.schedule:
            continue
        slot = slot_of(job_type, now, runtime.settings.time_zone)
        if slot is None or now - slot.timestamp() > catch_up or not runs_on(runtime, job_type, slot):
            continue
        job = scheduled_job(job_type, slot, space, now)
        job, created = runtime.store.create_job_once(job)
        if created or (job.status == JobStatus.QUEUED and runtime.queue.deduplicates):
            # QUEUED and not new: an earlier sweep stored it and died (or its commit was retried)
            # before sending; its task name makes sending again harmless, and started lists it only
            # if the queue took a new task (a queue that cannot refuse by name, SQS: the resend rule)
            _send(runtime, job, report, report.started)


def _reshow_unshown(runtime: Runtime, now: float, after: float, report: SweepReport) -> None:
    """Show the results nobody could: a worker died before writing, or left the result here because
    the space had no write budget. Spaces at once, each at its budget's pace, for a bounded time."""
    by_space: dict[str, list] = {}
    for job in runtime.store.unshown_jobs(now - after, limit=RESHOW_BATCH):
        by_space.setdefault(job.space or "", []).append(job)
    if not by_space:
        return

    def show_space(jobs: list) -> None:
        notifier = Notifier(runtime)
        until = time.monotonic() + RESHOW_FOR
        for job in jobs:
            if time.monotonic() > until:
                return  # the rest: next sweep
            try:
                if notifier.show(job, wait=RESHOW_WAIT, delivery=False):
                    report.reshown.append(job.id)
            except ChatBudgetSpent as exc:
                if exc.slot == "held":
                    continue  # an earlier attempt holds its slot and shows it (else: the next sweep)
                if exc.slot == "new":  # it has a slot now: the queue brings it back then
                    try:
                        send_show(runtime, job, exc.after)
                        continue
                    except QueueUnavailable as queue_exc:
                        report.errors.append(f"{job.id}: {queue_exc}")
                        continue  # the next sweep finds its slot due
                report.errors.append(f"{job.id}: {exc}")
                return  # the space has no budget: next sweep
            except (ChatUnavailable, StoreUnavailable) as exc:
                report.errors.append(f"{job.id}: {exc}")

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(RESHOW_SPACES, len(by_space))) as pool:
        list(pool.map(show_space, by_space.values()))
