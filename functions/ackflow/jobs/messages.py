"""The rules of a job's one Chat message (``client-<job id>``): which write may go out, in what
order, and within the space's write budget. Pure functions over a Job, the message's write log
(``MessageLog``, a document of its own so writes do not contend with the job's steps) and a
space's ``Bucket``; the store applies them in transactions (``JobStore.admit_message_write`` and
``settle_message_write``), so every instance of the worker follows the same rules.

Order. Every attempt to write (the first and each retry) passes the gate: it renders the job as
the store has it then, never an older snapshot, and takes the next revision; the log keeps the
newest job ``version`` rendered, so a later revision never shows an older state. An attempt whose
write was overtaken by a newer revision is dropped. A progress line passes only while the job is
still at the version it was reported in. Each attempt that passes is noted as in flight until its
deadline; the writer of a finished job's final state that finds an older write of another state
still in flight waits for it to end and writes once more, so nothing older lands after it. An
older write answered after a newer one was admitted may have landed over it (Chat applies writes
in the order they reach it): the log keeps the newest revision that may lie under an older state
(``landed_over``), and a final write at or below it is written once more too, even when that
older write was settled before the final one was.

Results always shown. Finishing sets ``message_due`` on the job; a confirmed write of the final
state clears it and copies the write counts onto the job (so does Chat refusing the space for
good). The sweep shows finished jobs whose message is still due.

Budget. Chat allows 60 message writes a minute in a space, shared by every app there, and 3,000 a
minute per project. One token bucket per space, kept in the store, is shared by every instance: a
write takes a token; progress takes one only when more than a reserve is left, so state changes
and results find budget; a 429 empties the bucket and blocks the space until its backoff ends.

Reservations. A result (a finished job's final state) that finds no token is given a *slot*:
the moment the refill brings the token after the last slot given (the bucket's
``reserved_until``; the result's slot is kept in the message's log). Until the last slot has
passed, nobody else takes a token, so each holder finds its token at its slot, and results go
out one per slot in the order they asked: without it, every result of a crowd came back again and
again to race for the next token (1,000 results in eight spaces made 18,000 hand-overs in the
chaos suite). A write still takes a real token, so the bucket's burst bounds any minute however
late holders come; a holder that finds its token gone (it came late, another took it) asks for
a new slot. A 429 voids the slots given before it (the bucket's ``epoch``): their holders ask
again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
    epoch: int = 0  # counts 429s: a slot given in an earlier epoch is void
    reserved_until: float = 0.0  # the last slot given to a result: until then the tokens are theirs

    @staticmethod
    def doc_id(space: str) -> str:
        return space.replace("/", ":")  # a Firestore document id has no slash

    def refilled(self, budget: Budget, now: float) -> Bucket:
        if now <= self.at:
            return self
        tokens = min(float(budget.burst), self.tokens + (now - self.at) * budget.per_minute / 60.0)
        return replace(self, tokens=tokens, at=now)

    def throttled(self, until: float, now: float) -> Bucket:
        """Chat answered 429: nothing goes out before ``until``, and then the budget refills from
        empty; the reservations made so far are void (their slots assumed a budget Chat refused)."""
        until = max(self.blocked_until, until, now)
        return replace(self, tokens=0.0, at=until, blocked_until=until, epoch=self.epoch + 1, reserved_until=until)

    def slot(self, budget: Budget, now: float) -> float:
        """The next slot to give (the bucket as refilled to ``now``): when the refill brings a
        token after the tokens of the slots already given."""
        interval = 60.0 / budget.per_minute
        start = max(now, self.at, self.blocked_until)
        return max(start + max(0.0, 1.0 - self.tokens) * interval, self.reserved_until + interval)

    def to_dict(self) -> dict:
        return {"space": self.space, "tokens": self.tokens, "at": self.at, "blocked_until": self.blocked_until,
                "epoch": self.epoch, "reserved_until": self.reserved_until}

    @classmethod
    def from_dict(cls, data: dict | None, space: str, budget: Budget, now: float) -> Bucket:
        if not data:
            return cls(space, float(budget.burst), now)
        return cls(space, float(data["tokens"]), float(data["at"]), float(data.get("blocked_until") or 0.0),
                   int(data.get("epoch") or 0), float(data.get("reserved_until") or 0.0))


@dataclass(frozen=True)
class MessageLog:
    """The writes of one job's message: the newest revision, the job version it showed, the writes
    that may still land (revision → ``{"until", "state"}``), and counts."""

    job_id: str
    rev: int = 0
    state: int = -1
    inflight: dict[str, dict] = field(default_factory=dict)
    writes: int = 0
    throttled: int = 0
    reserved: dict | None = None  # a result's slot in its space's budget: {"at": time, "epoch": n}
    landed_over: int = 0  # the newest revision an older write of another state may have landed over

    def live(self, now: float) -> dict[str, dict]:
        return {rev: entry for rev, entry in self.inflight.items() if entry["until"] > now}

    def older_until(self, rev: int, state: int, now: float) -> float:
        """Until when a write older than ``rev`` that showed another state may still land (0: none)."""
        return max((entry["until"] for key, entry in self.live(now).items()
                    if int(key) < rev and entry["state"] != state), default=0.0)

    def to_dict(self) -> dict:
        return {"job_id": self.job_id, "rev": self.rev, "state": self.state, "inflight": self.inflight,
                "writes": self.writes, "throttled": self.throttled, "reserved": self.reserved,
                "landed_over": self.landed_over}

    @classmethod
    def from_dict(cls, data: dict | None, job_id: str) -> MessageLog:
        if not data:
            return cls(job_id)
        return cls(job_id, int(data["rev"]), int(data["state"]), dict(data.get("inflight") or {}),
                   int(data.get("writes") or 0), int(data.get("throttled") or 0), data.get("reserved") or None,
                   int(data.get("landed_over") or 0))


class Verdict(str, Enum):
    WRITE = "write"  # write ``job`` now, as revision ``rev``
    WAIT = "wait"  # no budget yet: ask again after ``wait`` seconds (a result: then its slot is due)
    SKIP = "skip"  # nothing to write (see ``reason``)
    STALE = "stale"  # the job was read before a state the message already showed: read it again


@dataclass(frozen=True)
class Admission:
    verdict: Verdict
    job: Job  # what to render
    rev: int = 0
    wait: float = 0.0
    reason: str = ""
    reserved: bool = False  # WAIT: this admission reserved the slot (a result, handed over to come back then)


class Outcome(str, Enum):
    WRITTEN = "written"
    THROTTLED = "throttled"  # 429
    FAILED = "failed"  # no answer or 5xx: it may still land, until its deadline
    REFUSED = "refused"  # for good (the space is gone, the app was removed)


@dataclass(frozen=True)
class Settled:
    confirm: bool = False  # the final state is shown (or can never be): record it on the job
    older_until: float = 0.0  # an older write of another state may land until then: write again after
    writes: int = 0
    throttled: int = 0


def budget_wait(bucket: Bucket, budget: Budget, *, progress: bool, now: float, holder: bool = False) -> float:
    """Seconds until the bucket has a token for a write (for progress: one above the reserve);
    while slots given to results are ahead, their tokens are theirs (``holder``: this is one)."""
    current = bucket.refilled(budget, now)
    if current.blocked_until > now:
        return current.blocked_until - now
    need = 1 + (budget.reserve if progress else 0)
    wait = max(0.0, (need - current.tokens) * 60.0 / budget.per_minute)
    return wait if holder else max(wait, current.reserved_until - now)


def admit(job: Job, log: MessageLog, bucket: Bucket | None, budget: Budget, *, progress_of: int | None,
          previous: int | None, now: float, deadline: float) -> tuple[Admission, MessageLog | None, Bucket | None]:
    """The gate before one attempt, for ``job`` as just read. ``progress_of``: the job version a
    progress line was reported at (None for a state write); ``previous``: this write's revision on
    its last attempt. Returns the admission and the log and bucket to store (None: unchanged)."""
    if previous is not None and log.rev != previous:
        return Admission(Verdict.SKIP, job, reason="a newer write of the message overtook this one"), None, None
    if job.version < log.state:
        return Admission(Verdict.STALE, job, reason="the message already shows a newer state"), None, None
    if progress_of is not None and (job.status != JobStatus.RUNNING or job.version != progress_of):
        return Admission(Verdict.SKIP, job, reason="the job moved on since this progress"), None, None
    if previous is None and job.status.finished and not job.message_due:
        return Admission(Verdict.SKIP, job, reason="the final message is already shown"), None, None
    taken = None
    if budget.enabled:
        current = (bucket or Bucket.from_dict(None, job.space or "", budget, now)).refilled(budget, now)
        result = progress_of is None and job.status.finished
        reserved = log.reserved if result and log.reserved and log.reserved.get("epoch") == current.epoch else None
        if reserved and float(reserved["at"]) > now:  # never early: its token comes at its slot
            return Admission(Verdict.WAIT, job, wait=float(reserved["at"]) - now,
                             reason="waiting for its slot in the space's write budget"), None, None
        wait = budget_wait(current, budget, progress=progress_of is not None, now=now, holder=reserved is not None)
        if wait > 0:
            if not result:
                reason = "Chat answered 429 in this space" if current.blocked_until > now else \
                    "the space's write budget is spent"
                return Admission(Verdict.WAIT, job, wait=wait, reason=reason), None, None
            at = current.slot(budget, now)  # a result: the next slot (again, if its token is gone)
            written = replace(log, reserved={"at": at, "epoch": current.epoch})
            return Admission(Verdict.WAIT, job, wait=at - now, reason="the space's write budget is spent; "
                             "a slot is reserved", reserved=True), written, replace(current, reserved_until=at)
        taken = replace(current, tokens=current.tokens - 1)
    rev = log.rev + 1
    inflight = log.live(now)
    inflight[str(rev)] = {"until": deadline, "state": job.version}
    written = replace(log, rev=rev, state=job.version, inflight=inflight, writes=log.writes + 1, reserved=None)
    return Admission(Verdict.WRITE, job, rev), written, taken


def settle(log: MessageLog, rev: int, outcome: Outcome, state: int, finished: bool,
           now: float) -> tuple[Settled, MessageLog]:
    """After one attempt of revision ``rev``, which rendered job version ``state`` (``finished``:
    a final state)."""
    inflight = log.live(now)
    if outcome != Outcome.FAILED:  # answered: it will not land later (a failed one may, until its deadline)
        inflight.pop(str(rev), None)
    log = replace(log, inflight=inflight, throttled=log.throttled + (outcome == Outcome.THROTTLED))
    if outcome == Outcome.WRITTEN and log.rev > rev and log.state != state:
        # newer writes were admitted while this one was on its way: it may have landed after them
        log = replace(log, landed_over=max(log.landed_over, log.rev))
    settled = Settled()
    if finished and log.rev == rev and outcome in (Outcome.WRITTEN, Outcome.REFUSED):
        pending = log.older_until(rev, state, now)
        if outcome == Outcome.WRITTEN and pending:
            settled = Settled(older_until=pending)
        elif outcome == Outcome.WRITTEN and log.landed_over >= rev:
            settled = Settled(older_until=now)  # nothing still on its way: write again at once
        else:
            settled = Settled(confirm=True, writes=log.writes, throttled=log.throttled)
    return settled, log


def confirm(job: Job, version: int, settled: Settled, written: bool, now: float) -> Job | None:
    """Record on the job that its final message is shown (``written``) or can never be, if the job
    is still at the version that was shown. None: nothing to record."""
    if job.version != version or not job.status.finished or not job.message_due:
        return None
    return job.replace(message_due=False, message_shown_at=now if written else None,
                       chat_writes=settled.writes, chat_throttled=settled.throttled)
