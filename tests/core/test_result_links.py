"""A link in a job's result is a button named by the job type's ``result_labels``, in the language of
the person who reads the card (docs/job-types.md's example labels its ``link`` so), not by its key."""

from __future__ import annotations

import time

from ackflow.app import views
from ackflow.i18n import N_, Speaker
from ackflow.jobs.model import Job, JobStatus, Requester, StepState, StepStatus
from ackflow.jobs.registry import JobType, Step

NOW = time.time()
REPORT = JobType(name="report", help=N_("Build the monthly report for MONTH."),
                 steps=(Step("publish", lambda ctx: None),), result_fields=("link",),
                 result_labels={"link": N_("Open the folder")})  # a label the catalog translates


def done(result: dict) -> Job:
    return Job(id="jrep", type="report", params={}, requester=Requester("users/1", "a@example.com"),
               space="spaces/s", thread=None, queue="ackflow-default",
               steps=(StepState("publish", StepStatus.SUCCEEDED, attempts=1, output=result),),
               created_at=NOW - 5, updated_at=NOW, status=JobStatus.SUCCEEDED, result=result, finished_at=NOW)


def buttons(job: Job, speaker: Speaker) -> list[tuple[str, str]]:
    card = views.job_message(job, REPORT, speaker, now=NOW).card
    return [(button.text, button.url) for section in card.sections for widget in section.widgets
            for button in getattr(widget, "buttons", ())]


def test_a_link_button_is_named_by_the_job_types_label_in_the_readers_language():
    job = done({"link": "https://reports.example.com/2026-11.pdf"})
    assert buttons(job, Speaker("en", "UTC")) == [("Open the folder", "https://reports.example.com/2026-11.pdf")]
    assert buttons(job, Speaker("ja", "Asia/Tokyo")) == [("フォルダを開く", "https://reports.example.com/2026-11.pdf")]


def test_links_without_names_in_a_list_take_the_label_too():
    job = done({"link": [{"link": "https://reports.example.com/a.pdf"}]})
    assert buttons(job, Speaker("ja", "Asia/Tokyo")) == [("フォルダを開く", "https://reports.example.com/a.pdf")]


def test_a_link_to_freees_page_of_a_document_is_not_called_a_pdf():
    """Under freee the invoice's button said "Open the invoice (PDF)" / 「請求書を開く (PDF)」, and
    opened freee's web page of the invoice: the office's job types label each link by what it opens."""
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    registry = build_registry(Settings())
    url = "https://invoice.secure.freee.co.jp/reports/invoices/1"
    said = {}
    for name, result in (("invoice", {"case": "2026-001", "invoice": "INV-2026-0001", "freee_invoice_link": url}),
                         ("estimate", {"case": "2026-001", "estimate_version": 2, "freee_estimate_link": url}),
                         ("newcase", {"case": "2026-001", "freee_estimate_link": url})):
        job = done(result)
        for language in ("ja", "en"):
            card = views.job_message(job, registry.get(name), Speaker(language, "UTC"), now=NOW).card
            said[name, language] = [button.text for section in card.sections for widget in section.widgets
                                    for button in getattr(widget, "buttons", ()) if button.url == url]
    assert said == {("invoice", "ja"): ["freee で請求書を開く"], ("invoice", "en"): ["Open the invoice in freee"],
                    ("estimate", "ja"): ["freee で見積書を開く"], ("estimate", "en"): ["Open the estimate in freee"],
                    ("newcase", "ja"): ["freee で見積書を開く"], ("newcase", "en"): ["Open the estimate in freee"]}


def test_the_office_keys_a_documents_link_by_what_it_opens():
    from workers.office.accounting import Issued, link_key
    from workers.office.money import Totals

    totals = Totals(by_rate=())
    pdf = Issued("invoice", "INV-2026-0001", "embedded", "a/b.pdf", "https://drive/x", totals, path="a/b.pdf")
    page = Issued("quotation", "2026-001-v2", "freee", "17", "https://freee/q/17", totals)
    assert (link_key(pdf), link_key(page)) == ("invoice_link", "freee_estimate_link")
