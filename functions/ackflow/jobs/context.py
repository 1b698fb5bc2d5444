"""What a step's code sees: its job's parameters, earlier steps' outputs, progress, cancellation,
and the services the deployment provides (counters, storage, sheets, ...)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..errors import AckflowError
from ..i18n import ENGLISH, Speaker
from .model import NOTHING_TO_DO, Job


class Services:
    """Named services created on first use (so a step that needs none pays for none). A factory
    receives this container, so one service can be built from another (``services.store``)."""

    def __init__(self, factories: dict[str, Callable[[Services], Any]]):
        self._factories = dict(factories)
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Any:
        with self._lock:
            if name not in self._made:
                if name not in self._factories:
                    raise AckflowError(f"no service named {name!r} is configured "
                                       f"(known: {', '.join(sorted(self._factories)) or 'none'})")
                factory = self._factories[name]
            else:
                return self._made[name]
        made = factory(self)  # outside the lock: a factory may ask for another service
        with self._lock:
            return self._made.setdefault(name, made)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.get(name)


def nothing_to_do(output: dict | None = None) -> dict:
    """A step's output saying it had nothing to do for these parameters (shown as not needed, not
    as done); ``output`` is passed on to the later steps as usual."""
    return {**(output or {}), NOTHING_TO_DO: True}


class StepContext:
    def __init__(self, job: Job, index: int, attempt: int, services: Services, *,
                 report: Callable[[str, float | None], None],
                 cancelled: Callable[[], bool],
                 clock: Callable[[], float] = time.time,
                 speaker: Speaker | None = None):
        self.job = job
        self.index = index
        self.attempt = attempt  # 1 on the first attempt of this delivery's task
        self.services = services
        self._report = report
        self._cancelled = cancelled
        self.clock = clock
        self.speaker = speaker or ENGLISH  # how the job speaks: as its requester was spoken to

    def _(self, message: str, **values) -> str:
        """``message`` (marked for the catalog) in the job's language: for progress lines and
        results a person reads."""
        return self.speaker._(message, **values)

    @property
    def params(self) -> dict:
        return self.job.params

    @property
    def outputs(self) -> dict[str, dict]:
        """Outputs of the steps that already succeeded, by step name."""
        return self.job.outputs()

    @property
    def step_name(self) -> str:
        return self.job.steps[self.index].name

    def progress(self, text, fraction: float | None = None) -> None:
        """Tell the person how it goes (a text, or a ``Msg`` said in the job's language); writes are
        throttled, so call it as often as is useful."""
        from ..i18n import said

        self._report(str(said(text, self.speaker)), fraction)

    def cancelled(self) -> bool:
        return self._cancelled()

    def sleep(self, seconds: float) -> bool:
        """Wait, waking early if the job is cancelled; returns False when it was."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            time.sleep(min(remaining, 0.25))
            if self.cancelled():
                return False
        return True
