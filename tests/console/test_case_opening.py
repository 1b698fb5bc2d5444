"""A case being opened (its newcase job took the number and has not made the case folder) looks like
any received case on the console's case page: its page says it is not open yet, in the operator's
language, with a link to the job; once its folder is made the note is gone. Through Flask's client
over a real SQLite store."""

from __future__ import annotations

import html
import re
import time

import pytest

from ackflow.jobs.model import Job, JobStatus, Requester, StepState
from ackflow_tools.console.app import ConsoleConfig, create_app
from workers.office.cases import CaseRecords

CASE, JOB = "2026-007", "jopening0001"


def visible(page: str) -> str:
    main = re.search(r"<main>(.*?)</main>", page, re.S).group(1)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))).strip()


def opening(runtime, status: JobStatus) -> None:
    now = time.time()
    runtime.store.create_job(Job(
        id=JOB, type="newcase", params={"client": "ACME", "title": "金型"}, space=None, thread=None,
        requester=Requester("users/1", "hanako@example.com", "山田 花子"), queue="ackflow-office",
        steps=(StepState("number"), StepState("folder")), created_at=now, updated_at=now, status=status))
    CaseRecords(runtime.store.docs).update(CASE, JOB, client="ACME", title="金型", status="受付", by="山田 花子",
                                           opening=JOB)


def page(runtime, language: str) -> str:
    client = create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language=language)).test_client()
    answer = client.get(f"/cases/{CASE}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


@pytest.mark.parametrize(("language", "status", "said"), [
    ("ja", JobStatus.RUNNING, f"ジョブ {JOB} が案件を開いているところです。"
                              "案件フォルダができると、進行中の案件一覧に載ります。"),
    ("en", JobStatus.QUEUED, f"Being opened by job {JOB}: the case is among the open cases once the job has made "
                             "its folder."),
    ("ja", JobStatus.FAILED, f"案件は開かれていません。ジョブ {JOB} が案件フォルダを作る前に失敗したため"),
    ("en", JobStatus.FAILED, f"Not opened: job {JOB} failed before it made the case folder"),
])
def test_a_case_being_opened_says_so_with_a_link_to_its_job(runtime, language, status, said):
    opening(runtime, status)
    shown = page(runtime, language)
    assert said in visible(shown), visible(shown)
    link = re.search(r'<p class="opening"[^>]*>.*?<a href="([^"]+)">([^<]+)</a>', shown, re.S)
    assert link and link.group(1) == f"/jobs/{JOB}", shown
    assert html.unescape(link.group(2)) == (f"ジョブ {JOB} を見る" if language == "ja" else f"Show job {JOB}")


def test_the_note_is_gone_once_the_folder_is_made(runtime):
    opening(runtime, JobStatus.RUNNING)
    CaseRecords(runtime.store.docs).update(CASE, JOB, folder=f"{CASE}_ACME_金型", opening=None)
    shown = page(runtime, "en")
    assert 'class="opening"' not in shown and "Being opened" not in shown


def test_a_cases_status_is_called_as_the_chat_calls_it_on_both_case_pages(runtime):
    """The chat and the office guide say 状況 for a case's state (案件一覧 状況=…); the console's case
    pages said 状態, the word its jobs pages use for a job's."""
    opening(runtime, JobStatus.RUNNING)
    client = create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language="ja")).test_client()
    for path in (f"/cases/{CASE}", "/cases"):
        shown = visible(client.get(path).get_data(as_text=True))
        assert "状況" in shown and "状態" not in shown, (path, shown)
    assert "状態" in visible(client.get("/jobs").get_data(as_text=True))  # a job's state stays 状態



@pytest.mark.parametrize(("language", "said"), [("ja", "受付"), ("en", "received (受付)")])
def test_a_cases_status_is_said_in_the_readers_language_on_the_list_and_its_page(runtime, language, said):
    """The status is kept as the office writes it (受付); an English reader of the console is told
    what it means, as the chat's ``case`` tells them (“received (受付)”), on the list and the page."""
    opening(runtime, JobStatus.RUNNING)
    client = create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language=language)).test_client()
    listed = client.get("/cases").get_data(as_text=True)
    row = re.search(rf'<tr data-case="{CASE}">(.*?)</tr>', listed, re.S).group(1)
    cells = [html.unescape(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[3] == said, cells
    facts = dict(re.findall(r"<dt>([^<]*)</dt><dd>([^<]*)</dd>", page(runtime, language)))
    assert html.unescape(facts["状況" if language == "ja" else "Case status"]) == said, facts
