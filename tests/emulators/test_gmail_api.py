"""The Gmail stand-in through the official client (google-api-python-client, static discovery), by
way of the Mailbox adapter the worker uses."""

from __future__ import annotations

import pytest

from ackflow.errors import PermanentError
from tests.support.mail import MAILBOX, GmailStandIn, mail
from workers.office.mail.gmail import GmailMailbox
from workers.office.mail.mailbox import HistoryGone, MailGone

DRAWING = b"%PDF-1.4 drawing" + bytes(range(256)) * 40


@pytest.fixture
def gmail(tmp_path):
    stand_in = GmailStandIn(tmp_path)
    yield stand_in
    stand_in.stop()


def mailbox(gmail) -> GmailMailbox:
    return GmailMailbox(MAILBOX, endpoint=gmail.url, credentials_file=str(gmail.key))


def test_history_lists_new_mail_once_and_messages_read_as_full_raw_and_attachments(gmail):
    box = mailbox(gmail)
    start = box.current_history()
    first = gmail.deliver(mail(attachments=(("図面 A-12.pdf", DRAWING, "application/pdf"),
                                            ("仕様書.txt", "寸法 100mm".encode(), "text/plain"))))
    second = gmail.deliver(mail("二件目"))
    changes = box.changes(start, 100)
    assert changes.added == (first["id"], second["id"]) and changes.complete
    assert box.changes(changes.history_id, 100).added == ()
    got = box.get(first["id"])
    assert got.header("Subject") == "プレス金型 A-12 のお見積りのお願い"  # decoded, as Gmail shows it
    names = {p.filename: p for p in got.parts if p.filename}
    assert set(names) == {"図面 A-12.pdf", "仕様書.txt"} and names["図面 A-12.pdf"].size == len(DRAWING)
    assert names["図面 A-12.pdf"].data is None  # attachments come by handle only
    assert box.attachment(first["id"], names["図面 A-12.pdf"].handle) == DRAWING
    assert box.raw(first["id"]).startswith(b"Authentication-Results: mx.google.com")
    assert box.recent(3, 10) == [first["id"], second["id"]]


def test_a_forgotten_history_id_is_history_gone_and_a_deleted_mail_mail_gone(gmail):
    box = mailbox(gmail)
    start = box.current_history()
    gmail.deliver(mail())
    gmail.service.expire_history(MAILBOX)
    with pytest.raises(HistoryGone):
        box.changes(start, 100)
    with pytest.raises(MailGone):
        box.get("0000000000000000")


def test_labels_are_made_once_and_put_on_the_mail(gmail):
    box = mailbox(gmail)
    sent = gmail.deliver(mail())
    box.add_labels(sent["id"], ["Ackflow/確認待ち"])
    mailbox(gmail).add_labels(sent["id"], ["Ackflow/処理済"], ["Ackflow/確認待ち"])  # a fresh client finds them
    box.add_labels(sent["id"], ["Ackflow/処理済"])  # again: nothing changes
    assert gmail.labels_of(sent["id"]) == ["INBOX", "UNREAD", "Ackflow/処理済"]
    names = [label["name"] for label in gmail.service.boxes[MAILBOX].labels.values()]
    assert names.count("Ackflow/処理済") == 1 and names.count("Ackflow/確認待ち") == 1


def test_delegation_without_the_modify_scope_cannot_label(tmp_path):
    stand_in = GmailStandIn(tmp_path, scopes=("https://www.googleapis.com/auth/gmail.readonly",))
    try:
        sent = stand_in.deliver(mail())
        with pytest.raises(PermanentError, match="domain-wide delegation"):
            mailbox(stand_in).add_labels(sent["id"], ["Ackflow/処理済"])
    finally:
        stand_in.stop()


def test_ackflow_mail_receive_drops_a_mail_with_its_attachments(gmail, tmp_path):
    from click.testing import CliRunner

    from ackflow_tools.cli.main import cli

    drawing = tmp_path / "図面.pdf"
    drawing.write_bytes(DRAWING)
    result = CliRunner().invoke(cli, ["mail", "receive", "--from", "山田 <yamada@acme.co.jp>", "--subject", "見積依頼",
                                      "--attach", str(drawing), "--spf", "fail", "--gmail-url", gmail.url,
                                      "--to", MAILBOX])
    assert result.exit_code == 0, result.output
    box = mailbox(gmail)
    got = box.get(box.recent(1, 10)[-1])
    assert got.header("Subject") == "見積依頼" and "spf=fail" in got.header("Authentication-Results")
    attachment = next(p for p in got.parts if p.filename == "図面.pdf")
    assert box.attachment(got.id, attachment.handle) == DRAWING
