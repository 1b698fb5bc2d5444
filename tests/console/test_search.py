"""The jobs list's search by parameter text reaches jobs older than the newest few hundred: it
reads on from where it stopped, page after page, and says how far it got."""

from __future__ import annotations

import re
import time

import pytest

from ackflow.jobs.model import Job, JobStatus, Requester, StepState
from ackflow_tools.console import jobs as console_jobs
from ackflow_tools.console.app import ConsoleConfig, create_app


def _job(n: int, text: str, base: float) -> Job:
    return Job(id=f"j{n:08d}", type="echo", params={"text": text}, requester=Requester("users/1", "a@example.com"),
               space="spaces/s", thread=None, queue="ackflow-default", steps=(StepState("echo"),),
               created_at=base + n, updated_at=base + n, status=JobStatus.SUCCEEDED)


def fill(runtime, total: int, matching: set[int]) -> None:
    base = time.time() - total
    for n in range(total):
        runtime.store.create_job(_job(n, f"図面 {n} ひみつの金型" if n in matching else f"図面 {n}", base))


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-job="([^"]+)">', html)


def client(runtime):
    return create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language="en")).test_client()


@pytest.fixture(autouse=True)
def unhurried(monkeypatch):
    """The time budget guards a slow store; here only the count of jobs read decides (a busy
    machine must not change what a test sees). test_the_time_budget_stops_a_slow_search sets it."""
    monkeypatch.setattr(console_jobs, "SEARCH_SECONDS", 60.0)


def test_a_job_older_than_the_newest_500_is_found(runtime):
    fill(runtime, 800, {3})  # the fourth oldest of 800: 796 newer ones do not match
    page = client(runtime).get("/jobs", query_string={"q": "ひみつ"}).get_data(as_text=True)
    assert rows(page) == ["j00000003"]
    assert 'data-test="searched"' in page and "800 jobs" in page and "to the oldest" in page


def test_when_the_budget_is_spent_the_page_says_so_and_links_on_to_the_rest(runtime, monkeypatch):
    monkeypatch.setattr(console_jobs, "SEARCH_SCAN", 300)
    fill(runtime, 800, {3, 650})
    browser = client(runtime)
    page = browser.get("/jobs?q=ひみつ").get_data(as_text=True)
    assert rows(page) == ["j00000650"] and "300 jobs" in page and "stopped" in page
    seen, link = rows(page), re.search(r'data-test="search-on" href="([^"]+)"', page)
    hops = 0
    while link:
        page = browser.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
        seen += rows(page)
        link = re.search(r'data-test="search-on" href="([^"]+)"', page)
        hops += 1
    assert seen == ["j00000650", "j00000003"] and hops == 2 and "to the oldest" in page


def test_a_full_page_of_matches_pages_on_without_repeating_one(runtime):
    fill(runtime, 300, set(range(0, 300, 2)))  # 150 matches: three pages of 50
    browser = client(runtime)
    seen, url = [], "/jobs?q=ひみつ"
    while url:
        page = browser.get(url).get_data(as_text=True)
        seen += rows(page)
        older = re.search(r'data-test="older" href="([^"]+)"', page)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert seen == [f"j{n:08d}" for n in range(298, -1, -2)]


def test_the_time_budget_stops_a_slow_search_after_its_first_read(runtime, monkeypatch):
    monkeypatch.setattr(console_jobs, "SEARCH_SECONDS", 0.0)
    fill(runtime, 800, {3})
    page = client(runtime).get("/jobs", query_string={"q": "ひみつ"}).get_data(as_text=True)
    assert rows(page) == [] and "Searched 100 jobs" in page and 'data-test="search-on"' in page


def test_the_counts_follow_a_change_of_any_job_without_waiting_out_their_cache(runtime, monkeypatch):
    monkeypatch.setattr(console_jobs, "COUNTS_FLOOR", 0.0)
    fill(runtime, 3, set())
    web = client(runtime)
    assert web.get("/jobs.json").get_json()["counts"]["SUCCEEDED"] == 3
    job = runtime.store.get_job("j00000001")
    runtime.store.docs.transaction(lambda tx: tx.set("jobs", job.id, {**job.to_dict(), "status": "FAILED",
                                                                      "updated_at": time.time() + 5}))
    counted = web.get("/jobs.json").get_json()["counts"]  # within the cache's 15 s
    assert (counted["SUCCEEDED"], counted["FAILED"]) == (2, 1)


@pytest.mark.parametrize(("day", "hours"), [("2026-10-25", 25), ("2026-03-29", 23), ("2026-11-30", 24)])
def test_a_date_range_is_the_whole_of_each_day_in_the_offices_time_zone_also_when_the_clocks_change(day, hours):
    """`to` names a whole day of the office's calendar: up to the next midnight there, which on the
    day the clocks go back in London is 25 hours after the first (it was the first plus 86,400 s:
    a job at 23:30 that day was left out, and on the day they go forward one of the next day's
    first hour let in)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from ackflow_tools.console.filters import parse

    query = parse({"from": day, "to": day}, "Europe/London")
    assert query.problems == []
    start = dt.datetime.fromisoformat(day).replace(tzinfo=ZoneInfo("Europe/London"))
    assert query.filters.created_from == start.timestamp()
    assert query.filters.created_to - query.filters.created_from == hours * 3600


def test_the_last_day_a_date_can_name_is_a_problem_said_not_an_error(runtime):
    """9999-12-31 has no next midnight to end it: the page says the date cannot be read."""
    browser = create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language="en")).test_client()
    answer = browser.get("/jobs?to=9999-12-31")
    assert answer.status_code == 200
    assert "is not a date" in answer.get_data(as_text=True)
