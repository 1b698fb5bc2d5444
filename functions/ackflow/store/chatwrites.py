"""The JobStore's part for a job's Chat message: the gate before each write, its settlement, and
the finished jobs whose result is not shown yet. The rules are in ``jobs/messages.py``; this
applies them in transactions over the Documents port: the message's write log and the space's
token bucket (documents of their own), and the job itself only to record its result as shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..jobs import messages
from ..jobs.messages import Admission, Bucket, Budget, MessageLog, Outcome, Settled, Verdict
from ..jobs.model import Job
from .documents import CHAT_BUDGETS, JOBS, MESSAGE_LOGS, Documents, Tx


class ChatWrites:
    """Mixed into JobStore, which provides these."""

    docs: Documents
    finished_ttl: float
    get_job: Callable[[str], Job]

    def unshown_jobs(self, finished_before: float, limit: int = 50) -> list[Job]:
        """Finished jobs whose final message is not confirmed written, oldest first (for the sweep)."""
        rows = self.docs.query(JOBS, [("message_due", "==", True), ("finished_at", "<", finished_before)],
                               "finished_at", False, limit)
        return [Job.from_dict(r) for r in rows]

    def admit_message_write(self, job_id: str, budget: Budget, *, progress_of: int | None,
                            previous: int | None, now: float, deadline: float, job: Job | None = None) -> Admission:
        """The gate before one attempt to write the job's message, with its space's budget. The job
        is read outside the transaction (its steps never wait for its message), or taken as given
        when the caller has just written it; the log keeps the order (a job older than what the
        message showed is read again)."""
        for _ in range(5):
            job = job if job is not None and job.id == job_id else self.get_job(job_id)

            def apply(tx: Tx, job: Job = job) -> Admission:
                log = MessageLog.from_dict(tx.get(MESSAGE_LOGS, job_id), job_id)
                key = Bucket.doc_id(job.space or "")
                stored = tx.get(CHAT_BUDGETS, key) if budget.enabled and job.space else None
                bucket = Bucket.from_dict(stored, job.space or "", budget, now) if stored else None
                admission, written, taken = messages.admit(job, log, bucket, budget, progress_of=progress_of,
                                                           previous=previous, now=now, deadline=deadline)
                if written is not None:
                    tx.set(MESSAGE_LOGS, job_id, {**written.to_dict(), "expire_at": now + self.finished_ttl})
                if taken is not None:
                    tx.set(CHAT_BUDGETS, key, taken.to_dict())
                return admission

            admission = self.docs.transaction(apply)
            if admission.verdict != Verdict.STALE:
                return admission
            job = None
        return Admission(Verdict.SKIP, job, reason="the job keeps changing; a later write shows it")

    def settle_message_write(self, job_id: str, rev: int, outcome: Outcome, shown: Job, now: float, *,
                             budget: Budget | None = None, blocked_until: float | None = None) -> Settled:
        """After one attempt that showed ``shown``: note its outcome in the message's log (and a 429
        on its space's budget); when the final state is shown, record that on the job."""
        space = shown.space or ""
        block = blocked_until is not None and budget is not None and budget.enabled and bool(space)

        final = shown.status.finished  # only then is the job read (and perhaps written): it has no steps left

        def apply(tx: Tx) -> Settled:
            log = MessageLog.from_dict(tx.get(MESSAGE_LOGS, job_id), job_id)
            stored = tx.get(CHAT_BUDGETS, Bucket.doc_id(space)) if block else None
            current = tx.get(JOBS, job_id) if final else None
            settled, changed = messages.settle(log, rev, outcome, shown.version, final, now)
            if settled.confirm and current is not None:
                job = Job.from_dict(current)
                confirmed = messages.confirm(job, shown.version, settled, outcome == Outcome.WRITTEN, now)
                if confirmed is not None:
                    tx.set(JOBS, job_id, confirmed.replace(version=job.version + 1).to_dict())
                    # The message shows this version too (only bookkeeping changed): a writer holding
                    # an older copy of the job, still due, reads it again and finds it shown.
                    changed = replace(changed, state=job.version + 1)
            tx.set(MESSAGE_LOGS, job_id, {**changed.to_dict(), "expire_at": now + self.finished_ttl})
            if block:
                bucket = Bucket.from_dict(stored, space, budget, now)
                tx.set(CHAT_BUDGETS, Bucket.doc_id(space), bucket.throttled(blocked_until, now).to_dict())
            return settled

        return self.docs.transaction(apply)

    def message_log(self, job_id: str) -> MessageLog:
        return MessageLog.from_dict(self.docs.get(MESSAGE_LOGS, job_id), job_id)

    def chat_budget_wait(self, space: str, budget: Budget, *, progress: bool, now: float) -> float:
        """Seconds until the space's budget likely has a token: a plain read, no transaction, so
        writes that would wait anyway do not contend for the space's bucket."""
        if not budget.enabled:
            return 0.0
        stored = self.docs.get(CHAT_BUDGETS, Bucket.doc_id(space))
        return messages.budget_wait(Bucket.from_dict(stored, space, budget, now), budget, progress=progress, now=now)

