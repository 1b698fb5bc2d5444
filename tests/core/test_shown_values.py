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
