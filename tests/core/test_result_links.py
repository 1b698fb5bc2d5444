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
