"""Cards for phones: an event from Chat on iOS or Android (``common.platform``) gets the short form
of a card (no subtitle, no section only a wide screen needs); the web gets everything."""

from __future__ import annotations

import json

import pytest

from ackflow.app.runtime import Runtime
from ackflow.app.webhook import Webhook
from ackflow.chat.events import parse_event
from ackflow.chat.replies import for_platform, response_json
from ackflow.settings import Settings
from tests.core.test_dialogs import load
from workers.job_types import build_registry


@pytest.fixture
def webhook(tmp_path):
    settings = Settings(sqlite_path=str(tmp_path / "a.db"))
    return Webhook(Runtime(settings, registry=build_registry(settings)))


def answer(webhook, text: str, platform: str) -> str:
    """The answer to ``text`` as Webhook.handle writes it (shortened for the event's platform)."""
    event = load("classic/message.json")
    event["message"]["text"] = event["message"]["argumentText"] = text
    event["common"]["platform"] = platform
    event["common"]["userLocale"] = "en"
    parsed = parse_event(event)
    reply = for_platform(webhook.answer(parsed), parsed.platform)
    return json.dumps(response_json(reply, parsed.format, "https://a/"), ensure_ascii=False)


@pytest.mark.parametrize("platform", ["IOS", "ANDROID"])
def test_a_phone_gets_the_short_form_of_a_card(webhook, platform):
    wide, narrow = answer(webhook, "help", "WEB"), answer(webhook, "help", platform)
    assert "Write a command as a message" in wide and "Write a command as a message" not in narrow
    assert "sleep SECONDS" in narrow  # what the card is for stays
    wide, narrow = answer(webhook, "echo hello", "WEB"), answer(webhook, "echo hello", platform)
    assert "Say TEXT back" in wide and "Say TEXT back" not in narrow  # the subtitle
    assert '"Run"' in narrow and "hello" in narrow
