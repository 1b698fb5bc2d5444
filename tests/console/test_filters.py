"""The jobs list's filters, each through the page a person uses (the form's query string): status,
type, requester, space and a date range in the office's time zone each narrow the list to the jobs
that match, newest first, and combine; the counts per status are the store's; a job id typed in
the search opens that job (and a text that only looks like an id is searched for)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from ackflow.jobs.model import Job, JobStatus, Requester, StepState
from ackflow_tools.console.app import ConsoleConfig, create_app

TOKYO = ZoneInfo("Asia/Tokyo")
ALICE = Requester("users/1", "alice@example.com", "Alice")
BOB = Requester("users/2", "bob@example.com", "Bob")


def _at(day: int, hour: int, minute: int = 0) -> float:
    """A time of March 2026 in Tokyo, the office's zone."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=TOKYO).timestamp()


# id, type, status, requester, space, created (Tokyo)
JOBS = [("jf000000001", "echo", JobStatus.SUCCEEDED, ALICE, "spaces/office", _at(1, 9)),
        ("jf000000002", "sleep", JobStatus.FAILED, ALICE, "spaces/office", _at(1, 23, 30)),  # 1 Mar, 14:30 UTC
        ("jf000000003", "echo", JobStatus.FAILED, BOB, "spaces/office", _at(2, 0, 30)),  # 1 Mar, 15:30 UTC
        ("jf000000004", "echo", JobStatus.FAILED, ALICE, "spaces/team", _at(2, 12)),
        ("jf000000005", "sleep", JobStatus.SUCCEEDED, BOB, "spaces/team", _at(3, 8)),
        ("jf000000006", "echo", JobStatus.QUEUED, ALICE, "spaces/office", _at(3, 23, 59))]


@pytest.fixture
def browser(runtime):
    for job_id, type_, status, requester, space, at in JOBS:
        runtime.store.create_job(Job(id=job_id, type=type_, params={"text": f"図面 {job_id}"}, requester=requester,
                                     space=space, thread=None, queue="ackflow-default", steps=(StepState(type_),),
                                     created_at=at, updated_at=at, status=status))
    app = create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language="en",
                                   time_zone="Asia/Tokyo"))
    return app.test_client()


def rows(browser, **query) -> list[str]:
    answer = browser.get("/jobs", query_string=query)
    assert answer.status_code == 200, query
    page = answer.get_data(as_text=True)
    assert 'data-test="problem"' not in page, query  # every filter was read
    return [job_id[-1] for job_id in re.findall(r'<tr data-job="([^"]+)">', page)]


def test_the_list_is_newest_first_and_each_filter_narrows_it_to_the_jobs_that_match(browser):
    assert rows(browser) == list("654321")
    assert rows(browser, status="FAILED") == list("432")
    assert rows(browser, type="sleep") == list("52")
    assert rows(browser, requester="bob@example.com") == list("53")
    assert rows(browser, space="spaces/team") == list("54")
    # A date is a whole day of the office's calendar (Tokyo), not UTC's: 2 March there begins at
    # 15:00 UTC on 1 March, so the job of 00:30 on the 2nd is in it and that of 23:30 on the 1st not
    assert rows(browser, **{"from": "2026-03-02", "to": "2026-03-02"}) == list("43")
    assert rows(browser, **{"from": "2026-03-03"}) == list("65")
    assert rows(browser, to="2026-03-01") == list("21")
    assert rows(browser, status="FAILED", type="echo", requester="alice@example.com", space="spaces/team",
                **{"from": "2026-03-02", "to": "2026-03-02"}) == ["4"]
    assert rows(browser, status="FAILED", space="spaces/office", to="2026-03-01") == ["2"]
    assert rows(browser, type="sleep", space="spaces/nowhere") == []


def test_the_counts_per_status_are_the_stores(browser):
    counts = browser.get("/jobs.json").get_json()["counts"]
    assert {status: counts[status] for status in ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")} == {
        "QUEUED": 1, "RUNNING": 0, "SUCCEEDED": 2, "FAILED": 3, "CANCELLED": 0}
    page = browser.get("/jobs").get_data(as_text=True)
    shown = dict(re.findall(r'<b data-count="(\w+)">(\d+)</b>', page))
    assert shown == {"QUEUED": "1", "RUNNING": "0", "SUCCEEDED": "2", "FAILED": "3", "CANCELLED": "0"}, shown


def test_a_job_id_typed_in_the_search_opens_that_job(browser):
    opened = browser.get("/jobs", query_string={"q": "jf000000003"})
    assert opened.status_code == 302 and opened.headers["Location"] == "/jobs/jf000000003"
    assert [job["id"] for job in browser.get("/jobs.json?q=jf000000003").get_json()["jobs"]] == ["jf000000003"]
    # an id no job has is searched for as text: here it is a parameter of no job, and of one
    assert rows(browser, q="jf000000009") == []
    assert rows(browser, q="図面") == list("654321")
