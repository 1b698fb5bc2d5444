"""``newcase`` end to end: on the embedded default (SQLite, a local folder, the local Sheets
service, a test portal) and on the emulators (Firestore, a Cloud Storage emulator)."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from urllib.parse import unquote

import pypdf
import pytest

from ackflow.jobs.model import JobStatus
from tests.support import portal as portal_site
from tests.support.office import run_newcase, running_office, sheet_of, storage_of


@pytest.fixture(scope="module", params=["embedded", "emulators"])
def office(request, tmp_path_factory):
    if request.param == "emulators":
        from tests.conftest import require_tool

        require_tool("java", "the Firestore emulator runs on Java")
    with running_office(tmp_path_factory.mktemp(f"office-{request.param}"), request.param) as pipeline:
        yield pipeline


def test_newcase_through_the_whole_pipeline(office):
    job = run_newcase(office, 'newcase ACME "プレス金型 A-12 🚀" --due 2026-12-01 --portal PO-1042')
    assert job.status == JobStatus.SUCCEEDED, job.last_error
    case = job.result["case"]
    year = time.localtime(job.created_at).tm_year
    assert case.startswith(f"{year}-")
    storage = storage_of(office)
    folder = office.runtime.services.cases.get(case)["folder"]
    assert folder == f"{case}_ACME_プレス金型 A-12 🚀"
    listed = {path[len(folder) + 1:] for path in storage.list(folder)}
    assert {"README.txt", "01_受領資料/受領資料一覧.md", f"02_設計/{case}_設計メモ.csv",
            f"03_見積/見積書_{case}_v1.pdf",
            "01_受領資料/portal/PO-1042/drawing-A12.pdf", "01_受領資料/portal/PO-1042/仕様書.txt"} <= listed
    assert f"案件 {case}" in storage.read(f"{folder}/README.txt").decode()
    assert storage.read(f"{folder}/01_受領資料/portal/PO-1042/drawing-A12.pdf") == portal_site.DRAWING
    pdf = pypdf.PdfReader(io.BytesIO(storage.read(f"{folder}/03_見積/見積書_{case}_v1.pdf"))).pages[0].extract_text()
    for expected in ("御見積書", "ACME 御中", "山田金型設計事務所", "金型設計", "試作立会い", "納期: 2026-12-01",
                     "¥430,000", "¥43,000", "¥473,000"):
        assert expected in pdf, expected
    row = sheet_of(office).find(case)
    assert row.values["client"] == "ACME" and row.values["title"] == "プレス金型 A-12 🚀"
    assert row.values["status"] == "見積提出" and row.values["due"] == "2026-12-01"
    assert row.values["requester"] == "Alice"
    assert unquote(row.values["estimate"]).endswith(f"見積書_{case}_v1.pdf")
    message = json.dumps(office.job_message(job), ensure_ascii=False)
    assert "Done" in message and case in message and "drawing-A12.pdf" in message


def test_case_command_and_a_second_estimate_version(office):
    job = run_newcase(office, 'newcase ACME "治具 B-7"')
    case = job.result["case"]
    redraft = office.wait_job(office.start(f'estimate {case} --item "追加設計:1:50000"'), JobStatus.SUCCEEDED)
    assert redraft.result["estimate_version"] == 2
    storage = storage_of(office)
    folder = office.runtime.services.cases.get(case)["folder"]
    estimates = [p for p in storage.list(folder) if "/03_見積/" in p and p.endswith(".pdf")]
    assert [Path(p).name for p in estimates] == [f"見積書_{case}_v1.pdf", f"見積書_{case}_v2.pdf"]
    row = sheet_of(office).find(case).values
    assert unquote(row["estimate"]).endswith(f"見積書_{case}_v2.pdf")
    # the estimate was submitted (見積提出) with v1; v2 keeps it so, in the record and the sheet
    assert row["status"] == "見積提出" and office.runtime.services.cases.get(case)["status"] == "見積提出"
    shown = json.dumps(office.send(f"case {case}")["reply"]["message"], ensure_ascii=False)
    for expected in (f"Case {case}", "治具 B-7", "v1", "v2", job.id, redraft.id, "見積提出", "受付"):
        assert expected in shown, expected
    assert "There is no case" in json.dumps(office.send("case 1999-001")["reply"]["message"], ensure_ascii=False)
    failed = office.wait_job(office.start("estimate 1999-001"), JobStatus.FAILED)
    assert "there is no case 1999-001" in failed.last_error


@pytest.mark.parametrize("text, complaint", [
    ('newcase ACME "' + "長" * 10_000 + '"', "TITLE is too long"),
    ('newcase ACME "bell\x07"', "control characters"),
    ('newcase "..." "x"', "no usable characters"),
    ('newcase ACME "x" --item "free"', "cannot read the item"),
    ('newcase ACME "x" --item "a:1:0"', "unit price"),
    ("newcase ACME", "TITLE is missing"),
])
def test_hostile_arguments_get_a_clear_reply_and_create_nothing(office, text, complaint):
    before = office.counts()
    reply = office.send(text)["reply"]["message"]["text"]
    assert complaint in reply and "Usage: newcase CLIENT TITLE" in reply
    assert office.counts() == before


def test_hostile_names_stay_inside_the_case_folders(office):
    jobs = [run_newcase(office, text) for text in ('newcase "../../etc" "passwd"', 'newcase "/etc/shadow" "x"',
                                                   'newcase "C:\\\\Windows" "..\\\\..\\\\boot"')]
    assert all(job.status == JobStatus.SUCCEEDED for job in jobs), [j.last_error for j in jobs]
    storage = storage_of(office)
    for job in jobs:
        folder = office.runtime.services.cases.get(job.result["case"])["folder"]
        # one path component, whatever was typed
        assert folder.startswith(job.result["case"] + "_") and "/" not in folder and "\\" not in folder
        assert all(path.startswith(folder + "/") for path in storage.list(folder))
    if office.kind == "embedded":
        root = Path(office.stack.env()["ACKFLOW_OFFICE_LOCAL_ROOT"])
        outside = {p.name for p in root.parent.iterdir()}
        assert "etc" not in outside and "Windows" not in outside
        assert all(p.resolve().is_relative_to(root.resolve()) for p in root.rglob("*"))


def test_a_wrong_portal_password_fails_at_once_with_a_clear_message(office, monkeypatch):
    site = office.site
    original = portal_site.PASSWORD
    monkeypatch.setattr(portal_site, "PASSWORD", "changed-on-the-portal")
    try:
        job = office.wait_job(office.start('newcase ACME "wrong password" --portal PO-1042'), JobStatus.FAILED,
                              timeout=60)
    finally:
        monkeypatch.setattr(portal_site, "PASSWORD", original)
    assert "could not log in to the portal" in job.last_error
    assert job.steps[-1].attempts == 1  # permanent: no retries
    assert site is office.site
