"""The office's money and case flow end to end, on the embedded default (SQLite, a local folder)
and on the emulators (Firestore, a Cloud Storage emulator): newcase → estimate v1 → v2 (from v1)
→ ordered → delivered → invoice → paid, with the sheet, the documents tab and ``case`` showing it;
and the refusals, each leaving nothing half-made and no number taken."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import pytest

from ackflow.i18n import ENGLISH
from ackflow.jobs.model import JobStatus
from tests.support.mail import request_due
from tests.support.office import documents_tab, pdf_text, run_newcase, running_office, sheet_of, storage_of
from workers.office import ledger

pytestmark = pytest.mark.slow  # started first by scripts/test (tests/conftest.py)


@pytest.fixture(scope="module", params=["embedded", "emulators"])
def office(request, tmp_path_factory):
    if request.param == "emulators":
        from tests.conftest import require_tool

        require_tool("java", "the Firestore emulator runs on Java")
    # the office's deployment: its cron schedules and its dates both in Tokyo (ACKFLOW_TIME_ZONE and
    # ACKFLOW_OFFICE_TIMEZONE, as Terraform sets them from time_zone; `ackflow config --check` refuses a split)
    with running_office(tmp_path_factory.mktemp(f"money-{request.param}"), request.param,
                        time_zone="Asia/Tokyo") as pipeline:
        yield pipeline


def run(office, text: str, status: JobStatus = JobStatus.SUCCEEDED, timeout: float = 60):
    job = office.wait_job(office.start(text), JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=timeout)
    assert job.status == status, job.last_error
    return job


def shown(office, text: str) -> str:
    return json.dumps(office.send(text)["reply"]["message"], ensure_ascii=False)


def refused(office, text: str, **client) -> str:
    """``text`` is refused at once, in place of its card (the case's state forbids it): the reply says
    why; no request is stored, no job made."""
    before = office.counts()
    reply = office.send(text, **client)["reply"]["message"]
    assert "cardsV2" not in reply, reply
    assert office.counts() == before
    return reply["text"]


def invoices_counted(office) -> int:
    return office.runtime.store.counter_value(f"invoice-{office_year()}")


def test_a_case_from_opening_to_payment(office):
    due = request_due()  # a month ahead: a case's due date is never in the past
    opened = run_newcase(office, f'newcase ACME "金型一式 C-3" --due {due} '
                                 '--item "金型設計:1:350000" --item "試作立会い:2:40000"')
    case = opened.result["case"]
    docs = office.runtime.store.docs

    v2 = run(office, f'estimate {case} --change "1=::380000" --item "弁当:3:800:8%" --to "株式会社ACME"')
    assert v2.result["estimate_version"] == 2
    estimate = ledger.get(docs, "quotation", f"{case}-v2")
    assert [line.text() for line in estimate.lines] == ["金型設計:1:380000", "試作立会い:2:40000", "弁当:3:800:8%"]
    assert estimate.recipient == "株式会社ACME" and estimate.valid_until and estimate.version == 2

    assert run(office, f"ordered {case}").result["status"] == "受注"
    # delivered tomorrow (in the office's time zone; at most a week ahead is taken): not the invoice's own
    # date, so its transaction date shows to be the delivery's
    delivered_on = dt.datetime.now(ZoneInfo("Asia/Tokyo")).date() + dt.timedelta(days=1)
    assert run(office, f"delivered {case} --date {delivered_on}").result["status"] == "納品"
    issued = run(office, f"invoice {case}")
    number = issued.result["invoice"]
    assert number.startswith(f"INV-{office_year()}-") and issued.result["total"] == "¥508,592"
    invoice = ledger.get(docs, "invoice", number)
    assert invoice.lines == estimate.lines and invoice.transaction_date == delivered_on.isoformat()
    folder = office.runtime.services.cases.get(case)["folder"]
    text = pdf_text(storage_of(office).read(f"{folder}/05_請求/請求書_{number}.pdf"))
    transaction = f"取引年月日: {delivered_on.year}年{delivered_on.month}月{delivered_on.day}日"
    for expected in ("請求書", number, "株式会社ACME 御中", "山田金型設計事務所", "登録番号 T",
                     transaction, "弁当 ※", "10%対象 税抜", "¥460,000", "¥46,000",
                     "8%対象（軽減税率） 税抜", "¥2,400", "¥192", "合計（税込）", "¥508,592", "お振込先"):
        assert expected in text, expected

    partly = run(office, f"paid {case} --amount 300,000 --date {delivered_on}")
    assert partly.result["status"] == "請求" and partly.result["outstanding"] == "¥208,592"
    assert run(office, f"paid {case} --amount ¥208,592").result["status"] == "入金"

    row = sheet_of(office).find(case).values
    assert row["status"] == "入金" and row["invoice"]
    # the row's 経緯 mirrors the history: every move and every estimate version (v2 left the status at
    # 見積提出, and the cell did not show it), when, and who
    moves = row["history"].splitlines()
    assert [line.split(" ")[2].split("（")[0] for line in moves] == ["受付", "見積提出", "見積", "見積", "受注", "納品",
                                                                   "請求", "入金"]
    assert [line.split(" ", 2)[2] for line in moves[2:4]] == ["見積 v1（¥473,000）（Alice）",
                                                               "見積 v2（¥508,592）（Alice）"]
    assert all(line.endswith("（Alice）") and re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d ", line) for line in moves)
    # the delivery was recorded today for tomorrow's date: the day it happened beside the moment recorded
    assert [line for line in moves if " 納品" in line][0].endswith(f" 納品（{delivered_on} 付）（Alice）")
    tab = documents_tab(office)
    assert {f"{case}-v1", f"{case}-v2", number} <= set(tab)
    assert tab[number]["kind"] == "請求書" and tab[number]["client"] == "株式会社ACME"
    assert tab[number]["amount"] == "508592" and tab[number]["date"] == invoice.issued
    assert tab[f"{case}-v1"]["kind"] == "見積書"
    entries = office.runtime.services.cases.get(case)["history"]
    assert [h["status"] for h in entries] == ["受付", "見積提出", "受注", "納品", "請求", "入金"]
    assert [h.get("on") for h in entries] == [None, None, None, delivered_on.isoformat(), None, None]
    card = shown(office, f"case {case}")
    assert f"{ENGLISH.date(delivered_on)} (recorded " in card
    for expected in ("History", "受付", "受注", "納品", "請求", "入金", "Alice", "v2 ✓ accepted", number, "Payments"):
        assert expected in card, expected
    assert case not in shown(office, "cases")  # paid: no longer open

    not_admin = shown(office, f"correct {case} 作業中")  # Alice is no admin: refused at once, no card to run
    assert "for admins only" in not_admin and "Run" not in not_admin
    assert "correct" not in shown(office, "help")
    assert f"was not started: case {case} is 入金" in refused(office, f"delivered {case}")
    from tests.support.pipeline import BOB

    corrected = office.wait_job(office.start(f"correct {case} 作業中", user=BOB), JobStatus.SUCCEEDED)
    assert corrected.result["status"] == "作業中" and sheet_of(office).find(case).values["status"] == "作業中"
    assert sheet_of(office).find(case).values["history"].splitlines()[-1].endswith(" 作業中（訂正）（Bob）")
    last = office.runtime.services.cases.get(case)["history"][-1]
    assert (last["status"], last["by"], last["correction"]) == ("作業中", "Bob", True)
    assert "in progress (作業中) (correction)" in shown(office, f"case {case}")
    in_japanese = json.dumps(office.send(f"案件 {case}", locale="ja")["reply"]["message"], ensure_ascii=False)
    assert "作業中 (訂正)" in in_japanese and "v2 ✓ 受注" in in_japanese
    assert case in shown(office, "cases client=ACME")


def test_a_case_opened_without_lines_gets_no_estimate_until_they_are_given(office):
    """B社 has no default lines (ACKFLOW_OFFICE_CLIENT_ITEMS): no ¥0 estimate is issued; the card says
    so in the requester's language and how to issue v1, which `estimate --item` then does."""
    docs = office.runtime.store.docs
    opened = run(office, 'newcase B社 "明細なし E-5"')
    case = opened.result["case"]
    assert "estimate_link" not in opened.result
    assert "none issued" in opened.result["no_estimate"] and f"estimate {case} --item" in opened.result["no_estimate"]
    record = office.runtime.services.cases.get(case)
    assert record["status"] == "受付" and record["estimates"] == []
    assert ledger.get(docs, "quotation", f"{case}-v1") is None
    assert not [p for p in storage_of(office).list(record["folder"]) if "/03_見積/" in p and p.endswith(".pdf")]
    assert "none issued" in json.dumps(office.job_message(opened), ensure_ascii=False)

    in_japanese = office.wait_job(office.start('新規案件 B社「明細なし E-6」', locale="ja"), JobStatus.SUCCEEDED)
    note = in_japanese.result["no_estimate"]
    assert "発行していません" in note and f"見積 {in_japanese.result['case']} 明細：" in note

    said = refused(office, f"estimate {case}")  # at once, in place of the card: no job, nothing issued
    assert f"case {case} has no estimate yet" in said and "--item" in said, said
    assert ledger.get(docs, "quotation", f"{case}-v1") is None
    issued = run(office, f'estimate {case} --item "設計:1:100000"')
    assert issued.result["estimate_version"] == 1 and issued.result["total"] == "¥110,000"
    assert office.runtime.services.cases.get(case)["status"] == "見積提出"


def test_an_estimate_edited_from_an_older_version_is_refused_not_issued_over_a_newer_one(office):
    """The estimate form sends every line as the new version, with the version it showed (--base):
    if someone issued another meanwhile, the submit is refused instead of dropping their lines."""
    case = run_newcase(office, 'newcase ACME "版の競合" --item "設計:1:100000"').result["case"]
    run(office, f'estimate {case} --item "追加:1:5000"')  # v2, issued while another form showed v1
    stale = refused(office, f'estimate {case} --replace --base 1 --item "設計:1:90000"')  # at once, no card
    assert f"v2 of case {case} was issued while the form was open (it showed v1)" in stale
    assert [e["version"] for e in office.runtime.services.cases.get(case)["estimates"]] == [1, 2]
    fresh = run(office, f'estimate {case} --replace --base 2 --item "設計:1:90000"')
    assert fresh.result["estimate_version"] == 3


def test_refusals_take_no_number_and_leave_nothing_half_made(office):
    case = run_newcase(office, 'newcase B社 "部品 D-4" --item "設計:1:100000"').result["case"]
    before = invoices_counted(office)
    said = refused(office, f"invoice {case}")  # at once, no card to run
    assert "no accepted estimate" in said and f"ordered {case}" in said
    assert invoices_counted(office) == before

    first = run(office, f'invoice {case} --item "設計変更:1:20000"').result["invoice"]
    second = refused(office, f"invoice {case}")
    assert f"already has invoice {first}" in second and "--again" in second
    assert invoices_counted(office) == before + 1

    corrected = run(office, f'invoice {case} --replaces {first} --item "設計変更:1:25000"')
    assert corrected.result["invoice"] != first
    folder = office.runtime.services.cases.get(case)["folder"]
    text = pdf_text(storage_of(office).read(f"{folder}/05_請求/請求書_{corrected.result['invoice']}.pdf"))
    assert f"請求書番号 {first} を訂正する" in text
    assert f"{first} was already corrected by {corrected.result['invoice']}" in refused(
        office, f"invoice {case} --replaces {first}")
    assert "replaced by" in shown(office, f"case {case}")
    assert invoices_counted(office) == before + 2

    again = run(office, f'invoice {case} --again --item "追加設計:1:30000"').result["invoice"]  # a second invoice
    numbers = [int(n.rsplit("-", 1)[1]) for n in (first, corrected.result["invoice"], again)]
    assert numbers == list(range(numbers[0], numbers[0] + 3))  # consecutive, none skipped
    invoices = office.runtime.services.cases.get(case)["invoices"]
    assert [i["number"] for i in invoices if not i.get("replaced_by")] == [corrected.result["invoice"], again]
    assert documents_tab(office)[again]["amount"] == "33000"
    assert invoices_counted(office) == before + 3

    for text, complaint in ((f"paid {case} --amount -5", "--amount is negative: “-5”. An amount here is more than ¥0"),
                            (f"paid {case} --amount 12.5", "--amount is not an amount I can read"),
                            (f'invoice {case} --item "x:abc:100"', "cannot read"),
                            (f'invoice {case} --item "x:1:99999999999"', "unit price"),
                            (f"invoice {case} --again --replaces {first}", "do not go together"),
                            (f'estimate {case} --change "9"', "--change"),
                            ("invoice 2026-1", "not a case number")):
        before_counts = office.counts()
        reply = office.send(text)["reply"]["message"]["text"]
        assert complaint in reply, (text, reply)
        assert office.counts() == before_counts
    assert invoices_counted(office) == before + 3
    # a recipient the PDF's font cannot print (IPA Gothic has no 𠮷): fpdf2 would have dropped it
    # and addressed the invoice to 野家; refused at once, no number taken
    unprintable = run(office, f'invoice {case} --again --to "𠮷野家" --item "追加:1:1000"', JobStatus.FAILED)
    assert "cannot print 𠮷" in unprintable.last_error and unprintable.steps[0].attempts == 1
    assert invoices_counted(office) == before + 3


@pytest.mark.parametrize("client", ["𠮷野家", "ACME 🚀"])
def test_a_client_whose_name_the_estimate_cannot_print_takes_no_case_number(office, client):
    """A client name the PDF's font lacks a character of (𠮷, an emoji) passes every check of the
    card; its estimate v1 was refused at the estimate step, after the case had its number, folder and
    sheet row: a case half made under a number, which no retry could finish. Now the job fails at
    its first step, at the first attempt, saying what to change; no number, case or folder."""
    counter = f"case-{dt.datetime.fromtimestamp(time.time(), ZoneInfo('Asia/Tokyo')).year}"
    before, cases_before = office.runtime.store.counter_value(counter), office.counts()
    job = run(office, f'newcase "{client}" "印字できない宛名" --item "設計:1:100000"', JobStatus.FAILED)
    assert "cannot print" in job.last_error and "Nothing was numbered" in job.last_error, job.last_error
    assert (job.steps[0].name, job.steps[0].attempts) == ("number", 1)
    assert office.runtime.store.counter_value(counter) == before
    assert not any(record.get("client") == client
                   for record in office.runtime.store.docs.query("cases", [], "created_at", False, 1000))
    assert "number" not in job.outputs()  # nor any folder or sheet row: those steps come after
    assert office.counts()[0] == cases_before[0] + 1  # the one job, failed
    # without lines no estimate is made (first_estimate): the case opens, its name as written
    opened = run_newcase(office, f'newcase "{client}" "明細なし"')
    assert opened.status == JobStatus.SUCCEEDED, opened.last_error
    assert "no_estimate" in opened.result
    assert office.runtime.services.cases.get(opened.result["case"])["client"] == client


def test_a_portal_order_that_can_make_no_folder_or_a_client_without_a_portal_takes_no_case_number(office):
    """``--portal ..`` (or ///) was taken at the card, and the job failed at its last step, after the
    case was made, retried on every attempt and said as “UsageError: …” in English; ``--portal`` for
    a client without a portal failed there too, after the case was made. Now the first is refused
    in place of the card, in the person's language, and the second at the job's first step, at once."""
    for ref in ("..", "///"):
        before = office.counts()
        reply = office.send(f'newcase ACME "ポータル" --portal "{ref}"', locale="ja", timeZone="Asia/Tokyo")
        said = reply["reply"]["message"]["text"]
        assert "注文番号にフォルダ名に使える文字がありません" in said and "UsageError" not in said, said
        assert office.counts() == before  # no request kept, no job
    counter = f"case-{dt.datetime.fromtimestamp(time.time(), ZoneInfo('Asia/Tokyo')).year}"
    before = office.runtime.store.counter_value(counter)
    job = run(office, 'newcase "ポータルのない顧客" "図面" --portal PO-1042 --item "設計:1:1000"', JobStatus.FAILED)
    assert "no portal is configured for ポータルのない顧客" in job.last_error, job.last_error
    assert (job.steps[0].name, job.steps[0].attempts) == ("number", 1) and "number" not in job.outputs()
    assert office.runtime.store.counter_value(counter) == before


def test_ordering_another_version_of_an_ordered_case_accepts_that_version(office):
    """`ordered CASE --estimate 1` on a case already ordered at v2 answered “accepted v1” and kept
    v2: the invoice then billed the version the office had said was not the one."""
    case = run_newcase(office, 'newcase ACME "版の選び直し" --item "設計:1:100000"').result["case"]
    run(office, f'estimate {case} --change "1=::120000"')  # v2
    ordered = run(office, f"ordered {case}").result
    assert (ordered["accepted"], ordered["total"]) == ("v2", "¥132,000")
    again = run(office, f"ordered {case} --estimate 1")  # the client signed v1 after all
    assert (again.result["accepted"], again.result["total"], again.result["status"]) == ("v1", "¥110,000", "受注")
    record = office.runtime.services.cases.get(case)
    assert record["accepted"]["version"] == 1
    assert [h["status"] for h in record["history"]][-2:] == ["受注", "受注"]  # who and when, both kept
    assert run(office, f"ordered {case} --estimate 1").result["accepted"] == "v1"  # no change
    assert len(office.runtime.services.cases.get(case)["history"]) == len(record["history"])
    assert run(office, f"invoice {case}").result["total"] == "¥110,000"


def test_a_lost_case_is_not_invoiced_until_it_is_ordered_again(office):
    """An invoice for a 失注 case was issued and left the case 失注: out of `cases` and the digest,
    its money unseen. Refused before a number; marked ordered again, it is invoiced."""
    from tests.support.pipeline import BOB

    case = run_newcase(office, 'newcase ACME "失注 L-1" --item "設計:1:100000"').result["case"]
    run(office, f"ordered {case}")
    office.wait_job(office.start(f"correct {case} 失注", user=BOB), JobStatus.SUCCEEDED)  # the client went elsewhere
    before = invoices_counted(office)
    for command in (f"invoice {case}", f'invoice {case} --item "設計:1:100000"'):
        said = refused(office, command)
        assert f"case {case} is lost (失注)" in said and f"ordered {case}" in said
    assert invoices_counted(office) == before
    record = office.runtime.services.cases.get(case)
    assert record["status"] == "失注" and record.get("invoices", []) == []
    run(office, f"ordered {case}")  # the client came back after all
    assert run(office, f"invoice {case}").result["total"] == "¥110,000"
    assert office.runtime.services.cases.get(case)["status"] == "請求"


def test_work_started_lost_on_hold_and_resumed_are_moves_anyone_makes_never_corrections(office):
    """作業中, 失注 and 保留 could only be set by an admin's `correct`, recorded as 訂正 (a correction).
    Each is now a command confirmed on a card, a move with who and when in the history and the
    sheet; resume takes a held case back to where it was; a move back is refused, in the
    requester's language."""
    case = run_newcase(office, 'newcase ACME "着手 S-1" --item "設計:1:100000"').result["case"]
    run(office, f"ordered {case}")
    card = shown(office, f"started {case}")
    assert f"Mark case {case} started (作業中)" in card and "Run" in card  # asked before it is done
    assert run(office, f"started {case}").result["status"] == "作業中"
    held = office.wait_job(office.start(f"保留 {case}", locale="ja"), JobStatus.SUCCEEDED)
    assert held.result["status"] == "保留" and sheet_of(office).find(case).values["status"] == "保留"
    assert case in shown(office, "cases status=保留")  # a held case is still open
    # held at 作業中: marking it ordered would take it back; refused in Japanese, nothing changed
    back = refused(office, f"受注 {case}", locale="ja")  # at once, in place of the card
    assert back.startswith("「受注」は実行しませんでした"), back
    assert f"案件 {case} は作業中の段階で保留になっています" in back and "受注には戻せません" in back
    assert office.runtime.services.cases.get(case)["status"] == "保留"
    assert run(office, f"resume {case}").result["status"] == "作業中"
    assert run(office, f"delivered {case}").result["status"] == "納品"
    said = refused(office, f"started {case}")
    assert said.startswith(f"“started” was not started: case {case} is 納品; a status only moves forward, so it "
                           "cannot become 作業中"), said
    assert "納品・請求・入金済みの案件は失注にできません" in refused(office, f"失注 {case}", locale="ja")
    record = office.runtime.services.cases.get(case)
    moves = [(h["status"], h["by"], bool(h.get("correction"))) for h in record["history"]]
    assert moves[-5:] == [("受注", "Alice", False), ("作業中", "Alice", False), ("保留", "Alice", False),
                          ("作業中", "Alice", False), ("納品", "Alice", False)]
    lines = sheet_of(office).find(case).values["history"].splitlines()
    assert [line.split(" ")[2] for line in lines[-4:]] == ["作業中（Alice）", "保留（Alice）", "作業中（Alice）",
                                                           "納品（Alice）"]  # no （訂正）

    other = run_newcase(office, 'newcase ACME "失注 S-2" --item "設計:1:100000"').result["case"]
    assert run(office, f"lost {other}").result["status"] == "失注"
    last = office.runtime.services.cases.get(other)["history"][-1]
    assert (last["status"], last["by"], last.get("correction")) == ("失注", "Alice", None)
    assert sheet_of(office).find(other).values["status"] == "失注" and other not in shown(office, "cases")
    assert "only an open case can be put on hold" in refused(office, f"hold {other}")
    assert f"case {other} is 失注, not on hold" in refused(office, f"resume {other}")


def test_a_case_that_moves_on_after_the_card_is_refused_at_run_or_by_its_job(office):
    """The check before the card is a courtesy: the case may move on while the card waits, or between
    Run and the job's step (Chat and the queue deliver at least once, people act at once). Run asks
    again: the card says why and no job is made. Once the job is made, its step refuses on its own
    (permanent: no retry), and the case keeps what the other move made of it."""
    from tests.support.pipeline import run_label
    from tests.support.services import tasks_client

    case = run_newcase(office, 'newcase ACME "競合 R-1" --item "設計:1:100000"').result["case"]
    run(office, f"ordered {case}")
    card = office.send(f"started {case}")["reply"]["message"]  # asked: the case is 受注
    assert f"Mark case {case} started (作業中)" in json.dumps(card, ensure_ascii=False)
    run(office, f"delivered {case}")  # meanwhile the work was delivered
    jobs = office.counts()[0]
    clicked = json.dumps(office.click(card, run_label(card))["reply"], ensure_ascii=False)
    assert "Not run" in clicked and f"case {case} is 納品; a status only moves forward" in clicked, clicked
    assert office.counts()[0] == jobs and office.runtime.services.cases.get(case)["status"] == "納品"

    other = run_newcase(office, 'newcase ACME "競合 R-2" --item "設計:1:100000"').result["case"]
    run(office, f"ordered {other}")
    client = tasks_client(office.stack.url("tasks"))
    queue = "projects/local-project/locations/local/queues/ackflow-office"
    client.pause_queue(name=queue)  # the job is made and waits for its delivery
    try:
        job_id = office.start(f"started {other}")
        assert office.store.get_job(job_id).status == JobStatus.QUEUED
        # the case is delivered before the queue delivers the step (as another delivered job records it)
        office.runtime.services.cases.transition(other, "納品", by="Bob", job_id="jdelivered-elsewhere")
    finally:
        client.resume_queue(name=queue)
    job = office.wait_job(job_id, JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=60)
    assert job.status == JobStatus.FAILED and job.steps[0].attempts == 1  # permanent: not retried
    assert job.last_error.startswith(f"case {other} is 納品; a status only moves forward, so it cannot become "
                                     "作業中"), job.last_error
    record = office.runtime.services.cases.get(other)
    assert record["status"] == "納品" and record["history"][-1]["by"] == "Bob"


def test_a_paid_case_gets_no_further_invoice_until_an_admin_corrects_it(office):
    """`invoice --again` on a 入金 case issued an unpaid invoice and left the case 入金 (a step never
    moves a status back): out of `cases` and the digest, its money unseen. Refused before a number;
    corrected to 請求 by an admin, it is issued."""
    from tests.support.pipeline import BOB

    case = run_newcase(office, 'newcase ACME "入金後 P-1" --item "設計:1:100000"').result["case"]
    run(office, f"ordered {case}")
    run(office, f"invoice {case}")
    assert run(office, f"paid {case} --amount 110000").result["status"] == "入金"
    before = invoices_counted(office)
    for command in (f"invoice {case} --again", f'invoice {case} --again --item "追加:1:5000"'):
        said = refused(office, command)
        assert f"case {case} is paid (入金)" in said and f"correct {case} 請求" in said
    assert invoices_counted(office) == before
    assert office.runtime.services.cases.get(case)["status"] == "入金"
    office.wait_job(office.start(f"correct {case} 請求", user=BOB), JobStatus.SUCCEEDED)  # an admin
    assert run(office, f'invoice {case} --again --item "追加:1:5000"').result["total"] == "¥5,500"
    assert office.runtime.services.cases.get(case)["status"] == "請求" and case in shown(office, "cases")


def test_the_digest_and_the_reminder_fire_once_per_slot_on_working_days(office):
    """In the office's time zone: 09:00 in Tokyo (00:00 UTC), never 09:00 UTC (18:00 in Tokyo)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from ackflow.app.sweep import sweep

    checked = subprocess.run([sys.executable, "-m", "ackflow_tools", "config", "--check"], capture_output=True,
                             text=True, timeout=60, env={**os.environ, **office.stack.env()})
    assert checked.returncode == 0 and "settings OK" in checked.stdout, checked.stderr
    tokyo = ZoneInfo("Asia/Tokyo")

    def started(*moment: int) -> list[str]:
        """The digests and reminders a sweep at this Tokyo wall-clock time starts (the test registry's
        every-minute ``tick`` aside)."""
        report = sweep(office.runtime, now=dt.datetime(*moment, tzinfo=tokyo).timestamp())
        print(moment, report.errors)  # shown if the test fails: a busy store, a queue refusing
        return [job_id for job_id in report.started if job_id.startswith(("digest-", "reminder-"))]

    office.send("help", space="spaces/office")  # the office's space, where periodic jobs report
    def due_on(title: str, due: str) -> str:
        """A case due on ``due``, a day of the calendar the sweeps below are run at: the real today may
        be past it, and newcase refuses a due date in the past, so it is set on the case as newcase
        sets it."""
        case = run_newcase(office, f'newcase ACME "{title}" --item "設計:1:1000"').result["case"]
        office.runtime.services.cases.update(case, "test-calendar", due=due)
        return case

    due_monday = due_on("月曜納期", "2026-12-07")
    due_friday = due_on("金曜納期", "2026-12-04")
    # 11 January 2027 is a Monday and a public holiday (成人の日): a case due on Tuesday the 12th is
    # reminded on Friday the 8th, and Monday's run says the office is closed
    after_holiday = due_on("祝日明け", "2027-01-12")
    # Friday 4 December 2026: nothing before 09:00 in Tokyo; at 09:00 the reminder for Monday's due
    # date, once however often the sweep runs; nothing more at 09:00 UTC (18:00 in Tokyo)
    assert started(2026, 12, 4, 8, 59, 30) == []
    reports = [started(2026, 12, 4, 9, 0, 30) for _ in range(2)]
    slot = "reminder-202612040000"  # its slot's UTC minute: 09:00 in Tokyo
    assert [job_id for r in reports for job_id in r] == [slot]
    assert started(2026, 12, 4, 9, 5) == [] and started(2026, 12, 4, 18, 0, 30) == []
    reminder = office.wait_job(slot, JobStatus.SUCCEEDED, timeout=60)
    assert reminder.result["date"] == "2026-12-04" and due_monday in reminder.result["cases"]
    assert due_friday not in reminder.result["cases"]  # reminded on Thursday, the working day before it
    assert after_holiday not in reminder.result["cases"]
    assert started(2027, 1, 8, 9, 0, 30) == ["reminder-202701080000"]
    reminded = office.wait_job("reminder-202701080000", JobStatus.SUCCEEDED, timeout=60)
    assert after_holiday in reminded.result["cases"] and reminded.result["due"] == "2027-01-12"
    # a Monday, but a holiday: no digest; it comes on Tuesday, the week's first working day, once
    assert started(2027, 1, 11, 9, 0, 30) == ["reminder-202701110000"]
    closed = office.wait_job("reminder-202701110000", JobStatus.SUCCEEDED, timeout=60)
    assert closed.result["due_cases"] == 0 and "not a working day" in closed.result["cases"]
    assert "12 Jan 2027" in closed.result["cases"]  # the next working day
    assert sorted(started(2027, 1, 12, 9, 0, 30)) == ["digest-202701120000", "reminder-202701120000"]
    assert started(2027, 1, 13, 9, 0, 30) == ["reminder-202701130000"]
    moved = office.wait_job("digest-202701120000", JobStatus.SUCCEEDED, timeout=60)
    assert moved.result["week_of"] == "2027-01-12"
    # Monday 30 November 2026: the weekly digest of the open cases, by due date, at 09:00 in Tokyo
    # (with that day's reminder), once; nothing at 09:00 UTC
    assert started(2026, 11, 30, 8, 59) == []
    assert sorted(started(2026, 11, 30, 9, 1)) == ["digest-202611300000", "reminder-202611300000"]
    assert started(2026, 11, 30, 9, 2) == [] and started(2026, 11, 30, 18, 1) == []
    digest = office.wait_job("digest-202611300000", JobStatus.SUCCEEDED, timeout=60)
    listed = digest.result["cases"]
    assert digest.result["week_of"] == "2026-11-30" and listed.index(due_friday) < listed.index(due_monday)
    posted = json.dumps(office.job_message(digest), ensure_ascii=False)
    assert digest.space == "spaces/office" and due_monday in posted


def office_year() -> int:
    """The year invoice numbers are counted in: the office's (Tokyo), not the machine's (UTC here):
    from 15:00 UTC on 31 December they differ."""
    return dt.datetime.now(ZoneInfo("Asia/Tokyo")).year
