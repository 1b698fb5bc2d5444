"""The periodic jobs page: each scheduled job type with its schedule (cron), its last slot and next
run in the office's time zone, and its last run: the newest job of that type, linked, with its
status; Run now starts one, which becomes the last run."""

from __future__ import annotations

import html
import re

from ackflow_tools.console.app import ConsoleConfig, create_app


def facts(page: str, name: str) -> dict[str, str]:
    """The periodic job's facts as a person reads them (its <dt> and <dd>, tags left out)."""
    section = re.search(rf'data-periodic="{name}">(.*?)</section>', page, re.S).group(1)
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", section, re.S)
    return {html.unescape(dt): " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dd)).split()) for dt, dd in pairs}


def test_the_last_run_is_the_newest_job_of_the_type_linked_with_its_status(runtime):
    browser = create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language="en",
                                       time_zone="Asia/Tokyo")).test_client()
    page = browser.get("/periodic").get_data(as_text=True)
    before = facts(page, "tick")
    assert before["Schedule"] == "* * * * *" and before["Last run"] == "—", before
    assert before["Next run"] and before["Last slot"], before
    form = {"csrf_token": browser.get_cookie("ackflow_csrf").value, "confirmed": "1", "key": "abcdef123456"}
    started = browser.post("/periodic/tick/run", data=form)
    assert started.status_code == 302
    job_id = started.headers["Location"].rsplit("/", 1)[1]
    job = runtime.store.get_job(job_id)
    assert job.type == "tick"
    page = browser.get("/periodic").get_data(as_text=True)
    after = facts(page, "tick")
    label = {"QUEUED": "Queued", "RUNNING": "Running", "SUCCEEDED": "Succeeded"}[job.status.value]
    assert after["Last run"].startswith(f"{job_id} {label} "), after
    section = re.search(r'data-periodic="tick">(.*?)</section>', page, re.S).group(1)
    assert f'href="/jobs/{job_id}"' in section
