"""The rules of a job's one Chat message (``client-<job id>``): which write may go out, in what
order, and within the space's write budget. Pure functions over a Job and a space's Bucket; the
store applies them in one transaction (``JobStore.admit_message_write`` and
``settle_message_write``), so every instance of the worker follows the same rules.

Order. Every attempt to write (the first and each retry) passes the gate: it takes the next
revision and renders the job as the store has it at that moment, never an older snapshot. An
attempt whose write was overtaken by a newer revision is dropped. A progress line passes only
while the job is still in the state it was reported in. Each attempt that passes is noted as in
flight until its deadline; the writer of a finished job's final state that finds an older write
of another state still in flight waits for it to end and writes once more, so nothing older lands
after the final state.

Results always shown. Finishing sets ``message_due``; a confirmed write of the final state clears
it (so does Chat refusing the space for good). The sweep shows finished jobs whose message is
still due.

Budget. Chat allows 60 message writes a minute in a space, shared by every app there, and 3,000 a
minute per project. One token bucket per space, kept in the store, is shared by every instance: a
write takes a token; progress takes one only when more than a reserve is left, so state changes
and results find budget; a 429 empties the bucket and blocks the space until its backoff ends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from .model import Job, JobStatus

PROGRESS_RESERVE = 2  # tokens progress leaves for state writes and results


@dataclass(frozen=True)
class Budget:
    """How much this app writes in one space: ``per_minute`` tokens a minute, at most ``burst``
    at once. ``burst + per_minute`` is the most it can write in any minute."""

    per_minute: float = 50.0
    burst: int = 5

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    @property
    def reserve(self) -> int:
        return min(PROGRESS_RESERVE, max(0, self.burst - 1))


@dataclass(frozen=True)
class Bucket:
    """A space's token bucket: ``tokens`` at time ``at``; nothing goes out before ``blocked_until``."""

    space: str
    tokens: float
    at: float
    blocked_until: float = 0.0

    @staticmethod
    def doc_id(space: str) -> str:
        return space.replace("/", ":")  # a Firestore document id has no slash

    def refilled(self, budget: Budget, now: float) -> Bucket:
        if now <= self.at:
            return self
        tokens = min(float(budget.burst), self.tokens + (now - self.at) * budget.per_minute / 60.0)
        return replace(self, tokens=tokens, at=now)

    def throttled(self, until: float, now: float) -> Bucket:
        """Chat answered 429: nothing goes out before ``until``, and then the budget refills from empty."""
        until = max(self.blocked_until, until, now)
        return replace(self, tokens=0.0, at=until, blocked_until=until)

    def to_dict(self) -> dict:
        return {"space": self.space, "tokens": self.tokens, "at": self.at, "blocked_until": self.blocked_until}

    @classmethod
    def from_dict(cls, data: dict | None, space: str, budget: Budget, now: float) -> Bucket:
        if not data:
            return cls(space, float(budget.burst), now)
        return cls(space, float(data["tokens"]), float(data["at"]), float(data.get("blocked_until") or 0.0))


class Verdict(str, Enum):
    WRITE = "write"  # write ``job`` now, as revision ``rev``
    WAIT = "wait"  # no budget yet: ask again after ``wait`` seconds
    SKIP = "skip"  # nothing to write (see ``reason``)


@dataclass(frozen=True)
class Admission:
    verdict: Verdict
    job: Job  # the job as the store has it: what to render
    rev: int = 0
    wait: float = 0.0
    reason: str = ""


class Outcome(str, Enum):
    WRITTEN = "written"
    THROTTLED = "throttled"  # 429
    FAILED = "failed"  # no answer or 5xx: it may still land, until its deadline
    REFUSED = "refused"  # for good (the space is gone, the app was removed)


@dataclass(frozen=True)
class Settled:
    confirmed: bool = False  # the final state is shown, or can never be
    older_until: float = 0.0  # an older write of another state may land until then: write again after


def _live(job: Job, now: float) -> dict[str, dict]:
    return {rev: entry for rev, entry in job.message_inflight.items() if entry["until"] > now}


def older_until(job: Job, rev: int, state: float, now: float) -> float:
    """Until when a write older than ``rev`` that showed another state may still land (0: none)."""
    return max((entry["until"] for key, entry in _live(job, now).items()
                if int(key) < rev and entry["state"] != state), default=0.0)


def budget_wait(bucket: Bucket, budget: Budget, *, progress: bool, now: float) -> float:
    """Seconds until the bucket has a token for a write (for progress: one above the reserve)."""
    current = bucket.refilled(budget, now)
    if current.blocked_until > now:
        return current.blocked_until - now
    need = 1 + (budget.reserve if progress else 0)
    return max(0.0, (need - current.tokens) * 60.0 / budget.per_minute)


def admit(job: Job, bucket: Bucket | None, budget: Budget, *, progress_of: float | None,
          previous: int | None, now: float, deadline: float) -> tuple[Admission, Bucket | None]:
    """The gate before one attempt. ``progress_of``: the ``updated_at`` of the state a progress
    line was reported in (None for a state write); ``previous``: this write's revision on its last
    attempt. Returns the admission (its ``job`` changed when it says WRITE) and the bucket to store
    (None: unchanged)."""
    if previous is not None and job.message_rev != previous:
        return Admission(Verdict.SKIP, job, reason="a newer write of the message overtook this one"), None
    if progress_of is not None and (job.status != JobStatus.RUNNING or job.updated_at != progress_of):
        return Admission(Verdict.SKIP, job, reason="the job moved on since this progress"), None
    if previous is None and job.status.finished and not job.message_due:
        return Admission(Verdict.SKIP, job, reason="the final message is already shown"), None
    taken = None
    if budget.enabled:
        current = (bucket or Bucket.from_dict(None, job.space or "", budget, now)).refilled(budget, now)
        wait = budget_wait(current, budget, progress=progress_of is not None, now=now)
        if wait > 0:
            reason = "Chat answered 429 in this space" if current.blocked_until > now else \
                "the space's write budget is spent"
            return Admission(Verdict.WAIT, job, wait=wait, reason=reason), None
        taken = replace(current, tokens=current.tokens - 1)
    rev = job.message_rev + 1
    inflight = _live(job, now)
    inflight[str(rev)] = {"until": deadline, "state": job.updated_at}
    written = job.replace(message_rev=rev, message_inflight=inflight, chat_writes=job.chat_writes + 1)
    return Admission(Verdict.WRITE, written, rev), taken


def settle(job: Job, rev: int, outcome: Outcome, state: float, now: float) -> tuple[Settled, Job]:
    """After one attempt of revision ``rev`` that rendered the state of ``updated_at == state``."""
    inflight = _live(job, now)
    if outcome != Outcome.FAILED:  # answered: it will not land later (a failed one may, until its deadline)
        inflight.pop(str(rev), None)
    changes: dict = {"message_inflight": inflight}
    if outcome == Outcome.THROTTLED:
        changes["chat_throttled"] = job.chat_throttled + 1
    settled = Settled()
    final = job.status.finished and job.message_due and job.message_rev == rev and job.updated_at == state
    if final and outcome in (Outcome.WRITTEN, Outcome.REFUSED):
        pending = older_until(job.replace(message_inflight=inflight), rev, state, now)
        if outcome == Outcome.WRITTEN and pending:
            settled = Settled(older_until=pending)
        else:
            changes.update(message_due=False, message_shown_at=now if outcome == Outcome.WRITTEN else None)
            settled = Settled(confirmed=True)
    return settled, job.replace(**changes)
