"""The app-facing side of the local Chat service, driven by the official Chat client over REST."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests
from google.api_core import exceptions as gexc
from google.apps import chat_v1
from google.oauth2.credentials import Credentials

from tests.support.services import chat_client, start_chat_emulator

ReplyOption = chat_v1.CreateMessageRequest.MessageReplyOption


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    proc = start_chat_emulator(tmp_path_factory.mktemp("chat"))
    yield proc
    proc.stop()


@pytest.fixture
def client(emulator):
    return chat_client(emulator.url)


@pytest.fixture
def space(emulator, request):
    name = f"spaces/T{abs(hash(request.node.name)) % 10**9}"
    requests.put(f"{emulator.url}/_emulator/{name}", json={"displayName": "test"}).raise_for_status()
    return name


def create(client, space, text="hello", **request_fields):
    return client.create_message(request=chat_v1.CreateMessageRequest(
        parent=space, message=chat_v1.Message(text=text, thread=request_fields.pop("thread", None)),
        **request_fields))


def test_create_and_get_by_server_and_client_ids(client, space):
    message = create(client, space, message_id="client-job-1")
    assert message.name.startswith(space + "/messages/")
    assert message.client_assigned_message_id == "client-job-1"
    assert message.sender.type_ == chat_v1.User.Type.BOT
    assert client.get_message(name=message.name).text == "hello"
    assert client.get_message(name=f"{space}/messages/client-job-1").name == message.name


def test_client_assigned_ids_are_unique_and_well_formed(client, space):
    create(client, space, message_id="client-dup")
    with pytest.raises(gexc.Conflict) as caught:
        create(client, space, message_id="client-dup")
    assert caught.value.response.json()["error"]["status"] == "ALREADY_EXISTS"
    with pytest.raises(gexc.BadRequest):
        create(client, space, message_id="job-without-prefix")
    with pytest.raises(gexc.BadRequest):
        create(client, space, message_id="client-UPPER")


def test_request_id_makes_create_idempotent(client, space):
    first = create(client, space, request_id="req-1")
    second = create(client, space, request_id="req-1")
    assert first.name == second.name


def test_replies_follow_the_reply_option(client, space):
    root = create(client, space)
    thread = chat_v1.Thread(name=root.thread.name)
    ignored = create(client, space, thread=thread)  # no reply option: a new thread, as the API does
    assert ignored.thread.name != root.thread.name
    reply = create(client, space, thread=thread, message_reply_option=ReplyOption.REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD)
    assert reply.thread.name == root.thread.name
    fallback = create(client, space, thread=chat_v1.Thread(name=f"{space}/threads/nope"),
                      message_reply_option=ReplyOption.REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD)
    assert fallback.thread.name != f"{space}/threads/nope"
    with pytest.raises(gexc.NotFound):
        create(client, space, thread=chat_v1.Thread(name=f"{space}/threads/nope"),
               message_reply_option=ReplyOption.REPLY_MESSAGE_OR_FAIL)


def test_thread_key_groups_messages(client, space):
    first = create(client, space, thread=chat_v1.Thread(thread_key="case-2026-001"),
                   message_reply_option=ReplyOption.REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD)
    second = create(client, space, thread=chat_v1.Thread(thread_key="case-2026-001"),
                    message_reply_option=ReplyOption.REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD)
    assert first.thread.name == second.thread.name


def test_patch_updates_masked_fields_only(client, space):
    card = chat_v1.CardWithId(card_id="c", card={"header": {"title": "Job"}})
    message = client.create_message(parent=space, message=chat_v1.Message(text="one", cards_v2=[card]))
    updated = client.update_message(request=chat_v1.UpdateMessageRequest(
        message=chat_v1.Message(name=message.name, text="two"), update_mask={"paths": ["text"]}))
    assert updated.text == "two"
    assert updated.cards_v2[0].card.header.title == "Job"
    assert updated.last_update_time.timestamp() > 0
    with pytest.raises(gexc.BadRequest):
        client.update_message(request=chat_v1.UpdateMessageRequest(
            message=chat_v1.Message(name=message.name, text="x"), update_mask={"paths": ["sender"]}))


def test_allow_missing_creates_a_client_named_message_in_the_given_thread(client, space):
    root = create(client, space)
    made = client.update_message(request=chat_v1.UpdateMessageRequest(
        message=chat_v1.Message(name=f"{space}/messages/client-progress-7", text="working",
                                thread=chat_v1.Thread(name=root.thread.name)),
        update_mask={"paths": ["text"]}, allow_missing=True))
    assert made.client_assigned_message_id == "client-progress-7"
    assert made.thread.name == root.thread.name
    again = client.update_message(request=chat_v1.UpdateMessageRequest(
        message=chat_v1.Message(name=f"{space}/messages/client-progress-7", text="done"),
        update_mask={"paths": ["text"]}, allow_missing=True))
    assert again.name == made.name and again.text == "done"
    with pytest.raises(gexc.NotFound):
        client.update_message(request=chat_v1.UpdateMessageRequest(
            message=chat_v1.Message(name=f"{space}/messages/client-absent", text="x"),
            update_mask={"paths": ["text"]}))


def test_list_pages_and_delete(client, space):
    names = [create(client, space, text=f"m{i}").name for i in range(5)]
    pager = client.list_messages(request=chat_v1.ListMessagesRequest(parent=space, page_size=2))
    assert [m.name for m in pager] == names
    client.delete_message(name=names[0])
    with pytest.raises(gexc.NotFound):
        client.get_message(name=names[0])


def test_cards_are_validated_like_the_api(emulator, space):
    bad = {"text": "x", "cardsV2": [{"cardId": "c", "card": {"sections": [{"widgets": [{"notAWidget": {}}]}]}}]}
    response = requests.post(f"{emulator.url}/v1/{space}/messages", json=bad)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    empty = requests.post(f"{emulator.url}/v1/{space}/messages", json={})
    assert empty.status_code == 400


def test_unknown_space_is_not_found(client):
    with pytest.raises(gexc.NotFound):
        create(client, "spaces/neverseen")


def test_injected_429_is_answered_then_clears(emulator, client, space):
    message = create(client, space)
    requests.post(f"{emulator.url}/_emulator/{space}:throttle", json={"count": 2}).raise_for_status()
    for _ in range(2):
        with pytest.raises(gexc.TooManyRequests) as caught:
            client.update_message(request=chat_v1.UpdateMessageRequest(
                message=chat_v1.Message(name=message.name, text="x"), update_mask={"paths": ["text"]}))
        assert caught.value.response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    client.update_message(request=chat_v1.UpdateMessageRequest(
        message=chat_v1.Message(name=message.name, text="x"), update_mask={"paths": ["text"]}))


def test_an_app_cannot_edit_what_a_person_wrote(emulator, client, space):
    requests.put(f"{emulator.url}/_emulator/app", json={"url": "http://127.0.0.1:9/"}).raise_for_status()
    result = requests.post(f"{emulator.url}/_emulator/{space}:send", json={"text": "mine"}).json()
    assert "error" in result  # nobody listens at the app URL; the person's message is still posted
    feed = requests.get(f"{emulator.url}/_emulator/{space}/changes").json()["changes"]
    human = next(c["message"] for c in feed if c["kind"] == "created" and c["message"]["sender"]["type"] == "HUMAN")
    with pytest.raises(gexc.Forbidden):
        client.update_message(request=chat_v1.UpdateMessageRequest(
            message=chat_v1.Message(name=human["name"], text="edited"), update_mask={"paths": ["text"]}))


def test_the_adapter_tells_a_refusal_from_an_outage(emulator, space):
    """Over REST the client raises Forbidden (not PermissionDenied) for a 403: a refusal must not
    be taken for an outage, or the worker would retry a write Chat will never accept."""
    from ackflow.chat.rest import RestChatClient
    from ackflow.errors import ChatRefused, ChatUnavailable
    from ackflow_tools.devtools.procs import free_port

    requests.put(f"{emulator.url}/_emulator/app", json={"url": "http://127.0.0.1:9/"}).raise_for_status()
    requests.post(f"{emulator.url}/_emulator/{space}:send", json={"text": "mine"})
    feed = requests.get(f"{emulator.url}/_emulator/{space}/changes").json()["changes"]
    human = next(c["message"] for c in feed if c["kind"] == "created" and c["message"]["sender"]["type"] == "HUMAN")
    adapter = RestChatClient(emulator.url, anonymous=True)
    with pytest.raises(ChatRefused, match="refused"):
        adapter.put_message(space, human["name"].rsplit("/", 1)[1], {"text": "edited"}, None)
    with pytest.raises(ChatRefused):
        adapter.put_message("spaces/nowhere", "client-x", {"text": "hi"}, None)
    adapter.put_message(space, "client-ok", {"text": "fine"}, None)
    with pytest.raises(ChatUnavailable):
        RestChatClient(f"http://127.0.0.1:{free_port()}", anonymous=True).put_message(
            space, "client-ok", {"text": "fine"}, None)


def test_a_message_over_chats_32000_bytes_is_refused_on_create_and_update(client, space):
    """Chat documents a message (text and cards) of at most 32,000 bytes."""
    fits = create(client, space, text="あ" * 10_000, message_id="client-size")  # 30,000 bytes
    with pytest.raises(gexc.BadRequest) as caught:
        create(client, space, text="あ" * 10_700)  # 32,100 bytes
    assert "32000" in caught.value.response.json()["error"]["message"]
    with pytest.raises(gexc.BadRequest):
        client.update_message(request=chat_v1.UpdateMessageRequest(
            message=chat_v1.Message(name=fits.name, text="あ" * 10_700), update_mask={"paths": ["text"]}))
    assert client.get_message(name=fits.name).text == "あ" * 10_000  # unchanged


def test_refusals_of_the_next_writes_can_be_asked_for(emulator, space):
    """The adapter's mapping: a 400 is a refusal of this message (status 400), a 401 (the app's
    credentials) is worth a retry, not a refusal; ``cardsOnly`` refuses card writes only."""
    from ackflow.chat.rest import RestChatClient
    from ackflow.errors import ChatRefused, ChatUnavailable

    adapter = RestChatClient(emulator.url, anonymous=True)
    card = {"cardsV2": [{"cardId": "c", "card": {"header": {"title": "T"}}}]}
    requests.post(f"{emulator.url}/_emulator/{space}:refuse",
                  json={"status": "INVALID_ARGUMENT", "cardsOnly": True}).raise_for_status()
    adapter.put_message(space, "client-r1", {"text": "plain passes"}, None)
    with pytest.raises(ChatRefused) as refused:
        adapter.put_message(space, "client-r1", card, None)
    assert refused.value.status == 400
    adapter.put_message(space, "client-r1", card, None)  # one refusal asked for, one given
    # A 401: google-auth asks for a new token and tries once more; refused again, the credentials
    # are wrong (a setting, a revoked key): worth a retry once fixed, not a refusal of the message.
    renewed = []

    def refresh(request, scopes):
        renewed.append(scopes)
        return "token-2", dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1)

    credentials = Credentials(token="token-1", refresh_handler=refresh)
    signed = RestChatClient(client=chat_v1.ChatServiceClient(
        transport="rest", credentials=credentials, client_options={"api_endpoint": emulator.url}))
    requests.post(f"{emulator.url}/_emulator/{space}:refuse",
                  json={"status": "UNAUTHENTICATED", "count": 10}).raise_for_status()
    with pytest.raises(ChatUnavailable, match="401"):
        signed.put_message(space, "client-r1", {"text": "x"}, None)
    assert renewed  # the client did ask for a new token before giving up
    requests.post(f"{emulator.url}/_emulator/{space}:refuse", json={"count": 0}).raise_for_status()  # fixed
    signed.put_message(space, "client-r1", {"text": "accepted again"}, None)
    requests.post(f"{emulator.url}/_emulator/{space}:refuse", json={"status": "PERMISSION_DENIED"}).raise_for_status()
    with pytest.raises(ChatRefused) as forbidden:
        adapter.put_message(space, "client-r1", {"text": "x"}, None)
    assert forbidden.value.status == 403
    assert requests.post(f"{emulator.url}/_emulator/{space}:refuse", json={"status": "INTERNAL"}).status_code == 400


@pytest.fixture
def quota(emulator):
    """Chat's write quotas on the running service, shrunk by the test; Chat's own restored after."""

    def configure(**body):
        response = requests.put(f"{emulator.url}/_emulator/quota", json={"reset": True, **body})
        response.raise_for_status()
        return response.json()

    yield configure
    configure(spaceWriteLimit=60, projectWriteLimit=3000, window=60, retryAfter=False)


def patch(client, name, text="x"):
    return client.update_message(request=chat_v1.UpdateMessageRequest(
        message=chat_v1.Message(name=name, text=text), update_mask={"paths": ["text"]}, allow_missing=True))


def test_the_service_enforces_chats_write_quota_per_space(client, space, emulator, quota):
    assert requests.get(f"{emulator.url}/_emulator/quota").json()["spaceWriteLimit"] == 60  # Chat's default
    quota(spaceWriteLimit=3, window=1.5)
    for number in range(3):
        patch(client, f"{space}/messages/client-q{number}")
    with pytest.raises(gexc.TooManyRequests) as caught:
        create(client, space)
    error = caught.value.response.json()["error"]
    assert error["code"] == 429 and error["status"] == "RESOURCE_EXHAUSTED"
    assert error["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED"
    assert "Retry-After" not in caught.value.response.headers  # Google names no wait
    other = f"{space}x"
    requests.put(f"{emulator.url}/_emulator/{other}", json={}).raise_for_status()
    create(client, other)  # another space has its own quota
    time.sleep(1.6)  # the window slides on
    create(client, space)
    stats = requests.get(f"{emulator.url}/_emulator/quota").json()["spaces"][space]
    assert stats == {"accepted": 4, "refused": 1}


def test_the_service_enforces_the_projects_write_quota_across_spaces(client, emulator, quota):
    quota(projectWriteLimit=4, window=30)
    spaces = [f"spaces/P{number}" for number in range(5)]
    for name in spaces:
        requests.put(f"{emulator.url}/_emulator/{name}", json={}).raise_for_status()
    for name in spaces[:4]:
        create(client, name)
    with pytest.raises(gexc.TooManyRequests) as caught:
        create(client, spaces[4])
    assert "per project" in caught.value.response.json()["error"]["message"]


def test_the_adapter_reports_a_429_with_the_wait_chat_named(emulator, space, quota):
    from ackflow.chat.rest import RestChatClient
    from ackflow.errors import ChatRateLimited

    adapter = RestChatClient(emulator.url, anonymous=True)
    quota(spaceWriteLimit=1, window=30)
    adapter.put_message(space, "client-a", {"text": "one"}, None)
    with pytest.raises(ChatRateLimited) as caught:
        adapter.put_message(space, "client-a", {"text": "two"}, None)
    assert caught.value.retry_after is None  # none named: the caller backs off
    quota(spaceWriteLimit=1, window=30, retryAfter=True)
    adapter.put_message(space, "client-a", {"text": "three"}, None)
    with pytest.raises(ChatRateLimited) as caught:
        adapter.put_message(space, "client-a", {"text": "four"}, None)
    assert 25 <= caught.value.retry_after <= 30


def test_a_held_write_lands_after_a_later_one(emulator, client, space):
    """The control the ordering tests use: a write Chat applies late."""
    import threading

    name = f"{space}/messages/client-late"
    patch(client, name, "first")
    requests.post(f"{emulator.url}/_emulator/{space}:hold", json={"seconds": 0.8}).raise_for_status()
    late = threading.Thread(target=patch, args=(client, name, "older"))
    late.start()
    time.sleep(0.3)
    patch(client, name, "newer")
    late.join()
    assert client.get_message(name=name).text == "older"
