"""The worker's ``/mail`` path: Gmail's notifications, pushed by a Pub/Sub push subscription.

The token was verified by the worker before this runs (the subscription's OIDC token: Google's
signer, the worker's URL as audience, the invoker service account). The envelope is Pub/Sub's:
``{"message": {"data": base64(JSON), "messageId": …}, "subscription": …}`` with Gmail's
``{"emailAddress", "historyId"}`` inside. Answers: 200 when the mails are handled (or the
notification is not for this mailbox), 503 to have Pub/Sub deliver again (a mail held by another
delivery, Gmail or Chat unavailable), 400 for an envelope that is not one (after the
subscription's attempts it lands in the dead-letter topic, where a person can look).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from typing import TYPE_CHECKING

from ackflow.app.http import HttpRequest, HttpResponse, error
from ackflow.errors import ChatUnavailable, PermanentError, StepFailed, StoreUnavailable

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime

log = logging.getLogger(__name__)
MAX_ENVELOPE = 64 * 1024
MESSAGE_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


def read_notification(body: bytes) -> tuple[str, str, str]:
    """(emailAddress, historyId, messageId) from a push, or ValueError saying what is wrong."""
    if len(body) > MAX_ENVELOPE:
        raise ValueError("larger than any Pub/Sub push of a Gmail notification")
    try:
        envelope = json.loads(body)
        message = envelope["message"]
        data = json.loads(base64.b64decode(message["data"], validate=True))
        address, history = data["emailAddress"], data["historyId"]
    except (ValueError, KeyError, TypeError, binascii.Error, RecursionError) as exc:
        # what Python said goes to the log (the cause), never into the answer
        raise ValueError("not a Pub/Sub push of a Gmail notification") from exc
    if not isinstance(address, str) or not str(history).isdigit():
        raise ValueError("the notification has no mailbox address or history id")
    # The message id names this delivery's claims in the store (``push-<id>``). Pub/Sub's are
    # digits; anything else is no id of Pub/Sub's (an unpaired surrogate, which no store can
    # encode, made a 500 here): the delivery is then named by the history id.
    message_id = message.get("messageId") or message.get("message_id")
    if not isinstance(message_id, str) or not MESSAGE_ID.fullmatch(message_id):
        message_id = ""
    return address, str(history), message_id


def handle_push(runtime: Runtime, request: HttpRequest) -> HttpResponse:
    from .flow import MailFlow

    try:
        address, history, message_id = read_notification(request.body)
    except ValueError as exc:
        log.error("mail push refused: %s (%r)", exc, exc.__cause__)
        return error(400, str(exc))  # our own words (read_notification), never an exception's
    settings = runtime.services.office_settings
    if not settings.mailbox or address.lower() != settings.mailbox.lower():
        log.warning("a notification for %s, which is not the request mailbox; acknowledged", address[:200])
        return HttpResponse(200, {"status": "ignored", "reason": "not the request mailbox"})
    try:
        report = MailFlow(runtime.services, runtime.clock).sync(f"push-{message_id or history[:40]}")
    except PermanentError as exc:  # a setting or the delegation is wrong: retrying cannot help
        log.error("mail not read: %s", exc)
        return HttpResponse(200, {"status": "failed"})  # the reason is in the log, never in a body
    except (StepFailed, ChatUnavailable, StoreUnavailable) as exc:
        log.warning("mail notification %s: %s; Pub/Sub will deliver it again", history, exc)
        return HttpResponse(503, {"status": "retry"})
    if report.busy:
        return HttpResponse(503, {"status": "retry", "reason": "a mail is held by another delivery"})
    return HttpResponse(200, {"status": "ok", **report.to_dict()})
