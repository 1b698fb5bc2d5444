"""The mail flow in this process, on real parts: a SQLite store, the local Chat service and the
Gmail stand-in (read through the official client), without Pub/Sub: ``MailFlow.sync`` is what a
push runs. For outcomes that need no push: what a mail the flow cannot read does to the mails
after it, and what Gmail's labels do when people change them."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests

from ackflow.app.runtime import Runtime
from ackflow.settings import Settings
from ackflow_tools.emulators.chat import start_server
from tests.support.mail import MAILBOX, GmailStandIn, mail
from workers.office.mail.flow import MailFlow
from workers.office.mail.records import MailRecords, record_id

SPACE = "spaces/mail"
LAST_SECOND = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-12)))


@pytest.fixture
def gmail(tmp_path):
    stand_in = GmailStandIn(tmp_path)
    yield stand_in
    stand_in.stop()


@pytest.fixture
def runtime(tmp_path, gmail, monkeypatch):
    _, _, chat = start_server(tmp_path / "chat.db")
    requests.put(f"{chat.url}/_emulator/{SPACE}", json={}, timeout=10).raise_for_status()
    for key, value in {"MAILBOX": MAILBOX, "GMAIL_ENDPOINT": gmail.url, "GMAIL_CREDENTIALS_FILE": str(gmail.key),
                       "MAIL_SPACE": SPACE, "LOCAL_ROOT": str(tmp_path / "cases")}.items():
        monkeypatch.setenv(f"ACKFLOW_OFFICE_{key}", value)
    runtime = Runtime(Settings(store="sqlite", sqlite_path=str(tmp_path / "jobs.db"), chat_endpoint=chat.url,
                               local_services=True, log_format="text"))
    runtime.chat_url = chat.url
    yield runtime
    runtime.close()
    chat.stop()


def flow(runtime) -> MailFlow:
    return MailFlow(runtime.services, runtime.clock)


def status(runtime, mail_id: str) -> str | None:
    return (MailRecords(runtime.store.docs).get(record_id(MAILBOX, mail_id)) or {}).get("status")


def card_ids(runtime) -> list[str]:
    messages = requests.get(f"{runtime.chat_url}/v1/{SPACE}/messages", timeout=10).json().get("messages", [])
    return sorted(m.get("clientAssignedMessageId", "") for m in messages)


def test_a_mail_dated_past_the_calendar_gets_its_card_dated_when_it_was_read(runtime, gmail):
    """A mail's time as Gmail gives it (``internalDate``) is read into the card's date in the
    office's time zone: 9999-12-31 23:59:59 in UTC-12 is in year 10000 in Tokyo, which Python
    refuses (ValueError). Raised from the flow, it was a 500 to every delivery (Pub/Sub's, the
    sweep's), and the history id never moved past the mail, so no mail after it got a card. (Gmail
    dates a mail it received by SMTP itself; an imported one may carry its Date header, as here.)"""
    sync = flow(runtime)
    sync.sync("push-0")  # the first sync starts from now
    odd = gmail.service.deliver(MAILBOX, mail("年の外", date=LAST_SECOND),
                                internal_date_source="dateHeader")
    fine = gmail.deliver(mail("次のメール"))
    before = runtime.clock()
    report = sync.sync("push-1")
    assert report.proposed == [record_id(MAILBOX, odd["id"]), record_id(MAILBOX, fine["id"])]
    odd_record = MailRecords(runtime.store.docs).get(record_id(MAILBOX, odd["id"]))
    assert before <= odd_record["received_at"] <= runtime.clock()
    assert sorted(card_ids(runtime)) == sorted(f"client-{rid}" for rid in report.proposed)


def test_a_mail_arriving_by_smtp_is_dated_by_its_arrival_not_by_what_its_date_header_says(gmail):
    """Gmail's ``internalDate`` of a mail received by SMTP is when Google accepted it (the Date
    header is the sender's to write); the stand-in used the header, so a mail back-dated by its
    sender fell out of the re-scan's ``newer_than:`` there while Gmail would list it."""
    from workers.office.mail.gmail import GmailMailbox

    box = GmailMailbox(MAILBOX, endpoint=gmail.url, credentials_file=str(gmail.key))
    sent = gmail.deliver(mail("古い日付", date=dt.datetime(2001, 1, 1, tzinfo=dt.UTC)))
    assert abs(box.get(sent["id"]).received_at - time.time()) < 60
    assert box.recent(3, 10) == [sent["id"]]


def test_a_request_a_person_takes_out_of_spam_gets_its_card_once(runtime, gmail):
    """A client's first mail caught by Gmail's spam filter, then marked "not spam" by a person: it
    enters the inbox by a label added (INBOX), not as a message added, and the flow read only
    messages added; the request never got a card. Ackflow's own labels, added to the mails it
    shows, are label changes too: they make no second card."""
    from workers.office.mail.gmail import GmailMailbox

    sync = flow(runtime)
    sync.sync("push-0")
    caught = gmail.service.deliver(MAILBOX, mail("はじめてのご依頼"), label_ids=("SPAM", "UNREAD"))
    assert sync.sync("push-1").proposed == []  # in spam: not a request yet
    box = GmailMailbox(MAILBOX, endpoint=gmail.url, credentials_file=str(gmail.key))
    box._api().messages().modify(userId="me", id=caught["id"],
                                 body={"addLabelIds": ["INBOX"], "removeLabelIds": ["SPAM"]}).execute()
    assert sync.sync("push-2").proposed == [record_id(MAILBOX, caught["id"])]
    assert sync.sync("push-3").proposed == []  # Ackflow's label on it since: nothing more
    assert card_ids(runtime) == [f"client-{record_id(MAILBOX, caught['id'])}"]
    assert gmail.labels_of(caught["id"]) == ["UNREAD", "INBOX", "Ackflow/確認待ち"]


def test_more_mails_in_one_history_record_than_a_batch_are_all_proposed(runtime, gmail, monkeypatch):
    """One history record may name several mails (Gmail's ``messages`` is a list: a person selects
    the requests caught in spam and marks them all "not spam", one ``batchModify``). A record with
    more mails than ``ACKFLOW_OFFICE_MAIL_BATCH`` was never taken: the sync stopped before it with
    nothing done and the same id to continue from, every time, so no mail after it got a card."""
    from workers.office.mail.gmail import GmailMailbox

    monkeypatch.setenv("ACKFLOW_OFFICE_MAIL_BATCH", "1")
    sync = flow(runtime)
    assert sync.settings.mail_batch == 1
    sync.sync("push-0")
    caught = [gmail.service.deliver(MAILBOX, mail(f"依頼 {n}"), label_ids=("SPAM",))["id"] for n in range(3)]
    box = GmailMailbox(MAILBOX, endpoint=gmail.url, credentials_file=str(gmail.key))
    box._api().messages().batchModify(userId="me", body={"ids": caught, "addLabelIds": ["INBOX"],
                                                        "removeLabelIds": ["SPAM"]}).execute()
    later = gmail.deliver(mail("その後のメール"))["id"]
    proposed = sync.sync("push-1").proposed + sync.sync("push-2").proposed
    assert proposed == [record_id(MAILBOX, i) for i in (*caught, later)]


def test_a_mail_read_while_gmail_throttles_is_never_given_up_as_unreadable(runtime, gmail):
    """A mail Gmail fails to give five times is skipped, so one broken mail never blocks the ones
    after it. Gmail's usage limits (403 ``userRateLimitExceeded``) are retried since they were told
    from refused delegation; counted among those five, a burst of deliveries while the mailbox was
    over its rate gave a client's request up for good, with no card and only a log line."""
    from ackflow.errors import TransientError

    sync = flow(runtime)
    sync.sync("push-0")
    sent = gmail.deliver(mail("急ぎのご依頼"))
    charge = gmail.service.charge

    def over_rate_for_reads(box, method):
        if method == "messages.get":
            gmail.service.user_rate_limit, limit = 1, gmail.service.user_rate_limit
            try:
                charge(box, method)
            finally:
                gmail.service.user_rate_limit = limit
        charge(box, method)

    gmail.service.charge = over_rate_for_reads
    try:
        for _ in range(8):  # Pub/Sub delivers the notification again while the mailbox is over its rate
            with pytest.raises(TransientError):
                sync.sync("push-1")
    finally:
        gmail.service.charge = charge
    report = sync.sync("push-1")
    assert report.proposed == [record_id(MAILBOX, sent["id"])]
    assert status(runtime, sent["id"]) != "SKIPPED"
    assert card_ids(runtime) == [f"client-{record_id(MAILBOX, sent['id'])}"]


def test_a_watch_gmail_refuses_never_stops_the_sweep_from_polling_for_new_mail(runtime, gmail, monkeypatch):
    """The sweep renews Gmail's watch, then polls the history: the safety net under push. A watch
    Gmail refuses (the Pub/Sub topic deleted, its publish right for Gmail taken away, Gmail
    unavailable at the renewal) raised out of the sweep before the poll, on every sweep, so no mail
    got a card until someone read the log and fixed the topic: the net failed with what it is for."""
    from ackflow_tools.emulators.web import Router, ServerThread

    pubsub = ServerThread(Router()).start()  # a Pub/Sub without the topic: Gmail's watch answers 404
    try:
        gmail.service.pubsub_url = pubsub.url
        monkeypatch.setenv("ACKFLOW_OFFICE_GMAIL_TOPIC", "projects/local-project/topics/gmail")
        now = time.time()
        first = flow(runtime).sweep(now)
        assert "watch_expires_at" not in first and "404" in first["watch_error"]
        sent = gmail.deliver(mail("トピックが消えた日の依頼"))
        second = flow(runtime).sweep(now + 60)
        assert "error" not in second and "404" in second["watch_error"]
        assert status(runtime, sent["id"]) == "PROPOSED"
        assert card_ids(runtime) == [f"client-{record_id(MAILBOX, sent['id'])}"]
    finally:
        pubsub.stop()


def test_a_mail_too_large_to_file_whole_is_filed_with_its_text_and_a_line_for_each_attachment(runtime, gmail,
                                                                                               monkeypatch):
    """A client's mail with one drawing over the attachment limit is, with it, over the limit of a
    mail filed whole (``ACKFLOW_OFFICE_MAIL_MAX_BYTES``; Gmail takes mails of up to 50 MB). Opening
    its case saved neither the drawing (too large) nor the mail: nothing of the request (its text,
    its due date, who sent it) was in the case folder. The mail is now filed as Gmail read it
    (headers and text, nothing more downloaded), each attachment named where it is."""
    from email import message_from_bytes, policy

    from ackflow.i18n import ENGLISH
    from ackflow.jobs.context import StepContext
    from ackflow.jobs.model import Job, Requester, StepState, StepStatus
    from workers.office.mail.steps import save_mail

    monkeypatch.setenv("ACKFLOW_OFFICE_MAIL_MAX_BYTES", "100000")
    monkeypatch.setenv("ACKFLOW_OFFICE_MAIL_MAX_ATTACHMENT_BYTES", "60000")
    sync = flow(runtime)
    sync.sync("push-0")
    sent = gmail.deliver(mail("大きな図面のご依頼", body="図面をお送りします。\n納期: 2026年12月1日",
                              attachments=(("図面.dwg", b"D" * 90_000, "application/octet-stream"),
                                           ("仕様.txt", "仕様です".encode(), "text/plain"))))
    rid = record_id(MAILBOX, sent["id"])
    assert sync.sync("push-1").proposed == [rid]
    MailRecords(runtime.store.docs).update(rid, lambda doc: {**doc, "confirmation": "c-mail"})  # Run on its card
    folder = "2026-001_ACME_大きな図面のご依頼"
    steps = (StepState("number", StepStatus.SUCCEEDED, output={"case": "2026-001"}),
             StepState("folder", StepStatus.SUCCEEDED, output={"folder": folder, "folder_link": "https://x/"}),
             StepState("mail"))
    job = Job(id="j-big", type="newcase", params={"client": "ACME", "title": "大きな図面のご依頼", "mail": rid},
              requester=Requester("users/1", "yamada@office.example", "山田", language="en"), space=SPACE,
              thread=None, queue="ackflow-office", steps=steps, created_at=1.0, updated_at=1.0,
              confirmation_id="c-mail")
    result = save_mail(StepContext(job, 2, 1, runtime.services, report=lambda *_: None, cancelled=lambda: False,
                                   speaker=ENGLISH))
    storage = runtime.services.case_storage
    received = f"{folder}/01_受領資料/メール"
    assert sorted(p.rpartition("/")[2] for p in storage.list(received)) == ["仕様.txt", "受信メール.eml"]
    filed = storage.read(f"{received}/受信メール.eml")
    assert len(filed) < 10_000
    eml = message_from_bytes(filed, policy=policy.default)
    assert eml["Subject"] == "大きな図面のご依頼" and eml["From"] == "山田 太郎 <yamada@acme.co.jp>"
    assert "納期: 2026年12月1日" in eml.get_body(("plain",)).get_content()
    text = filed.decode()
    assert "図面.dwg (90,000 bytes): not saved: too large" in text and "仕様.txt" in text
    assert "受信メール.eml" in result["mail_skipped"] and "without its attachments" in result["mail_skipped"]


@pytest.fixture
def drive_stand_in(tmp_path):
    from tests.support.drive import LocalDrive

    stand_in = LocalDrive(tmp_path)
    yield stand_in
    stand_in.stop()


FORGED = b"From: shacho@acme.co.jp\r\nSubject: forged\r\n\r\nplease pay\r\n"


@pytest.mark.parametrize("kind", ["local", "drive"])
def test_an_attachment_named_as_the_mail_never_takes_the_mails_place_on_any_storage(runtime, gmail, kind, request):
    """A sender attached a ``受信メール.eml`` of their own (another sender, no failed-authentication
    warning): it kept that name and the mail received was filed as ``受信メール (Ackflow).eml``, so
    the forged mail lay exactly where the office looks for the request. The mail now always takes
    ``受信メール.eml``; an attachment that would pass for it (the same name in another case or width,
    with a dot or space after it, or the name the mail once took) is filed as ``添付_…``; a retried
    step files nothing twice and keeps the names."""
    from ackflow.i18n import ENGLISH
    from ackflow.jobs.context import StepContext
    from ackflow.jobs.model import Job, Requester, StepState, StepStatus
    from tests.support.drive import FOLDER
    from workers.office.mail.steps import save_mail

    if kind == "drive":
        drive = request.getfixturevalue("drive_stand_in")
        parent = drive.seed(name="cases", mimeType=FOLDER, parents=["local-shared-drive"])
        runtime.services._made["case_storage"] = drive.storage(parent["id"])
    sync = flow(runtime)
    sync.sync("push-0")
    sent = gmail.deliver(mail("図面のご依頼", attachments=(
        ("受信メール.eml", FORGED, "application/octet-stream"),
        ("受信メール (Ackflow).eml", b"attached-2", "application/octet-stream"),
        ("受信ﾒｰﾙ.EML", b"attached-3", "application/octet-stream"),
        ("受信メール．ｅｍｌ", b"attached-4", "application/octet-stream"),
        ("添付_受信メール.eml", b"attached-5", "application/octet-stream"),
        ("図面.pdf", b"%PDF-1", "application/pdf"))))
    rid = record_id(MAILBOX, sent["id"])
    assert sync.sync("push-1").proposed == [rid]
    MailRecords(runtime.store.docs).update(rid, lambda doc: {**doc, "confirmation": "c-mail"})  # Run on its card
    folder = "2026-001_ACME_図面のご依頼"
    steps = (StepState("number", StepStatus.SUCCEEDED, output={"case": "2026-001"}),
             StepState("folder", StepStatus.SUCCEEDED, output={"folder": folder, "folder_link": "https://x/"}),
             StepState("mail"))
    job = Job(id="j-named", type="newcase", params={"client": "ACME", "title": "図面のご依頼", "mail": rid},
              requester=Requester("users/1", "yamada@office.example", "山田", language="en"), space=SPACE,
              thread=None, queue="ackflow-office", steps=steps, created_at=1.0, updated_at=1.0,
              confirmation_id="c-mail")
    storage = runtime.services.case_storage
    received = f"{folder}/01_受領資料/メール"
    expected = {"受信メール.eml", "添付_受信メール (2).eml", "添付_受信メール (Ackflow).eml", "添付_受信ﾒｰﾙ.EML",
                "添付_受信メール．ｅｍｌ", "添付_受信メール.eml", "図面.pdf"}
    for attempt in (1, 2):  # the step retried: the same files, once each
        result = save_mail(StepContext(job, 2, attempt, runtime.services, report=lambda *_: None,
                                       cancelled=lambda: False, speaker=ENGLISH))
        files = [p.rpartition("/")[2] for p in storage.list(received)]
        assert sorted(files) == sorted(expected), files
        assert "6 attachment" in result["mail"]
    assert b"Subject: =?utf-8?b?" in storage.read(f"{received}/受信メール.eml")  # the mail received
    assert b"mx.google.com; spf=pass" in storage.read(f"{received}/受信メール.eml")
    assert storage.read(f"{received}/添付_受信メール (2).eml") == FORGED
    assert storage.read(f"{received}/添付_受信メール.eml") == b"attached-5"
    documents = runtime.services.cases.get("2026-001")["documents"]
    assert sorted(d["name"] for d in documents) == sorted(expected)
    if kind == "drive":
        names = [f["name"] for f in drive.files() if "受信" in f["name"] or f["name"] == "図面.pdf"]
        assert sorted(names) == sorted(expected), names  # Drive takes two files of one name: none made



def card_text(runtime, rid: str) -> str:
    import json

    messages = requests.get(f"{runtime.chat_url}/v1/{SPACE}/messages", timeout=10).json().get("messages", [])
    (found,) = [m for m in messages if m.get("clientAssignedMessageId") == f"client-{rid}"]
    return json.dumps(found, ensure_ascii=False)


def test_a_sender_who_failed_authentication_gets_no_client_guessed_from_the_domain_they_wrote(runtime, gmail):
    """A forged ceo@acme.co.jp (SPF and DKIM failed at Gmail) showed ACME精機（推定） beside the
    warning that it may be forged, and its form was filled in with ACME精機: the forger chose the
    client. The card now says the sender is not verified and guesses none; the form's client is
    empty, for the person to type; the case opened from it teaches nothing about acme.co.jp. A mail
    from the domain that passed, and one without the receiving server's Authentication-Results,
    are guessed as before."""
    from workers.office.mail.actions import case_params

    records = MailRecords(runtime.store.docs)
    records.learn_client("acme.co.jp", "ACME精機", runtime.clock())  # a case was opened from acme.co.jp before
    sync = flow(runtime)
    sync.sync("push-0")
    forged = gmail.deliver(mail("至急お振込みのお願い", sender="社長 <ceo@acme.co.jp>",
                                auth="mx.google.com; spf=fail smtp.mailfrom=acme.co.jp; dkim=fail header.d=acme.co.jp"))
    genuine = gmail.deliver(mail("図面のご依頼"))
    unchecked = gmail.deliver(mail("社内から転送", auth=None))
    sync.sync("push-1")
    rid = record_id(MAILBOX, forged["id"])
    record = records.get(rid)
    assert record["auth_failure"] == "spf=fail, dkim=fail" and record["client_guess"] is None
    shown = card_text(runtime, rid)
    assert "ACME精機" not in shown and "推定しません" in shown and "spf=fail" in shown, shown
    assert case_params(record)["client"] is None
    for other in (genuine, unchecked):
        assert records.get(record_id(MAILBOX, other["id"]))["client_guess"] == "ACME精機"
        assert "ACME精機（推定）" in card_text(runtime, record_id(MAILBOX, other["id"]))
    # a record kept before (its guess made from the forged domain) is shown and filled in alike
    records.update(rid, lambda doc: {**doc, "client_guess": "ACME精機"})
    assert case_params(records.get(rid))["client"] is None
    from workers.office.mail.card import mail_card

    assert "ACME精機" not in str(mail_card(records.get(rid)).card)
    # the case a person opens from it, for the client they typed, teaches nothing about acme.co.jp
    records.learn_client("acme.co.jp", "", 0)
    records.update(rid, lambda doc: {**doc, "confirmation": "c-forged"})
    run_mail_step(runtime, rid, "至急お振込みのお願い", "ACME精機", "c-forged")
    assert not records.client_for("acme.co.jp")


def run_mail_step(runtime, rid: str, title: str, client: str, confirmation: str) -> dict:
    """``newcase``'s ``mail`` step for the mail's case (2026-001), as Run on its card runs it."""
    from ackflow.i18n import ENGLISH
    from ackflow.jobs.context import StepContext
    from ackflow.jobs.model import Job, Requester, StepState, StepStatus
    from workers.office.mail.steps import save_mail

    folder = f"2026-001_{client}_{title}"
    steps = (StepState("number", StepStatus.SUCCEEDED, output={"case": "2026-001"}),
             StepState("folder", StepStatus.SUCCEEDED, output={"folder": folder, "folder_link": "https://x/"}),
             StepState("mail"))
    job = Job(id=f"j-{confirmation}", type="newcase", params={"client": client, "title": title, "mail": rid},
              requester=Requester("users/1", "yamada@office.example", "山田", language="en"), space=SPACE,
              thread=None, queue="ackflow-office", steps=steps, created_at=1.0, updated_at=1.0,
              confirmation_id=confirmation)
    return save_mail(StepContext(job, 2, 1, runtime.services, report=lambda *_: None, cancelled=lambda: False,
                                 speaker=ENGLISH))


def test_a_rescan_after_a_forgotten_history_id_never_proposes_mail_from_before_the_first_watch(runtime, gmail):
    """Gmail forgot the stored history id (404): the re-scan read the last 3 days of the inbox and
    proposed every mail in it it had not seen, mails that were there before Ackflow first watched
    the mailbox too (a week of old requests, already answered by hand, each a new card), while the
    docs say such mail is never proposed. Mail from before the first watch is now neither listed
    (Gmail's ``after:``) nor, if listed, proposed; mail since is, once."""
    old = gmail.deliver(mail("監視を始める前のメール"))
    time.sleep(1.1)  # Gmail's after: takes whole seconds: the first watch a second later
    sync = flow(runtime)
    sync.sync("push-0")  # the first sync starts from now
    new = gmail.deliver(mail("監視を始めた後のメール"))
    gmail.service.expire_history(MAILBOX)
    report = sync.sync("push-1")
    assert report.rescanned and report.proposed == [record_id(MAILBOX, new["id"])]
    assert MailRecords(runtime.store.docs).started_at(MAILBOX) >= int(old["internalDate"]) / 1000
    assert status(runtime, old["id"]) is None and card_ids(runtime) == [f"client-{record_id(MAILBOX, new['id'])}"]
    # one Gmail lists anyway (after: is in whole seconds; it came within the first watch's second): not proposed
    from workers.office.mail.records import MAIL, box_id

    near = gmail.deliver(mail("監視開始と同じ秒のメール"))
    box = MailRecords(runtime.store.docs).mailbox(MAILBOX)
    moved = {**box, "started_at": int(near["internalDate"]) / 1000 + 0.0005}
    runtime.store.docs.transaction(lambda tx: tx.set(MAIL, box_id(MAILBOX), moved))
    gmail.service.expire_history(MAILBOX)
    report = sync.sync("push-2")
    assert report.rescanned and report.proposed == [] and status(runtime, near["id"]) == "SKIPPED"
    assert gmail.labels_of(near["id"]) == ["INBOX", "UNREAD"]  # no card, no label: as though never seen


def test_a_card_shows_the_body_the_attachments_sizes_and_a_client_of_the_case_records_guessed_from_the_sender(
        runtime, gmail):
    """The card says whom from, what about, the first lines of the body and each attachment's name
    and size; the client is guessed from the sender's domain (or name) among the clients already
    known (the case records, which mirror the case sheet), a sender on a free-mail domain by the
    name they give, and a sender no client matches is said to be unknown. No client was learnt
    from an earlier mail here: the guess comes from the clients alone."""
    docs = runtime.store.docs
    for number, client in (("2026-001", "ACME精機株式会社"), ("2026-002", "山田製作所")):
        docs.transaction(lambda tx, n=number, c=client: tx.create("cases", n, {
            "case": n, "client": c, "title": "既存の案件", "created_at": runtime.clock()}))
    sync = flow(runtime)
    sync.sync("push-0")
    by_domain = gmail.deliver(mail("図面のご依頼", attachments=(("図面 A-12.pdf", b"%PDF" + b"x" * 20_476,
                                                                   "application/pdf"),
                                                                  ("仕様書.txt", b"spec", "text/plain"))))
    by_name = gmail.deliver(mail("見積のお願い", sender="山田製作所 営業部 <eigyo@gmail.com>", auth=None))
    unknown = gmail.deliver(mail("はじめてのご依頼", sender="佐藤 <sato@unknown-firm.example>", auth=None))
    assert sorted(sync.sync("push-1").proposed) == sorted(record_id(MAILBOX, m["id"])
                                                         for m in (by_domain, by_name, unknown))
    shown = card_text(runtime, record_id(MAILBOX, by_domain["id"]))
    for expected in ("山田 太郎", "yamada@acme.co.jp", "図面のご依頼", "いつもお世話になっております。",
                     "図面 A-12.pdf (20.0 KB)", "仕様書.txt (4 B)", "ACME精機株式会社（推定）"):
        assert expected in shown, (expected, shown)
    assert "山田製作所（推定）" in card_text(runtime, record_id(MAILBOX, by_name["id"]))
    text = card_text(runtime, record_id(MAILBOX, unknown["id"]))
    assert "（推定）" not in text and "不明な差出人" in text, text
