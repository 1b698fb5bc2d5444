"""The example events under tests/data/events follow Google's documented fields, and the local Chat
service builds events of the same shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ackflow_tools.emulators.chat.events import PAYLOAD_KEYS, build_event

DATA = Path(__file__).parent.parent / "data" / "events"
CLASSIC = sorted((DATA / "classic").glob("*.json"))
ADDON = sorted((DATA / "addon").glob("*.json"))
CLASSIC_TYPES = {"MESSAGE", "ADDED_TO_SPACE", "REMOVED_FROM_SPACE", "CARD_CLICKED", "APP_COMMAND"}


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_every_event_type_has_an_example_in_both_formats():
    classic_types = {load(p)["type"] for p in CLASSIC}
    assert classic_types == CLASSIC_TYPES
    addon_payloads = {next(k for k in load(p)["chat"] if k.endswith("Payload")) for p in ADDON}
    assert addon_payloads >= {"messagePayload", "buttonClickedPayload", "addedToSpacePayload",
                              "removedFromSpacePayload", "appCommandPayload"}


@pytest.mark.parametrize("path", CLASSIC, ids=lambda p: p.name)
def test_classic_examples_have_the_documented_fields(path):
    event = load(path)
    assert event["type"] in CLASSIC_TYPES
    assert event["space"]["name"].startswith("spaces/")
    assert event["user"]["name"].startswith("users/")
    assert event["eventTime"].endswith("Z")
    if event["type"] in ("MESSAGE", "APP_COMMAND"):
        message = event["message"]
        assert isinstance(message["text"], str) and isinstance(message["argumentText"], str)
        assert message["thread"]["name"].startswith(event["space"]["name"] + "/threads/")
        if message["text"].startswith("/"):
            assert message["slashCommand"]["commandId"]
    if event["type"] == "CARD_CLICKED":
        assert event["common"]["invokedFunction"] == event["action"]["actionMethodName"]
        assert event["common"]["parameters"] == {p["key"]: p["value"] for p in event["action"]["parameters"]}
    if event["type"] == "APP_COMMAND":
        assert event["appCommandMetadata"]["appCommandType"] in ("SLASH_COMMAND", "QUICK_COMMAND")


@pytest.mark.parametrize("path", ADDON, ids=lambda p: p.name)
def test_addon_examples_have_exactly_one_payload(path):
    event = load(path)
    assert "type" not in event
    assert event["commonEventObject"]["hostApp"] == "CHAT"
    payloads = [k for k in event["chat"] if k.endswith("Payload")]
    assert len(payloads) == 1 and payloads[0] in PAYLOAD_KEYS.values()
    if payloads[0] == "buttonClickedPayload":
        assert event["commonEventObject"]["parameters"]["actionName"]


def _shape(value, depth=2):
    if isinstance(value, dict) and depth:
        return {k: _shape(v, depth - 1) for k, v in value.items()}
    return type(value).__name__


USER = {"name": "users/1", "displayName": "A", "email": "a@example.com", "type": "HUMAN"}
SPACE = {"name": "spaces/S", "type": "ROOM", "spaceType": "SPACE", "displayName": "S"}
MESSAGE = {"name": "spaces/S/messages/M.M", "text": "x", "argumentText": "x", "thread": {"name": "spaces/S/threads/T"},
           "sender": USER, "space": {"name": "spaces/S"}}


@pytest.mark.parametrize("example, kind, extra", [
    ("classic/message.json", "MESSAGE", {}),
    ("classic/card_clicked.json", "CARD_CLICKED", {"function": "run", "parameters": {"a": "b"}}),
    ("classic/added_to_space.json", "ADDED_TO_SPACE", {}),
    ("classic/removed_from_space.json", "REMOVED_FROM_SPACE", {}),
    ("addon/message.json", "MESSAGE", {}),
    ("addon/button_clicked.json", "CARD_CLICKED", {"function": "https://x/", "parameters": {"a": "b"}}),
    ("addon/added_to_space.json", "ADDED_TO_SPACE", {}),
    ("addon/removed_from_space.json", "REMOVED_FROM_SPACE", {}),
])
def test_emulator_events_have_the_shape_of_the_examples(example, kind, extra):
    fmt = example.split("/")[0]
    expected = load(DATA / example)
    message = MESSAGE if kind in ("MESSAGE", "CARD_CLICKED") else None
    built = build_event(kind, fmt, user=USER, space=SPACE, message=message, **extra)
    if fmt == "addon":
        built["authorizationEventObject"] = {"systemIdToken": "t"}
    assert set(built) == set(expected)
    if fmt == "classic":
        assert set(built.get("common", {})) <= set(expected.get("common", {})) | {"hostApp"}
    else:
        assert set(built["chat"]) == set(expected["chat"])
        payload = next(k for k in expected["chat"] if k.endswith("Payload"))
        assert set(built["chat"][payload]) == set(expected["chat"][payload])


@pytest.mark.parametrize("path", CLASSIC + ADDON, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_example_messages_users_and_spaces_are_valid_chat_api_resources(path):
    from google.apps import chat_v1
    from google.protobuf import json_format

    event = load(path)
    chat = event.get("chat", {})
    payload = next((v for k, v in chat.items() if k.endswith("Payload")), {})
    message = event.get("message") or payload.get("message")
    if message:
        json_format.ParseDict(message, chat_v1.Message.pb()())
    json_format.ParseDict(event.get("user") or chat.get("user"), chat_v1.User.pb()())
    json_format.ParseDict(event.get("space") or chat.get("space"), chat_v1.Space.pb()())
