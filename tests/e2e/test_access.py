"""Who may run what, and confirmations that expire or are cancelled, on a running pipeline."""

from __future__ import annotations

import json
import time

import pytest

from ackflow.jobs.model import JobStatus
from ackflow_tools.emulators.chat.userside import iter_buttons
from tests.e2e.conftest import start_pipeline
from tests.support.pipeline import ALICE, BOB

MALLORY = {"name": "users/666", "displayName": "Mallory", "email": "mallory@elsewhere.test"}
BOSS = {"name": "users/1", "displayName": "Boss", "email": "boss@example.com"}


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    running = start_pipeline(
        tmp_path_factory.mktemp("access"), "classic", "project-number",
        ACKFLOW_CONFIRM_TTL="2",
        ACKFLOW_ALLOW_DOMAINS="example.com",
        ACKFLOW_ADMINS="boss@example.com",
        ACKFLOW_COMMAND_ACCESS=json.dumps({"fail": {"users": ["alice@example.com"]}}),
        ACKFLOW_ACCESS_CONTACT="Boss (boss@example.com)",
    )
    yield running
    running.stack.stop()


def text_of(result: dict) -> str:
    return json.dumps(result["reply"]["message"], ensure_ascii=False)


def test_outsiders_get_a_polite_refusal_and_nothing_is_stored(office):
    before = office.counts()
    reply = text_of(office.send("echo let me in", user=MALLORY))
    assert "you may not use “echo” here" in reply and "Ask Boss (boss@example.com)" in reply
    assert office.counts() == before


def test_per_command_allow_list(office):
    assert "“fail” is limited to certain people or spaces" in text_of(office.send("fail --times 1", user=BOB))
    assert "Run fail?" in text_of(office.send("fail --times 1", user=ALICE))
    help_for_bob = text_of(office.send("help", user=BOB))
    assert "sleep SECONDS" in help_for_bob and "fail [" not in help_for_bob


def test_only_the_requester_or_an_admin_may_decide(office):
    card = office.send("echo mine", user=ALICE)["reply"]["message"]
    before = office.counts()[0]
    refused = office.click(card, "Run", user=BOB)
    assert "Only Alice (who asked) or an admin" in text_of(refused)
    assert office.counts()[0] == before
    accepted = office.click(card, "Run", user=BOSS)
    assert "Queued · job" in text_of(accepted)
    assert office.wait_job(office.job_of(card), JobStatus.SUCCEEDED)


def test_an_expired_confirmation_runs_nothing(office):
    card = office.send("echo too late", user=ALICE)["reply"]["message"]
    before = office.counts()[0]
    time.sleep(2.2)
    expired = office.click(card, "Run", user=ALICE)
    assert "Request expired" in text_of(expired) and expired["reply"]["action"] == "updated"
    assert office.counts()[0] == before


def test_cancel_runs_nothing_and_updates_the_card(office):
    card = office.send("echo changed my mind", user=ALICE)["reply"]["message"]
    before = office.counts()[0]
    cancelled = office.click(card, "Cancel", user=ALICE)
    assert "Cancelled by Alice; nothing was run" in text_of(cancelled)
    assert office.counts()[0] == before


def test_a_run_after_someone_else_cancelled_names_who_cancelled_not_the_requester(office):
    card = office.send("echo the boss decides", user=ALICE)["reply"]["message"]
    before = office.counts()[0]
    assert "Cancelled by Boss; nothing was run" in text_of(office.click(card, "Cancel", user=BOSS))
    # Alice's phone still showed the card with its Run button: Chat delivers that press
    run = next(b["onClick"]["action"] for b in iter_buttons(card) if b.get("text") == "Run")
    late = text_of(office.stack.chat_signer(office.fmt)._deliver(
        "CARD_CLICKED", "spaces/e2e", ALICE, card, office.fmt, function=run.get("function"),
        parameters={p["key"]: p["value"] for p in run.get("parameters", [])}))
    # (this press carries no locale: the answer is in the deployment's language, Japanese)
    assert "Boss さんが取り消しました" in late and "Alice さんが取り消しました" not in late
    assert office.counts()[0] == before
