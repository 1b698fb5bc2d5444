"""The office's documents issued in freee 請求書 (the local stand-in, as ``ackflow dev --accounting
freee`` runs it): estimates and invoices created there with our numbers, the client a partner,
links in the case and the documents tab; a revoked grant fails the job with a card that says how to
re-authorize, before any number is taken, and the Retry button then finishes it."""

from __future__ import annotations

import datetime as dt
import json
import time
from zoneinfo import ZoneInfo

import pytest
import requests

from ackflow.jobs.model import JobStatus
from tests.support.office import documents_rows, documents_tab, run_newcase, running_office

pytestmark = pytest.mark.slow  # started first by scripts/test (tests/conftest.py)


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    with running_office(tmp_path_factory.mktemp("freee"), "embedded", accounting="freee") as pipeline:
        pipeline.freee = pipeline.stack.url("freee")
        yield pipeline


def freee_state(office) -> dict:
    return requests.get(f"{office.freee}/_emulator/state", timeout=10).json()


def run(office, text: str, status: JobStatus = JobStatus.SUCCEEDED):
    job = office.wait_job(office.start(text), JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=60)
    assert job.status == status, job.last_error
    return job


def test_estimates_and_invoices_are_issued_in_freee(office):
    opened = run_newcase(office, 'newcase "株式会社ACME" "金型 F-1" --item "金型設計:1:350000" --item "弁当:2:800:8%"')
    assert opened.status == JobStatus.SUCCEEDED, opened.last_error
    case = opened.result["case"]
    assert run(office, f'estimate {case} --change "1=::360000"').result["estimate_version"] == 2
    run(office, f"ordered {case}")
    invoice = run(office, f"invoice {case}")
    number = invoice.result["invoice"]
    state = freee_state(office)
    quotations = {q["quotation_number"]: q for q in state["quotations"]}
    assert {f"{case}-v1", f"{case}-v2"} <= set(quotations)
    created = [i for i in state["invoices"] if i["invoice_number"] == number]
    assert len(created) == 1
    freee_invoice = created[0]
    assert (freee_invoice["amount_excluding_tax_10"], freee_invoice["amount_tax_10"]) == (360000, 36000)
    assert (freee_invoice["amount_excluding_tax_8_reduced"], freee_invoice["amount_tax_8_reduced"]) == (1600, 128)
    assert freee_invoice["tax_fraction"] == "omit" and freee_invoice["partner_title"] == "御中"
    assert freee_invoice["bank_account_to_transfer"] and freee_invoice["payment_type"] == "transfer"
    assert [p["name"] for p in state["partners"]].count("株式会社ACME") == 1
    link = invoice.result["freee_invoice_link"]  # freee's page of the invoice, not a PDF
    assert link == f"{office.freee}/web/reports/invoices/{freee_invoice['id']}"
    assert "invoice_link" not in invoice.result
    # each button says what it opens: freee's page ("Open the invoice (PDF)" opened no PDF)
    for job, page, label in ((opened, "quotations", "Open the estimate in freee"),
                             (invoice, "invoices", "Open the invoice in freee")):
        said = buttons_of(office.job_message(job))
        assert [text for text, url in said if f"/web/reports/{page}/" in url] == [label], said
        assert not any("PDF" in text for text, _ in said), said
    assert documents_tab(office)[number]["service"] == "freee"
    assert office.runtime.services.cases.get(case)["status"] == "請求"


def buttons_of(message: dict) -> list[tuple[str, str]]:
    """The link buttons of a message: (label, URL)."""
    found: list[tuple[str, str]] = []

    def walk(value):
        if isinstance(value, dict):
            if "text" in value and "openLink" in (value.get("onClick") or {}):
                found.append((value["text"], value["onClick"]["openLink"]["url"]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(message)
    return found


def test_a_revoked_grant_fails_before_a_number_is_taken_and_retry_finishes_after_authorizing(office):
    case = run_newcase(office, 'newcase "山田製作所" "治具 G-2" --item "設計:1:80000"').result["case"]
    run(office, f"ordered {case}")
    year = dt.datetime.now(ZoneInfo("Asia/Tokyo")).year  # the office's year, as invoice numbers count
    before = office.runtime.store.counter_value(f"invoice-{year}")
    requests.post(f"{office.freee}/_emulator/control", json={"revoke": True, "expire_access_tokens": True},
                  timeout=10)
    failed = run(office, f"invoice {case}", JobStatus.FAILED)
    assert "ackflow freee authorize" in failed.last_error and failed.steps[0].attempts == 1
    assert office.runtime.store.counter_value(f"invoice-{year}") == before
    card = json.dumps(office.job_message(failed), ensure_ascii=False)
    assert "ackflow freee authorize" in card and "Retry" in card

    office.stack.authorize_freee(again=True)  # an administrator runs `ackflow freee authorize`
    office.click(office.job_message(failed), "Retry")
    done = office.wait_job(failed.id, JobStatus.SUCCEEDED, timeout=60)
    assert done.result["invoice"].endswith(f"-{before + 1:04d}")
    uses = freee_state(office)["refresh_uses"]
    assert len(uses) == len(set(uses))  # no refresh token was ever presented twice


def control(office, **settings) -> None:
    requests.post(f"{office.freee}/_emulator/control", json=settings, timeout=10).raise_for_status()


def cloud_tasks(office):
    """The official Cloud Tasks client, on the local service the stack's worker is fed from."""
    from google.cloud import tasks_v2

    from ackflow.adapters.google_clients import client_settings

    queue = office.runtime.queue
    credentials, options = client_settings(queue.endpoint, queue.anonymous)
    return tasks_v2.CloudTasksClient(transport="rest", credentials=credentials, client_options=options)


def waiting(office, job_id: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        job = office.runtime.store.get_job(job_id)
        if job.generation > 0 and job.next_attempt_at and job.steps[job.current].attempts:
            return job
        assert time.monotonic() < deadline and not job.status.finished, (job.status, job.last_error)
        time.sleep(0.1)


def task_once_sent(client, name: str, timeout: float = 30.0):
    """The task ``name``: the worker records the step's wait (the job's new generation) and then
    sends its task, so the job may name a task the queue has not got yet (seen under load: 404)."""
    from google.api_core.exceptions import NotFound

    deadline = time.monotonic() + timeout
    while True:
        try:
            return client.get_task(name=name)
        except NotFound:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_freee_limiting_access_makes_the_invoice_wait_its_lockout_out_then_finish(office):
    """freee answers 403 to every call for about ten minutes after too many: the job neither fails
    nor spends the queue's quick retries; its step waits for a task of its own, sent 11 minutes
    later, before any number is taken. Run early (Cloud Tasks' tasks.run) once freee takes the app
    again, it issues the next number."""
    from ackflow.taskqueue.base import task_name

    case = run_newcase(office, 'newcase "株式会社ACME" "治具 L-4" --item "設計:1:90000"').result["case"]
    run(office, f"ordered {case}")
    year = dt.datetime.now(ZoneInfo("Asia/Tokyo")).year  # the office's year, as invoice numbers count
    before = office.runtime.store.counter_value(f"invoice-{year}")
    control(office, lock=120)  # freee starts limiting the app
    try:
        job = waiting(office, office.start(f"invoice {case}"))
        asked = time.time()
        assert job.status == JobStatus.RUNNING and job.current == 0 and job.steps[0].attempts == 1
        assert "limiting this app's access" in job.last_error and "in 11 min" in job.last_error
        assert 600 <= job.next_attempt_at - asked <= 661
        assert office.runtime.store.counter_value(f"invoice-{year}") == before  # no number taken
        client = cloud_tasks(office)
        name = f"{office.runtime.queue.queue_path(job.queue)}/tasks/{task_name(job.id, 0, job.generation)}"
        task = task_once_sent(client, name)
        assert task.schedule_time.timestamp() - asked >= 600  # the queue holds it until then
        time.sleep(1)
        assert office.runtime.store.get_job(job.id).steps[0].attempts == 1  # nothing retried it sooner
    finally:
        control(office, lock=0)  # freee takes the app again
    client.run_task(name=name)
    done = office.wait_job(job.id, JobStatus.SUCCEEDED, timeout=60)
    assert done.result["invoice"].endswith(f"-{before + 1:04d}")
    assert [i["invoice_number"] for i in freee_state(office)["invoices"]].count(done.result["invoice"]) == 1


def test_a_permission_the_freee_app_lacks_fails_the_invoice_at_once_and_retry_finishes_it(office):
    case = run_newcase(office, 'newcase "株式会社ACME" "治具 P-5" --item "設計:1:70000"').result["case"]
    run(office, f"ordered {case}")
    control(office, denials=[{"method": "POST", "path": "^/iv/invoices$"}])  # 請求書: read only
    try:
        failed = run(office, f"invoice {case}", JobStatus.FAILED)
    finally:
        control(office, denials=[])
    assert failed.steps[1].attempts == 1  # not retried: no retry can fix it
    assert "lacks the permission to write invoices (請求書) in freee請求書" in failed.last_error
    assert "権限設定" in failed.last_error and "ackflow freee authorize" in failed.last_error
    number = failed.steps[0].output["invoice"]
    card = json.dumps(office.job_message(failed), ensure_ascii=False)
    assert "権限設定" in card and "Retry" in card
    office.click(office.job_message(failed), "Retry")  # the administrator allowed it in freee
    done = office.wait_job(failed.id, JobStatus.SUCCEEDED, timeout=60)
    assert done.result["invoice"] == number  # the number it took is the one issued


def refuse_next_invoice(office) -> None:
    """freee refuses the next invoice created (a 400 with its own words): the job's ``issue`` step
    fails for good, after the ``number`` step took the number."""
    requests.put(f"{office.freee}/_emulator/faults", json=[{"status": 400, "method": "POST",
                                                            "path": "^/iv/invoices$"}], timeout=10).raise_for_status()


def row_of(office, number: str, state: str, timeout: float = 20) -> dict:
    """The documents tab's row of ``number`` once it says ``state`` (the row follows the card)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [row for row in documents_rows(office) if row["number"] == number]
        if rows and rows[0].get("state") == state:
            assert len(rows) == 1, rows
            return rows[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no {state} row for {number}: {rows}\n{office.stack.procs['worker'].log_tail(30)}")
        time.sleep(0.1)


def swept(office):
    """What the worker's sweep (as Cloud Scheduler calls it) did for the numbers not issued."""
    report = office.stack.sweep_once()
    assert "error" not in report, report
    return report["tasks"].get("unissued_invoices")


def test_an_invoice_failing_after_its_number_shows_it_unissued_and_the_retry_issues_that_number(office):
    from ackflow_tools.console.app import ConsoleConfig, create_app
    case = run_newcase(office, 'newcase "佐藤工業" "型 H-3" --item "設計:1:120000"').result["case"]
    run(office, f"ordered {case}")
    year = dt.datetime.now(ZoneInfo("Asia/Tokyo")).year  # the office's year, as invoice numbers count
    before = office.runtime.store.counter_value(f"invoice-{year}")
    refuse_next_invoice(office)
    failed = run(office, f"invoice {case}", JobStatus.FAILED)
    number = failed.outputs()["number"]["invoice"]
    assert number.endswith(f"-{before + 1:04d}") and failed.steps[1].attempts == 1  # permanent: not retried
    # the number is not lost silently: the documents tab, the failure card, `case` and the console say so
    row = row_of(office, number, "未発行")
    assert (row["job"], row["case"], row["kind"], row["client"]) == (failed.id, case, "請求書", "佐藤工業")
    assert row["amount"] == "" and row["date"] == "" and row["link"] == ""  # nothing was issued
    card = json.dumps(office.job_message(failed), ensure_ascii=False)
    assert f"Invoice number {number} is taken by this job and not issued" in card and "the same number" in card
    assert "Retry" in card
    shown = json.dumps(office.send(f"case {case}")["reply"]["message"], ensure_ascii=False)
    assert number in shown and f"not issued (未発行): job {failed.id} failed; retry it" in shown
    in_japanese = json.dumps(office.send(f"案件 {case}", locale="ja")["reply"]["message"], ensure_ascii=False)
    assert f"未発行です。ジョブ {failed.id} が失敗しました" in in_japanese
    console = create_app(ConsoleConfig(runtime=office.runtime, operator="ops@example.com", language="en"))
    page = console.test_client().get(f"/cases/{case}").get_data(as_text=True)
    assert f'data-invoice="{number}"' in page and "未発行" in page and failed.id in page
    # the sweep finds it written for this failure: nothing to do, twice
    assert swept(office) is None
    assert swept(office) is None

    office.click(office.job_message(failed), "Retry")
    done = office.wait_job(failed.id, JobStatus.SUCCEEDED, timeout=60)
    assert done.result["invoice"] == number  # the same number, none taken for it
    assert office.runtime.store.counter_value(f"invoice-{year}") == before + 1
    issued = row_of(office, number, "発行済")  # the same row, updated: no second one
    assert issued["job"] == failed.id and issued["amount"] == "132000" and issued["date"] and issued["link"]
    assert [i["invoice_number"] for i in freee_state(office)["invoices"]].count(number) == 1
    shown = json.dumps(office.send(f"case {case}")["reply"]["message"], ensure_ascii=False)
    assert "未発行" not in shown and number in shown
    page = console.test_client().get(f"/cases/{case}").get_data(as_text=True)
    assert "未発行" not in page
    assert swept(office) is None


def test_a_worker_killed_before_writing_the_unissued_row_leaves_it_to_the_sweep(office):
    from pathlib import Path

    case = run_newcase(office, 'newcase "佐藤工業" "型 H-4" --item "設計:1:50000"').result["case"]
    run(office, f"ordered {case}")
    control = Path(office.stack.env()["ACKFLOW_TEST_PAUSE_FILE"])
    reached = control.with_suffix(".reached")
    reached.unlink(missing_ok=True)
    control.write_text("invoice:failed")  # the worker stops after the failure card, before the row
    try:
        refuse_next_invoice(office)
        job_id = office.start(f"invoice {case}")
        deadline = time.monotonic() + 30
        while not reached.exists():
            assert time.monotonic() < deadline, office.stack.procs["worker"].log_tail(30)
            time.sleep(0.05)
        office.stack.restart("worker")  # SIGKILL there
    finally:
        control.unlink(missing_ok=True)
    failed = office.wait_job(job_id, JobStatus.FAILED)
    number = failed.outputs()["number"]["invoice"]
    assert number not in {row["number"] for row in documents_rows(office)}  # not written: the worker died
    assert swept(office) == {"noted": [number], "errors": []}
    assert row_of(office, number, "未発行", timeout=0)["job"] == job_id
    assert swept(office) is None  # twice: once
    assert [row["number"] for row in documents_rows(office)].count(number) == 1
    office.click(office.job_message(failed), "Retry")
    assert office.wait_job(job_id, JobStatus.SUCCEEDED, timeout=60).result["invoice"] == number
    assert row_of(office, number, "発行済")["amount"] == "55000"


def test_an_invoice_freee_already_holds_with_other_totals_is_said_in_yen(office):
    """Someone made the next number by hand in freee, for other amounts: the job finds it by number,
    refuses to take it for ours, and says both totals as amounts of yen (it said Python's dicts:
    ``{'by_rate': [{'rate': 10, …}]…}``), in the requester's language."""
    case = run_newcase(office, 'newcase "高橋製作所" "型 K-2" --item "設計:1:100000"').result["case"]
    run(office, f"ordered {case}")
    year = dt.datetime.now(ZoneInfo("Asia/Tokyo")).year  # the office's year, as invoice numbers count
    number = f"INV-{year}-{office.runtime.store.counter_value(f'invoice-{year}') + 1:04d}"
    token = office.runtime.store.docs.get("oauth_grants", "freee")["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    partner = requests.post(f"{office.freee}/api/1/partners", headers=auth, timeout=10,
                            json={"company_id": 1001, "name": "手入力の取引先"}).json()["partner"]
    requests.post(f"{office.freee}/iv/invoices", headers=auth, timeout=10, json={
        "company_id": 1001, "invoice_number": number, "billing_date": f"{year}-11-01", "tax_entry_method": "out",
        "tax_fraction": "omit", "withholding_tax_entry_method": "out", "partner_title": "御中",
        "partner_id": partner["id"],
        "lines": [{"type": "item", "description": "手入力", "quantity": 1, "unit_price": "5000", "tax_rate": 10}],
    }).raise_for_status()
    failed = run(office, f"invoice {case}", JobStatus.FAILED)
    said = failed.last_error
    assert "by_rate" not in said and "{" not in said, said
    assert "¥5,500" in said and "¥110,000" in said and number in said, said
    card = json.dumps(office.job_message(failed), ensure_ascii=False)
    assert "by_rate" not in card and "¥5,500" in card and "¥110,000" in card
