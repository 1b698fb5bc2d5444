"""The JobStore: every operation on jobs, confirmations, dead letters and counters.

The logic is here and in ``jobs.lifecycle``; a backend only supplies the Documents primitives.
Each change is one transaction: read, apply a lifecycle rule, write. On an optimistic backend
(Firestore in production) a conflicting writer makes the transaction retry with fresh reads, so
the rule is always applied to the current state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from ..errors import AlreadyExists, ConfirmationNotFound, Conflict, DeadLetterNotFound, JobNotFound
from ..ids import is_safe_id
from ..jobs import lifecycle
from ..jobs.lifecycle import Claim
from ..jobs.model import (
    REQUESTER_LOWER,
    AuditEntry,
    Confirmation,
    ConfirmationStatus,
    DeadLetter,
    Holder,
    Job,
    JobStatus,
    requester_key,
)
from .chatwrites import ChatWrites
from .documents import (
    ALLOCATIONS,
    AUDIT,
    CONFIRMATIONS,
    COUNTERS,
    DEAD_LETTERS,
    HOLDS,
    JOBS,
    Cursor,
    Documents,
    Tx,
    Where,
)

DEFAULT_TTL = 30 * 86400.0
HOLD_TTL = 400 * 86400.0  # a hold outlives its job (deleted a job TTL after it ends); then Firestore's TTL deletes it


class ConfirmOutcome(str, Enum):
    CREATED = "created"  # this click made the job
    ALREADY = "already"  # an earlier click made it; here it is
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class JobFilter:
    """What an operator narrows the jobs list to. Each equality filter has its own index with
    ``created_at`` (indexes.json), which Firestore merges for several; with a date range (on
    ``created_at`` itself) several need a composite index of their own, declared Firestore-only
    (tests/store/test_index_coverage.py checks every combination). A requester's address is
    matched in any case: see ``alternatives``."""

    status: JobStatus | None = None
    type: str | None = None
    requester_email: str | None = None
    space: str | None = None
    created_from: float | None = None  # inclusive
    created_to: float | None = None  # exclusive

    def alternatives(self) -> list[list[Where]]:
        """The queries whose results together are this filter's jobs (one without a requester). A
        requester is found in any case through the lowercase copy of the address each job has been
        stored with since it was added (``REQUESTER_LOWER``), and exactly as typed through
        ``requester_email`` (a job stored before has no copy); ``JobStore.job_rows`` merges them."""
        where: list[Where] = []
        if self.status is not None:
            where.append(("status", "==", self.status.value))
        if self.type:
            where.append(("type", "==", self.type))
        if self.space:
            where.append(("space", "==", self.space))
        if self.created_from is not None:
            where.append(("created_at", ">=", self.created_from))
        if self.created_to is not None:
            where.append(("created_at", "<", self.created_to))
        if not self.requester_email:
            return [where]
        return [[(REQUESTER_LOWER, "==", requester_key(self.requester_email)), *where],
                [("requester_email", "==", self.requester_email), *where]]


@dataclass(frozen=True)
class JobPage:
    jobs: list[Job]
    next: Cursor | None  # where the next (older) page starts; None on the last page


class JobStore(ChatWrites):
    def __init__(self, docs: Documents, *, finished_ttl: float = DEFAULT_TTL):
        self.docs = docs
        self.finished_ttl = finished_ttl

    def close(self) -> None:
        self.docs.close()

    # -- jobs ------------------------------------------------------------------------------------
    def create_job(self, job: Job) -> Job:
        """Store a new job; AlreadyExists if its id is taken."""
        self.docs.transaction(lambda tx: tx.create(JOBS, job.id, job.to_dict()))
        return job

    def create_job_once(self, job: Job) -> tuple[Job, bool]:
        """Store ``job`` unless a job with its id exists; return the stored one and whether it is new."""

        def apply(tx: Tx):
            existing = tx.get(JOBS, job.id)
            if existing is not None:
                return Job.from_dict(existing), False
            tx.create(JOBS, job.id, job.to_dict())
            return job, True

        return self.docs.transaction(apply)

    def get_job(self, job_id: str) -> Job:
        data = self.docs.get(JOBS, job_id) if is_safe_id(job_id) else None
        if data is None:
            raise JobNotFound(job_id)
        return Job.from_dict(data)

    def list_jobs(self, *, status: JobStatus | None = None, requester_email: str | None = None,
                  limit: int = 20) -> list[Job]:
        """Newest first, optionally of one status or one requester."""
        where = []
        if status is not None:
            where.append(("status", "==", status.value))
        if requester_email is not None:
            where.append(("requester_email", "==", requester_email))
        if len(where) > 1:
            raise ValueError("filter by status or by requester, not both")
        rows = self.docs.query(JOBS, where, "created_at", True, limit)
        return [Job.from_dict(r) for r in rows]

    def find_jobs(self, filters: JobFilter = JobFilter(), *, limit: int = 50,
                  after: Cursor | None = None) -> JobPage:
        """One page of jobs, newest first, continuing after ``after`` (the previous page's ``next``)."""
        rows = self.job_rows(filters, limit + 1, after)
        jobs = [Job.from_dict(r) for r in rows[:limit]]
        more = len(rows) > limit and jobs
        return JobPage(jobs, (jobs[-1].created_at, jobs[-1].id) if more else None)

    def job_rows(self, filters: JobFilter, limit: int, after: Cursor | None = None) -> list[dict]:
        """The stored jobs of ``filters``, newest first, at most ``limit`` after ``after``: each of
        its ``alternatives`` is read from its index as far, and the reads merged (a job in two is
        shown once). Each read is in the same order from the same cursor, so the merge's first
        ``limit`` are the filter's."""
        reads = [self.docs.query(JOBS, where, "created_at", True, limit, start_after=after)
                 for where in filters.alternatives()]
        if len(reads) == 1:
            return reads[0]
        merged = {row["id"]: row for rows in reads for row in rows}
        return sorted(merged.values(), key=lambda row: (row["created_at"], row["id"]), reverse=True)[:limit]

    def count_jobs(self, status: JobStatus | None = None) -> int:
        """How many jobs there are (of one status): an aggregation, no job is read."""
        return self.docs.count(JOBS, [("status", "==", status.value)] if status else [])

    def stale_jobs(self, status: JobStatus, updated_before: float, limit: int = 100) -> list[Job]:
        """Jobs of ``status`` not touched since ``updated_before``, oldest first (for the sweep)."""
        rows = self.docs.query(JOBS, [("status", "==", status.value), ("updated_at", "<", updated_before)],
                               "updated_at", False, limit)
        return [Job.from_dict(r) for r in rows]

    def update_job(self, job_id: str, change: Callable[[Job], Job | None], *,
                   dead_letter: Callable[[Job], DeadLetter | None] | None = None) -> Job:
        """Apply ``change`` to the current job in one transaction; ``None`` means no change.
        JobNotFound for an id we could not have made (as get_job: ``__x__`` was a Firestore 400)."""
        if not is_safe_id(job_id):
            raise JobNotFound(job_id)

        def apply(tx: Tx) -> Job:
            data = tx.get(JOBS, job_id)
            if data is None:
                raise JobNotFound(job_id)
            job = Job.from_dict(data)
            new = change(job)
            if new is None:
                return job
            new = new.replace(version=job.version + 1)
            letter = dead_letter(new) if dead_letter else None
            tx.set(JOBS, job_id, new.to_dict())
            if letter is not None:
                tx.set(DEAD_LETTERS, letter.id, letter.to_dict())
            return new

        return self.docs.transaction(apply)

    def claim_step(self, job_id: str, index: int, holder: Holder, now: float,
                   lease_seconds: float | Callable[[Job], float],
                   deadline_seconds: float | Callable[[Job], float] | None = None, *,
                   takeover: bool = True, dispatched_at: float | None = None,
                   generation: int | None = None) -> tuple[Claim, Job]:
        """Claim a step for one delivery (of a task of ``generation``); the lease and the delivery's
        dispatch deadline may depend on the job (its type's timeout)."""
        outcome: dict = {}

        def change(job: Job) -> Job | None:
            lease = lease_seconds(job) if callable(lease_seconds) else lease_seconds
            deadline = deadline_seconds(job) if callable(deadline_seconds) else deadline_seconds
            result, new = lifecycle.claim(job, index, holder, now, lease, deadline, takeover=takeover,
                                          dispatched_at=dispatched_at, generation=generation)
            outcome["claim"] = result
            return new if result == Claim.CLAIMED else None

        job = self.update_job(job_id, change)
        return outcome["claim"], job

    def complete_step(self, job_id: str, index: int, holder: Holder, output: dict | None,
                      now: float) -> Job:
        return self.update_job(
            job_id, lambda job: lifecycle.complete(job, index, holder, output, now, self.finished_ttl))

    def fail_step(self, job_id: str, index: int, holder: Holder, error: str, now: float, *,
                  final: bool, retry_at: float | None = None, trace: str | None = None,
                  new_task: bool = False, said: dict | None = None) -> Job:
        return self.update_job(
            job_id,
            lambda job: lifecycle.fail(job, index, holder, error, now, final=final, retry_at=retry_at,
                                       ttl=self.finished_ttl, trace=trace, new_task=new_task, said=said),
            dead_letter=(lambda job: _dead_letter(job, now)) if final else None,
        )

    def fail_job(self, job_id: str, error: str, now: float, said: dict | None = None) -> Job:
        """Fail a queued or running job outright (its type is gone, its queue refuses it)."""
        return self.update_job(job_id, lambda job: lifecycle.fail_outright(job, error, now, self.finished_ttl, said),
                               dead_letter=lambda job: _dead_letter(job, now))

    def cancel_job(self, job_id: str, now: float, by: str, no_cancel_after: str = "") -> Job:
        """Cancel the job unless it has finished, is past its ``no_cancel_after`` step, or a step
        holds it (``hold``): the hold is read in the cancel's own transaction."""
        if not is_safe_id(job_id):
            raise JobNotFound(job_id)

        def apply(tx: Tx) -> Job:
            data = tx.get(JOBS, job_id)
            if data is None:
                raise JobNotFound(job_id)
            held = tx.get(HOLDS, job_id)
            job = Job.from_dict(data)
            new = lifecycle.cancel(job, now, self.finished_ttl, by, no_cancel_after,
                                   held=held["step"] if held else "").replace(version=job.version + 1)
            tx.set(JOBS, job_id, new.to_dict())
            return new

        return self.docs.transaction(apply)

    def retry_job(self, job_id: str, now: float, by: str) -> Job:
        return self.update_job(job_id, lambda job: lifecycle.retry(job, now, by))

    def note_error(self, job_id: str, error: str, now: float, said: dict | None = None) -> Job:
        """Record a problem that did not change the job's state (e.g. its queue was down)."""
        return self.update_job(job_id, lambda job: job.replace(last_error=error, last_said=said, updated_at=now))

    # -- confirmations ---------------------------------------------------------------------------
    def create_confirmation(self, confirmation: Confirmation) -> Confirmation:
        self.docs.transaction(lambda tx: tx.create(CONFIRMATIONS, confirmation.id, confirmation.to_dict()))
        return confirmation

    def get_confirmation(self, confirmation_id: str) -> Confirmation:
        data = self.docs.get(CONFIRMATIONS, confirmation_id) if is_safe_id(confirmation_id) else None
        if data is None:
            raise ConfirmationNotFound(f"confirmation {confirmation_id} not found")
        return Confirmation.from_dict(data)

    def confirm(self, confirmation_id: str, token: str, now: float,
                make_job: Callable[[Confirmation], Job]) -> tuple[ConfirmOutcome, Job | None]:
        """Turn a pending confirmation into exactly one job, however often Run is delivered."""

        def apply(tx: Tx):
            confirmation = self._confirmation_in(tx, confirmation_id, token)
            if confirmation.status == ConfirmationStatus.CONFIRMED:
                existing = tx.get(JOBS, confirmation.job_id)
                return ConfirmOutcome.ALREADY, Job.from_dict(existing) if existing else None
            if confirmation.status == ConfirmationStatus.CANCELLED:
                return ConfirmOutcome.CANCELLED, None
            if confirmation.expires_at <= now:
                return ConfirmOutcome.EXPIRED, None
            job = make_job(confirmation)
            if tx.get(JOBS, job.id) is not None:
                raise AlreadyExists(f"job {job.id} already exists")
            used = Confirmation.from_dict({**confirmation.to_dict(), "status": "CONFIRMED",
                                           "job_id": job.id, "decided_at": now})
            tx.set(CONFIRMATIONS, confirmation_id, used.to_dict())
            tx.create(JOBS, job.id, job.to_dict())
            return ConfirmOutcome.CREATED, job

        return self.docs.transaction(apply)

    def cancel_confirmation(self, confirmation_id: str, token: str, now: float, by: str = "") -> Confirmation:
        """Cancel a pending confirmation (``by``: who, as a label); a decided one is returned as it is."""

        def apply(tx: Tx) -> Confirmation:
            confirmation = self._confirmation_in(tx, confirmation_id, token)
            if confirmation.status != ConfirmationStatus.PENDING:
                return confirmation
            cancelled = Confirmation.from_dict({**confirmation.to_dict(), "status": "CANCELLED",
                                                "decided_at": now, "decided_by": by})
            tx.set(CONFIRMATIONS, confirmation_id, cancelled.to_dict())
            return cancelled

        return self.docs.transaction(apply)

    @staticmethod
    def _confirmation_in(tx: Tx, confirmation_id: str, token: str) -> Confirmation:
        data = tx.get(CONFIRMATIONS, confirmation_id)
        if data is None:
            raise ConfirmationNotFound(f"confirmation {confirmation_id} not found")
        confirmation = Confirmation.from_dict(data)
        if confirmation.token != token:
            raise Conflict("the confirmation token does not match")
        return confirmation

    # -- dead letters ----------------------------------------------------------------------------
    def list_dead_letters(self, limit: int = 50) -> list[DeadLetter]:
        rows = self.docs.query(DEAD_LETTERS, [], "created_at", True, limit)
        return [DeadLetter.from_dict(r) for r in rows]

    def list_dead_letters_page(self, *, limit: int = 50, after: Cursor | None = None
                               ) -> tuple[list[DeadLetter], Cursor | None]:
        rows, next_cursor = self.newest_page(DEAD_LETTERS, "created_at", "id", limit=limit, after=after)
        return [DeadLetter.from_dict(r) for r in rows], next_cursor

    def newest_page(self, collection: str, order_by: str, id_field: str, *, limit: int = 50,
                    after: Cursor | None = None) -> tuple[list[dict], Cursor | None]:
        """One page of a collection, newest first by ``order_by`` (a time), from ``after``; and the
        cursor of the next (older) page: the last row's time and document id (``id_field`` holds
        it), None on the last page. Paging by cursor, never by offset: a row is on exactly one page
        however many share its time, and page 1,000 costs what page 1 costs."""
        rows = self.docs.query(collection, [], order_by, True, limit + 1, start_after=after)
        shown = rows[:limit]
        if len(rows) <= limit or not shown:
            return shown, None
        stamp, doc_id = shown[-1].get(order_by), shown[-1].get(id_field)
        if isinstance(stamp, bool) or not isinstance(stamp, int | float) or not is_safe_id(doc_id):
            return shown, None  # a damaged record: nothing to go on from (never a cursor a link cannot carry)
        return shown, (float(stamp), doc_id)

    def get_dead_letter(self, letter_id: str) -> DeadLetter:
        data = self.docs.get(DEAD_LETTERS, letter_id) if is_safe_id(letter_id) else None
        if data is None:
            raise DeadLetterNotFound(f"no dead letter {letter_id}")
        return DeadLetter.from_dict(data)

    def dead_letters_of(self, job_id: str) -> list[DeadLetter]:
        rows = self.docs.query(DEAD_LETTERS, [("job_id", "==", job_id)], "created_at", True, 20)
        return [DeadLetter.from_dict(r) for r in rows]

    def discard_dead_letter(self, letter_id: str) -> DeadLetter:
        """Remove a dead letter a person has dealt with; DeadLetterNotFound if it is gone (a second
        discard). The job itself is not changed."""
        if not is_safe_id(letter_id):
            raise DeadLetterNotFound(f"no dead letter {letter_id[:100]}")

        def apply(tx: Tx) -> DeadLetter:
            data = tx.get(DEAD_LETTERS, letter_id)
            if data is None:
                raise DeadLetterNotFound(f"no dead letter {letter_id} (already discarded?)")
            tx.delete(DEAD_LETTERS, letter_id)
            return DeadLetter.from_dict(data)

        return self.docs.transaction(apply)

    def record_dropped_task(self, task: str, job_id: str | None, step: int | None, reason: str,
                            attempts: int, now: float) -> DeadLetter:
        """Keep a task that can never run (no such job or step, not a task at all) as a dead
        letter. One record per task name, however often the task is delivered."""
        import hashlib

        letter = DeadLetter(id="task-" + hashlib.sha256(task.encode()).hexdigest()[:24], job_id=job_id or "-",
                            job_type="(dropped task)", step="-" if step is None else str(step),
                            error=f"{reason} (task {task})"[:1000], attempts=attempts, created_at=now)
        self.docs.transaction(lambda tx: tx.set(DEAD_LETTERS, letter.id, letter.to_dict()))
        return letter

    # -- audit log -------------------------------------------------------------------------------
    def record_audit(self, entry: AuditEntry) -> AuditEntry:
        self.docs.transaction(lambda tx: tx.set(AUDIT, entry.id, entry.to_dict()))
        return entry

    def list_audit(self, *, job_id: str | None = None, limit: int = 50) -> list[AuditEntry]:
        """Newest first; of one job, or all."""
        rows = self.docs.query(AUDIT, [("job_id", "==", job_id)] if job_id else [], "at", True, limit)
        return [AuditEntry.from_dict(r) for r in rows]

    def list_audit_page(self, *, limit: int = 50, after: Cursor | None = None
                        ) -> tuple[list[AuditEntry], Cursor | None]:
        """All entries, newest first, a page at a time (the console's audit log)."""
        rows, next_cursor = self.newest_page(AUDIT, "at", "id", limit=limit, after=after)
        return [AuditEntry.from_dict(r) for r in rows], next_cursor

    # -- counters --------------------------------------------------------------------------------
    def allocate(self, counter: str, key: str) -> int:
        """The next value of ``counter``, allocated once per ``key``: asking again with the same
        key returns the same value, so a step that runs twice never takes two numbers."""
        allocation_id = f"{counter}:{key}"

        def apply(tx: Tx) -> int:
            existing = tx.get(ALLOCATIONS, allocation_id)
            current = tx.get(COUNTERS, counter)
            if existing is not None:
                return int(existing["value"])
            value = int(current["value"]) + 1 if current else 1
            tx.set(COUNTERS, counter, {"name": counter, "value": value})
            tx.set(ALLOCATIONS, allocation_id, {"counter": counter, "key": key, "value": value})
            return value

        return self.docs.transaction(apply)

    def counter_value(self, counter: str) -> int:
        data = self.docs.get(COUNTERS, counter)
        return int(data["value"]) if data else 0


def not_cancelled(tx: Tx, job_id: str) -> bool:
    """Whether the job may still be held (``hold``): False once it is cancelled. A read: call it
    with the transaction's other reads, before its writes."""
    data = tx.get(JOBS, job_id)
    return data is None or data.get("status") != JobStatus.CANCELLED.value


def hold(tx: Tx, job_id: str, step: str, now: float) -> None:
    """From this transaction on the job cannot be cancelled, though its step is not yet recorded:
    a step's point of no return (an invoice decided, about to take its number), written in the
    same transaction as what it decides, after ``not_cancelled`` said it still may. A cancel and
    a hold are serialized by the store: whichever commits first, the other sees it."""
    tx.set(HOLDS, job_id, {"job": job_id, "step": step, "at": now, "expire_at": now + HOLD_TTL})


def _dead_letter(job: Job, now: float) -> DeadLetter | None:
    if job.status != JobStatus.FAILED:
        return None
    step = job.step
    return DeadLetter(id=f"{job.id}-g{job.generation}", job_id=job.id, job_type=job.type,
                      step=step.name if step else "-", error=job.last_error or "",
                      attempts=step.attempts if step else job.attempts, created_at=now,  # the failed step's
                      said=job.last_said)
