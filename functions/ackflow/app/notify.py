"""Showing a job in its thread: one message per job (``client-<job id>``), edited in place.

Every attempt to write passes the gate in the store first (rules in ``jobs/messages.py``): it
renders the job as it is then, takes the next revision and a token of the space's write budget,
shared by every instance. So a write never replaces a newer state, progress gives way to results
when the budget is short, and the final state goes out last, confirmed in the store (or the sweep
shows it again).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import TYPE_CHECKING

from ..chat.cards import Card, fallback_text
from ..chat.events import EventFormat
from ..chat.plain import put_message_or_text
from ..chat.replies import message_json, plain_text
from ..errors import (
    ChatBudgetSpent,
    ChatRateLimited,
    ChatRefused,
    ChatUnavailable,
    NotFound,
    StoreUnavailable,
    Unavailable,
    UnknownJobType,
)
from ..jobs.messages import Outcome, Verdict
from ..jobs.model import Holder, Job, JobStatus
from . import views
from .speech import speaker_of_job

if TYPE_CHECKING:
    from .runtime import Runtime


log = logging.getLogger(__name__)

ATTEMPT_TIMEOUT = 10.0  # seconds one write may take before it counts as failed
LANDING_MARGIN = 5.0  # how long after its timeout a write may still land at Chat's end
FINISH_WAIT = ATTEMPT_TIMEOUT + LANDING_MARGIN  # a delivery's wait at its end for its progress write
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 16.0  # after a 429 that names no wait, or an outage
# A result waits for the space's budget (its own bucket, or Chat's 429) up to the writer's wait, but
# in a queue delivery only while fewer than BUDGET_WAITERS deliveries of its process wait for one;
# the others hand their result to a later delivery of the queue at once (ChatBudgetSpent; the
# worker's _show_later). Under a burst bigger than the spaces' quota, waiting writers held every
# delivery slot and the steps of other jobs waited behind them (1,000 jobs in eight spaces finished
# at the spaces' write rate, 6 a second: benchmarks/chaos.py); a few jobs at once still wait.
BUDGET_WAITERS = 4


class SpaceHints:
    """This process's note of spaces with no budget until a time, so progress that would be
    skipped anyway does not ask the store (only a hint: the store's bucket decides), and one lock
    per space, so the threads of a process run the message transactions of a space (its bucket,
    the write logs of its jobs) one at a time instead of contending for the same documents."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._waiting = 0

    def start_waiting(self) -> bool:
        """Whether a delivery may wait for a space's budget (fewer than BUDGET_WAITERS of this
        process wait); if so, it must call done_waiting."""
        with self._lock:
            if self._waiting >= BUDGET_WAITERS:
                return False
            self._waiting += 1
            return True

    def done_waiting(self) -> None:
        with self._lock:
            self._waiting -= 1

    def lock(self, space: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(space, threading.Lock())

    def quiet(self, space: str) -> bool:
        with self._lock:
            return self._until.get(space, 0.0) > time.monotonic()

    def note(self, space: str, seconds: float) -> None:
        with self._lock:
            self._until[space] = max(self._until.get(space, 0.0), time.monotonic() + seconds)


def backoff(attempt: int) -> float:
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** attempt) * random.uniform(0.5, 1.0)


class Notifier:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime

    def show(self, job: Job, *, retry_delay: float | None = None, wait: float | None = None,
             delivery: bool = True) -> bool:
        """Show ``job`` (as the caller just read or wrote it; a retry reads it again, and a job older
        than what the message already shows is never written). A finished job's message must go
        out: this waits up to ``wait`` seconds (default ``chat_final_wait``) for budget, through
        429s and outages, then raises ChatUnavailable (worth a retry; the sweep shows it
        otherwise). A running job's state is best effort: skipped when the space has no budget, a
        failure logged. A refusal (the space is gone, the app was removed) is logged and dropped:
        the job's state is in the store either way. True when the message shows the job (or needs
        nothing). ``delivery``: the caller holds a queue delivery, which waits for the space's
        budget only as BUDGET_WAITERS allows (the sweep waits its own way)."""
        if not job.space:
            return True
        wait = self.runtime.settings.chat_final_wait if wait is None else wait
        try:
            return self._write(job, None, retry_delay, wait, fresh=True, delivery=delivery)
        except ChatRefused as exc:
            log.error("cannot show the job in its space: %s", exc, extra={"job_id": job.id})
            return False

    def try_show(self, job: Job, **kwargs) -> bool:
        """Best effort: a failure (of Chat or of the store) is logged, never raised."""
        try:
            return self.show(job, **kwargs)
        except Unavailable as exc:
            log.warning("could not show the job: %s", exc, extra={"job_id": job.id})
            return False

    def progress(self, job: Job, line: str) -> bool:
        """A progress line of the running step of ``job`` (the job as claimed). Skipped when the
        job moved on since, or the space has no budget to spare; never raised."""
        if not job.space or self.runtime.chat_hints.quiet(job.space):
            return False
        try:
            return self._write(job, line, None, 0.0)
        except (Unavailable, ChatRefused) as exc:
            log.warning("could not show progress: %s", exc, extra={"job_id": job.id})
            return False

    # -- one write, attempt by attempt -----------------------------------------------------------
    def _write(self, job: Job, line: str | None, retry_delay: float | None, wait: float, fresh: bool = False,
               delivery: bool = False) -> bool:
        if not delivery:
            return self._write_once(job, line, retry_delay, wait, fresh, lambda: True)
        hints, waiting = self.runtime.chat_hints, []

        def may_wait() -> bool:
            if not waiting:
                waiting.append(hints.start_waiting())
            return waiting[0]

        try:
            return self._write_once(job, line, retry_delay, wait, fresh, may_wait)
        finally:
            if waiting and waiting[0]:
                hints.done_waiting()

    def _write_once(self, job: Job, line: str | None, retry_delay: float | None, wait: float, fresh: bool,
                    may_wait) -> bool:
        runtime = self.runtime
        give_up = time.monotonic() + wait

        def budget_spent(seconds: float) -> bool:
            return time.monotonic() + seconds > give_up or not may_wait()

        previous: int | None = None
        attempt = 0
        final = line is None and job.status.finished  # a result: it must go out (as of the latest read)
        fresh = line is None and fresh  # a state the caller has just written: no need to read it again
        while True:
            now = runtime.clock()
            # No token yet: skip (progress, a running state) without a transaction. A result always
            # asks the gate, which reserves it a slot if need be.
            ahead = 0.0 if final else runtime.store.chat_budget_wait(job.space, runtime.chat_budget,
                                                                      progress=line is not None, now=now)
            if ahead > 0:
                runtime.chat_hints.note(job.space, ahead)
                return False
            try:
                with runtime.chat_hints.lock(job.space):
                    admission = runtime.store.admit_message_write(
                        job.id, runtime.chat_budget, progress_of=job.version if line is not None else None,
                        previous=previous, now=runtime.clock(), deadline=now + ATTEMPT_TIMEOUT + LANDING_MARGIN,
                        job=job if fresh else None)
                    fresh = False
            except StoreUnavailable:
                delay = backoff(attempt)
                if not final or time.monotonic() + delay > give_up:
                    raise
                time.sleep(delay)  # a result: try the store again
                attempt += 1
                continue
            current = admission.job
            final = line is None and current.status.finished
            if admission.verdict == Verdict.SKIP:
                log.debug("message not written: %s", admission.reason, extra={"job_id": job.id})
                return line is None
            if admission.verdict == Verdict.WAIT:
                runtime.chat_hints.note(job.space, admission.wait)
                if not final:
                    log.info("%s: skipped a %s write", admission.reason, "progress" if line else "state",
                             extra={"job_id": job.id})
                    return False
                if budget_spent(admission.wait):
                    raise ChatBudgetSpent(f"{admission.reason} (space {job.space})", after=admission.wait,
                                          slot="new" if admission.reserved else "held")
                time.sleep(admission.wait)
                continue
            previous = admission.rev
            outcome, delay, error = self._attempt(current, line, retry_delay if current.version == job.version
                                                  else None, attempt)
            with runtime.chat_hints.lock(job.space):
                settled = runtime.store.settle_message_write(
                    job.id, admission.rev, outcome, current, runtime.clock(), budget=runtime.chat_budget,
                    blocked_until=runtime.clock() + delay if outcome == Outcome.THROTTLED else None)
            if outcome == Outcome.WRITTEN:
                if not settled.older_until:
                    return True
                self._await_older(job.id, admission.rev, current.version, settled.older_until)
                continue  # an older write may have landed after this one: write the final state again, last
            if outcome == Outcome.REFUSED:
                raise error
            if outcome == Outcome.THROTTLED:
                runtime.chat_hints.note(job.space, delay)
            if not final:
                log.warning("could not write the job's message: %s", error, extra={"job_id": job.id})
                return False
            if outcome == Outcome.THROTTLED:
                if budget_spent(delay):
                    raise ChatBudgetSpent(str(error), after=delay) from error
            if time.monotonic() + delay > give_up:
                raise ChatUnavailable(str(error)) from error
            time.sleep(delay)
            attempt += 1

    def _attempt(self, job: Job, line: str | None, retry_delay: float | None, attempt: int):
        """One write of ``job`` as it is now: (outcome, seconds to wait before another, error)."""
        try:
            # a card Chat refuses (400) goes out as its text: the person hears back either way
            put_message_or_text(self.runtime.chat, job.space, job.message_id, self.render(job, line, retry_delay),
                                job.thread, timeout=ATTEMPT_TIMEOUT)
            return Outcome.WRITTEN, 0.0, None
        except ChatRateLimited as exc:
            return Outcome.THROTTLED, exc.retry_after if exc.retry_after is not None else backoff(attempt), exc
        except ChatRefused as exc:
            return Outcome.REFUSED, 0.0, exc
        except ChatUnavailable as exc:
            return Outcome.FAILED, backoff(attempt), exc

    def _await_older(self, job_id: str, rev: int, state: int, until: float) -> None:
        """Wait until older writes of another state have ended (or can no longer land)."""
        while self.runtime.clock() < until:
            if not self.runtime.store.message_log(job_id).older_until(rev, state, self.runtime.clock()):
                return
            time.sleep(0.1)

    def render(self, job: Job, line: str | None = None, retry_delay: float | None = None) -> dict:
        """The message that shows ``job`` (as the Chat API takes it)."""
        try:
            job_type = self.runtime.registry.get(job.type)
        except UnknownJobType:
            job_type = None
        reply = views.job_message(job, job_type, speaker_of_job(self.runtime, job), progress=line,
                                  retry_delay=retry_delay, now=self.runtime.clock())
        message = message_json(reply, EventFormat(job.event_format), self.runtime.settings.webhook_url)
        if reply.card is not None:
            # Chat keeps a message's fallbackText from its creation (an update cannot change it),
            # so it names the job and says nothing that goes stale (a notification is the first write).
            message["fallbackText"] = plain_text(fallback_text(Card(reply.card.card_id, reply.card.title,
                                                                    (), reply.card.subtitle)))
        return message


def bar(fraction: float, width: int = 10) -> str:
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    return "▓" * filled + "░" * (width - filled) + f" {fraction * 100:.0f}%"


class ProgressReporter:
    """Throttled progress for one running step: at most one write per ``interval`` from this
    attempt, and only while the job is in the state this attempt claimed (the gate checks it), so
    a stale attempt never overwrites a newer state.

    A write goes out on a thread of its own: the step's code never waits for the store's message
    gate or for Chat (a progress write once held a chain step for 62 s while the Firestore emulator
    kept a killed worker's lock on the space's budget). One write at a time; a line reported while
    one is on its way waits for it, replacing any line waiting before it. ``finish`` waits, at
    most FINISH_WAIT, for the write on its way, so that a delivery does not end (and an instance
    go idle, its CPU throttled) with a write admitted and not yet sent."""

    def __init__(self, runtime: Runtime, notifier: Notifier, job: Job, index: int, holder: Holder,
                 interval: float):
        self.runtime = runtime
        self.notifier = notifier
        self.job = job
        self.index = index
        self.holder = holder
        self.interval = interval
        self._last = -1e9
        self._lock = threading.Lock()
        self._cancelled = False
        self._checked = 0.0
        self._waiting: str | None = None  # a line reported while a write was on its way
        self._writer: threading.Thread | None = None

    def _current(self) -> Job | None:
        try:
            return self.runtime.store.get_job(self.job.id)
        except NotFound:
            return None

    def report(self, text: str, fraction: float | None = None) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.interval:
                return
            self._last = now
            line = f"{text}\n{bar(fraction)}" if fraction is not None else text
            if self._writer is not None:
                self._waiting = line
                return
            self._writer = threading.Thread(target=self._write, args=(line,), daemon=True,
                                            name=f"progress-{self.job.id}")
            self._writer.start()

    def _write(self, line: str | None) -> None:
        while line is not None:
            try:
                self.notifier.progress(self.job, line)
            except Exception:  # best effort, never raised (progress logs what it can)
                log.exception("progress write failed", extra={"job_id": self.job.id})
            with self._lock:
                line, self._waiting = self._waiting, None
                if line is None:
                    self._writer = None

    def finish(self, wait: float | None = None) -> None:
        """The step is over: no line waits any longer; the write on its way, if any, is given at
        most ``wait`` seconds (default FINISH_WAIT) to end."""
        with self._lock:
            self._waiting = None
            writer = self._writer
        if writer is not None:
            writer.join(FINISH_WAIT if wait is None else wait)

    def cancelled(self) -> bool:
        now = time.monotonic()
        if self._cancelled or now - self._checked < 0.5:
            return self._cancelled
        self._checked = now
        job = self._current()
        self._cancelled = job is None or job.status == JobStatus.CANCELLED
        return self._cancelled
