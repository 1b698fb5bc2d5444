"""A job type's ``precheck``: what the store holds now may refuse a command at once, in place of its
card, instead of as a failed job after Run (a case already delivered is not started again), and
may say on the card what the job will do with it (``notes``: the estimate version an order
accepts, with its amount; the version an estimate becomes; the invoice's amount).

Notes are what the person confirms: they are kept with the request (in English) and worked out
again at Run; when they differ (another estimate was issued while the card waited), Run records
no job and says what changed, so that what runs is what was shown.

Asked where the card would be shown (a typed command, a form's submit) and again when Run is
pressed, before the job is recorded. The check reads through ``Reads``: one document at a time, at
most ``MAX_READS`` of them, never a query or a write. It is a courtesy: the store not answering, or
the check failing, shows the card as before (logged), and the job's own steps refuse what the state
forbids when they run (it may have changed between the card and the run).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..chat.replies import Reply
from ..errors import Unavailable, UsageError
from ..i18n import ENGLISH, N_, Joined, Speaker, said
from . import views

if TYPE_CHECKING:
    from ..jobs.registry import JobType
    from ..store.documents import Documents
    from .runtime import Runtime

log = logging.getLogger(__name__)

MAX_READS = 2  # a check is one document read (the case); a second is allowed, more is a slow check


class TooManyReads(RuntimeError):
    """A precheck read more documents than a webhook answer may wait for."""


class _Reads:
    """The job store as a precheck sees it: ``get`` only, counted; and the runtime's clock
    (``now``, for what depends on the day: an invoice's payment due date)."""

    __slots__ = ("_docs", "count", "now")

    def __init__(self, docs: Documents, now: float):
        self._docs = docs
        self.count = 0
        self.now = now

    def get(self, collection: str, doc_id: str) -> dict | None:
        if self.count >= MAX_READS:
            raise TooManyReads(f"a precheck reads at most {MAX_READS} documents")
        self.count += 1
        return self._docs.get(collection, doc_id)


MAX_NOTES = 4  # lines a precheck adds to a card; more are dropped (a card is read on a phone)
CHANGED = N_("what its card said is no longer so (now: {now}); nothing was run, send the command again")


@dataclass(frozen=True)
class Checked:
    """What the precheck found: a refusal, or the notes for the card. ``answered``: the check ran to
    its end (a store that did not answer, or a check that failed, gives neither: the card is shown
    as it is, and the job checks for itself)."""

    refused: UsageError | None = None
    notes: tuple = ()  # Msgs (or plain texts), said in the reader's language
    answered: bool = False

    def kept(self) -> tuple[str, ...]:
        """The notes as the request keeps them, to be compared at Run (English: one spelling)."""
        return tuple(str(said(note, ENGLISH)) for note in self.notes)


def check(runtime: Runtime, job_type: JobType, values: dict) -> Checked:
    """Ask ``job_type``'s precheck about ``values`` with what the store holds now."""
    if job_type.precheck is None:
        return Checked(answered=True)
    extra = {"job_type": job_type.name}
    try:
        notes = job_type.precheck(values, _Reads(runtime.store.docs, runtime.clock()))
    except UsageError as exc:
        log.info("refused %s before its card: %s", job_type.name, exc, extra=extra)
        return Checked(refused=exc, answered=True)
    except Unavailable as exc:
        log.warning("the %s precheck could not read the store (%s); the card is shown", job_type.name, exc,
                    extra=extra)
        return Checked()
    except Exception:
        log.exception("the %s precheck failed; the card is shown", job_type.name, extra=extra)
        return Checked()
    return Checked(notes=tuple(notes or ())[:MAX_NOTES], answered=True)


def at_run(runtime: Runtime, job_type: JobType, values: dict, shown: tuple[str, ...] | None) -> UsageError | None:
    """Asked again at Run: the refusal of what the store holds now, or, when the card's notes
    (``shown``; None: a request that kept none) are no longer what the check says, a refusal that
    says what they are now. A check that did not answer refuses nothing: the steps keep their own
    checks."""
    checked = check(runtime, job_type, values)
    if checked.refused is not None:
        return checked.refused
    if shown is not None and checked.answered and checked.kept() != tuple(shown):
        log.info("refused Run of %s: its card's notes changed", job_type.name, extra={"job_type": job_type.name})
        return UsageError(CHANGED, now=Joined(checked.notes or ("—",), " "))  # each note ends its sentence
    return None


def refused_text(job_type: JobType, refused: UsageError, speaker: Speaker) -> str:
    """The reply in place of the card: which command was not started, why, and (in the reason) what
    to do instead, in the person's language."""
    return speaker._("“{name}” was not started: {reason}.", name=views.type_name(job_type, job_type.name, speaker),
                     reason=views.short(refused.render(speaker).rstrip("。."), views.MAX_PROBLEM))


def refused_reply(job_type: JobType, refused: UsageError, speaker: Speaker) -> Reply:
    return Reply(text=refused_text(job_type, refused, speaker))
