"""Card injection, end to end: what a person types (or how they are named) is shown in the cards and
messages the app posts into a shared space, never obeyed. Checked on the JSON the webhook answers
and on the job's message as the worker wrote it into the local Chat service, in both event formats.
"""

from __future__ import annotations

import pytest

from ackflow.jobs.model import JobStatus
from tests.e2e.conftest import start_pipeline
from tests.support.markup import HOSTILE, live_markup, message_of
from tests.support.pipeline import ALICE, BOB

EVIL = " ".join(HOSTILE)
MALLORY = {"name": "users/1666", "displayName": f"Mallory {HOSTILE[0]}", "email": "mallory@example.com"}


@pytest.fixture(scope="module", params=[("classic", "project-number"), ("addon", "endpoint-url")],
                ids=["classic", "addon"])
def pipeline(request, tmp_path_factory):
    fmt, auth = request.param
    running = start_pipeline(tmp_path_factory.mktemp(f"hostile-{fmt}"), fmt, auth)
    yield running
    running.stack.stop()


def answer(sent: dict) -> dict:
    """The message the webhook answered with (its JSON as sent, before Chat stored it)."""
    assert sent.get("status") == 200, sent
    return message_of(sent["response"])


def test_echo_of_a_link_is_shown_as_text_in_every_card_of_the_job(pipeline):
    sent = pipeline.send(f"echo {EVIL}", user=MALLORY)
    confirmation = answer(sent)
    assert live_markup(confirmation) == []
    assert "&lt;a href=" in pipeline.card_text(confirmation)  # the person sees what was written
    clicked = pipeline.click(sent["reply"]["message"], "Run", user=MALLORY)
    assert live_markup(answer(clicked)) == []
    job = pipeline.wait_job(pipeline.job_of(sent["reply"]["message"]), JobStatus.SUCCEEDED)
    assert "<a href=https://example.net>Verify" in job.result["text"]  # stored as written (shlex ate the quotes)
    posted = pipeline.job_message(job)  # written by the worker through the Chat API
    assert live_markup(posted) == []
    assert "&lt;a href=" in pipeline.card_text(posted)
    for command in (f"status {job.id}", "jobs", "jobs all"):
        assert live_markup(answer(pipeline.send(command, user=MALLORY))) == [], command


@pytest.mark.parametrize("text", [
    f"sleep {HOSTILE[1]}",  # a usage error quotes the bad value
    f"status {HOSTILE[2]}",  # not found, quoting the id
    f'cancel "{HOSTILE[3]}"',
    HOSTILE[0],  # an unknown command, named in the help card
    f'newcase ACME "A-12" --due "{HOSTILE[2]}"',
    f"case {HOSTILE[1]}",
])
def test_replies_that_quote_what_was_written_carry_no_live_markup(pipeline, text):
    assert live_markup(answer(pipeline.send(text))) == []


def test_a_hostile_display_name_is_shown_not_obeyed(pipeline):
    sent = pipeline.send("echo hello", user=MALLORY)
    assert live_markup(answer(sent)) == []
    refused = pipeline.click(sent["reply"]["message"], "Run", user=BOB)  # names the requester
    assert "Mallory" in pipeline.card_text(answer(refused)) and live_markup(answer(refused)) == []
    cancelled = pipeline.click(sent["reply"]["message"], "Cancel", user=MALLORY)
    assert live_markup(answer(cancelled)) == []
    assert pipeline.send("echo still fine", user=ALICE)["status"] == 200
