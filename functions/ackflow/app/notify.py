"""Showing a job in its thread: one message per job (``client-<job id>``), edited in place."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from ..chat.events import EventFormat
from ..chat.replies import message_json
from ..errors import ChatRefused, ChatUnavailable, NotFound, UnknownJobType
from ..jobs.model import Holder, Job, JobStatus
from . import views
from .speech import speaker_of_job

if TYPE_CHECKING:
    from .runtime import Runtime


log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime

    def show(self, job: Job, *, progress: str | None = None, retry_delay: float | None = None) -> None:
        """Write the job's message; raises ChatUnavailable when Chat cannot be reached (worth a
        retry). A refusal (the space is gone, the app was removed) is logged and dropped: the job's
        state is in the store either way."""
        if not job.space:
            return
        try:
            self._write(job, progress, retry_delay)
        except ChatRefused as exc:
            log.error("cannot show the job in its space: %s", exc, extra={"job_id": job.id})

    def _write(self, job: Job, progress: str | None, retry_delay: float | None) -> None:
        try:
            job_type = self.runtime.registry.get(job.type)
        except UnknownJobType:
            job_type = None
        reply = views.job_message(job, job_type, speaker_of_job(self.runtime, job), progress=progress,
                                  retry_delay=retry_delay, now=self.runtime.clock())
        message = message_json(reply, EventFormat(job.event_format), self.runtime.settings.webhook_url)
        self.runtime.chat.put_message(job.space, job.message_id, message, job.thread)

    def try_show(self, job: Job, **kwargs) -> bool:
        """Best effort (progress): a failure is logged, never raised."""
        try:
            self.show(job, **kwargs)
            return True
        except ChatUnavailable as exc:
            log.warning("could not show progress: %s", exc, extra={"job_id": job.id})
            return False


class SpacePacer:
    """At most one progress write per space per interval from this process: Chat allows about one
    write per second per space, and progress is the write that can wait. Results always go out."""

    def __init__(self, interval: float = 1.0):
        self.interval = interval
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def allow(self, space: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(space, -1e9) < self.interval:
                return False
            self._last[space] = now
            return True


def bar(fraction: float, width: int = 10) -> str:
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    return "▓" * filled + "░" * (width - filled) + f" {fraction * 100:.0f}%"


class ProgressReporter:
    """Throttled progress for one running step. Before each write it checks that this attempt still
    holds the step, so a stale attempt never overwrites a newer state."""

    def __init__(self, runtime: Runtime, notifier: Notifier, job: Job, index: int, holder: Holder,
                 interval: float):
        self.runtime = runtime
        self.notifier = notifier
        self.job = job
        self.index = index
        self.holder = holder
        self.interval = interval
        self._last = 0.0
        self._lock = threading.Lock()
        self._cancelled = False
        self._checked = 0.0
        self.pacer = runtime.pacer

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
            if self.job.space and not self.pacer.allow(self.job.space):
                return  # another job wrote to this space within the interval
            self._last = now
        job = self._current()
        if job is None or job.status != JobStatus.RUNNING or job.steps[self.index].holder != self.holder:
            return
        line = f"{text}\n{bar(fraction)}" if fraction is not None else text
        self.notifier.try_show(job, progress=line)

    def cancelled(self) -> bool:
        now = time.monotonic()
        if self._cancelled or now - self._checked < 0.5:
            return self._cancelled
        self._checked = now
        job = self._current()
        self._cancelled = job is None or job.status == JobStatus.CANCELLED
        return self._cancelled
