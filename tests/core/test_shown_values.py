"""What a person reads on a card: dates in their own form (never 2026-12-01), parameters by their
titles (never a placeholder such as CASE_NUMBER), in English and in Japanese."""

from __future__ import annotations

import json
import time

import pytest

from ackflow.app import views
from ackflow.chat.events import EventFormat
from ackflow.chat.replies import message_json
from ackflow.i18n import Speaker
from ackflow.jobs.model import Confirmation, Job, JobStatus, Requester, StepState, StepStatus
from ackflow.settings import Settings
from workers.job_types import build_registry

NOW = time.time()
EN = Speaker("en", "UTC")
JA = Speaker("ja", "Asia/Tokyo")
ALICE = Requester("users/1", "alice@example.com", "Alice")


@pytest.fixture(scope="module")
def registry():
    return build_registry(Settings())


def text_of(reply) -> str:
    return json.dumps(message_json(reply, EventFormat.CLASSIC, "https://chat.example/app"), ensure_ascii=False)


def delivered(registry) -> Job:
    job_type = registry.get("delivered")
    return Job(id="jdone", type="delivered", params={"case": "2026-001", "date": "2026-12-01"}, requester=ALICE,
               space="spaces/s", thread=None, queue=job_type.queue,
               steps=tuple(StepState(s.name, StepStatus.SUCCEEDED, attempts=1) for s in job_type.steps),
               created_at=NOW - 5, updated_at=NOW, status=JobStatus.SUCCEEDED, finished_at=NOW,
               result={"case": "2026-001", "status": "納品", "delivered_on": "2026-12-01"})


@pytest.mark.parametrize(("speaker", "shown"), [(JA, "2026年12月1日(火)"), (EN, "1 Dec 2026")], ids=["ja", "en"])
def test_a_date_in_a_result_is_shown_in_the_persons_form(registry, speaker, shown):
    text = text_of(views.job_message(delivered(registry), registry.get("delivered"), speaker, now=NOW))
    assert shown in text and "2026-12-01" not in text
    assert "2026-001" in text  # a case number is not a date


def test_a_result_value_that_only_looks_like_a_date_is_shown_as_it_is():
    assert views.shown_result("2026-02-30", JA) == "2026-02-30"  # no such day: not read as one
    assert views.shown_result("2026-001", EN) == "2026-001"
    assert views.shown_result(" 2026-12-01", EN) == " 2026-12-01"


@pytest.mark.parametrize(("speaker", "label", "placeholder"), [(EN, "Case number", "CASE_NUMBER"),
                                                                (JA, "案件番号", "CASE_NUMBER")], ids=["en", "ja"])
def test_the_confirmation_card_names_parameters_by_their_titles(registry, speaker, label, placeholder):
    job_type = registry.get("delivered")
    confirmation = Confirmation(id="c1", token="t", job_type="delivered", params={"case": "2026-001"},
                                requester=ALICE, space="spaces/s", thread=None, created_at=NOW, expires_at=NOW + 60)
    text = text_of(views.confirmation_card(confirmation, job_type, 900, speaker))
    assert label in text and placeholder not in text


# -- line items: as money, before Run ------------------------------------------------------------------
ITEMS = ["設計:1:35万円", "部品 A:2:¥1,200:8%", "検査:1.5:1,000"]
SHOWN_ITEMS = {  # what the confirmation card's 明細 / Line items row says, one line each
    "ja": ["設計 × 1 @ ¥350,000", "部品 A × 2 @ ¥1,200 = ¥2,400（8%・軽減税率）", "検査 × 1.5 @ ¥1,000 = ¥1,500",
           "小計（税抜）: ¥353,900"],
    "en": ["設計 × 1 @ ¥350,000", "部品 A × 2 @ ¥1,200 = ¥2,400 (8%, reduced rate)", "検査 × 1.5 @ ¥1,000 = ¥1,500",
           "Subtotal before tax: ¥353,900"],
}


def newcase_confirmation(items: list[str]) -> Confirmation:
    return Confirmation(id="c1", token="t", job_type="newcase", requester=ALICE, space="spaces/s", thread=None,
                        params={"client": "ACME", "title": "金型", "due": None, "portal": None, "item": items},
                        created_at=NOW, expires_at=NOW + 60)


@pytest.mark.parametrize("speaker", [JA, EN], ids=["ja", "en"])
def test_line_items_are_shown_as_money_with_their_subtotal_on_the_confirmation_card(registry, speaker):
    confirmation = newcase_confirmation(list(ITEMS))
    message = message_json(views.confirmation_card(confirmation, registry.get("newcase"), 900, speaker),
                           EventFormat.CLASSIC, "https://chat.example/app")
    [row] = [w["decoratedText"] for s in message["cardsV2"][0]["card"]["sections"] for w in s["widgets"]
             if w.get("decoratedText", {}).get("topLabel") == ("明細" if speaker is JA else "Line items")]
    assert row["text"].split("<br>") == SHOWN_ITEMS[speaker.language]
    assert "35万円" not in json.dumps(message, ensure_ascii=False)  # never as typed
    # the fallback text (notifications, screen readers) says the same
    assert "設計 × 1 @ ¥350,000" in message["fallbackText"] and SHOWN_ITEMS[speaker.language][-1] in \
        message["fallbackText"]
    assert confirmation.params["item"] == ITEMS  # the job gets the lines as typed


def test_a_description_with_markup_is_shown_as_text_on_the_line_items_row(registry):
    confirmation = newcase_confirmation(["<b>設計</b>:1:1000"])
    message = message_json(views.confirmation_card(confirmation, registry.get("newcase"), 900, JA),
                           EventFormat.CLASSIC, "https://chat.example/app")
    assert "&lt;b&gt;設計&lt;/b&gt; × 1 @ ¥1,000<br>" in json.dumps(message, ensure_ascii=False)


def test_many_line_items_show_the_first_and_the_subtotal_of_all(registry):
    items = [f"部品{n}:1:1000" for n in range(1, 31)]
    lines = views.shown_lines(registry.get("newcase"), "item", items, JA)
    assert lines[0] == "部品1 × 1 @ ¥1,000" and lines[-2] == "…ほか 10 行" and lines[-1] == "小計（税抜）: ¥30,000"
    assert len(lines) == 22


def test_the_job_details_show_line_items_as_money_on_one_line(registry):
    job_type = registry.get("newcase")
    job = Job(id="jnew", type="newcase", params={"client": "ACME", "title": "金型", "item": list(ITEMS)},
              requester=ALICE, space="spaces/s", thread=None, queue=job_type.queue,
              steps=tuple(StepState(s.name) for s in job_type.steps), created_at=NOW - 5, updated_at=NOW)
    text = text_of(views.job_details(job, job_type, NOW, EN))
    assert "Line items: 設計 × 1 @ ¥350,000; 部品 A × 2 @ ¥1,200 = ¥2,400 (8%, reduced rate);" in text
    assert "35万円" not in text


def test_a_value_that_does_not_read_or_a_show_that_fails_is_shown_as_typed(registry):
    job_type = registry.get("newcase")
    assert views.shown_value(job_type, "item", ["設計:x:1"], JA) == "設計:x:1"  # not a line: as typed
    from ackflow.jobs.params import Param
    from ackflow.jobs.registry import JobType, Step

    def broken(value, speaker):
        raise RuntimeError("a bug in a job type's show")

    odd = JobType(name="odd", help="x", steps=(Step("s", lambda ctx: {}),),
                  params=(Param("text", show=broken), Param("more", show=lambda v, s: [1, 2])))
    assert views.shown_value(odd, "text", "as typed", EN) == "as typed"
    assert views.shown_value(odd, "more", "as typed", EN) == "as typed"  # lines that are not texts


def test_an_estimates_lines_are_shown_without_a_subtotal_that_would_read_as_the_new_versions(registry):
    """``見積 2026-001 明細：試作立会い：2：4万円`` adds a line to v1's: a subtotal of ¥80,000 on its
    card would read as the new version's (which keeps v1's lines too). newcase's lines are the
    whole estimate: their subtotal stays."""
    added = views.shown_lines(registry.get("estimate"), "item", ["試作立会い:2:4万円"], JA)
    assert added == ["試作立会い × 2 @ ¥40,000 = ¥80,000"]
    whole = views.shown_lines(registry.get("newcase"), "item", ["試作立会い:2:4万円"], JA)
    assert whole[-1] == "小計（税抜）: ¥80,000"
