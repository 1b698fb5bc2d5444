"""A job type's ``precheck``: what the store holds now may refuse a command at once, in place of its
card, instead of as a failed job after Run (a case already delivered is not started again).

Asked where the card would be shown (a typed command, a form's submit) and again when Run is
pressed, before the job is recorded. The check reads through ``Reads``: one document at a time, at
most ``MAX_READS`` of them, never a query or a write. It is a courtesy: the store not answering, or
the check failing, shows the card as before (logged), and the job's own steps refuse what the state
forbids when they run (it may have changed between the card and the run).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..chat.replies import Reply
from ..errors import Unavailable, UsageError
from ..i18n import Speaker
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
    """The job store as a precheck sees it: ``get`` only, counted."""

    __slots__ = ("_docs", "count")

    def __init__(self, docs: Documents):
        self._docs = docs
        self.count = 0

    def get(self, collection: str, doc_id: str) -> dict | None:
        if self.count >= MAX_READS:
            raise TooManyReads(f"a precheck reads at most {MAX_READS} documents")
        self.count += 1
        return self._docs.get(collection, doc_id)


def refusal(runtime: Runtime, job_type: JobType, values: dict) -> UsageError | None:
    """Why the store's state refuses this command now, or None (no check, nothing against it, or the
    store did not answer: then the card is shown and the job checks for itself)."""
    if job_type.precheck is None:
        return None
    extra = {"job_type": job_type.name}
    try:
        job_type.precheck(values, _Reads(runtime.store.docs))
    except UsageError as exc:
        log.info("refused %s before its card: %s", job_type.name, exc, extra=extra)
        return exc
    except Unavailable as exc:
        log.warning("the %s precheck could not read the store (%s); the card is shown", job_type.name, exc,
                    extra=extra)
    except Exception:
        log.exception("the %s precheck failed; the card is shown", job_type.name, extra=extra)
    return None


def refused_text(job_type: JobType, refused: UsageError, speaker: Speaker) -> str:
    """The reply in place of the card: which command was not started, why, and (in the reason) what
    to do instead, in the person's language."""
    return speaker._("“{name}” was not started: {reason}.", name=views.type_name(job_type, job_type.name, speaker),
                     reason=views.short(refused.render(speaker).rstrip("。."), views.MAX_PROBLEM))


def refused_reply(job_type: JobType, refused: UsageError, speaker: Speaker) -> Reply:
    return Reply(text=refused_text(job_type, refused, speaker))
