"""The office workflow under stress, on the embedded default and on the Drive stand-in (both
stores): 20 cases opened and 20 invoices issued at once, and a worker killed inside each step of
``newcase`` and of ``invoice``; on Drive also while a write is on its way (Drive has made the file,
the worker never hears of it), with Drive's search current and lagging."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
import requests

from ackflow.jobs.model import JobStatus
from tests.support.drive import all_files
from tests.support.office import (
    KINDS,
    documents_tab,
    drive_tree,
    run_newcase,
    running_office,
    sheet_of,
    snapshot,
    storage_of,
)

pytestmark = pytest.mark.slow  # started first by scripts/test (tests/conftest.py)


AFTER_A_KILL = 150  # s: on the Firestore emulator a killed worker's transaction keeps its locks until they
# time out, and on a loaded machine each commit behind them waits (seen: 16 s per commit, 60 s not enough)


@pytest.fixture(scope="module", params=["embedded", "drive", "drive-firestore"])
def office(request, tmp_path_factory):
    if KINDS[request.param][0] == "firestore":
        from tests.conftest import require_tool

        require_tool("java", "the Firestore emulator runs on Java")
    with running_office(tmp_path_factory.mktemp(f"office-crashes-{request.param}"), request.param) as pipeline:
        yield pipeline


def test_twenty_concurrent_newcase_jobs_get_consecutive_numbers(office):
    jobs = [office.start(f'newcase B社 "同時 {n}"') for n in range(20)]
    done = [office.wait_job(job_id, JobStatus.SUCCEEDED, timeout=120) for job_id in jobs]
    numbers = sorted(int(job.result["case"].split("-")[1]) for job in done)
    assert numbers == list(range(numbers[0], numbers[0] + 20))
    rows = office.runtime.store.docs.query("cases", [], "created_at", False, 1000)
    assert len({r["case"] for r in rows}) == len(rows)
    if office.kind.startswith("drive"):
        for job in done:
            made = drive_tree(office, job.result["case"])
            assert made and all(len(items) == 1 for items in made.values())


STEPS = ["number", "folder", "sheet", "estimate", "portal"]


@pytest.mark.parametrize("step", STEPS)
def test_a_worker_killed_inside_a_step_leaves_the_same_case_as_an_undisturbed_run(office, step):
    calm = run_newcase(office, 'newcase ACME "Kill test" --portal PO-1042')
    job_id = office.killed_at(f"newcase:{step}", 'newcase ACME "Kill test" --portal PO-1042')
    killed = office.wait_job(job_id, JobStatus.SUCCEEDED, timeout=AFTER_A_KILL)
    assert killed.steps[STEPS.index(step)].attempts == 2
    calm_case, killed_case = calm.result["case"], killed.result["case"]
    assert int(killed_case.split("-")[1]) == int(calm_case.split("-")[1]) + 1  # no gap, no second number
    assert snapshot(office, killed_case)["files"] == snapshot(office, calm_case)["files"]
    assert snapshot(office, killed_case)["sheet"] == snapshot(office, calm_case)["sheet"]
    assert snapshot(office, killed_case)["estimates"] == 1
    assert snapshot(office, killed_case)["duplicates"] == []
    assert snapshot(office, killed_case)["documents"] == snapshot(office, calm_case)["documents"]
    cases = [r["case"] for r in office.runtime.store.docs.query("cases", [], "created_at", False, 1000)]
    assert cases.count(killed_case) == 1
    sheet_cases = [v for v in sheet_of(office).worksheet().col_values(1) if v == killed_case]
    assert sheet_cases == [killed_case]
    office.job_message(killed)  # the result is written after the job is recorded SUCCEEDED
    messages = [m for m in office.messages().values() if m.get("clientAssignedMessageId") == killed.message_id]
    assert len(messages) == 1
    if office.kind.startswith("drive"):
        assert_one_of_each(office, calm_case, killed_case)


def assert_one_of_each(office, calm_case: str, killed_case: str) -> None:
    """Listing the stand-in: one case folder, one copy of each file, the same tree as a calm run."""
    calm, killed = drive_tree(office, calm_case), drive_tree(office, killed_case)
    assert {p: len(items) for p, items in killed.items() if len(items) > 1} == {}
    assert {p.replace(killed_case, "CASE") for p in killed} == {p.replace(calm_case, "CASE") for p in calm}


# the write to hold on Drive: (step, a piece of "METHOD path", an ASCII piece of the request's body)
DRIVE_WRITES = {"folder": ("folder", "POST /upload", "README.txt"),
                # the template's Google Doc: copied into a holding folder (Drive takes no id for it)
                "folder-native-copy": ("folder", "/copy", "ackflowHold"),
                "estimate": ("estimate", "POST /upload", "_v1.pdf"),
                "portal": ("portal", "POST /upload", "drawing-A12")}


@pytest.mark.only_for(office=("drive", "drive-firestore"))
@pytest.mark.parametrize("lag", [0, 600], ids=["search-current", "search-lagging"])
@pytest.mark.parametrize("write", list(DRIVE_WRITES))
def test_on_drive_a_worker_killed_while_a_write_is_on_its_way_leaves_one_of_each(office, write, lag):
    """With ``lag``, Drive's search shows nothing made in the test (as it may lag writes): the
    retry must know what the killed attempt made by the ids reserved in the job store."""
    drive = office.stack.url("drive")
    requests.put(f"{drive}/_emulator/search_lag", json={"seconds": lag}, timeout=5).raise_for_status()
    try:
        lost_answer(office, drive, write)
    finally:
        requests.put(f"{drive}/_emulator/search_lag", json={"seconds": 0}, timeout=5)


def lost_answer(office, drive: str, write: str) -> None:
    step, match, body = DRIVE_WRITES[write]
    calm = run_newcase(office, 'newcase ACME "Lost answer" --portal PO-1042')
    requests.delete(f"{drive}/_emulator/faults", timeout=5)
    requests.post(f"{drive}/_emulator/faults", json={"faults": [
        {"match": match, "body": body, "stall": 60, "count": 1}]}, timeout=5)
    try:
        job_id = office.start('newcase ACME "Lost answer" --portal PO-1042')
        deadline = time.monotonic() + 30
        while requests.get(f"{drive}/_emulator/faults", timeout=5).json()["stalled"] < 1:
            assert time.monotonic() < deadline, f"the worker never wrote {body} in {step}"
            time.sleep(0.05)
        office.stack.restart("worker")  # Drive has made the file; its answer never arrives
    finally:
        requests.delete(f"{drive}/_emulator/faults", timeout=5)
    killed = office.wait_job(job_id, JobStatus.SUCCEEDED, timeout=AFTER_A_KILL)
    assert killed.steps[STEPS.index(step)].attempts == 2
    assert_one_of_each(office, calm.result["case"], killed.result["case"])
    assert snapshot(office, killed.result["case"])["files"] == snapshot(office, calm.result["case"])["files"]
    held = [f for f in all_files(drive) if "ackflowHold" in f.get("appProperties", {}) and not f["trashed"]]
    assert held == []  # no holding folder left, and what the lost answer made is in the trash




def _invoice(office, text: str, timeout: float = 120):
    return office.wait_job(office.start(text), JobStatus.SUCCEEDED, timeout=timeout)


def test_twenty_concurrent_invoice_jobs_get_twenty_consecutive_numbers(office):
    cases = []
    for batch in range(4):  # the cases first, five at a time (the office queue's rate in production)
        opened = [office.start(f'newcase C社 "同時請求 {batch}-{n}" --item "設計:1:1000"') for n in range(5)]
        cases += [office.wait_job(job_id, JobStatus.SUCCEEDED, timeout=180).result["case"] for job_id in opened]
    jobs = [office.start(f'invoice {case} --item "設計:1:10000"') for case in cases]
    done = [office.wait_job(job_id, JobStatus.SUCCEEDED, timeout=180) for job_id in jobs]
    numbers = sorted(int(job.result["invoice"].rsplit("-", 1)[1]) for job in done)
    assert numbers == list(range(numbers[0], numbers[0] + 20))  # no gap, no double
    storage = storage_of(office)
    for job in done:
        record = office.runtime.services.cases.get(job.result["case"])
        assert [i["number"] for i in record["invoices"]] == [job.result["invoice"]]
        pdfs = [p for p in storage.list(record["folder"]) if "/05_請求/" in p and p.endswith(".pdf")]
        assert pdfs == [f"{record['folder']}/05_請求/請求書_{job.result['invoice']}.pdf"]


def test_a_worker_killed_inside_an_estimate_leaves_one_version_and_one_pdf_of_it(office):
    """``estimate`` issues v2 and files it (on Drive, an upload): killed after that, before the step
    is recorded, the retry finds its version and its PDF, and makes neither again."""
    case = run_newcase(office, 'newcase ACME "見積 kill" --item "金型設計:1:350000"').result["case"]
    job_id = office.killed_at("estimate:draft", f'estimate {case} --item "追加設計:1:50000"')
    killed = office.wait_job(job_id, JobStatus.SUCCEEDED, timeout=AFTER_A_KILL)
    assert killed.steps[0].attempts == 2 and killed.result["estimate_version"] == 2
    record = office.runtime.services.cases.get(case)
    assert [e["version"] for e in record["estimates"]] == [1, 2]
    pdfs = [p for p in storage_of(office).list(record["folder"]) if "/03_見積/" in p and p.endswith(".pdf")]
    assert [p.rsplit("/", 1)[1] for p in pdfs] == [f"見積書_{case}_v1.pdf", f"見積書_{case}_v2.pdf"]
    assert snapshot(office, case)["duplicates"] == []
    if office.kind.startswith("drive"):  # Drive allows two files of one name: count them by listing
        tree = drive_tree(office, case)
        assert {path: len(items) for path, items in tree.items() if len(items) > 1} == {}


INVOICE_STEPS = ["number", "issue", "file"]


@pytest.mark.parametrize("step", INVOICE_STEPS)
def test_a_worker_killed_inside_an_invoice_step_leaves_the_same_invoice_as_an_undisturbed_run(office, step):
    calm_case = run_newcase(office, 'newcase ACME "請求 kill" --item "金型設計:1:350000" --item "弁当:2:800:8%"')
    killed_case = run_newcase(office, 'newcase ACME "請求 kill" --item "金型設計:1:350000" --item "弁当:2:800:8%"')
    day = dt.datetime.now(ZoneInfo("Asia/Tokyo")).date()  # the office's today: a transaction date it takes
    calm = _invoice(office, f"invoice {calm_case.result['case']} --date {day} --item \"設計:1:350000\"")
    job_id = office.killed_at(f"invoice:{step}",
                       f"invoice {killed_case.result['case']} --date {day} --item \"設計:1:350000\"")
    killed = office.wait_job(job_id, JobStatus.SUCCEEDED, timeout=AFTER_A_KILL)
    assert killed.steps[INVOICE_STEPS.index(step)].attempts == 2
    first, second = calm.result["invoice"], killed.result["invoice"]
    assert int(second.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1  # no gap, no second number
    calm_snapshot = snapshot(office, calm_case.result["case"])
    killed_snapshot = snapshot(office, killed_case.result["case"])
    assert killed_snapshot["duplicates"] == calm_snapshot["duplicates"] == []
    if office.kind.startswith("drive"):  # Drive allows two files of one name: count them by listing
        tree = drive_tree(office, killed_case.result["case"])
        assert {path: len(items) for path, items in tree.items() if len(items) > 1} == {}
    calm_files, killed_files = calm_snapshot["files"], killed_snapshot["files"]
    pdf = f"/05_請求/請求書_{first}.pdf"
    assert calm_files.pop(pdf).replace(first, "N") == killed_files.pop(pdf.replace(first, second)).replace(second, "N")
    assert killed_files == calm_files
    record = office.runtime.services.cases.get(killed_case.result["case"])
    assert [i["number"] for i in record["invoices"]] == [second]
    assert [d["number"] for d in record["issued"] if d["kind"] == "invoice"] == [second]
    tab = documents_tab(office)
    assert tab[second]["amount"] == tab[first]["amount"] == "385000"
    assert sheet_of(office).find(killed_case.result["case"]).values["status"] == "請求"


@pytest.mark.only_for(office=("embedded",))  # the rule is the job's, not the storage's
def test_an_invoice_job_that_took_its_number_is_not_cancelled_and_finishes(office):
    case = run_newcase(office, 'newcase ACME "取消不可" --item "金型設計:1:100000"').result["case"]

    def refused(job_id: str) -> None:  # the number is taken and recorded; the issue step holds
        answer = office.send(f"cancel {job_id}")["reply"]["message"]["text"]
        assert "cannot be cancelled" in answer and "retry it" in answer, answer
        assert office.runtime.store.get_job(job_id).status == JobStatus.RUNNING

    job_id = office.killed_at("invoice:issue", f'invoice {case} --item "設計:1:100000"', refused)
    done = office.wait_job(job_id, JobStatus.SUCCEEDED, timeout=AFTER_A_KILL)
    assert done.result["invoice"] == done.steps[0].output["invoice"]  # the number it took, issued


@pytest.mark.only_for(office=("embedded",))  # the rule is the job's, not the storage's
def test_an_invoice_job_is_not_cancelled_once_its_number_step_has_decided_the_invoice(office):
    """Cancel while the number step runs (its number taken, the step not yet recorded): refused, as
    after the step; a cancel that won would leave the number taken by a job no one can retry, a gap
    in the year's invoices (and a case noting an invoice being issued by a cancelled job)."""
    case = run_newcase(office, 'newcase ACME "取消不可 2" --item "金型設計:1:100000"').result["case"]
    counter = f"invoice-{dt.datetime.now(ZoneInfo('Asia/Tokyo')).year}"  # the office's year
    before = office.runtime.store.counter_value(counter)

    def refused(job_id: str) -> None:
        assert office.runtime.store.counter_value(counter) == before + 1  # taken, the step not recorded yet
        answer = office.send(f"cancel {job_id}")["reply"]["message"]["text"]
        assert "cannot be cancelled" in answer, answer
        assert office.runtime.store.get_job(job_id).status == JobStatus.RUNNING

    job_id = office.killed_at("invoice:number", f'invoice {case} --item "設計:1:100000"', refused)
    done = office.wait_job(job_id, JobStatus.SUCCEEDED, timeout=AFTER_A_KILL)
    assert done.result["invoice"].endswith(f"-{before + 1:04d}")  # the number it took, issued
    assert office.runtime.store.counter_value(counter) == before + 1
    invoices = office.runtime.services.cases.get(case)["invoices"]
    assert [i["number"] for i in invoices] == [done.result["invoice"]]  # nothing left pending
