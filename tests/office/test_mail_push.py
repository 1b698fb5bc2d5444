"""The worker's /mail path (Gmail's notifications through a Pub/Sub push): what is not a
notification is refused with a 400 in our words, never Python's (docs/architecture.md, "Hostile
input"): an error body says what was wrong with the request, the exception stays in the log."""

from __future__ import annotations

import base64
import json

import pytest

from ackflow.app.http import HttpRequest
from tests.support.fuzz.runner import EXCEPTION_TEXT
from workers.office.mail.push import handle_push


def envelope(data: bytes) -> bytes:
    return json.dumps({"message": {"data": base64.b64encode(data).decode()}}).encode()


@pytest.mark.parametrize("body", [
    b"not json", b"{}", b'{"message": {}}', b'{"message": {"data": "!!!"}}', b'{"message": []}',
    b"[" * 5000, envelope(b"not json"), envelope(b'{"emailAddress": "x@example.com"}'),
    envelope(b'{"emailAddress": ["x"], "historyId": "1"}'),
], ids=lambda b: repr(b[:24]))
def test_what_is_not_a_notification_is_a_400_without_exception_text(body):
    answer = handle_push(None, HttpRequest.build("POST", "/mail", {}, body))
    assert answer.status == 400
    message = answer.body["error"]["message"]
    assert "not a Pub/Sub push of a Gmail notification" in message or "no mailbox" in message, message
    assert not EXCEPTION_TEXT.search(json.dumps(answer.body)), answer.body
