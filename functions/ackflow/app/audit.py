"""The audit log: who did what to a job, a dead letter or a queue, from which surface, and how it
ended. Written after the action (done, or refused with the reason); a store that cannot take the
entry is logged and does not undo or fail an action that has already happened.

What an entry says is kept twice: in English (``outcome``, ``detail``: logs, the command line,
entries written before) and as ``said``, which a page renders in its reader's language, as a
job's history does: the outcome as a code (``done``, ``refused``), a refusal's reason and the
detail as catalog messages with their values (:func:`stored`), never a text fixed in one language.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..errors import (
    AccessDenied,
    AckflowError,
    Conflict,
    DeadLetterNotFound,
    InvalidTransition,
    JobNotFound,
    NotCancellable,
    NotFound,
    NotSupported,
    StoreUnavailable,
    Unavailable,
    UnknownJobType,
)
from ..i18n import L_, LANGUAGES, N_, Msg, Speaker
from ..ids import new_id
from ..jobs.model import AuditEntry

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger(__name__)

VALUE_LIMIT = 300  # characters of one stored value (a refusal may quote what a person typed)
VALUES_LIMIT = 16  # values of one message
DEPTH_LIMIT = 3  # messages within messages


def record(runtime: Runtime, action: str, target: str, by: str, *, outcome: str = "done", job_id: str = "",
           surface: str = "", detail: str | Msg = "", error: AckflowError | None = None) -> AuditEntry | None:
    """``error``: what refused the action (the outcome is then ``refused: …``); ``detail``: a text
    (a Msg, said in each reader's language; a plain string is kept as it is)."""
    if error is not None:
        outcome = f"refused: {error}"
    said: dict = {}
    if outcome == "done" or outcome.startswith("refused"):
        said["outcome"] = "done" if outcome == "done" else "refused"
    try:  # what the entry says to a reader; never in the way of the entry itself, nor of the error
        if error is not None:
            said.update(_refusal(runtime, action, target, job_id, error))
        if isinstance(detail, Msg):
            said["detail"] = stored(detail)
    except Exception:
        log.exception("audit entry of %s %s kept in English only", action, target)
    entry = AuditEntry(id=new_id("a", 16), at=runtime.clock(), actor=by[:200], action=action, target=target[:200],
                       outcome=outcome[:300], job_id=job_id, surface=surface, detail=str(detail)[:500], said=said)
    try:
        return runtime.store.record_audit(entry)
    except StoreUnavailable as exc:
        log.error("audit entry not recorded (%s %s by %s): %s", action, target, by, exc)
        return None


@contextmanager
def recorded(runtime: Runtime, action: str, target: str, by: str, *, job_id: str = "",
             surface: str = "") -> Iterator[dict]:
    """Record the action in the block: done, or refused with the error it raised (re-raised).
    The block may put a ``detail`` (a Msg, or a plain string) and the ``job_id`` it learnt in the
    dict it is given."""
    notes: dict = {}
    try:
        yield notes
    except AckflowError as exc:
        record(runtime, action, target, by, job_id=notes.get("job_id", job_id), surface=surface, error=exc)
        raise
    record(runtime, action, target, by, job_id=notes.get("job_id", job_id), surface=surface,
           detail=notes.get("detail", ""))


# -- a refusal in the reader's words ------------------------------------------------------------
def _refusal(runtime: Runtime, action: str, target: str, job_id: str, exc: AckflowError) -> dict:
    """``why``: the refusal as the catalog says it; ``technical``: whether the error's own
    (English) text, kept in ``outcome``, goes beside it as the technical detail (a vendor's answer,
    a name the reason does not repeat). Neither, for an error that says nothing to a person: the
    page shows its text as the technical detail alone."""
    why, technical = _why(runtime, action, target, job_id, exc)
    said: dict = {"technical": technical}
    if why is not None:
        said["why"] = stored(why)
    return said


def _why(runtime: Runtime, action: str, target: str, job_id: str, exc: AckflowError) -> tuple[Msg | None, bool]:
    from .views import STATUS_LABELS

    text = getattr(exc, "text", None)
    if isinstance(text, Msg):  # UsageError, StepFailed: a person-facing message of its own
        return text, False
    if isinstance(exc, JobNotFound):
        return L_("There is no job {job}.", job=exc.job_id), False
    if isinstance(exc, InvalidTransition):
        job = job_id or target
        status = _status(STATUS_LABELS, exc.current)
        if action == "retry":
            return L_("Job {job_id} is {status}; only a FAILED job can be retried.", job_id=job, status=status), False
        if action == "cancel":
            return L_("Job {job_id} is already {status}; there is nothing to cancel.", job_id=job,
                      status=status), False
        return L_("Job {job_id} is {status}; it cannot become {wanted}.", job_id=job, status=status,
                  wanted=_status(STATUS_LABELS, exc.wanted)), False
    if isinstance(exc, NotCancellable):
        return L_("Job {job_id} cannot be cancelled: its step “{step}” has taken what must be finished, "
                  "never dropped (an invoice number is issued). If the job fails, retry it.",
                  job_id=job_id or target, step=_step_title(runtime, job_id or target, exc.step)), False
    if isinstance(exc, DeadLetterNotFound):
        return L_("There is no dead letter {letter}: it was discarded already, or never was.", letter=target), False
    if isinstance(exc, UnknownJobType):
        if action == "run-now":
            return L_("There is no job type {name}.", name=target), False
        return L_("This deployment no longer has the job's type."), True
    if denied_by_iam(exc):
        return L_("The cloud refused this to the account that asked (its IAM roles)."), True
    generic = ((NotFound, L_("What it acts on is not there.")),
               (NotSupported, L_("The queue service cannot do this.")),
               (Conflict, L_("The change no longer applies: the state changed meanwhile.")),
               (AccessDenied, L_("Not allowed.")),
               (Unavailable, L_("A service did not answer: try again later.")))
    return next(((why, True) for kind, why in generic if isinstance(exc, kind)), (None, True))


def denied_by_iam(exc: BaseException) -> bool:
    """Whether the cloud refused the call for the caller's credentials: the adapters report it as
    unavailable, with the vendor's error as the cause (Google's PERMISSION_DENIED over gRPC, 403
    over REST; AWS's AccessDenied)."""
    seen = exc
    while seen is not None:
        if getattr(seen, "code", None) == 403 and type(seen).__module__.startswith("google.api_core"):
            return True
        error = (getattr(seen, "response", None) or {}) if type(seen).__module__.startswith("botocore") else {}
        if str((error.get("Error") or {}).get("Code", "")).startswith("AccessDenied"):
            return True
        seen = seen.__cause__
    return False


def _status(labels: dict, value: str):
    """A job status as the person reads it (待機中 for QUEUED), or as it is."""
    from ..jobs.model import JobStatus

    try:
        return Msg(labels[JobStatus(value)])
    except (KeyError, ValueError):
        return value


def _step_title(runtime: Runtime, job_id: str, step: str):
    """The step of the job by its title in the catalog (a Msg), else its name."""
    try:
        return step_named(runtime, runtime.store.get_job(job_id).type, step)
    except AckflowError:
        return step


# -- names said in the reader's words -----------------------------------------------------------
DROPPED = N_("(dropped task)")  # the job type of a dead letter no job had (JobStore.record_dropped_task)


class _TypeName:
    """A job type as each reader calls it (新規案件 for newcase in Japanese), as the chat does."""

    __slots__ = ("job_type", "name")

    def __init__(self, job_type, name: str):
        self.job_type, self.name = job_type, name

    def render(self, speaker: Speaker) -> str:
        from .views import type_name

        return type_name(self.job_type, self.name, speaker)


def type_named(runtime: Runtime, name: str):
    """A job type's name as a value of a text said later: in each reader's words."""
    if name == DROPPED:
        return Msg(DROPPED)
    return _TypeName(runtime.registry.get(name) if name in runtime.registry else None, name)


def step_named(runtime: Runtime, type_name: str, step: str):
    """A step of a job type by its title in the catalog (a Msg), else its name as it is."""
    job_type = runtime.registry.get(type_name) if type_name in runtime.registry else None
    declared = next((s for s in job_type.steps if s.name == step), None) if job_type else None
    return Msg(declared.title) if declared is not None and declared.title else step


# -- texts kept to be said later ----------------------------------------------------------------
class _Rendered:
    """A value that was rendered in each shipped language when it was stored (a parameter that
    names itself, a text of several parts): said in the reader's, else in English."""

    __slots__ = ("texts",)

    def __init__(self, texts: dict):
        self.texts = texts

    def render(self, speaker: Speaker) -> str:
        return str(self.texts.get(speaker.language) or self.texts.get("en") or "")


def stored(text: Msg, depth: int = 0) -> dict:
    """A Msg as a document keeps it: ``{"msgid": …, "values": {…}}``, each value a number, a text
    (cut at VALUE_LIMIT), a Msg kept the same way, or ``{"texts": {language: text}}`` for anything
    else a person reads (rendered now in every shipped language)."""
    values = {}
    for name, value in list(text.values.items())[:VALUES_LIMIT]:
        if value is None or isinstance(value, (bool, int, float)):
            values[name] = value
        elif isinstance(value, Msg) and depth < DEPTH_LIMIT:
            values[name] = stored(value, depth + 1)
        elif callable(getattr(value, "render", None)) and not isinstance(value, type):
            values[name] = {"texts": {language: str(value.render(Speaker(language)))[:VALUE_LIMIT]
                                      for language in LANGUAGES}}
        else:
            values[name] = str(value)[:VALUE_LIMIT]
    return {"msgid": text.msgid, "values": values}


def restored(data, depth: int = 0) -> Msg | None:
    """The Msg that :func:`stored` kept, or None if ``data`` is not one (a damaged or foreign
    record): its message must name its values only by plain names, so that formatting it reads
    nothing but those values."""
    if not isinstance(data, dict) or not isinstance(data.get("msgid"), str) or depth > DEPTH_LIMIT:
        return None
    msgid, values = data["msgid"], data.get("values") or {}
    if not isinstance(values, dict) or not _plain_fields(msgid):
        return None
    kept = {}
    for name, value in values.items():
        if isinstance(value, dict) and "msgid" in value:
            value = restored(value, depth + 1)
            if value is None:
                return None
        elif isinstance(value, dict) and isinstance(value.get("texts"), dict):
            value = _Rendered(value["texts"])
        elif value is not None and not isinstance(value, (bool, int, float, str)):
            return None
        kept[str(name)] = value
    return Msg(msgid, **kept)


def _plain_fields(message: str) -> bool:
    try:
        fields = list(string.Formatter().parse(message))
    except ValueError:
        return False
    return all(name is None or (name.isidentifier() and "{" not in (spec or "")) for _, name, spec, _ in fields)
