"""Requests by mail: new mails in the office's request mailbox become "open a case?" cards in the
office space; opening runs ``newcase`` and files the mail in the case. See docs/office-workflow.md.

Registered parts (each imports its modules on first use, so the webhook's start stays light):
the ``mailbox`` service, the worker path ``/mail`` (Gmail's Pub/Sub push), the card's buttons
(``mail-open``, ``mail-ignore``), the sweep's mail pass, and ``save_mail``, the last step of
``newcase``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ackflow.jobs.registry import Registry

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime


def _mailbox(services):
    from ackflow.errors import ConfigError

    settings = services.office_settings
    if not settings.mailbox:
        raise ConfigError("ACKFLOW_OFFICE_MAILBOX is not set: no mailbox is read")
    from .gmail import GmailMailbox

    return GmailMailbox(settings.mailbox, endpoint=settings.gmail_endpoint,
                        credentials_file=settings.gmail_credentials_file,
                        service_account=settings.gmail_service_account)


def _push(runtime: Runtime, request):
    from .push import handle_push

    return handle_push(runtime, request)


def _open(runtime: Runtime, event):
    from .actions import on_open

    return on_open(runtime, event)


def _ignore(runtime: Runtime, event):
    from .actions import on_ignore

    return on_ignore(runtime, event)


def _sweep(runtime: Runtime, now: float):
    if not runtime.services.office_settings.mailbox:
        return None
    from .flow import mail_sweep

    return mail_sweep(runtime, now)


def save_mail(ctx):
    from .steps import save_mail as run

    return run(ctx)


def register(registry: Registry) -> None:
    registry.service("mailbox", _mailbox)
    registry.endpoint("mail", _push)
    registry.action("mail-open", _open)
    registry.action("mail-ignore", _ignore)
    registry.sweep_task("mail", _sweep)
