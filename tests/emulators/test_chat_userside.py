"""The user side of the local Chat service: signed events to the app, answers applied to the space."""

from __future__ import annotations

import json
import socketserver
import threading
import time

import pytest
import requests
from google.auth import jwt as google_jwt

from tests.support.recorder import Recorder
from tests.support.services import start_chat_emulator

PROJECT_NUMBER = "424242424242"
CARD = {"cardId": "confirm", "card": {"header": {"title": "Run echo?"}, "sections": [{"widgets": [
    {"buttonList": {"buttons": [{"text": "Run", "onClick": {"action": {
        "function": "run", "parameters": [{"key": "confirmation", "value": "c1"}]}}}]}}]}]}}


@pytest.fixture(scope="module")
def app():
    recorder = Recorder()
    yield recorder
    recorder.stop()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory, app):
    proc = start_chat_emulator(tmp_path_factory.mktemp("chat-user"), "--app-url", app.url + "/chat",
                               "--project-number", PROJECT_NUMBER, "--slash-command", "/echo=1")
    yield proc
    proc.stop()


@pytest.fixture(autouse=True)
def fresh(app, emulator):
    app.received.clear()
    app.behaviour = lambda n, r: (200, json.dumps({"text": "ok", "cardsV2": [CARD]}))
    requests.put(f"{emulator.url}/_emulator/app", json={
        "url": app.url + "/chat", "audience": "project-number", "format": "classic", "timeout": 30})


def send(emulator, space, **body):
    response = requests.post(f"{emulator.url}/_emulator/{space}:send", json=body)
    response.raise_for_status()
    return response.json()


def last_event(app):
    received = app.received[-1]
    return json.loads(received.body), received.headers["Authorization"].split()[1]


def test_message_event_is_signed_for_the_project_number(emulator, app):
    result = send(emulator, "spaces/user1", text="echo hi")
    event, token = last_event(app)
    certs = requests.get(f"{emulator.url}/service_accounts/v1/metadata/x509/chat@system.gserviceaccount.com").json()
    claims = google_jwt.decode(token, certs=certs, audience=PROJECT_NUMBER)
    assert claims["iss"] == "chat@system.gserviceaccount.com"
    assert event["type"] == "MESSAGE"
    assert event["message"]["text"] == "echo hi" and event["message"]["argumentText"] == "echo hi"
    assert event["user"]["email"] == "dev@example.com"
    assert result["status"] == 200 and result["latencyMs"] > 0


def test_endpoint_url_audience_uses_google_id_tokens(emulator, app):
    requests.put(f"{emulator.url}/_emulator/app", json={"audience": "endpoint-url"})
    send(emulator, "spaces/user2", text="hello")
    _, token = last_event(app)
    certs = requests.get(f"{emulator.url}/oauth2/v1/certs").json()
    claims = google_jwt.decode(token, certs=certs, audience=app.url + "/chat")
    assert claims["iss"] == "https://accounts.google.com"
    assert claims["email"] == "chat@system.gserviceaccount.com"


def test_addon_events_come_from_the_addon_service_agent(emulator, app):
    app.behaviour = lambda n, r: (200, json.dumps({"hostAppDataAction": {"chatDataAction": {
        "createMessageAction": {"message": {"text": "add-on reply"}}}}}))
    result = send(emulator, "spaces/user3", text="hello", format="addon")
    event, token = last_event(app)
    assert "type" not in event
    assert event["commonEventObject"]["hostApp"] == "CHAT"
    assert event["chat"]["messagePayload"]["message"]["text"] == "hello"
    assert event["authorizationEventObject"]["systemIdToken"] == token
    certs = requests.get(f"{emulator.url}/oauth2/v1/certs").json()
    claims = google_jwt.decode(token, certs=certs, audience=app.url + "/chat")
    assert claims["email"] == f"service-{PROJECT_NUMBER}@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
    assert result["reply"]["action"] == "created"
    assert result["reply"]["message"]["text"] == "add-on reply"


def test_answer_is_posted_in_the_thread_of_the_message(emulator):
    result = send(emulator, "spaces/user4", text="hi")
    reply = result["reply"]["message"]
    assert reply["thread"]["name"] == result["event"]["message"]["thread"]["name"]
    assert reply["sender"]["type"] == "BOT"
    feed = requests.get(f"{emulator.url}/_emulator/spaces/user4/changes").json()["changes"]
    assert [c["message"]["sender"]["type"] for c in feed if c["kind"] == "created"] == ["HUMAN", "BOT"]


def test_click_sends_card_clicked_and_update_message_edits_in_place(emulator, app):
    card = send(emulator, "spaces/user5", text="echo hi")["reply"]["message"]
    app.behaviour = lambda n, r: (200, json.dumps({"actionResponse": {"type": "UPDATE_MESSAGE"},
                                                   "text": "Queued · job j1"}))
    result = requests.post(f"{emulator.url}/_emulator/spaces/user5:click",
                           json={"message": card["name"], "button": "run"}).json()
    event, _ = last_event(app)
    assert event["type"] == "CARD_CLICKED"
    assert event["action"] == {"actionMethodName": "run", "parameters": [{"key": "confirmation", "value": "c1"}]}
    assert event["common"]["invokedFunction"] == "run"
    assert event["common"]["parameters"] == {"confirmation": "c1"}
    assert result["reply"]["action"] == "updated"
    assert result["reply"]["message"]["name"] == card["name"]
    assert result["reply"]["message"]["text"] == "Queued · job j1"


def test_addon_click_carries_parameters_and_update_action(emulator, app):
    card = send(emulator, "spaces/user6", text="x")["reply"]["message"]
    app.behaviour = lambda n, r: (200, json.dumps({"hostAppDataAction": {"chatDataAction": {
        "updateMessageAction": {"message": {"text": "updated by add-on"}}}}}))
    result = requests.post(f"{emulator.url}/_emulator/spaces/user6:click",
                           json={"message": card["name"], "button": "Run", "format": "addon"}).json()
    event, _ = last_event(app)
    assert event["commonEventObject"]["parameters"] == {"confirmation": "c1"}
    assert event["chat"]["buttonClickedPayload"]["message"]["name"] == card["name"]
    assert result["reply"]["message"]["text"] == "updated by add-on"


def test_mention_and_slash_command_annotations(emulator, app):
    send(emulator, "spaces/user7", text="echo hi", mention=True)
    event, _ = last_event(app)
    assert event["message"]["text"] == "@Ackflow echo hi"
    assert event["message"]["argumentText"] == " echo hi"
    assert event["message"]["annotations"][0]["type"] == "USER_MENTION"
    send(emulator, "spaces/user7", text="/echo hello")
    event, _ = last_event(app)
    assert event["type"] == "MESSAGE"
    assert event["message"]["slashCommand"] == {"commandId": "1"}
    assert event["message"]["argumentText"] == " hello"
    send(emulator, "spaces/user7", text="/echo hello", format="addon")
    event, _ = last_event(app)
    assert event["chat"]["appCommandPayload"]["appCommandMetadata"] == {"appCommandId": 1,
                                                                      "appCommandType": "SLASH_COMMAND"}


def test_added_removed_and_app_command_events(emulator, app):
    for path, body, kind in [
        (":addApp", {}, "ADDED_TO_SPACE"),
        (":removeApp", {}, "REMOVED_FROM_SPACE"),
        (":appCommand", {"commandId": 5, "commandType": "QUICK_COMMAND"}, "APP_COMMAND"),
    ]:
        requests.post(f"{emulator.url}/_emulator/spaces/user8{path}", json=body).raise_for_status()
        event, _ = last_event(app)
        assert event["type"] == kind
    assert event["appCommandMetadata"] == {"appCommandId": 5, "appCommandType": "QUICK_COMMAND"}
    requests.post(f"{emulator.url}/_emulator/spaces/user8:addApp", json={"format": "addon"}).raise_for_status()
    event, _ = last_event(app)
    assert list(event["chat"].keys() - {"user", "space", "eventTime"}) == ["addedToSpacePayload"]


def test_an_app_that_does_not_answer_in_time_is_reported(emulator, app):
    requests.put(f"{emulator.url}/_emulator/app", json={"timeout": 0.5})
    app.behaviour = lambda n, r: time.sleep(1.5) or 200
    result = send(emulator, "spaces/user9", text="slow")
    assert "not responding" in result["error"]
    feed = requests.get(f"{emulator.url}/_emulator/spaces/user9/changes").json()["changes"]
    assert feed[-1]["kind"] == "app-error"


@pytest.mark.parametrize("answer, expected", [
    ((500, "boom"), "HTTP 500"),
    ((200, "not json"), "not JSON"),
    ((200, json.dumps({"text": "x", "bogus": 1})), "refused"),
])
def test_bad_answers_are_reported_not_posted(emulator, app, answer, expected):
    app.behaviour = lambda n, r: answer
    result = send(emulator, "spaces/user10", text="x")
    assert expected in result["error"]
    assert "reply" not in result


class _KeepAliveThatRunsOut(socketserver.BaseRequestHandler):
    """An app server that answers the first request of a connection and keeps it open, then
    closes it without an answer when the next request comes (its keep-alive ran out just then:
    gunicorn, under functions-framework, keeps an idle connection 2 s)."""

    def handle(self):
        self.server.connections += 1
        stream = self.request.makefile("rb")
        answered = False
        while stream.readline():
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode().partition(":")
                length = int(value) if name.strip().lower() == "content-length" else length
            stream.read(length)
            if answered:
                return
            body = json.dumps({"text": "ok"}).encode()
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            answered = True


def test_each_event_goes_on_a_connection_of_its_own(emulator):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _KeepAliveThatRunsOut)
    server.daemon_threads, server.connections = True, 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        requests.put(f"{emulator.url}/_emulator/app", json={"url": f"http://127.0.0.1:{server.server_address[1]}/"})
        results = [send(emulator, "spaces/user12", text=f"hello {n}") for n in range(3)]
        assert [result.get("error") for result in results] == [None, None, None]
        assert all(result["reply"] for result in results) and server.connections == 3
    finally:
        server.shutdown()
        server.server_close()


def test_change_feed_long_polls(emulator):
    space = "spaces/user11"
    requests.put(f"{emulator.url}/_emulator/{space}").raise_for_status()
    last = requests.get(f"{emulator.url}/_emulator/{space}/changes").json()["last"]
    answer = {}

    def wait():
        answer.update(requests.get(f"{emulator.url}/_emulator/{space}/changes",
                                   params={"after": last, "wait": 5}).json())

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.3)
    assert waiter.is_alive()
    send(emulator, space, text="wake up")
    waiter.join(5)
    assert answer["changes"] and answer["last"] > last
