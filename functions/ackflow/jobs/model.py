"""Value objects of the job domain. Frozen dataclasses; JSON-ready with to_dict/from_dict.

Times are seconds since the epoch (floats), so every store compares them the same way.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class JobStatus(str, Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class StepStatus(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"  # the job was cancelled while this step was under way


class ConfirmationStatus(str, Enum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Requester:
    name: str  # users/123
    email: str = ""
    display_name: str = ""
    # how they were spoken to when they asked (so the job's messages speak the same way later);
    # empty: the deployment's defaults (periodic jobs, operators, jobs stored before this was kept)
    language: str = ""
    time_zone: str = ""

    @property
    def label(self) -> str:
        return self.display_name or self.email or self.name

    def to_dict(self) -> dict:
        data = {"name": self.name, "email": self.email, "display_name": self.display_name}
        if self.language or self.time_zone:
            data.update(language=self.language, time_zone=self.time_zone)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Requester:
        return cls(data.get("name", ""), data.get("email", ""), data.get("display_name", ""),
                   str(data.get("language") or ""), str(data.get("time_zone") or ""))


SYSTEM = Requester("system", "", "scheduler")
REQUESTER_LOWER = "requester_email_lower"  # a job's field: its requester's address in lowercase, for queries


def requester_key(email: str) -> str:
    """An address as ``REQUESTER_LOWER`` keeps it: in lowercase, its widths folded first (NFKC), so
    ＡＬＩＣＥ＠ｅｘａｍｐｌｅ．ｃｏｍ typed in a Japanese keyboard's full-width mode is alice@example.com,
    and é typed as e and a combining accent is é (an address as Chat sends it, ASCII, is its lower())."""
    return unicodedata.normalize("NFKC", email or "").lower()


@dataclass(frozen=True)
class Holder:
    """Who holds a step's lease: one delivery of one task."""

    task: str
    retry: int

    def to_dict(self) -> dict:
        return {"task": self.task, "retry": self.retry}

    @classmethod
    def from_dict(cls, data: dict | None) -> Holder | None:
        return cls(data["task"], int(data["retry"])) if data else None


# A step's output key: the step had nothing to do for its job's parameters (a case opened without
# a portal order has no portal documents to collect). Its output is passed on as any other.
NOTHING_TO_DO = "nothing_to_do"


def without_marker(output: dict | None) -> dict:
    """A step's output as a later step or the job's result reads it: without ``NOTHING_TO_DO``."""
    return {k: v for k, v in (output or {}).items() if k != NOTHING_TO_DO}


@dataclass(frozen=True)
class StepState:
    name: str
    status: StepStatus = StepStatus.PENDING
    attempts: int = 0
    output: dict | None = None
    error: str | None = None
    holder: Holder | None = None
    lease_until: float | None = None
    # the holder's dispatch deadline: a later retry of its task may take the step over only before
    # it (lifecycle.claim); after it the holder may still be running, and only the lease ends it
    deadline_at: float | None = None
    first_attempt_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    # the latest attempts, oldest first: {"n", "task", "retry", "started_at", and once it ended
    # "finished_at", "outcome" (succeeded / retrying / failed / lost), "error", "trace"}
    runs: tuple[dict, ...] = ()

    @property
    def had_nothing_to_do(self) -> bool:
        """It succeeded without work to do for its job's parameters (``NOTHING_TO_DO`` in its
        output): shown as not needed, not as done."""
        return self.status == StepStatus.SUCCEEDED and bool((self.output or {}).get(NOTHING_TO_DO))

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["status"] = self.status.value
        data["holder"] = self.holder.to_dict() if self.holder else None
        data["runs"] = [dict(r) for r in self.runs]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> StepState:
        values = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data}
        values["status"] = StepStatus(values["status"])
        values["holder"] = Holder.from_dict(values.get("holder"))
        values["runs"] = tuple(values.get("runs") or ())
        return cls(**values)


@dataclass(frozen=True)
class Job:
    id: str
    type: str
    params: dict
    requester: Requester
    space: str | None
    thread: str | None
    queue: str
    steps: tuple[StepState, ...]
    created_at: float
    updated_at: float
    status: JobStatus = JobStatus.QUEUED
    current: int = 0  # index of the step to run next
    generation: int = 0  # bumped when the job is re-sent under new task names (retry, sweep)
    last_error: str | None = None  # as the person who asked was told it (their language)
    # …and as a catalog message with its values when it is one (``app/audit.stored``), which a page
    # says in its reader's language; None for an exception's raw text or a service's answer
    last_said: dict | None = None
    next_attempt_at: float | None = None
    result: dict | None = None
    finished_at: float | None = None
    expire_at: float | None = None  # a TTL for finished jobs
    event_format: str = "classic"
    confirmation_id: str | None = None
    slot: str | None = None  # the schedule slot of a periodic job
    history: tuple[dict, ...] = field(default_factory=tuple)
    version: int = 0  # bumped by every change in the store: orders what the job's message shows
    # The job's one Chat message (rules in jobs/messages.py; its write log is a document of its own):
    message_due: bool = False  # finished, and the final message is not yet confirmed written
    message_shown_at: float | None = None  # when the final message was confirmed written
    chat_writes: int = 0  # Chat API writes sent for the message (every attempt), as of its confirmation
    chat_throttled: int = 0  # of which Chat answered 429

    @property
    def message_id(self) -> str:
        """The client-assigned id of the one Chat message that shows this job."""
        return f"client-{self.id}"

    @property
    def step(self) -> StepState | None:
        return self.steps[self.current] if self.current < len(self.steps) else None

    @property
    def attempts(self) -> int:
        return sum(s.attempts for s in self.steps)

    @property
    def steps_done(self) -> int:
        return sum(1 for s in self.steps if s.status == StepStatus.SUCCEEDED)

    def with_step(self, index: int, **changes: Any) -> Job:
        steps = list(self.steps)
        steps[index] = dataclasses.replace(steps[index], **changes)
        return dataclasses.replace(self, steps=tuple(steps))

    def replace(self, **changes: Any) -> Job:
        return dataclasses.replace(self, **changes)

    def outputs(self) -> dict[str, dict]:
        return {s.name: s.output for s in self.steps if s.output is not None}

    def to_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["status"] = self.status.value
        data["requester"] = self.requester.to_dict()
        data["requester_email"] = self.requester.email  # flat, for queries
        # lowercase, for the console's requester filter (Alice@Example.com is alice@example.com);
        # jobs stored before it have none (JobFilter.alternatives)
        data[REQUESTER_LOWER] = requester_key(self.requester.email)
        data["steps"] = [s.to_dict() for s in self.steps]
        data["history"] = list(self.history)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Job:
        values = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data}
        values["status"] = JobStatus(values["status"])
        values["requester"] = Requester.from_dict(values["requester"])
        values["steps"] = tuple(StepState.from_dict(s) for s in values["steps"])
        values["history"] = tuple(values.get("history") or ())
        return cls(**values)


# One confirmation is stored per "run this?" card; without a TTL the collection would only grow.
# Kept long after its card expired: it answers a late Run of that card, and a mail's card finds
# through it the job it made (a failed job may be retried while it lives, a job TTL after it ends).
CONFIRMATION_TTL = 400 * 86400.0


@dataclass(frozen=True)
class Confirmation:
    """A job that was asked for and awaits Run or Cancel on its card."""

    id: str
    token: str
    job_type: str
    params: dict
    requester: Requester
    space: str | None
    thread: str | None
    created_at: float
    expires_at: float
    event_format: str = "classic"
    status: ConfirmationStatus = ConfirmationStatus.PENDING
    job_id: str | None = None
    decided_at: float | None = None
    decided_by: str = ""  # who cancelled it (a label), when a person did
    replaced: bool = False  # cancelled because a newer request took its place (a mail's form sent again)
    expire_at: float | None = None  # a TTL (CONFIRMATION_TTL after ``expires_at`` unless given)
    # what the card said the job will do, beside its parameters (``app/precheck.py``), in English:
    # compared at Run with what the store says then; None: kept by no check (asked before notes were)
    notes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.expire_at is None:
            object.__setattr__(self, "expire_at", self.expires_at + CONFIRMATION_TTL)
        if self.notes is not None and not isinstance(self.notes, tuple):
            object.__setattr__(self, "notes", tuple(self.notes))

    def to_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["status"] = self.status.value
        data["requester"] = self.requester.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Confirmation:
        # fields a later version added are left out (a request kept by it, read by this one)
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["status"] = ConfirmationStatus(values["status"])
        values["requester"] = Requester.from_dict(values["requester"])
        return cls(**values)


@dataclass(frozen=True)
class DeadLetter:
    """A job that failed for good, kept for a person to look at."""

    id: str
    job_id: str
    job_type: str
    step: str
    error: str
    attempts: int
    created_at: float
    said: dict | None = None  # the error as a catalog message with its values (the job's ``last_said``)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DeadLetter:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})


@dataclass(frozen=True)
class AuditEntry:
    """One thing a person did to a job or a queue from an operator's surface, and how it ended."""

    id: str
    at: float
    actor: str  # who: an email, user@host, or the console's operator name
    action: str  # retry, cancel, discard, pause, resume, redrive, run-now
    target: str  # a job id, a dead letter id, a queue name
    outcome: str = "done"  # done, or refused: why
    job_id: str = ""  # the job concerned, if any (for its detail page)
    surface: str = ""  # console, cli, chat
    detail: str = ""  # in English (a text said later is also kept in ``said``)
    # What the entry says, for a page in its reader's language (as a job's history does; see
    # app/audit.py): {"outcome": "done" | "refused", "why": MESSAGE, "technical": bool,
    # "detail": MESSAGE}, a MESSAGE being a catalog message with its values. Entries written
    # before it have none: their outcome and detail are shown as stored.
    said: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> AuditEntry:
        values = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data}
        if not isinstance(values.get("said", {}), dict):
            values["said"] = {}
        return cls(**values)
