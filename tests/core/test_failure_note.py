"""A failed job's card: the job type's sentence about what the job still holds (an invoice number
not issued, and how to finish it), in the requester's language; a note that fails never keeps the
card, or its Retry button, from showing."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from ackflow.app import views
from ackflow.i18n import Speaker
from ackflow.jobs.model import Job, JobStatus, Requester, StepState, StepStatus
from ackflow.settings import Settings
from workers.job_types import build_registry

NOW = time.time()


@pytest.fixture(scope="module")
def invoice():
    return build_registry(Settings()).get("invoice")


def failed_invoice(at: str) -> Job:
    """An invoice job failed for good at step ``at``, the steps before it done."""
    outputs = {"number": {"case": "2026-001", "invoice": "INV-2026-0007", "total": "¥132,000"},
               "issue": {"invoice_link": "https://example.com/i"}}
    names = ["number", "issue", "file"]
    steps = tuple(StepState(name, StepStatus.SUCCEEDED, attempts=1, output=outputs.get(name))
                  if names.index(name) < names.index(at) else
                  StepState(name, StepStatus.FAILED if name == at else StepStatus.PENDING, attempts=int(name == at))
                  for name in names)
    return Job(id="jinv", type="invoice", params={"case": "2026-001"}, requester=Requester("users/1", "a@example.com"),
               space="spaces/s", thread=None, queue="ackflow-office", steps=steps, created_at=NOW - 5, updated_at=NOW,
               status=JobStatus.FAILED, last_error="freee refused", finished_at=NOW)


def text(reply) -> str:
    return json.dumps(reply.card, default=lambda o: dataclasses.asdict(o), ensure_ascii=False)


def test_an_invoice_failed_after_its_number_says_the_retry_issues_that_number(invoice):
    english = text(views.job_message(failed_invoice("issue"), invoice, Speaker("en", "UTC"), now=NOW))
    assert "Invoice number INV-2026-0007 is taken by this job and not issued" in english
    assert "the retry uses the same number" in english and "Retry" in english
    japanese = text(views.job_message(failed_invoice("issue"), invoice, Speaker("ja", "Asia/Tokyo"), now=NOW))
    assert "請求書番号 INV-2026-0007 はこのジョブが確保したまま未発行です" in japanese and "再実行" in japanese


def test_no_note_before_the_number_or_once_the_invoice_is_issued(invoice):
    for step in ("number", "file"):  # nothing taken yet; or issued, only its filing failed
        assert "INV-2026-0007 is taken" not in text(views.job_message(failed_invoice(step), invoice,
                                                                      Speaker("en", "UTC"), now=NOW))


def test_a_note_that_fails_leaves_the_card_and_its_retry_button(invoice):
    def broken(job, speaker):
        raise KeyError("number")

    shown = text(views.job_message(failed_invoice("issue"), dataclasses.replace(invoice, failure_note=broken),
                                   Speaker("en", "UTC"), now=NOW))
    assert "Failed at step" in shown and '"retry"' in shown
