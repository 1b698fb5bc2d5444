"""Ask before acting: a job command answers with a card; Run makes exactly one job and queues it.

The pending confirmation is stored with a single-use token and an expiry. Run, however often it
is clicked or delivered, turns it into one job (a transaction in the store); Cancel or expiry
turns it into none. Either way the card is updated in place to say what happened.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..chat.events import ChatEvent
from ..chat.replies import Reply
from ..errors import ConfirmationNotFound, Conflict, QueueUnavailable, UnknownJobType, UsageError
from ..i18n import Speaker
from ..ids import new_confirmation_id, new_job_id, new_token
from ..jobs.model import Confirmation, ConfirmationStatus, Job, Requester, StepState
from ..jobs.registry import JobType
from ..store.jobstore import ConfirmOutcome
from . import precheck, views
from .dispatch import send_step
from .speech import speaker_of

if TYPE_CHECKING:
    from .runtime import Runtime


log = logging.getLogger(__name__)


def requester_of(event: ChatEvent, speaker: Speaker) -> Requester:
    """Who asks, and how they are spoken to (the job they start speaks the same way later)."""
    return Requester(event.user.name, event.user.email, event.user.display_name, speaker.language, speaker.time_zone)


def ask(runtime: Runtime, event: ChatEvent, job_type: JobType, params: dict,
        checked: precheck.Checked | None = None) -> Reply:
    """The "run this?" card, its request kept; ``checked``: the precheck already asked of these
    values (its notes are shown and kept), else it is asked here."""
    now = runtime.clock()
    speaker = speaker_of(runtime, event)
    if checked is None:
        checked = precheck.check(runtime, job_type, params)
    if checked.refused is not None:
        return precheck.refused_reply(job_type, checked.refused, speaker)
    ttl = runtime.settings.confirm_ttl
    confirmation = Confirmation(
        id=new_confirmation_id(), token=new_token(), job_type=job_type.name, params=params,
        requester=requester_of(event, speaker), space=event.space, thread=event.thread, created_at=now,
        expires_at=now + ttl, event_format=event.format.value, notes=checked.kept() if checked.answered else None,
    )
    runtime.store.create_confirmation(confirmation)
    log.info("asked to confirm %s", job_type.name, extra={"job_type": job_type.name, "space": event.space})
    return views.confirmation_card(confirmation, job_type, ttl, speaker, checked.notes,
                                   from_form=event.dialog == "SUBMIT_DIALOG")


def new_job(runtime: Runtime, confirmation: Confirmation, job_type: JobType, now: float,
            thread: str | None = None) -> Job:
    """The job a confirmation becomes; ``thread`` is where its card is, for a confirmation asked
    without one (from a dialog, which is in no thread), so the job reports beside its card."""
    return Job(
        id=new_job_id(), type=job_type.name, params=confirmation.params, requester=confirmation.requester,
        space=confirmation.space, thread=confirmation.thread or thread, queue=job_type.queue,
        steps=tuple(StepState(s.name) for s in job_type.steps), created_at=now, updated_at=now,
        event_format=confirmation.event_format, confirmation_id=confirmation.id,
        history=({"at": now, "status": "QUEUED", "note": "confirmed", "event": "confirmed"},),
    )


def _stale(speaker: Speaker) -> Reply:
    return Reply(text=speaker._("That button belongs to a request I no longer know. Send the command again."))


def _load(runtime: Runtime, event: ChatEvent, speaker: Speaker) -> tuple[Confirmation | None, Reply | None]:
    confirmation_id = event.parameters.get("confirmation", "")
    token = event.parameters.get("token", "")
    if not confirmation_id or not token:
        return None, _stale(speaker)
    try:
        confirmation = runtime.store.get_confirmation(confirmation_id)
    except ConfirmationNotFound:
        return None, _stale(speaker)
    if confirmation.token != token:
        return None, _stale(speaker)
    if not runtime.access.may_decide(event.user.email, confirmation.requester.email):
        return None, Reply(text=speaker._("Only {who} (who asked) or an admin can decide on this request.",
                                          who=confirmation.requester.label))
    return confirmation, None


def on_run(runtime: Runtime, event: ChatEvent) -> Reply:
    """Run: the confirmation becomes one job. The card is redrawn for whoever pressed (its new state
    is said in their language); the job speaks as its requester was spoken to."""
    speaker = speaker_of(runtime, event)
    confirmation, refusal = _load(runtime, event, speaker)
    if refusal:
        return refusal
    try:
        job_type = runtime.registry.get(confirmation.job_type)
    except UnknownJobType:
        return _stale(speaker)
    # asked again at Run: access narrowed while the card waited (or the card was pressed in a space
    # the command is not for) runs nothing
    refused_by = runtime.access.refused_by(job_type.name, event.user.email, event.space)
    if refused_by:
        from .commands import refusal

        log.info("refused Run of %s (%s rule)", job_type.name, refused_by,
                 extra={"user": event.user.email, "space": event.space})
        return refusal(runtime, views.type_name(job_type, job_type.name, speaker), speaker, refused_by)
    now = runtime.clock()
    if confirmation.status == ConfirmationStatus.PENDING and confirmation.expires_at > now:
        # asked again at Run (the state may have changed while the card waited): refused, the card
        # says why and the request is closed, no job recorded. Only a pending request: a Run
        # delivered again after its job ran shows that job, whatever the case has become since.
        refused = _dates_refused(job_type, confirmation.params, now) or precheck.at_run(  # after midnight, or
            runtime, job_type, confirmation.params, confirmation.notes)  # the store's state now
        if refused is not None:
            return _refused(runtime, confirmation, job_type, refused, speaker)
    try:
        outcome, job = runtime.store.confirm(confirmation.id, confirmation.token, now,
                                             lambda c: new_job(runtime, c, job_type, now, event.thread))
    except (ConfirmationNotFound, Conflict):
        return _stale(speaker)
    minutes = round(runtime.settings.confirm_ttl / 60)
    if outcome == ConfirmOutcome.EXPIRED:
        return views.decided_card(confirmation, speaker._("Request expired"), speaker._(
            "This request expired after {minutes} min; nothing was run. Send the command again.", minutes=minutes))
    if outcome == ConfirmOutcome.CANCELLED:
        return _cancelled(runtime, confirmation, speaker)
    if outcome == ConfirmOutcome.ALREADY:
        return views.queued_card(job, job_type, speaker) if job else _stale(speaker)
    extra = {"job_id": job.id, "job_type": job.type, "space": job.space}
    try:
        send_step(runtime, job, 0)
    except QueueUnavailable as exc:
        # The job is stored; the sweep will send it. Say so rather than time out or fail.
        log.error("queue unavailable; job %s left for the sweep: %s", job.id, exc, extra=extra)
        runtime.store.note_error(job.id, f"queue unavailable: {exc}", runtime.clock())
        return views.queued_card(job, job_type, speaker, queue_down=True)
    log.info("job %s queued", job.id, extra=extra)
    return views.queued_card(job, job_type, speaker)


def on_cancel(runtime: Runtime, event: ChatEvent) -> Reply:
    speaker = speaker_of(runtime, event)
    confirmation, refusal = _load(runtime, event, speaker)
    if refusal:
        return refusal
    try:
        who = event.user.display_name or event.user.email or event.user.name
        decided = runtime.store.cancel_confirmation(confirmation.id, confirmation.token, runtime.clock(), by=who)
    except (ConfirmationNotFound, Conflict):
        return _stale(speaker)
    if decided.job_id:  # Run won the race: the job exists; show it rather than pretend
        job = runtime.store.get_job(decided.job_id)
        return views.queued_card(job, runtime.registry.get(job.type), speaker)
    return _cancelled(runtime, decided, speaker)


def _dates_refused(job_type: JobType, params: dict, now: float) -> UsageError | None:
    """The job type's date rules asked again at Run: a due date of "today" on a card shown before
    midnight is in the past after it."""
    if job_type.validate_at is None:
        return None
    try:
        job_type.validate_at(params, now)
    except UsageError as exc:
        return exc
    return None


def _refused(runtime: Runtime, confirmation: Confirmation, job_type: JobType, refused, speaker: Speaker) -> Reply:
    """Run pressed on a request the store's state now refuses: the request is closed (a Run delivered
    again runs nothing) and the card says why, in the presser's language."""
    try:
        decided = runtime.store.cancel_confirmation(confirmation.id, confirmation.token, runtime.clock())
    except (ConfirmationNotFound, Conflict):
        return _stale(speaker)
    if decided.job_id:  # another Run won the race: its job exists; show it
        job = runtime.store.get_job(decided.job_id)
        return views.queued_card(job, job_type, speaker)
    return views.decided_card(confirmation, speaker._("Not run"), precheck.refused_text(job_type, refused, speaker))


def _cancelled(runtime: Runtime, confirmation: Confirmation, speaker: Speaker) -> Reply:
    """The card of a cancelled request: who cancelled it, or that a newer request replaced it (never
    the requester's name for what they did not do)."""
    if confirmation.status != ConfirmationStatus.CANCELLED:  # read before it was cancelled: as it is now
        confirmation = runtime.store.get_confirmation(confirmation.id)
    if confirmation.replaced:
        text = speaker._("A newer request took the place of this one; nothing was run from this card. "
                         "Use the newest card.")
    elif confirmation.decided_by:
        text = speaker._("Cancelled by {who}; nothing was run.", who=confirmation.decided_by)
    else:
        text = speaker._("Cancelled; nothing was run.")
    return views.decided_card(confirmation, speaker._("Cancelled"), text)
