"""Both event formats parse into the same ChatEvent; replies come out in the format that came in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ackflow.chat.cards import Button, Buttons, Card, Section, Text
from ackflow.chat.events import EventFormat, EventKind, MalformedEvent, parse_event
from ackflow.chat.replies import Reply, response_json

DATA = Path(__file__).parent.parent / "data" / "events"


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


@pytest.mark.parametrize("name, kind, text", [
    ("classic/message.json", EventKind.MESSAGE, "echo こんにちは"),
    ("classic/message_mention.json", EventKind.MESSAGE, 'newcase ACME "金型 A-12"'),
    ("addon/message.json", EventKind.MESSAGE, "echo hello"),
])
def test_messages_give_the_text_without_the_mention(name, kind, text):
    event = parse_event(load(name))
    assert event.kind == kind and event.text == text
    assert event.user.email == "hanako.yamada@design-office.example"
    assert event.thread and event.thread.startswith(event.space + "/threads/")


def test_direct_message_space_is_recognised():
    assert parse_event(load("classic/message.json")).is_dm


@pytest.mark.parametrize("name, fmt", [("classic/slash_command.json", EventFormat.CLASSIC),
                                       ("addon/app_command.json", EventFormat.ADDON)])
def test_slash_commands_give_name_or_id_and_arguments(name, fmt):
    event = parse_event(load(name))
    assert event.format == fmt
    assert event.command_id == 1 and event.text == "hello"
    assert event.command_name == "echo"


def test_classic_app_command_carries_its_id():
    event = parse_event(load("classic/app_command.json"))
    assert event.kind == EventKind.COMMAND and event.command_id == 3 and event.command_type == "SLASH_COMMAND"


@pytest.mark.parametrize("name", ["classic/card_clicked.json", "addon/button_clicked.json"])
def test_clicks_give_the_action_and_parameters(name):
    event = parse_event(load(name))
    assert event.kind == EventKind.CLICK and event.action == "run"
    assert event.parameters["confirmation"] == "c-3f2a" and event.parameters["token"] == "t0k3n"
    assert event.message_name.endswith("Zz9Yy8Xx7Ww.Zz9Yy8Xx7Ww")


@pytest.mark.parametrize("name, kind", [
    ("classic/added_to_space.json", EventKind.ADDED), ("addon/added_to_space.json", EventKind.ADDED),
    ("classic/removed_from_space.json", EventKind.REMOVED), ("addon/removed_from_space.json", EventKind.REMOVED),
    ("addon/widget_updated.json", EventKind.OTHER),
])
def test_space_membership_and_other_events(name, kind):
    assert parse_event(load(name)).kind == kind


@pytest.mark.parametrize("body", [
    None, [], "text", {}, {"type": "MESSAGE"}, {"type": "MESSAGE", "space": "spaces/x"},
    {"commonEventObject": {}, "chat": {"space": {"name": "spaces/s"}}},
    {"commonEventObject": {}, "chat": {"space": {"name": "spaces/s"}, "messagePayload": {},
                                       "buttonClickedPayload": {}}},
])
def test_malformed_events_are_refused(body):
    with pytest.raises(MalformedEvent):
        parse_event(body)


def test_unknown_classic_type_is_other():
    assert parse_event({"type": "NEW_THING", "space": {"name": "spaces/s"}}).kind == EventKind.OTHER


CARD = Card("c", "Title", (Section((Text("hi"), Buttons((Button("Run", "run", {"k": "v"}),)))),))


def test_classic_replies_new_and_update():
    new = response_json(Reply(text="x", card=CARD), EventFormat.CLASSIC, "https://app/")
    button = new["cardsV2"][0]["card"]["sections"][0]["widgets"][1]["buttonList"]["buttons"][0]
    assert button["onClick"]["action"] == {"function": "run", "parameters": [{"key": "k", "value": "v"}]}
    assert "actionResponse" not in new
    update = response_json(Reply(card=CARD, update=True), EventFormat.CLASSIC, "https://app/")
    assert update["actionResponse"] == {"type": "UPDATE_MESSAGE"}


def test_addon_replies_wrap_the_message_and_route_buttons_by_parameter():
    new = response_json(Reply(card=CARD), EventFormat.ADDON, "https://app/")
    message = new["hostAppDataAction"]["chatDataAction"]["createMessageAction"]["message"]
    action = message["cardsV2"][0]["card"]["sections"][0]["widgets"][1]["buttonList"]["buttons"][0]["onClick"]["action"]
    assert action["function"] == "https://app/"
    assert {"key": "actionName", "value": "run"} in action["parameters"]
    update = response_json(Reply(text="y", update=True), EventFormat.ADDON, "https://app/")
    assert update == {"hostAppDataAction": {"chatDataAction": {"updateMessageAction": {"message": {"text": "y"}}}}}


def test_nothing_to_say_is_an_empty_object():
    assert response_json(None, EventFormat.CLASSIC, "https://app/") == {}


def test_rendered_cards_are_valid_chat_messages():
    from google.apps import chat_v1
    from google.protobuf import json_format

    for fmt in EventFormat:
        body = response_json(Reply(text="t", card=CARD), fmt, "https://app/")
        message = body if fmt == EventFormat.CLASSIC else \
            body["hostAppDataAction"]["chatDataAction"]["createMessageAction"]["message"]
        json_format.ParseDict(message, chat_v1.Message.pb()())  # raises on any unknown field
