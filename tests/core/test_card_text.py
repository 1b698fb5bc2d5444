"""Text from people and from jobs is shown in cards and messages, never obeyed as markup.

Every view the app renders is fed hostile text (links, mentions, tags) where a person or a job
supplies it, rendered as Chat receives it, and checked for live markup. The app's own markup
(bold command names, line breaks) still comes through.
"""

from __future__ import annotations

import json
import time

import pytest

from ackflow.app import views
from ackflow.chat.cards import Card, Field, Section, Text
from ackflow.chat.events import ChatEvent, ChatUser, EventFormat, EventKind
from ackflow.chat.replies import Reply, message_json
from ackflow.i18n import Speaker
from ackflow.jobs.model import Confirmation, Job, JobStatus, Requester, StepState, StepStatus
from ackflow.settings import Settings
from tests.support.markup import HOSTILE, live_markup
from workers.job_types import build_registry

EVIL = " ".join(HOSTILE)
NOW = time.time()
EN = Speaker("en", "UTC")
JA = Speaker("ja", "Asia/Tokyo")


@pytest.fixture(scope="module")
def registry():
    return build_registry(Settings())


def rendered(reply: Reply) -> dict:
    return message_json(reply, EventFormat.CLASSIC, "https://chat.example/app")


def evil_requester() -> Requester:
    return Requester("users/666", "mallory@example.com", f"Mallory {HOSTILE[0]}")


def evil_job(status: JobStatus, **changes) -> Job:
    steps = (StepState("echo", StepStatus.SUCCEEDED if status == JobStatus.SUCCEEDED else StepStatus.FAILED,
                       attempts=2, error=f"portal said {EVIL}"),)
    return Job(id="jabc", type="echo", params={"text": EVIL}, requester=evil_requester(), space="spaces/s",
               thread=None, queue="ackflow-default", steps=steps, created_at=NOW - 5, updated_at=NOW, status=status,
               last_error=f"portal said {EVIL}", result={"text": EVIL}, finished_at=NOW, **changes)


def test_plain_text_in_every_html_field_is_escaped():
    card = Card("c", "title", (Section((Text(EVIL), Field(EVIL, EVIL)), header=EVIL),))
    message = rendered(Reply(card=card))
    assert live_markup(message) == []
    widget = message["cardsV2"][0]["card"]["sections"][0]["widgets"][0]["textParagraph"]["text"]
    assert "&lt;a href=" in widget  # shown to the person as the text they wrote


def test_a_message_text_carries_no_link_or_mention():
    message = rendered(Reply(text=f"I could not read that: {EVIL}"))
    assert live_markup(message) == []
    assert "＜users/all＞" in message["text"]


def test_confirmation_card_of_a_hostile_command(registry):
    confirmation = Confirmation("cabc", "tok", "echo", {"text": EVIL}, evil_requester(), "spaces/s", None,
                                NOW, NOW + 900)
    for speaker in (EN, JA):
        assert live_markup(rendered(views.confirmation_card(confirmation, registry.get("echo"), 900, speaker))) == []


@pytest.mark.parametrize("status", [JobStatus.SUCCEEDED, JobStatus.FAILED])
def test_job_message_details_and_lists_with_hostile_output(registry, status):
    job = evil_job(status)
    echo = registry.get("echo")
    for speaker in (EN, JA):
        for reply in (views.job_message(job, echo, speaker, now=NOW), views.job_details(job, echo, NOW, speaker),
                      views.jobs_list([job], "Recent jobs", NOW, speaker), views.queued_card(job, echo, speaker)):
            assert live_markup(rendered(reply)) == [], reply


def test_progress_and_retry_lines_from_a_job_are_escaped(registry):
    job = evil_job(JobStatus.RUNNING).replace(result=None, finished_at=None)
    job = job.with_step(0, status=StepStatus.RUNNING)
    reply = views.job_message(job, registry.get("echo"), JA, progress=EVIL, retry_delay=10, now=NOW)
    assert live_markup(rendered(reply)) == []


def test_help_keeps_its_own_bold_and_line_breaks_but_escapes_the_unknown_command(registry):
    reply = views.help_card(registry, {"help", "echo", "status"}, EN, f"I don't know the command “{EVIL}”.")
    message = rendered(reply)
    assert live_markup(message) == []
    sections = message["cardsV2"][0]["card"]["sections"]
    jobs = sections[1]["widgets"][0]["textParagraph"]["text"]
    assert jobs == "<b>echo TEXT...</b> — Say TEXT back (try the pipeline)."
    assert sections[2]["widgets"][0]["textParagraph"]["text"] == (
        "<b>help [COMMAND]</b> — Show this list, or one command with an example.<br>"
        "<b>status JOB_ID</b> — Show a job: its steps, result or error.")


def test_usage_reply_echoing_the_input_is_neutralised():
    message = rendered(views.usage_reply(f"SECONDS must be a whole number, got {EVIL!r}", "sleep SECONDS", JA))
    assert live_markup(message) == []


def test_case_card_with_hostile_client_title_and_portal_documents(tmp_path):
    from types import SimpleNamespace

    from ackflow.store.jobstore import JobStore
    from ackflow.store.sqlite import SqliteDocuments
    from workers.office.cases import CaseRecords
    from workers.office.commands import show_case

    store = JobStore(SqliteDocuments(tmp_path / "jobs.db"))
    CaseRecords(store.docs).update(
        "2026-001", "jabc", client=EVIL, title=EVIL, status=EVIL, folder_link=HOSTILE[0],
        estimates=[{"key": "v001", "version": 1, "link": HOSTILE[1], "total": EVIL}],
        documents=[{"key": "d1", "name": EVIL, "bytes": 12}])
    runtime = SimpleNamespace(store=store, settings=Settings(), registry=build_registry(Settings()))
    for speaker in (EN, JA):
        event = ChatEvent(EventKind.MESSAGE, EventFormat.CLASSIC, ChatUser("users/1"), "spaces/s",
                          locale=speaker.language, time_zone=speaker.time_zone)
        assert live_markup(rendered(show_case(runtime, event, ["2026-001"]))) == []
        for typed in (HOSTILE[2], "2026-001/../../jobs/jabc", "__secret__", "2026-001\n"):
            reply = show_case(runtime, event, [typed])
            assert reply.card is None and live_markup(rendered(reply)) == [], typed
    store.close()


def test_a_usage_reply_quoting_a_whole_message_stays_within_what_chat_accepts(registry):
    from ackflow.errors import UsageError

    with pytest.raises(UsageError) as refused:
        registry.get("fail").parse(["あ" * 30_000])
    message = rendered(views.usage_reply(refused.value.render(EN), refused.value.usage, EN))
    assert len(json.dumps(message, ensure_ascii=False).encode()) < 4_000
    assert message["text"].endswith("Usage: fail [--times N] [--always]")


@pytest.mark.parametrize(("problem", "speaker", "said"), [
    ("「納品:12月1日」は余分です。「納期：」のことですか？", JA, "のことですか？\n"),
    ("unexpected “x:1”; did you mean “--due”?", EN, "did you mean “--due”?\n"),
    ("その日付は存在しません。", JA, "存在しません。\n"),
])
def test_a_problem_that_ends_in_a_question_gets_no_full_stop_after_it(problem, speaker, said):
    """「…のことですか？。」: the reply put its own full stop after the question."""
    assert said in views.usage_reply(problem, "newcase CLIENT TITLE", speaker).text


@pytest.mark.parametrize(("value", "speaker", "shown"), [
    # the reminder on a Friday names the days due over the weekend and on Monday: each a date as the
    # reader writes dates, never ISO in front of a person
    ("2026-12-05, 2026-12-07", JA, "2026年12月5日(土)、2026年12月7日(月)"),
    ("2026-12-05, 2026-12-07", EN, "5 Dec 2026, 7 Dec 2026"),
    ("2026-12-01", JA, "2026年12月1日(火)"),
    ("2026-12-05, not a date", JA, "2026-12-05, not a date"),  # text that only starts like dates is text
])
def test_a_result_of_several_dates_shows_each_as_a_date(value, speaker, shown):
    assert views.shown_result(value, speaker) == shown
