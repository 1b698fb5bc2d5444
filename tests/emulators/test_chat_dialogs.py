"""Dialogs and each person's client in the local Chat service, against a recording app: a slash
command set to open a dialog and an OPEN_DIALOG button ask for one (REQUEST_DIALOG), a dialog's
buttons submit its formInputs (SUBMIT_DIALOG), its close icon cancels (CANCEL_DIALOG), in both
event formats; answers open, redraw, keep open or close it; userLocale, timeZone and platform go
with every event, per person and per action."""

from __future__ import annotations

import json

import pytest
import requests

from tests.support.recorder import Recorder
from tests.support.services import start_chat_emulator

DIALOG = {"header": {"title": "Form"}, "sections": [{"widgets": [
    {"textInput": {"name": "title", "label": "Title"}},
    {"columns": {"columnItems": [{"widgets": [{"buttonList": {"buttons": [{"text": "Add", "onClick": {
        "action": {"function": "form", "parameters": [{"key": "step", "value": "add"}]}}}]}}]}]}}]}],
          "fixedFooter": {"primaryButton": {"text": "Next", "onClick": {"action": {
              "function": "form", "parameters": [{"key": "step", "value": "submit"}]}}}}}
CLASSIC = {
    "open": {"actionResponse": {"type": "DIALOG", "dialogAction": {"dialog": {"body": DIALOG}}}},
    "error": {"actionResponse": {"type": "DIALOG", "dialogAction": {"actionStatus": {
        "statusCode": "INVALID_ARGUMENT", "userFacingMessage": "try again"}}}},
    "close": {"actionResponse": {"type": "DIALOG", "dialogAction": {"actionStatus": {"statusCode": "OK"}}}},
    "message": {"actionResponse": {"type": "NEW_MESSAGE"}, "text": "confirm?"},
}
ADDON = {
    "open": {"action": {"navigations": [{"pushCard": DIALOG}]}},
    "error": {"action": {"notification": {"text": "try again"}}},
    "close": {"action": {"navigations": [{"endNavigation": {"action": "CLOSE_DIALOG"}}]}},
    "message": {"hostAppDataAction": {"chatDataAction": {"createMessageAction": {"message": {"text": "confirm?"}}}}},
}
USER = {"name": "users/77", "displayName": "Hanako", "email": "hanako@example.com"}


@pytest.fixture(scope="module")
def app():
    recorder = Recorder()
    yield recorder
    recorder.stop()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory, app):
    proc = start_chat_emulator(tmp_path_factory.mktemp("chat-dialogs"), "--app-url", app.url + "/chat",
                               "--slash-command", "/form=9", "--slash-command", "/echo=1", "--dialog-command", "/form",
                               "--locale", "ja", "--time-zone", "Asia/Tokyo")
    yield proc
    proc.stop()


def answering(app, *bodies):
    queue = list(bodies)
    app.behaviour = lambda n, r: (200, json.dumps(queue.pop(0) if queue else {}))


def post(emulator, path: str, **body) -> dict:
    response = requests.post(f"{emulator.url}/_emulator/{path}", json={"user": USER, **body}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def last_event(app) -> dict:
    return json.loads(app.received[-1].body)


def dialog_fields(event: dict, fmt: str) -> tuple:
    holder = event if fmt == "classic" else next(v for k, v in event["chat"].items() if k.endswith("Payload"))
    return holder.get("isDialogEvent"), holder.get("dialogEventType")


@pytest.mark.parametrize("fmt", ["classic", "addon"])
def test_a_slash_command_set_to_open_a_dialog_opens_it_and_posts_nothing(emulator, app, fmt):
    answers = CLASSIC if fmt == "classic" else ADDON
    answering(app, answers["open"], answers["error"], answers["open"], answers["message"])
    space = f"spaces/dlg{fmt}"
    opened = post(emulator, f"{space}:send", text="/form ACME", format=fmt)
    event = last_event(app)
    assert dialog_fields(event, fmt) == (True, "REQUEST_DIALOG")
    if fmt == "classic":
        assert event["type"] == "MESSAGE" and event["message"]["argumentText"] == " ACME"
        assert event["message"]["annotations"][0]["slashCommand"]["triggersDialog"] is True
    else:
        assert event["chat"]["appCommandPayload"]["appCommandMetadata"]["appCommandId"] == 9
    assert opened["reply"] == {"action": "dialog", "dialog": DIALOG}
    feed = requests.get(f"{emulator.url}/_emulator/{space}/changes").json()["changes"]
    assert not [c for c in feed if c.get("message")]  # the slash command was not posted
    shown = requests.get(f"{emulator.url}/_emulator/{space}/dialog", params={"user": USER["name"]}).json()
    assert shown["dialog"] == DIALOG

    kept = post(emulator, f"{space}:submitDialog", button="Next",
                formInputs={"title": {"stringInputs": {"value": ["金型"]}}}, format=fmt)
    event = last_event(app)
    assert dialog_fields(event, fmt) == (True, "SUBMIT_DIALOG")
    common = event["common"] if fmt == "classic" else event["commonEventObject"]
    assert common["formInputs"] == {"title": {"stringInputs": {"value": ["金型"]}}}
    assert common["parameters"]["step"] == "submit"
    assert kept["reply"] == {"action": "dialog-error", "notice": "try again", **(
        {"status": "INVALID_ARGUMENT"} if fmt == "classic" else {})}

    redrawn = post(emulator, f"{space}:submitDialog", button="Add", formInputs={}, format=fmt)  # in a column
    assert redrawn["reply"]["action"] == "dialog"
    closed = post(emulator, f"{space}:submitDialog", button="Next", formInputs={}, format=fmt)
    assert closed["reply"]["action"] == "created" and closed["reply"]["dialogClosed"]
    assert closed["reply"]["message"]["text"] == "confirm?"
    assert requests.get(f"{emulator.url}/_emulator/{space}/dialog", params={"user": USER["name"]}).status_code == 404


@pytest.mark.parametrize("fmt", ["classic", "addon"])
def test_an_open_dialog_button_asks_for_a_dialog_and_the_close_icon_cancels_it(emulator, app, fmt):
    answers = CLASSIC if fmt == "classic" else ADDON
    button = {"text": "Fill in", "onClick": {"action": {"function": "form", "interaction": "OPEN_DIALOG",
                                                        "parameters": [{"key": "form", "value": "x"}]}}}
    card = {"text": "usage", "cardsV2": [{"cardId": "u", "card": {"sections": [{"widgets": [
        {"buttonList": {"buttons": [button]}}]}]}}]}
    posted = {"hostAppDataAction": {"chatDataAction": {"createMessageAction": {"message": card}}}} \
        if fmt == "addon" else card
    answering(app, posted, answers["open"], answers["close"])
    space = f"spaces/btn{fmt}"
    message = post(emulator, f"{space}:send", text="form", format=fmt)["reply"]["message"]
    opened = post(emulator, f"{space}:click", message=message["name"], button="Fill in", format=fmt)
    assert dialog_fields(last_event(app), fmt) == (True, "REQUEST_DIALOG")
    assert opened["reply"]["action"] == "dialog"
    cancelled = post(emulator, f"{space}:cancelDialog", format=fmt)
    assert dialog_fields(last_event(app), fmt) == (True, "CANCEL_DIALOG")
    assert cancelled["reply"]["action"] == "dialog-closed"
    missing = requests.post(f"{emulator.url}/_emulator/{space}:cancelDialog", json={"user": USER})
    assert missing.status_code == 400  # nothing open any more


def test_a_dialog_answered_to_an_event_that_does_not_ask_for_one_is_refused(emulator, app):
    answering(app, CLASSIC["open"])
    result = post(emulator, "spaces/nodialog:send", text="/echo hi")
    assert "only be opened in answer to a dialog request" in result["error"]
    answering(app, {"text": "just a message"})
    result = post(emulator, "spaces/nodialog:send", text="/form hi")
    assert "must be answered with a dialog" in result["error"]
    answering(app, {"actionResponse": {"type": "DIALOG", "dialogAction": {"dialog": {"body": {"bogus": 1}}}}})
    result = post(emulator, "spaces/nodialog:send", text="/form hi")
    assert "Invalid dialog card" in result["error"]


def test_each_persons_locale_time_zone_and_platform_go_with_their_events(emulator, app):
    answering(app, {}, {}, {}, {})
    post(emulator, "spaces/client:send", text="hi")
    common = last_event(app)["common"]
    assert (common["userLocale"], common["timeZone"]["id"], common["platform"]) == ("ja", "Asia/Tokyo", "WEB")
    assert common["timeZone"]["offset"] == 9 * 3600 * 1000
    requests.put(f"{emulator.url}/_emulator/users/77", json={"locale": "en-US", "timeZone": "America/New_York",
                                                              "platform": "IOS"}).raise_for_status()
    post(emulator, "spaces/client:send", text="hi", format="addon")
    common = last_event(app)["commonEventObject"]
    assert (common["userLocale"], common["timeZone"]["id"], common["platform"]) == ("en-US", "America/New_York", "IOS")
    assert common["timeZone"]["offset"] in (-5 * 3600 * 1000, -4 * 3600 * 1000)
    post(emulator, "spaces/client:send", text="hi", platform="ANDROID")  # for one action
    assert last_event(app)["common"]["platform"] == "ANDROID"
    post(emulator, "spaces/client:send", text="hi", user={**USER, "name": "users/78"})  # another person
    assert last_event(app)["common"]["userLocale"] == "ja"
    bad = requests.post(f"{emulator.url}/_emulator/spaces/client:send",
                        json={"user": USER, "text": "hi", "timeZone": "Mars/Olympus"})
    assert bad.status_code == 400 and "IANA" in bad.text
