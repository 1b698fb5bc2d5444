"""Requests by mail, end to end on the local stack: the Gmail stand-in publishes to the Pub/Sub
emulator, which pushes (through the signing relay) to the worker; cards in the local Chat service;
cases in a local folder and the local Sheets service."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from ackflow.jobs.model import JobStatus
from ackflow_tools.devtools.stack import MAIL_SPACE, MAILBOX
from tests.support import mail as mails
from tests.support.dialogs import filled_in, inputs_of, value_of
from tests.support.office import sheet_of, storage_of
from tests.support.pipeline import ALICE
from workers.office.mail.records import MailRecords, record_id

pytestmark = pytest.mark.slow  # started first by scripts/test (tests/conftest.py)

def mail(*args, **kwargs) -> bytes:
    """A request mail (``tests.support.mail.mail``) whose due date is a month ahead (``request_due``),
    unless given: a case opened from it may not be due in the past, whatever day the test runs."""
    due = kwargs.pop("due", None) or mails.request_due()
    kwargs.setdefault("body", mails.request_body(due))
    return mails.mail(*args, **kwargs)


DRAWING = b"%PDF-1.4 drawing A-12\n" + bytes(range(256)) * 64
SPEC = "仕様書\n寸法: 120 x 80 mm\n".encode()


@contextlib.contextmanager
def mail_office(workdir: Path, fmt: str, auth: str, store: str, storage: str = "local"):
    """A running pipeline with the request mailbox (the Pub/Sub emulator, the Gmail stand-in) and
    the mail flow's pause points; this process reads the same mailbox, storage and sheet."""
    from ackflow_tools.devtools.pubsub import find_jar
    from tests.conftest import IN_CI, require_tool
    from tests.e2e.conftest import start_pipeline

    require_tool("java", "the Pub/Sub emulator runs on Java")
    try:
        find_jar()
    except RuntimeError as exc:
        (pytest.fail if IN_CI else pytest.skip)(str(exc))
    env = {"ACKFLOW_JOB_TYPES": "tests.support.jobtypes:mail_with_pause_points",
           "ACKFLOW_TEST_PAUSE_FILE": str(workdir / "pause"), "ACKFLOW_OFFICE_MAIL_LEASE": "4",
           "ACKFLOW_OFFICE_MAIL_MAX_ATTACHMENT_BYTES": "100000", "ACKFLOW_OFFICE_NAME": "山田金型設計事務所"}
    pipeline = start_pipeline(workdir, fmt, auth, store, mail=True, storage=storage, **env)
    office_env = {k: v for k, v in pipeline.stack.env().items()
                  if k.startswith("ACKFLOW_OFFICE_") or k == "ACKFLOW_TEST_PAUSE_FILE"}
    saved = {k: os.environ.get(k) for k in office_env}
    os.environ.update(office_env)
    try:
        pipeline.runtime = pipeline.stack.runtime()
        pipeline.store = pipeline.runtime.store
        pipeline.gmail = pipeline.stack.url("gmail")
        assert "error" not in pipeline.stack.sweep_once()  # the sweep watches the mailbox
        # Chat's per-space write quota off: this module's tests share the office space, and in a
        # loaded CI run a mail's card once met "quota exceeded" for three minutes on end (cause not
        # found: docs/development.md); the quota and the app's budget are tested in tests/notify and
        # benchmarks/chat_quota.py, and the tests here that need Chat's 429 inject them (:throttle)
        requests.put(f"{pipeline.stack.url('chat')}/_emulator/quota", json={"spaceWriteLimit": 0},
                     timeout=5).raise_for_status()
        yield pipeline
    finally:
        pipeline.stack.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module", ids=["classic-sqlite", "addon-firestore"],
                params=[("classic", "project-number", "sqlite"), ("addon", "endpoint-url", "firestore")])
def office(request, tmp_path_factory):
    fmt, auth, store = request.param
    with mail_office(tmp_path_factory.mktemp(f"mail-{fmt}-{store}"), fmt, auth, store) as pipeline:
        yield pipeline


def deliver(office, raw: bytes) -> str:
    response = requests.post(f"{office.gmail}/_emulator/users/{MAILBOX}/messages", data=raw,
                             headers={"Content-Type": "message/rfc822"}, timeout=10)
    response.raise_for_status()
    return response.json()["id"]


def gmail_state(office) -> dict:
    return requests.get(f"{office.gmail}/_emulator/users/{MAILBOX}", timeout=10).json()


def labels_of(office, mail_id: str, wanted: list[str] | None = None, timeout: float = 10) -> list[str]:
    """The mail's labels by name (once they are ``wanted``: they follow the card by a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        state = gmail_state(office)
        names = {label_id: label["name"] for label_id, label in state["labels"].items()}
        found = [names[i] for m in state["messages"] if m["id"] == mail_id for i in m["labelIds"]]
        if wanted is None or found == wanted or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def cards(office) -> dict[str, dict]:
    return {m["clientAssignedMessageId"]: m for m in office.messages(MAIL_SPACE).values()
            if m.get("clientAssignedMessageId", "").startswith("client-mail-")}


def card_of(office, mail_id: str, timeout: float = 180, containing: str = "") -> dict:
    """The mail's card, once shown: up to three minutes by default (a card Chat refused, with a
    429 a test injected, waits for Pub/Sub's next delivery, seconds to a minute apart)."""
    wanted = "client-" + record_id(MAILBOX, mail_id)
    deadline = time.monotonic() + timeout
    while True:
        found = cards(office).get(wanted)
        if found and containing in json.dumps(found, ensure_ascii=False):
            return found
        if time.monotonic() > deadline:
            quota = requests.get(f"{office.stack.url('chat')}/_emulator/quota", timeout=5).json()
            raise AssertionError(f"no card for mail {mail_id} (containing {containing!r}); Chat's quotas "
                                 f"{json.dumps(quota)}: {office.stack.procs['worker'].log_tail(30)}")
        time.sleep(0.1)


def record(office, mail_id: str) -> dict | None:
    return MailRecords(office.store.docs).get(record_id(MAILBOX, mail_id))


def open_case(office, card: dict, changes: dict | None = None) -> str:
    """Press "open a case" on the mail's card: its form opens; Next (with ``changes`` typed over
    what it shows), then Run on the confirmation it answers with."""
    opened = office.click(card, "案件を作成", MAIL_SPACE)
    assert opened["reply"]["action"] == "dialog", opened
    closed = office.submit_dialog("Next", filled_in(opened["reply"]["dialog"], changes), MAIL_SPACE)
    confirmation = closed["reply"]["message"]
    assert "error" not in office.click(confirmation, "Run", MAIL_SPACE)
    return office.job_of(confirmation)


def test_a_mail_with_two_attachments_becomes_one_card_then_one_case_with_the_mail_filed(office):
    from ackflow.i18n import speaker_for

    due = mails.request_due()
    mail_id = deliver(office, mail(attachments=(("図面 A-12.pdf", DRAWING, "application/pdf"),
                                                ("仕様書.txt", SPEC, "text/plain")), due=due))
    card = card_of(office, mail_id)
    shown = json.dumps(card, ensure_ascii=False)
    for expected in ("yamada@acme.co.jp", "プレス金型 A-12 のお見積りのお願い", "図面 A-12.pdf", "仕様書.txt",
                     speaker_for("ja").date(due), "不明な差出人", '"topLabel": "差出人"'):  # 2026年12月1日(火)
        assert expected in shown, expected
    pending = ["INBOX", "UNREAD", "Ackflow/確認待ち"]
    assert labels_of(office, mail_id, pending) == pending
    # "open a case" opens the newcase form with the mail's guess: the sender's domain, the subject, the due date
    dialog = office.click(card, "案件を作成", MAIL_SPACE)["reply"]["dialog"]
    fields = inputs_of(dialog)
    assert (value_of(fields, "client") or value_of(fields, "client.new")) == "acme.co.jp"
    assert value_of(fields, "title") == "プレス金型 A-12 のお見積りのお願い"
    assert dt.datetime.fromtimestamp(int(fields["due"]["valueMsEpoch"]) / 1000, dt.UTC).date() == due
    assert office.cancel_dialog(MAIL_SPACE)["reply"]["action"] == "dialog-closed"
    # the person corrects the client (the sender is unknown); the case is opened under that name
    typed = {"client": "", "client.new": "ACME精機"} if "client.new" in fields else {"client": "ACME精機"}
    job = office.wait_job(open_case(office, card, typed), timeout=90)
    assert job.status == JobStatus.SUCCEEDED, job.last_error
    case = job.result["case"]
    assert job.params["client"] == "ACME精機" and job.params["mail"] == record_id(MAILBOX, mail_id)
    assert job.params["title"] == "プレス金型 A-12 のお見積りのお願い" and job.params["due"] == due.isoformat()
    assert office.runtime.services.cases.get(case)["client"] == "ACME精機"
    storage = storage_of(office)
    folder = office.runtime.services.cases.get(case)["folder"]
    received = f"{folder}/01_受領資料/メール"
    assert storage.read(f"{received}/図面 A-12.pdf") == DRAWING
    assert storage.read(f"{received}/仕様書.txt") == SPEC
    assert b"Subject:" in storage.read(f"{received}/受信メール.eml")
    assert sheet_of(office).find(case) is not None
    updated = json.dumps(card_of(office, mail_id, containing=case), ensure_ascii=False)
    assert f"案件 {case}" in updated and "案件を作成" not in updated
    # the case's client, not the guess it was opened from ("unknown sender" read as if nobody knew);
    # on the card (a message's fallbackText stays as created: Chat's updates cannot change it)
    drawn = json.dumps(card_of(office, mail_id, containing=case)["cardsV2"], ensure_ascii=False)
    assert "ACME精機" in drawn and "不明な差出人" not in drawn, drawn
    done = ["INBOX", "UNREAD", "Ackflow/処理済"]
    assert labels_of(office, mail_id, done) == done
    # a press on the old card (a phone that had not refreshed) says which case it became, starts nothing
    jobs_before = office.counts()
    users = office.stack.chat_signer()
    params = {"mail": record_id(MAILBOX, mail_id)}
    function = "mail-open"
    if office.fmt == "addon":  # add-on buttons call the endpoint URL and name the action in a parameter
        function, params = office.stack.webhook_url, {"actionName": "mail-open", **params}
    again = users._deliver("CARD_CLICKED", MAIL_SPACE, ALICE, card, office.fmt, function=function, parameters=params)
    assert case in again["reply"]["message"]["text"]
    assert office.counts() == jobs_before


def test_a_second_open_a_case_form_replaces_the_first_confirmation_and_the_mail_still_makes_one_case(office):
    mail_id = deliver(office, mail("二度開いたフォームのテスト"))
    card = card_of(office, mail_id)
    first = open_form_and_submit(office, card, "先方A")
    second = open_form_and_submit(office, card, "先方B")
    jobs_before = office.counts()[0]
    stale = office.click(first, "Run", MAIL_SPACE)  # the first card's Run: replaced, nothing made
    assert "error" not in stale and office.counts()[0] == jobs_before
    said = json.dumps(stale["reply"], ensure_ascii=False)
    assert "新しい依頼に置き換えられました" in said or "A newer request took the place" in said, said
    assert "取り消しました" not in said and "Cancelled by" not in said  # nobody cancelled it
    assert "error" not in office.click(second, "Run", MAIL_SPACE)
    job = office.wait_job(office.job_of(second), timeout=90)
    assert job.status == JobStatus.SUCCEEDED, job.last_error
    assert job.params["client"] == "先方B" and office.counts()[0] == jobs_before + 1
    card_of(office, mail_id, containing=job.result["case"])
    # once it became a case, a press on the old card (a phone that had not refreshed) says so in the
    # dialog and opens no form
    params, function = {"mail": record_id(MAILBOX, mail_id), "form": "newcase"}, "mail-open"
    if office.fmt == "addon":
        function, params = office.stack.webhook_url, {"actionName": "mail-open", **params}
    again = office.stack.chat_signer()._deliver("CARD_CLICKED", MAIL_SPACE, ALICE, card, office.fmt,
                                                function=function, parameters=params, dialog="REQUEST_DIALOG")["reply"]
    assert again["action"] == "dialog" and job.result["case"] in json.dumps(again["dialog"], ensure_ascii=False)
    assert "fixedFooter" not in again["dialog"]


def open_form_and_submit(office, card: dict, client: str) -> dict:
    """Open a case's form, give the client, Next: the confirmation card it answers with."""
    dialog = office.click(card, "案件を作成", MAIL_SPACE)["reply"]["dialog"]
    typed = {"client": "", "client.new": client} if "client.new" in inputs_of(dialog) else {"client": client}
    return office.submit_dialog("Next", filled_in(dialog, typed), MAIL_SPACE)["reply"]["message"]


def test_a_mail_cards_buttons_pressed_from_another_space_change_nothing(office):
    """A mail id is in the card's buttons: someone who copies it into a press or a form in another
    space (a forged event, validly signed by Chat) neither opens a case from that mail nor ignores it."""
    mail_id = deliver(office, mail("よそのスペースからのテスト"))
    card = card_of(office, mail_id)
    rid = record_id(MAILBOX, mail_id)
    signer = office.stack.chat_signer()
    jobs_before = office.counts()
    for action in ("mail-open", "mail-ignore"):
        function, params = action, {"mail": rid}
        if office.fmt == "addon":
            function, params = office.stack.webhook_url, {"actionName": action, **params}
        answer = signer._deliver("CARD_CLICKED", "spaces/elsewhere", ALICE, card, office.fmt, function=function,
                                 parameters=params)["reply"]
        said = json.dumps(answer, ensure_ascii=False)
        assert "dialog" not in answer.get("action", "") and "newcase" not in said, said
    # the form of "open a case" opened from another space shows nothing of the mail
    function, params = "mail-open", {"mail": rid, "form": "newcase"}
    if office.fmt == "addon":
        function, params = office.stack.webhook_url, {"actionName": "mail-open", **params}
    form = signer._deliver("CARD_CLICKED", "spaces/elsewhere", ALICE, card, office.fmt, function=function,
                           parameters=params, dialog="REQUEST_DIALOG")["reply"]
    said = json.dumps(form, ensure_ascii=False)
    assert "よそのスペースからのテスト" not in said and "acme.co.jp" not in said and "fixedFooter" not in said, said
    assert record(office, mail_id)["status"] == "PROPOSED" and office.counts() == jobs_before
    opened = open_form_and_submit(office, card, "先方C")  # from the mail space itself: as before
    assert "error" not in opened


def test_a_press_naming_a_mail_id_no_document_can_have_says_the_mail_is_unknown(office):
    """A forged press whose mail id has a ``/`` or is a name Firestore reserves: on Firestore the
    first raised in the handler (the client reads ``spaces/AAAA`` as a path of another length) and
    was answered with the apology, the second read as the store unavailable; on both stores it is
    a mail the button no longer names (found by benchmarks/fuzz.py --store firestore)."""
    mail_id = deliver(office, mail("ありえない番号のテスト"))
    card = card_of(office, mail_id)
    signer = office.stack.chat_signer()
    for rid in ("spaces/AAAA{{7*7}}", "a/b/c", "__x__", ".", ".."):
        for action in ("mail-open", "mail-ignore"):
            function, params = action, {"mail": rid}
            if office.fmt == "addon":
                function, params = office.stack.webhook_url, {"actionName": action, **params}
            answer = signer._deliver("CARD_CLICKED", MAIL_SPACE, ALICE, card, office.fmt, function=function,
                                     parameters=params)["reply"]
            said = json.dumps(answer, ensure_ascii=False)
            assert ("I no longer know the mail of this button" in said
                    or "このボタンのメールが見つかりません" in said), (rid, action, said)
    assert record(office, mail_id)["status"] == "PROPOSED"


def test_duplicated_and_overlapping_notifications_make_one_card(office):
    mail_id = deliver(office, mail("二重通知のテスト"))
    card_of(office, mail_id)
    state = gmail_state(office)
    for _ in range(3):  # Gmail notifying again, and a push delivered twice
        requests.post(f"{office.gmail}/_emulator/users/{MAILBOX}:notify", timeout=10)
    token = office.worker_token()
    envelope = {"message": {"data": base64.b64encode(json.dumps(
        {"emailAddress": MAILBOX, "historyId": state["historyId"] - 5}).encode()).decode(), "messageId": "dup-1"},
        "subscription": "projects/local-project/subscriptions/gmail-push"}
    for _ in range(2):
        answer = requests.post(office.stack.worker_url + "mail", json=envelope, timeout=30,
                               headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
    office.stack.sweep_once()
    assert record(office, mail_id)["attempts"] == 1
    assert len([c for c in cards(office) if c == "client-" + record_id(MAILBOX, mail_id)]) == 1


def test_a_forgotten_history_id_rescans_without_proposing_a_mail_twice_or_opening_its_case_twice(office):
    from ackflow_tools.emulators.chat.userside import find_button

    earlier = deliver(office, mail("履歴切れ前のメール"))
    card_of(office, earlier)
    requests.post(f"{office.gmail}/_emulator/users/{MAILBOX}:expireHistory", timeout=10)
    subject = "履歴切れ後のメール"
    later = deliver(office, mail(subject))
    card = card_of(office, later)
    assert record(office, earlier)["attempts"] == 1 and record(office, later)["attempts"] == 1
    # the case opened from that card; then the history id is forgotten again and the re-scan (seen
    # done once a mail that only it can find has its card) reads the mail again
    job = office.wait_job(open_case(office, card), timeout=90)
    assert job.status == JobStatus.SUCCEEDED, job.last_error
    case = job.result["case"]
    card_of(office, later, containing=case)
    requests.post(f"{office.gmail}/_emulator/users/{MAILBOX}:expireHistory", timeout=10)
    requests.post(f"{office.gmail}/_emulator/users/{MAILBOX}:notify", timeout=10)  # Gmail notifying again
    card_of(office, deliver(office, mail("再走査でだけ見つかるメール")))
    found = record(office, later)
    assert found["status"] == "OPENED" and found["attempts"] == 1
    assert len([m for m in about(office, subject)
                if m.get("clientAssignedMessageId", "").startswith("client-mail-")]) == 1  # one card
    assert case in json.dumps(card_of(office, later), ensure_ascii=False)  # still linking the case
    # "open a case" pressed again on the card as it was (a phone that had not refreshed): it says which
    # case the mail became and starts nothing
    jobs_before = office.counts()
    action = find_button(card, "案件を作成")
    params = {p["key"]: p["value"] for p in action.get("parameters", [])}
    again = office.stack.chat_signer()._deliver(
        "CARD_CLICKED", MAIL_SPACE, ALICE, card, office.fmt, function=action.get("function"), parameters=params,
        dialog="REQUEST_DIALOG" if action.get("interaction") == "OPEN_DIALOG" else None)["reply"]
    assert case in json.dumps(again, ensure_ascii=False)
    assert office.counts() == jobs_before
    rid = record_id(MAILBOX, later)
    jobs = office.store.docs.query("jobs", [("type", "==", "newcase")], "created_at", True, 1000)
    assert [j["id"] for j in jobs if j["params"].get("mail") == rid] == [job.id]  # one job
    cases = office.store.docs.query("cases", [], "created_at", False, 1000)
    assert [c["case"] for c in cases if c.get("title") == subject] == [case]  # one case


def test_a_holder_that_died_is_taken_over_after_its_lease_and_the_card_is_posted_once(office):
    office.stack.procs["worker"].kill()
    mail_id = deliver(office, mail("落ちたワーカーのテスト"))
    # what a delivery killed after reading the mail leaves: its claim, with a lease
    MailRecords(office.store.docs).claim(MAILBOX, mail_id, "push-killed", time.time(), 4)
    office.stack.start_part("worker")
    # Pub/Sub's retries find the mail held until the lease ends; once they run out (the dead-letter
    # topic), the sweep's poll is the safety net
    deadline = time.monotonic() + 60
    while record(office, mail_id)["status"] == "PROPOSING" and time.monotonic() < deadline:
        time.sleep(1)
        if time.monotonic() > deadline - 50:
            office.stack.sweep_once()
    card_of(office, mail_id, timeout=5)
    found = record(office, mail_id)
    # taken over (a second attempt at least; on a loaded machine the one that took over may itself
    # outlive the 4 s lease and be taken over), and proposed: one card, its message id the mail's
    assert found["status"] == "PROPOSED" and found["attempts"] >= 2
    about = [m for m in office.messages(MAIL_SPACE).values()
             if "落ちたワーカーのテスト" in json.dumps(m, ensure_ascii=False)]
    assert len(about) == 1, about


def test_an_automatic_mail_gets_no_card_and_a_forged_sender_is_flagged(office):
    auto = deliver(office, mail("自動応答: 不在です", headers={"Auto-Submitted": "auto-replied"}))
    forged = deliver(office, mail("至急のお願い", auth="mx.google.com; spf=fail smtp.mailfrom=acme.co.jp; dkim=fail"))
    shown = card_of(office, forged)
    card = json.dumps(shown, ensure_ascii=False)
    assert "spf=fail" in card and "dkim=fail" in card
    assert "推定しません" in card and "（推定）" not in card  # the sender is not verified: no client guessed
    fields = inputs_of(office.click(shown, "案件を作成", MAIL_SPACE)["reply"]["dialog"])
    assert all(value_of(fields, name) == "" for name in ("client", "client.new") if name in fields), fields
    assert record(office, auto)["status"] == "SKIPPED"
    assert "client-" + record_id(MAILBOX, auto) not in cards(office)
    looked_at = ["INBOX", "UNREAD", "Ackflow/自動"]  # the office sees Ackflow read it and showed no card
    assert labels_of(office, auto, looked_at) == looked_at


def test_hostile_attachments_stay_inside_the_case_folder_and_large_ones_are_not_saved(office):
    big = b"B" * 200_000  # over the 100 kB limit of this pipeline
    mail_id = deliver(office, mail("添付の確認", attachments=(
        ("../../etc/passwd", b"root:x:0:0", "text/plain"), ("図面.pdf", b"%PDF-1", "application/pdf"),
        ("図面.PDF", b"%PDF-2", "application/pdf"), ("big.bin", big, "application/octet-stream"),
        # names that would pass for the mail's own file: the mail keeps it, the attached files are named apart
        ("受信メール.eml", b"attached-1", "application/octet-stream"),
        ("受信メール (Ackflow).eml", b"attached-2", "application/octet-stream"))))
    card = card_of(office, mail_id)
    assert "大きすぎるため保存しません" in json.dumps(card, ensure_ascii=False)
    job = office.wait_job(open_case(office, card), timeout=90)
    assert job.status == JobStatus.SUCCEEDED, job.last_error
    storage = storage_of(office)
    folder = office.runtime.services.cases.get(job.result["case"])["folder"]
    files = {path.rpartition("/")[2]: path for path in storage.list(f"{folder}/01_受領資料/メール")}
    assert set(files) == {"_.._etc_passwd", "図面.pdf", "図面 (2).PDF", "受信メール.eml", "添付_受信メール.eml",
                          "添付_受信メール (Ackflow).eml"}
    assert storage.read(files["図面 (2).PDF"]) == b"%PDF-2"
    assert storage.read(files["添付_受信メール.eml"]) == b"attached-1"
    assert storage.read(files["添付_受信メール (Ackflow).eml"]) == b"attached-2"
    documents = office.runtime.services.cases.get(job.result["case"])["documents"]
    assert len({d["path"] for d in documents}) == len(documents) == 6  # each names a file of its own
    eml = storage.read(files["受信メール.eml"])
    assert len(eml) < len(big) and b"too large" in eml  # the big part replaced by a note
    # why, in the requester's words (English here; the catalog's Japanese for a Japanese requester)
    assert "big.bin: 200,000 bytes, too large to save" in job.result["mail_skipped"]
    root = office.stack.workdir / "cases"
    assert all(p.resolve().is_relative_to(root.resolve()) for p in root.rglob("*"))


def test_the_other_hostile_mails_each_get_their_outcome_through_the_stack(office):
    """The issue's hostile mails not above, through Gmail, Pub/Sub and the worker: an HTML-only body
    is shown as its text (never its markup), thousands of recipients are counted (not listed),
    list mails (List-Id, Precedence: bulk) get no card and the label that says Ackflow read them,
    attachment names with control characters or of 300 characters are filed under safe names of at
    most 120 bytes, inside the case folder."""
    html = deliver(office, mail("HTMLだけの依頼", body=None, html=(
        '<p>お見積りを<b>お願い</b>します</p><script>alert(1)</script>'
        '<a href="https://evil.example">ここをクリック</a><img src=x onerror=alert(2)>')))
    crowd = deliver(office, mail("一斉送信の依頼", to=", ".join(f"user{n}@example.com" for n in range(3000))))
    lists = [deliver(office, mail(f"お知らせ {n}", headers=headers))
             for n, headers in enumerate(({"List-Id": "<news.acme.co.jp>"}, {"Precedence": "bulk"}))]
    long = "長" * 300 + ".pdf"
    named = deliver(office, mail("名前の悪い添付", attachments=(
        ("bell\x07\x1b[31m.pdf", b"%PDF-bell", "application/pdf"), (long, b"%PDF-long", "application/pdf"))))
    shown = json.dumps(card_of(office, html), ensure_ascii=False)
    assert "お見積りを" in shown and "ここをクリック" in shown and "HTML のみのメール" in shown, shown
    for markup in ("<script", "alert(", "onerror", "<b>", "evil.example", "<img", "<p>"):
        assert markup not in shown, markup
    shown = json.dumps(card_of(office, crowd), ensure_ascii=False)
    assert "宛先 3,000 件" in shown and "user2999@example.com" not in shown
    for mail_id in lists:  # read by a delivery of its own, perhaps still on its way (seen on Firestore)
        deadline = time.monotonic() + 60
        while (record(office, mail_id) or {}).get("status") != "SKIPPED":
            assert time.monotonic() < deadline, record(office, mail_id)
            time.sleep(0.2)
        assert "client-" + record_id(MAILBOX, mail_id) not in cards(office)
        automatic = ["INBOX", "UNREAD", "Ackflow/自動"]
        assert labels_of(office, mail_id, automatic) == automatic
    job = office.wait_job(open_case(office, card_of(office, named)), timeout=90)
    assert job.status == JobStatus.SUCCEEDED, job.last_error
    storage = storage_of(office)
    received = f"{office.runtime.services.cases.get(job.result['case'])['folder']}/01_受領資料/メール"
    files = {path.rpartition("/")[2]: path for path in storage.list(received)}
    [cut] = [name for name in files if name.startswith("長")]
    assert set(files) == {"受信メール.eml", "bell[31m.pdf", cut}, files
    assert cut.endswith(".pdf") and len(cut.encode()) <= 120
    assert storage.read(files["bell[31m.pdf"]) == b"%PDF-bell" and storage.read(files[cut]) == b"%PDF-long"
    root = office.stack.workdir / "cases"
    assert all(p.resolve().is_relative_to(root.resolve()) for p in root.rglob("*"))


def test_a_request_forwarded_as_an_attached_mail_is_listed_and_filed_as_one_mail(office):
    import email.policy
    from email import message_from_bytes
    from email.message import EmailMessage

    outer = EmailMessage()
    outer["From"], outer["To"], outer["Subject"] = "b@acme.co.jp", MAILBOX, "Fwd: 転送された依頼"
    outer.set_content("先方からの依頼を転送します")
    forwarded = mail("転送元の依頼", attachments=(("in.pdf", b"%PDF-in", "application/pdf"),))
    outer.add_attachment(message_from_bytes(forwarded), filename="依頼.eml")
    big = mail("大きな転送元", attachments=(("big.bin", b"B" * 150_000, "application/octet-stream"),))
    outer.add_attachment(message_from_bytes(big), filename="大きな依頼.eml")
    mail_id = deliver(office, outer.as_bytes())
    shown = json.dumps(card_of(office, mail_id), ensure_ascii=False)
    assert "依頼.eml" in shown and "添付なし" not in shown and "大きすぎるため保存しません" in shown
    job = office.wait_job(open_case(office, card_of(office, mail_id)), timeout=90)
    assert job.status == JobStatus.SUCCEEDED, job.last_error
    storage = storage_of(office)
    folder = f"{office.runtime.services.cases.get(job.result['case'])['folder']}/01_受領資料/メール"
    assert {p.rpartition("/")[2] for p in storage.list(folder)} == {"受信メール.eml", "依頼.eml"}
    attached = message_from_bytes(storage.read(f"{folder}/依頼.eml"), policy=email.policy.default)
    assert attached["Subject"] == "転送元の依頼" and attached.is_multipart()
    eml = storage.read(f"{folder}/受信メール.eml")
    assert b"too large" in eml and len(eml) < 150_000  # the big attached mail replaced by a note


def test_a_malformed_mail_gets_a_card_and_never_a_retry_loop(office):
    raw = (b"Subject: =?x-unknown?B?!!!?=\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n--zz\r\n"
           b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\n\xff\xfe broken\r\n")
    mail_id = deliver(office, raw)
    card_of(office, mail_id)
    assert record(office, mail_id)["attempts"] == 1
    # encoded words Python cannot decode (broken base64, a charset with no name): shown as written
    raw = (b"From: =?utf-8?b?5bGx55SwIOWkqumDjg=\xd5?= <yamada@acme.co.jp>\r\nSubject: =?utf-8?b?44OX4^Os44K5?=\r\n"
           b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
           b"--b\r\nContent-Type: application/pdf\r\n"
           b"Content-Disposition: attachment; filename=\"=?u\xc1f-8?b?5bGx?=.pdf\"\r\n\r\n%PDF\r\n--b--\r\n")
    mail_id = deliver(office, raw)
    assert "=?utf-8?b?44OX4^Os44K5?=" in json.dumps(card_of(office, mail_id), ensure_ascii=False)
    assert record(office, mail_id)["attempts"] == 1


def test_a_mail_whose_reading_fails_is_skipped_and_logged_and_the_next_mail_still_gets_its_card(office):
    """Whatever a mail makes the reading of it raise (a parser's bug: the worker of this pipeline
    raises for one subject when the control file says ``mail:unreadable``), it is settled as skipped
    and the push answered: an exception there used to leave it claimed, so every delivery (a 5xx)
    and the sweep stopped at it and no later mail got a card."""
    control = Path(office.stack.env()["ACKFLOW_TEST_PAUSE_FILE"])
    control.write_text("mail:unreadable")
    try:
        bad, good = deliver(office, mail("読めないメール")), deliver(office, mail("その次のメール"))
        card_of(office, good)
    finally:
        control.unlink(missing_ok=True)
    found = record(office, bad)
    assert found["status"] == "SKIPPED" and "RecursionError" in found["reason"] and found["attempts"] == 1
    assert "client-" + record_id(MAILBOX, bad) not in cards(office)


def test_the_push_path_verifies_the_token_and_refuses_what_is_not_a_notification(office):
    url = office.stack.worker_url + "mail"
    envelope = {"message": {"data": base64.b64encode(b'{"emailAddress": "x", "historyId": "1"}').decode()}}
    assert requests.post(url, json=envelope, timeout=10).status_code == 401
    token = {"Authorization": f"Bearer {office.worker_token()}"}
    for body in (b"not json", b'{"message": {"data": "!!!"}}', b'{"message": {}}', b"[" * 5000):
        answer = requests.post(url, data=body, headers=token, timeout=10)
        assert answer.status_code == 400, (body[:20], answer.text)
    other = {"message": {"data": base64.b64encode(b'{"emailAddress": "ceo@x.example", "historyId": "9"}').decode()}}
    assert requests.post(url, json=other, headers=token, timeout=10).json()["status"] == "ignored"


def about(office, subject: str) -> list[dict]:
    return [m for m in office.messages(MAIL_SPACE).values() if subject in json.dumps(m, ensure_ascii=False)]


def pause_after_the_card(office) -> Path:
    """The worker will stop after posting a mail's card, before settling its record."""
    control = Path(office.stack.env()["ACKFLOW_TEST_PAUSE_FILE"])
    control.with_suffix(".reached").unlink(missing_ok=True)
    control.write_text("mail:shown")
    return control


def wait_paused(office, control: Path) -> None:
    deadline = time.monotonic() + 30
    while not control.with_suffix(".reached").exists():
        assert time.monotonic() < deadline, office.stack.procs["worker"].log_tail(30)
        time.sleep(0.05)


def test_a_worker_killed_after_posting_the_card_before_settling_leaves_one_card_a_label_and_one_case(office):
    subject = "カードの直後に落ちるワーカー"
    control = pause_after_the_card(office)
    try:
        mail_id = deliver(office, mail(subject))
        wait_paused(office, control)
        shown = card_of(office, mail_id, timeout=5)  # the card is out; its record is not settled, the mail not labelled
        assert record(office, mail_id)["status"] == "PROPOSING"
        assert labels_of(office, mail_id) == ["INBOX", "UNREAD"]
        # pressed now, "open a case" offers the mail's own client and title (once, the form said 不明 and メール)
        fields = inputs_of(office.click(shown, "案件を作成", MAIL_SPACE)["reply"]["dialog"])
        guessed = record(office, mail_id)["client_guess"] or "acme.co.jp"  # a client learnt for the domain, or it
        assert (value_of(fields, "client") or value_of(fields, "client.new")) == guessed != "不明"
        assert value_of(fields, "title") == subject
        assert office.cancel_dialog(MAIL_SPACE)["reply"]["action"] == "dialog-closed"
    finally:
        control.unlink(missing_ok=True)
        office.stack.restart("worker")  # SIGKILL there (also when a check above failed: the next tests need it)
    # the killed delivery never answered: Pub/Sub delivers it again; the sweep is the safety net
    started = time.monotonic()
    while record(office, mail_id)["status"] == "PROPOSING":
        assert time.monotonic() < started + 60, office.stack.procs["worker"].log_tail(30)
        time.sleep(1)
        if time.monotonic() > started + 10:
            office.stack.sweep_once()
    found = record(office, mail_id)
    assert found["status"] == "PROPOSED" and found["attempts"] >= 2
    pending = ["INBOX", "UNREAD", "Ackflow/確認待ち"]
    assert labels_of(office, mail_id, pending) == pending
    for _ in range(2):  # a duplicated notification and a sweep afterwards change nothing
        requests.post(f"{office.gmail}/_emulator/users/{MAILBOX}:notify", timeout=10)
    office.stack.sweep_once()
    assert len(about(office, subject)) == 1
    job = office.wait_job(open_case(office, card_of(office, mail_id)), timeout=90)
    assert job.status == JobStatus.SUCCEEDED, job.last_error
    cases = [c for c in office.store.docs.query("cases", [], "created_at", False, 1000)
             if subject in json.dumps(c, ensure_ascii=False)]
    assert [c["case"] for c in cases] == [job.result["case"]]
    assert len([m for m in cards(office).values() if subject in json.dumps(m, ensure_ascii=False)]) == 1


def test_ignore_pressed_as_soon_as_the_card_shows_is_kept_labelled_and_a_case_can_still_be_opened(office):
    """Ignore, pressed on a card whose record its delivery has not settled yet (the worker paused
    there, then killed): the mail is ignored (once, the press changed nothing and said nothing), the
    delivery's repeat leaves it so, the sweep labels it, and "open a case anyway" still makes a case."""
    subject = "すぐに無視される依頼"
    control = pause_after_the_card(office)
    try:
        mail_id = deliver(office, mail(subject))
        wait_paused(office, control)
        shown = card_of(office, mail_id, timeout=5)
        assert record(office, mail_id)["status"] == "PROPOSING"
        answer = json.dumps(office.click(shown, "無視", MAIL_SPACE), ensure_ascii=False)
        assert "が無視しました" in answer and subject in answer, answer
        assert record(office, mail_id)["status"] == "IGNORED"
    finally:
        control.unlink(missing_ok=True)
        office.stack.restart("worker")  # the paused delivery dies; Pub/Sub delivers it again
    requests.post(f"{office.gmail}/_emulator/users/{MAILBOX}:notify", timeout=10)
    office.stack.sweep_once()
    done = ["INBOX", "UNREAD", "Ackflow/処理済"]
    assert labels_of(office, mail_id, done) == done
    found = record(office, mail_id)
    assert found["status"] == "IGNORED" and found["attempts"] == 1
    card = card_of(office, mail_id, containing="が無視しました")
    assert len(about(office, subject)) == 1
    opened = office.click(card, "やはり案件を作成", MAIL_SPACE)
    assert opened["reply"]["action"] == "dialog", opened
    closed = office.submit_dialog("Next", filled_in(opened["reply"]["dialog"], None), MAIL_SPACE)
    assert "message" in closed["reply"], json.dumps(closed, ensure_ascii=False)[:2000]  # the answer, if not a card
    confirmation = closed["reply"]["message"]
    assert "error" not in office.click(confirmation, "Run", MAIL_SPACE)
    job = office.wait_job(office.job_of(confirmation), timeout=90)
    assert job.status == JobStatus.SUCCEEDED, job.last_error
    assert record(office, mail_id)["status"] == "OPENED" and job.params["title"] == subject
    card_of(office, mail_id, containing=job.result["case"])


def test_a_card_chat_cannot_take_now_is_shown_later_once(office):
    chat = office.stack.url("chat")
    subject = "混雑中のチャット"
    # 429s until the card has met one (another write in the space, a card of an earlier test shown
    # again, would otherwise take a fixed number of them: seen once on Firestore in CI)
    requests.post(f"{chat}/_emulator/{MAIL_SPACE}:throttle", json={"count": 10_000}, timeout=5).raise_for_status()
    try:
        mail_id = deliver(office, mail(subject))
        started = time.monotonic()
        # a second claim of the mail: the first did not get its card shown (a shown card ends it)
        while (record(office, mail_id) or {}).get("attempts", 0) < 2:
            assert time.monotonic() < started + 60, office.stack.procs["worker"].log_tail(30)
            time.sleep(0.5)
            if time.monotonic() > started + 10:
                office.stack.sweep_once()
        assert record(office, mail_id)["status"] == "PROPOSING"  # refused at first, kept for later
    finally:
        requests.post(f"{chat}/_emulator/{MAIL_SPACE}:throttle", json={"count": 0}, timeout=5).raise_for_status()
    while (record(office, mail_id) or {}).get("status") in (None, "PROPOSING"):
        assert time.monotonic() < started + 60, office.stack.procs["worker"].log_tail(30)
        time.sleep(1)
        if time.monotonic() > started + 10:
            office.stack.sweep_once()
    found = record(office, mail_id)
    assert found["status"] == "PROPOSED" and found["attempts"] >= 2  # refused at first, kept and shown later
    assert len(about(office, subject)) == 1
    pending = ["INBOX", "UNREAD", "Ackflow/確認待ち"]
    assert labels_of(office, mail_id, pending) == pending


def test_a_card_chat_will_not_take_as_written_is_shown_as_its_text(office):
    """Chat answers 400 to the card (a field or limit it does not take): the same card goes out
    as plain text, so the office still sees the mail (whom from, what about)."""
    chat = office.stack.url("chat")
    subject = "カードを受け付けないチャット"
    requests.post(f"{chat}/_emulator/{MAIL_SPACE}:refuse", json={"status": "INVALID_ARGUMENT", "cardsOnly": True},
                  timeout=5).raise_for_status()
    mail_id = deliver(office, mail(subject))
    started = time.monotonic()
    # up to three minutes: the module's earlier tests may have spent the space's write quota for
    # this minute, and Pub/Sub delivers again after its backoff (a CI run once needed more than 60 s)
    while (record(office, mail_id) or {}).get("status") in (None, "PROPOSING"):
        assert time.monotonic() < started + 180, office.stack.procs["worker"].log_tail(30)
        time.sleep(0.2)
    assert record(office, mail_id)["status"] == "PROPOSED"
    [shown] = about(office, subject)
    assert "cardsV2" not in shown and subject in shown["text"] and "yamada@acme.co.jp" in shown["text"]


def flow_for(office, clock=time.time, **settings):
    """The mail flow in this process, with these office settings changed (e.g. a space Chat does not know)."""
    from workers.office.mail.flow import MailFlow

    flow = MailFlow(office.runtime.services, clock)
    flow.settings = flow.settings.model_copy(update=settings)
    return flow


def unshown_mail(office, subject: str, **settings) -> str:
    """A mail whose card Chat refused for good: this process handles it (the worker stopped), for a
    space Chat does not know."""
    from ackflow.errors import StoreUnavailable

    office.stack.procs["worker"].kill()
    try:
        mail_id = deliver(office, mail(subject))
        for attempt in range(5):  # the Firestore emulator may hold the killed worker's locks a while
            try:
                report = flow_for(office, mail_space="spaces/gone", **settings).sync("test-gone")
                break
            except StoreUnavailable:  # as Pub/Sub would, deliver again (the sync is safe to run twice)
                if attempt == 4:
                    raise
                time.sleep(2)
    finally:
        office.stack.start_part("worker")
    # this mail is refused; another test's mail still waiting for its Pub/Sub redelivery may be
    # handled by the same sync (it reads the mailbox's whole history since the last one)
    assert report.proposed == [] and record_id(MAILBOX, mail_id) in report.skipped, report
    return mail_id


def test_a_card_chat_refuses_for_good_is_recorded_unshown_labelled_and_not_retried(office):
    subject = "消えたスペース宛ての依頼"
    mail_id = unshown_mail(office, subject)
    found = record(office, mail_id)
    assert found["status"] == "UNSHOWN" and "spaces/gone" in found["reason"], found
    unshown = ["INBOX", "UNREAD", "Ackflow/未表示"]
    assert labels_of(office, mail_id, unshown) == unshown
    office.stack.sweep_once()  # neither the sweep nor Pub/Sub's redelivery tries it again
    requests.post(f"{office.gmail}/_emulator/users/{MAILBOX}:notify", timeout=10)
    time.sleep(1)
    assert record(office, mail_id)["attempts"] == 1 and record(office, mail_id)["status"] == "UNSHOWN"
    assert about(office, subject) == []


def ackflow(office, *args: str) -> subprocess.CompletedProcess:
    """The CLI, as an operator runs it with the deployment's settings."""
    env = {**os.environ, **office.stack.env(), "ACKFLOW_OPERATOR": "ops@example.com"}
    done = subprocess.run([sys.executable, "-m", "ackflow_tools", *args], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done


def test_an_unshown_mail_is_listed_and_shown_again_once_from_the_cli_and_the_console(office):
    from ackflow_tools.console.app import ConsoleConfig, create_app

    subject = "スペースを直したあとの依頼"
    mail_id = unshown_mail(office, subject)
    rid = record_id(MAILBOX, mail_id)
    # listed: the CLI (a table, and JSON with Chat's whole answer) and the console's Mail page
    table = ackflow(office, "mail", "unshown").stdout
    assert rid in table and subject in table and "yamada@acme.co.jp" in table
    listed = {r["id"]: r for r in json.loads(ackflow(office, "mail", "unshown", "--json").stdout)["unshown"]}
    assert "spaces/gone" in listed[rid]["reason"] and listed[rid]["subject"] == subject
    console = create_app(ConsoleConfig(runtime=office.runtime, operator="console-ops@example.com",
                                       language="ja")).test_client()
    page = console.get("/mail").get_data(as_text=True)
    assert f'<tr data-mail="{rid}">' in page and subject in page and "もう一度表示" in page
    # the space is fixed (the deployment's own space exists); asked twice, from two places
    assert f"{rid}: the next sweep shows its card" in ackflow(office, "mail", "show-again", rid).stdout
    token = console.get_cookie("ackflow_csrf").value
    again = console.post("/mail/show-again", data={"csrf_token": token, "mail": rid, "confirmed": "1"},
                         follow_redirects=True).get_data(as_text=True)
    assert "既にスイープ待ち" in again and f'<tr data-mail="{rid}">' in again  # listed as waiting
    assert about(office, subject) == []  # the operator's side posts nothing: the worker's sweep does
    # the sweep shows it (on Firestore a sweep soon after the worker was killed may meet the
    # emulator's held locks and leave it to the next: seen once in CI, so sweep until it is shown)
    started = time.monotonic()
    while (record(office, mail_id) or {}).get("status") != "PROPOSED":
        assert time.monotonic() < started + 90, record(office, mail_id)
        assert "error" not in office.stack.sweep_once()
    found = record(office, mail_id)
    assert found["status"] == "PROPOSED" and found["space"] == MAIL_SPACE and found["attempts"] >= 2, found
    assert len(about(office, subject)) == 1
    card_of(office, mail_id)
    pending = ["INBOX", "UNREAD", "Ackflow/確認待ち"]  # 未表示 taken off
    assert labels_of(office, mail_id, pending) == pending
    # asked once more, now that it is shown: nothing happens
    assert "nothing to do" in ackflow(office, "mail", "show-again", rid).stdout
    assert rid not in ackflow(office, "mail", "unshown").stdout
    office.stack.sweep_once()
    assert len(about(office, subject)) == 1 and record(office, mail_id)["attempts"] == found["attempts"]
    asked = [(e.actor, e.surface) for e in office.store.list_audit(limit=50)
             if e.action == "show-mail-again" and rid in e.target]
    assert sorted(asked) == [("console-ops@example.com", "console"), ("ops@example.com", "cli"),
                             ("ops@example.com", "cli")]


def test_the_sweep_tries_an_unshown_mail_again_a_day_later_a_bounded_number_of_times(office):
    kept = "二度断られる依頼"
    refused_twice = unshown_mail(office, kept, mail_unshown_retries=1)
    office.stack.sweep_once()  # not before a day has passed
    assert record(office, refused_twice)["attempts"] == 1
    day = time.time() + 86400 + 60
    # a day later, the space still gone: refused again, and its one automatic try is spent
    # (no topic: the watch's renewal is not this test's, and its clock must not move ahead for the others)
    out = flow_for(office, lambda: day, mail_space="spaces/gone", mail_unshown_retries=1, gmail_topic="").sweep(day)
    assert record_id(MAILBOX, refused_twice) in out["unshown_retried"]["not_shown"]
    found = record(office, refused_twice)
    assert (found["status"], found["attempts"], found["refusals"], found["retry_due"]) == ("UNSHOWN", 2, 2, False)
    unshown = ["INBOX", "UNREAD", "Ackflow/未表示"]
    assert labels_of(office, refused_twice, unshown) == unshown
    # a mail with tries left is shown once the space is fixed; the spent one waits for an operator
    fixed = "翌日に表示される依頼"
    shown_later = unshown_mail(office, fixed)
    two_days = day + 86400 + 60
    out = flow_for(office, lambda: two_days, gmail_topic="").sweep(two_days)
    assert record_id(MAILBOX, shown_later) in out["unshown_retried"]["shown"]
    assert record(office, shown_later)["status"] == "PROPOSED" and len(about(office, fixed)) == 1
    pending = ["INBOX", "UNREAD", "Ackflow/確認待ち"]
    assert labels_of(office, shown_later, pending) == pending
    assert record(office, refused_twice)["attempts"] == 2 and about(office, kept) == []
    week = two_days + 86400 * 5
    flow_for(office, lambda: week, gmail_topic="").sweep(week)  # and never again by itself
    assert record(office, refused_twice)["attempts"] == 2 and len(about(office, fixed)) == 1


def test_the_sweep_renews_the_watch_once_a_day_and_not_before(office):
    from workers.office.mail.flow import MailFlow

    before = gmail_state(office)["watch"]
    now = time.time()
    assert "watch_expires_at" not in MailFlow(office.runtime.services, time.time).sweep(now)
    assert gmail_state(office)["watch"]["renewed"] == before["renewed"]
    later = now + 86400 + 60  # the clock a day ahead
    out = MailFlow(office.runtime.services, lambda: later).sweep(later)
    watch = gmail_state(office)["watch"]
    assert watch["renewed"] == before["renewed"] + 1 and out["watch_expires_at"] == int(watch["expiration"]) / 1000
    assert MailRecords(office.store.docs).mailbox(MAILBOX)["watched_at"] == later


def test_without_a_topic_the_sweep_polls_the_mailbox_and_never_watches(tmp_path):
    from tests.e2e.conftest import start_pipeline

    pipeline = start_pipeline(tmp_path, "classic", "project-number", "sqlite", mail=True,
                              ACKFLOW_JOB_TYPES="workers.job_types:build_registry", ACKFLOW_OFFICE_GMAIL_TOPIC="")
    try:
        pipeline.gmail = pipeline.stack.url("gmail")
        pipeline.store = pipeline.stack.runtime().store
        assert "error" not in pipeline.stack.sweep_once()  # notes where the mailbox's history is
        subject = "ポーリングで届く依頼"
        mail_id = deliver(pipeline, mail(subject))
        time.sleep(2)
        assert record(pipeline, mail_id) is None  # nobody was told
        assert "error" not in pipeline.stack.sweep_once()
        assert record(pipeline, mail_id)["status"] == "PROPOSED"
        assert len(about(pipeline, subject)) == 1
        assert gmail_state(pipeline)["watch"] is None
    finally:
        pipeline.stack.stop()


def killed_in_the_mail_step(office, subject: str) -> tuple[str, str]:
    """A mail with two attachments (one of them named as the mail's own .eml is: filed apart), its case opened with
    the worker set to stop at the end of ``newcase``'s ``mail`` step (everything filed, the mail
    labelled and its card updated, the step not recorded), then SIGKILLed. The mail's id and the
    job's; the queue delivers the step again to the restarted worker."""
    mail_id = deliver(office, mail(subject, attachments=(("図面 A-12.pdf", DRAWING, "application/pdf"),
                                                         ("受信メール.eml", SPEC, "application/octet-stream"))))
    card = card_of(office, mail_id)
    control = Path(office.stack.env()["ACKFLOW_TEST_PAUSE_FILE"])
    reached = control.with_suffix(".reached")
    reached.unlink(missing_ok=True)
    control.write_text("newcase:mail")
    try:
        job_id = open_case(office, card)
        deadline = time.monotonic() + 150  # the step may wait for the office space's write quota
        while not reached.exists():
            assert time.monotonic() < deadline, office.stack.procs["worker"].log_tail(30)
            time.sleep(0.05)
        office.stack.restart("worker")
    finally:
        control.unlink(missing_ok=True)
    return mail_id, job_id


def assert_filed_once(office, mail_id: str, job_id: str) -> list[str]:
    """The killed job finished on its second attempt of the ``mail`` step, with the mail and each
    attachment filed once, the case's documents listed once, the mail labelled handled and its one
    card linking the case. The received folder's files."""
    job = office.wait_job(job_id, JobStatus.SUCCEEDED, timeout=150)
    (mail_step,) = [s for s in job.steps if s.name == "mail"]
    assert mail_step.attempts >= 2, job.steps  # killed once (and perhaps waited for Chat's quota first)
    case = job.result["case"]
    folder = office.runtime.services.cases.get(case)["folder"]
    received = f"{folder}/01_受領資料/メール"
    storage = storage_of(office)
    filed = sorted(path.rsplit("/", 1)[-1] for path in storage.list(received))
    assert filed == ["受信メール.eml", "図面 A-12.pdf", "添付_受信メール.eml"], filed  # the mail keeps its name
    assert b"Subject:" in storage.read(f"{received}/受信メール.eml")
    assert storage.read(f"{received}/添付_受信メール.eml") == SPEC
    assert storage.read(f"{received}/図面 A-12.pdf") == DRAWING
    paths = [d["path"] for d in office.runtime.services.cases.get(case)["documents"] if d["path"].startswith(received)]
    assert len(paths) == len(set(paths)) == 3, paths
    done = ["INBOX", "UNREAD", "Ackflow/処理済"]
    assert labels_of(office, mail_id, done) == done
    assert f"案件 {case}" in json.dumps(card_of(office, mail_id, containing=case), ensure_ascii=False)
    assert record(office, mail_id)["case"] == case
    return filed


def test_a_worker_killed_at_the_end_of_the_mail_step_files_the_mail_and_each_attachment_once(office):
    mail_id, job_id = killed_in_the_mail_step(office, "停止試験 メール保存")
    assert_filed_once(office, mail_id, job_id)


def test_a_case_whose_job_was_cancelled_can_be_opened_from_the_mail_again(office):
    """Run pressed on the mail's case, then the job cancelled before it ran: the mail is not being
    opened any more. 案件を作成 opens its form again (it said “a case is being opened” for good), and
    the new job opens the one case and files the mail."""
    mail_id = deliver(office, mail("取消後に再作成"))
    card = card_of(office, mail_id)
    office.runtime.queue.pause("ackflow-office")  # the first job waits, to be cancelled
    try:
        first = open_case(office, card)
        cancelled = office.send(f"cancel {first}", MAIL_SPACE)["reply"]["message"]
        assert office.runtime.store.get_job(first).status == JobStatus.CANCELLED, cancelled
    finally:
        office.runtime.queue.resume("ackflow-office")
    second = open_case(office, card)  # the form opens again, its confirmation is Run
    assert second != first
    job = office.wait_job(second, timeout=90)
    assert job.status == JobStatus.SUCCEEDED, job.last_error
    assert record(office, mail_id)["case"] == job.result["case"] and record(office, mail_id)["job"] == second
    assert office.wait_job(first).status == JobStatus.CANCELLED and not office.runtime.store.get_job(first).result


def test_a_mail_step_chat_throttles_waits_for_the_quota_instead_of_spending_the_queues_retries(office):
    """Chat answers 429 to the mail card's update (the office space's write quota, shared with every
    card and result there): the step waits under a task of its own (RetryLater) instead of spending
    the queue's quick retries, which in a busy minute failed the job of a case already opened; once
    Chat takes writes again, it finishes."""
    chat = office.stack.url("chat")
    mail_id = deliver(office, mail("混雑中の案件作成"))
    # up to three minutes: the module's earlier tests may have spent the space's write quota for
    # this minute (run after them, the card waited past 30 s on main as well)
    card = card_of(office, mail_id, timeout=180)
    control = Path(office.stack.env()["ACKFLOW_TEST_PAUSE_FILE"])
    control.write_text("newcase:portal")  # the steps before the mail's run, then wait here
    reached = control.with_suffix(".reached")
    reached.unlink(missing_ok=True)
    try:
        job_id = open_case(office, card)
        deadline = time.monotonic() + 150
        while not reached.exists():
            assert time.monotonic() < deadline, office.stack.procs["worker"].log_tail(30)
            time.sleep(0.05)
        requests.post(f"{chat}/_emulator/{MAIL_SPACE}:throttle", json={"count": 10_000},
                      timeout=5).raise_for_status()
        office.stack.restart("worker")  # the portal step again, then the mail's meets the 429s
        deadline = time.monotonic() + 150
        while True:
            job = office.runtime.store.get_job(job_id)
            mail_step = job.steps[-1]
            if mail_step.attempts and job.next_attempt_at:
                break
            assert time.monotonic() < deadline and not job.status.finished, (job.status, job.last_error)
            time.sleep(0.2)
        assert job.status == JobStatus.RUNNING and mail_step.attempts == 1, job  # waiting, not retried at once
        assert job.next_attempt_at - time.time() >= 10
    finally:
        control.unlink(missing_ok=True)
        requests.post(f"{chat}/_emulator/{MAIL_SPACE}:throttle", json={"count": 0}, timeout=5).raise_for_status()
    from ackflow.taskqueue.base import task_name
    from tests.e2e.test_office_freee import cloud_tasks, task_once_sent

    client = cloud_tasks(office)  # the waiting task, run now as Cloud Tasks' tasks.run does
    name = f"{office.runtime.queue.queue_path(job.queue)}/tasks/{task_name(job.id, job.current, job.generation)}"
    task_once_sent(client, name)
    client.run_task(name=name)
    done = office.wait_job(job_id, JobStatus.SUCCEEDED, timeout=150)
    assert done.steps[-1].status.value == "SUCCEEDED"
