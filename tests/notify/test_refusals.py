"""A result reaches the person even when Chat refuses its card or the app's credentials: a card
Chat will not take (400) goes out as its text; a 401 is an outage of the app's own making, worth
a retry (the result stays due, and the sweep shows it once Chat takes writes again)."""

from __future__ import annotations

import json
import time

import pytest
import requests

from ackflow.app.notify import Notifier
from ackflow.app.sweep import sweep
from ackflow.chat.plain import put_message_or_text
from ackflow.errors import ChatUnavailable
from tests.notify.conftest import SPACE, message_of
from tests.notify.test_order import HOLDER, running_job, shows


def refuse(chat, status: str, count: int = 1, cards_only: bool = False) -> None:
    requests.post(f"{chat.url}/_emulator/{SPACE}:refuse",
                  json={"status": status, "count": count, "cardsOnly": cards_only}).raise_for_status()


def finish(runtime, job_id: str, text: str):
    job = running_job(runtime, job_id)
    return runtime.store.complete_step(job.id, 0, HOLDER, {"text": text}, time.time())


def test_a_result_whose_card_chat_refuses_goes_out_as_its_text(runtime, chat):
    done = finish(runtime, "jcardrefused", '<a href="https://example.net">Verify</a> & the result')
    refuse(chat, "INVALID_ARGUMENT", cards_only=True)
    assert Notifier(runtime).show(done)
    message = message_of(chat, done)
    assert "cardsV2" not in message
    text = message["text"]
    assert done.id in text and "the result" in text  # what the card says: the job and its output
    assert "<a" not in text and "＜a href" in text and "&amp;" not in text  # shown as written, never obeyed
    stored = runtime.store.get_job(done.id)
    assert not stored.message_due and stored.message_shown_at  # shown: the sweep has nothing to do


@pytest.mark.parametrize("unit", ["𠮷", "\x01", "<"])
def test_a_card_refused_for_its_size_goes_out_as_text_that_fits(runtime, chat, unit):
    """A card past Chat's 32,000 bytes is refused (400) and written again as its text, which is
    cut by bytes, not by a count of characters: a 4-byte character (𠮷), a control character
    (6 bytes as JSON) and ``<`` (written as the 3-byte ＜) are each more bytes than characters."""
    paragraph = {"textParagraph": {"text": unit * 3_000}}
    card = {"cardId": "big", "card": {"header": {"title": "The result"},
                                      "sections": [{"widgets": [paragraph] * 20}]}}
    written = put_message_or_text(runtime.chat, SPACE, "client-largest", {"cardsV2": [card]}, None)
    assert not written  # the card was refused, the text taken (the stand-in refuses past 32,000 bytes)
    text = requests.get(f"{chat.url}/v1/{SPACE}/messages/client-largest").json()["text"]
    assert text.startswith("The result") and text.endswith("…")
    assert len(json.dumps(text, ensure_ascii=False).encode()) > 25_000  # cut near the limit, not far below


def test_a_later_write_of_the_same_job_is_a_card_again(runtime, chat):
    """The text is the way out for one refused write, not a setting: Chat taking cards again
    (the next state of the message) gets the card."""
    job = running_job(runtime, "jcardagain")
    refuse(chat, "INVALID_ARGUMENT", cards_only=True)
    Notifier(runtime).progress(job, "step 1/1: working")
    assert "cardsV2" not in message_of(chat, job) and "working" in message_of(chat, job)["text"]
    done = runtime.store.complete_step(job.id, 0, HOLDER, {"text": "the result"}, time.time())
    assert Notifier(runtime).show(done)
    assert shows(runtime, chat, done)


def test_a_result_refused_for_the_apps_credentials_stays_due_and_the_sweep_shows_it(runtime, chat):
    done = finish(runtime, "jcredentials", "the result")
    refuse(chat, "UNAUTHENTICATED", count=1000)
    with pytest.raises(ChatUnavailable):
        Notifier(runtime).show(done, wait=0.5)
    stored = runtime.store.get_job(done.id)
    assert stored.message_due and not stored.message_shown_at  # not given up: not "can never be shown"
    refuse(chat, "UNAUTHENTICATED", count=0)  # the credentials are fixed
    report = sweep(runtime, now=time.time() + runtime.settings.sweep_unshown_after + 1)
    assert done.id in report.reshown
    assert shows(runtime, chat, runtime.store.get_job(done.id))
    assert not runtime.store.get_job(done.id).message_due


def test_a_space_that_refuses_the_app_is_given_up_not_retried(runtime, chat):
    """403 (the app removed from the space): no retry or text can change it; the job's state is
    in the store either way and the sweep does not try again."""
    done = finish(runtime, "jforbidden", "the result")
    refuse(chat, "PERMISSION_DENIED", count=1000)
    assert not Notifier(runtime).show(done)
    stored = runtime.store.get_job(done.id)
    assert not stored.message_due and not stored.message_shown_at
    refuse(chat, "PERMISSION_DENIED", count=0)
