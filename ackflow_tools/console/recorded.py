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

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ackflow.app.audit import restored
from ackflow.i18n import N_, Speaker, said
from ackflow.jobs.model import AuditEntry

# What the job's lifecycle records in English (functions/ackflow/jobs/lifecycle.py: an attempt a
# later delivery took over, a lease that expired): the same texts, marked for the catalog here.
LIFECYCLE_TEXTS = frozenset((N_("a later delivery of its task took the step over"),
                             N_("the attempt stopped answering (lease expired)")))
QUEUE_DOWN = "queue unavailable: "  # a job the queue did not take (JobStore.note_error), then the queue's answer
DROPPED = "(dropped task)"  # a dead letter no job had: its error is the worker's reason, in English
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


def letter_error(letter, speaker: Speaker) -> Shown:
    """A dead letter's error: a dropped task's is the worker's own reason (technical)."""
    if letter.job_type == DROPPED:
        return Shown(technical=letter.error)
    return recorded_error(letter.error, speaker)


def job_messages(job) -> dict:
    """The job's own messages (a ``StepFailed``'s) that its attempts kept as catalog messages
    (``said``), by the text the requester was told."""
    found = {}
    for step in job.steps:
        for run in step.runs:
            if isinstance(run, dict) and isinstance(run.get("error"), str) and run.get("said"):
                message = restored(run["said"])
                if message is not None:
                    found[run["error"]] = message
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


def audit_said(entry: AuditEntry, speaker: Speaker) -> AuditSaid:
    kept = entry.said if isinstance(entry.said, dict) else {}
    detail = _said(kept.get("detail"), speaker)
    detail = entry.detail if detail is None else detail
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
