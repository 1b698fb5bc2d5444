"""Whose language, which time zone: the Speaker for an event, a job, or the deployment.

A person is spoken to in the language their Chat client sends (``userLocale``), else the one it
sent last time (kept in the store: not every event carries it), else the deployment's
``ACKFLOW_LANGUAGE``; the time zone likewise (``timeZone.id``, else known, else
``ACKFLOW_TIME_ZONE``). A job records its requester's at confirmation, so its progress, result
and failure speak the same way later; a periodic job speaks the deployment's.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from ..errors import StoreUnavailable
from ..i18n import Speaker, language_of, speaker_for, valid_time_zone

if TYPE_CHECKING:
    from ..chat.events import ChatEvent
    from ..jobs.model import Job, Requester
    from .runtime import Runtime

log = logging.getLogger(__name__)


def with_known_client(runtime: Runtime, event: ChatEvent) -> ChatEvent:
    """``event`` with the person's language and time zone filled in from what is known of them
    where it says nothing, and what it says remembered. Best effort: a store that does not answer
    leaves the event as it is (the deployment's defaults then speak)."""
    language = language_of(event.locale) or ""
    zone = event.time_zone if valid_time_zone(event.time_zone) else ""
    if not event.user.name:
        return event
    try:
        if language and zone:  # nothing to read back: kept without making the answer wait
            runtime.people.remember_soon(event.user.name, language, zone, runtime.clock())
            return event
        if language or zone:
            known = runtime.people.remember(event.user.name, language, zone, runtime.clock())
        else:
            known = runtime.people.get(event.user.name)
    except StoreUnavailable as exc:
        log.warning("could not read or keep the person's language: %s", exc)
        return event
    return dataclasses.replace(event, locale=language or known.language, time_zone=zone or known.time_zone)


def speaker_of(runtime: Runtime, event: ChatEvent) -> Speaker:
    settings = runtime.settings
    return speaker_for(event.locale, event.time_zone, event.platform,
                       default_language=settings.language, default_time_zone=settings.time_zone)


def speaker_of_requester(runtime: Runtime, requester: Requester) -> Speaker:
    settings = runtime.settings
    return speaker_for(requester.language, requester.time_zone,
                       default_language=settings.language, default_time_zone=settings.time_zone)


def speaker_of_job(runtime: Runtime, job: Job) -> Speaker:
    """How a job speaks: as its requester was spoken to (a periodic job: the deployment's way)."""
    return speaker_of_requester(runtime, job.requester)


def deployment_speaker(runtime: Runtime) -> Speaker:
    return speaker_for(runtime.settings.language, runtime.settings.time_zone)
