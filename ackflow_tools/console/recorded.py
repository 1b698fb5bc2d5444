"""What the store recorded, as a page says it in its reader's language.

An audit entry keeps what it says as catalog messages with their values (``said``, written by
functions/ackflow/app/audit.py): rendered here in the reader's language. Entries written before
that have only their English texts: shown as stored.

A job's recorded error (the job's, a step's, an attempt's, a dead letter's) is one of:
- a message of the job's own (a ``StepFailed``): recorded as the worker said it to the person
  who asked for the job, and beside it in its attempt as a catalog message with its values
  (``said``): said in the reader's language (an attempt recorded before that: shown as it is);
- one of Ackflow's own fixed texts (the lifecycle's, recorded in English): said in the reader's
  language from the catalog;
- the raw text of an exception the job's code did not expect (``TypeName: text``, recorded with
  its traceback), or a service's own answer: shown as it is, under the label "Technical detail",
  never as if it were the message.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ackflow.app.audit import restored
from ackflow.i18n import N_, Msg, Speaker, said
from ackflow.jobs.model import AuditEntry

# What the job's lifecycle records in English (functions/ackflow/jobs/lifecycle.py: an attempt a
# later delivery took over, a lease that expired): the same texts, marked for the catalog here.
LIFECYCLE_TEXTS = frozenset((N_("a later delivery of its task took the step over"),
                             N_("the attempt stopped answering (lease expired)")))
# What an audit entry names as its target in English words, not by an id or a name: said in the
# reader's language (workers/office/mail/unshown.py: show-mail-again of every unshown mail)
TARGET_WORDS = frozenset((N_("every unshown mail"),))
QUEUE_DOWN = "queue unavailable: "  # a job the queue did not take (JobStore.note_error), then the queue's answer
DROPPED = "(dropped task)"  # a dead letter no job had: its error is the worker's reason, in English
STEP_OF_TYPE = N_("{job_type} step {step}")  # a discard's detail when the letter's error is only technical
# The worker records an exception of the job's code as f"{type(exc).__name__}: {exc}"
RAW = re.compile(r"([A-Za-z_][A-Za-z0-9_]*): ")
# …a name the traceback recorded beside it confirms, or that only an exception would have
EXCEPTION_NAME = re.compile(r"(Error|Exception|Warning|Exit|Interrupt|Iteration|Timeout)$")


@dataclass(frozen=True)
class Shown:
    """A recorded text as a page shows it: ``message`` said to the reader, ``technical`` shown as
    it is under the "Technical detail" label (either may be empty)."""

    message: str = ""
    technical: str = ""


def raised(trace: str) -> str:
    """The name of the exception a traceback ends with (``OSError``; ``requests.exceptions.Timeout``
    gives ``Timeout``), or ""."""
    last = next((line for line in reversed(trace.splitlines()) if line.strip()), "")
    head = last.split(":", 1)[0].strip()
    return head.rsplit(".", 1)[-1] if re.fullmatch(r"[A-Za-z_][\w.]*", head) else ""


def recorded_error(text, speaker: Speaker, traces: Iterable[str] = (), messages: dict | None = None) -> Shown:
    """A job's recorded error as the reader is shown it; ``traces``: the tracebacks the job's
    attempts recorded (they tell an exception's raw text from a message that looks like one);
    ``messages``: the job's own messages its attempts kept as catalog messages, by the text the
    requester was told (``job_messages``): said in the reader's language."""
    if not isinstance(text, str) or not text:
        return Shown()
    kept = (messages or {}).get(text)
    if kept is not None:
        try:
            return Shown(kept.render(speaker))
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            pass  # a message that does not format with the values kept: as it was said
    if text in LIFECYCLE_TEXTS:
        return Shown(speaker._(text))
    if text.startswith(QUEUE_DOWN):
        return Shown(speaker._("The queue did not take the job's task: the sweep sends it."), text[len(QUEUE_DOWN):])
    match = RAW.match(text)
    if match and (match.group(1) in {raised(t) for t in traces if isinstance(t, str)}
                  or EXCEPTION_NAME.search(match.group(1))):
        return Shown(technical=text)
    return Shown(text)


def letter_error(letter, speaker: Speaker, traces: Iterable[str] = (), messages: dict | None = None) -> Shown:
    """A dead letter's error: the catalog message it kept (its job's ``last_said``) said in the
    reader's language; a dropped task's is the worker's own reason (technical); a letter recorded
    before letters kept one, as ``recorded_error`` shows its text (``messages``: its job's, on the
    job's page)."""
    if letter.job_type == DROPPED:
        return Shown(technical=letter.error)
    shown = _kept(getattr(letter, "said", None), speaker)
    return Shown(shown) if shown else recorded_error(letter.error, speaker, traces, messages)


def _kept(data, speaker: Speaker) -> str:
    message = restored(data)
    if message is None:
        return ""
    try:
        return str(message.render(speaker))
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return ""  # a message that does not format with the values kept: its text as it was said


def job_messages(job) -> dict:
    """The job's own messages (a ``StepFailed``'s, the worker's own) that its attempts and the job
    itself (``last_said``) kept as catalog messages, by the text the requester was told."""
    found = {}
    for step in job.steps:
        for run in step.runs:
            if isinstance(run, dict) and isinstance(run.get("error"), str) and run.get("said"):
                message = restored(run["said"])
                if message is not None:
                    found[run["error"]] = message
    if isinstance(job.last_error, str) and job.last_said:
        message = restored(job.last_said)
        if message is not None:
            found[job.last_error] = message
    return found


def job_traces(job) -> list[str]:
    return [run["trace"] for step in job.steps for run in step.runs
            if isinstance(run, dict) and isinstance(run.get("trace"), str)]


# -- the audit log -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditSaid:
    """An audit entry as the reader is shown it."""

    outcome: str  # done / refused, in the reader's language (or as stored)
    why: Shown  # a refusal's reason, and the error's own text as its technical detail
    detail: str
    detail_technical: str = ""  # what the detail quotes that is an exception's or a service's own text


def audit_said(entry: AuditEntry, speaker: Speaker) -> AuditSaid:
    kept = entry.said if isinstance(entry.said, dict) else {}
    detail, technical = _detail(entry, kept.get("detail"), speaker)
    detail = entry.detail if detail is None else detail
    return dataclasses.replace(_told(entry, kept, detail, speaker), detail_technical=technical)


def _detail(entry: AuditEntry, data, speaker: Speaker) -> tuple[str | None, str]:
    """The entry's detail in the reader's language. A discard's quotes the dead letter's error: a
    catalog message said as such, or the text the letter recorded, shown as a job's page shows a
    recorded error (an exception's raw text, a dropped task's reason: the technical detail)."""
    message = restored(data) if entry.action == "discard" else None
    error = message.values.get("error") if message is not None else None
    if not isinstance(error, str):
        return _said(data, speaker), ""
    job_type = message.values.get("job_type")
    dropped = isinstance(job_type, Msg) and job_type.msgid == DROPPED
    shown = Shown(technical=error) if dropped else recorded_error(error, speaker)
    if shown.message:
        message = Msg(message.msgid, **{**message.values, "error": shown.message})
    else:
        message = Msg(STEP_OF_TYPE, **{k: v for k, v in message.values.items() if k != "error"})
    try:
        return str(said(message, speaker)), shown.technical
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return None, ""


def _told(entry: AuditEntry, kept: dict, detail: str, speaker: Speaker) -> AuditSaid:
    code = kept.get("outcome")
    if code == "done" or (code is None and entry.outcome == "done"):
        return AuditSaid(speaker._("done"), Shown(), detail)
    if code == "refused":
        error = entry.outcome.removeprefix("refused: ").removeprefix("refused")
        why = _said(kept.get("why"), speaker)
        if why is None:
            return AuditSaid(speaker._("refused"), Shown(technical=error), detail)
        return AuditSaid(speaker._("refused"), Shown(why, error if kept.get("technical") else ""), detail)
    if entry.outcome.startswith("refused: "):  # written before ``said``: as stored
        return AuditSaid(speaker._("refused"), Shown(entry.outcome[len("refused: "):]), detail)
    return AuditSaid(entry.outcome, Shown(), detail)


def audit_target(entry: AuditEntry, speaker: Speaker) -> str:
    """What an entry acted on: an id or a name as it is, words of Ackflow's own in the reader's
    language."""
    return speaker._(entry.target) if entry.target in TARGET_WORDS else entry.target


def _said(data, speaker: Speaker) -> str | None:
    """A kept message in the reader's language, or None if there is none (or it cannot be said:
    a damaged record)."""
    text = restored(data)
    if text is None:
        return None
    try:
        return str(said(text, speaker))
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return None


# -- how a job began (the first entry of its history) -------------------------------------------------
def began(entry: dict) -> dict:
    """What a history entry says of how its job began, as fields (``event``: confirmed, scheduled
    with its ``slot``, run_now ``by`` whom), for entries written before they said so: their
    English note read back ("confirmed", "schedule 202611300000", "run now by ops@example.com").
    Any other entry as it is."""
    if entry.get("event") or not isinstance(entry.get("note"), str):
        return entry
    note = entry["note"]
    if note == "confirmed":
        return {**entry, "event": "confirmed"}
    if note.startswith("schedule "):
        return {**entry, "event": "scheduled", "slot": note[len("schedule "):]}
    if note.startswith("run now by "):
        return {**entry, "event": "run_now", "by": note[len("run now by "):]}
    return entry


def slot_moment(slot) -> float | None:
    """A schedule's slot as its job's history names it (its UTC minute, ``202611300000``), as a
    moment to show in the reader's time zone; None if it is not one."""
    import datetime as dt

    try:
        return dt.datetime.strptime(str(slot), "%Y%m%d%H%M").replace(tzinfo=dt.UTC).timestamp()
    except ValueError:
        return None
