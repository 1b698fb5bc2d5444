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


def test_headers_and_file_names_written_in_utf8_read_as_written(gmail):
    """A header in UTF-8 as it is (RFC 6532; many mail programs send a Subject or a file name so,
    without encoded words) is text Gmail shows as written; the stand-in showed it as U+FFFD."""
    raw = ("From: 山田 <yamada@acme.co.jp>\r\nTo: irai@office.example\r\nSubject: 見積依頼 A-12\r\n"
           'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
           "Content-Type: text/plain; charset=utf-8\r\n\r\nお願いします\r\n--b\r\n"
           'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="図面.pdf"\r\n\r\n'
           "%PDF\r\n--b--\r\n").encode()
    box = mailbox(gmail)
    got = box.get(gmail.deliver(raw)["id"])
    assert got.header("Subject") == "見積依頼 A-12" and got.header("From") == "山田 <yamada@acme.co.jp>"
    assert [p.filename for p in got.parts if p.filename] == ["図面.pdf"]


def test_a_forgotten_history_id_is_history_gone_and_a_deleted_mail_mail_gone(gmail):
    box = mailbox(gmail)
    start = box.current_history()
    gmail.deliver(mail())
    gmail.service.expire_history(MAILBOX)
    with pytest.raises(HistoryGone):
        box.changes(start, 100)
    with pytest.raises(MailGone):
        box.get("0000000000000000")


def test_recent_mail_is_listed_from_a_moment_when_asked(gmail):
    """The re-scan after a forgotten history id lists mail from the mailbox's first watch on
    (``after:``, whole epoch seconds, as Gmail's search takes it), never mail from before it."""
    import time

    box = mailbox(gmail)
    before = gmail.deliver(mail("前"))
    time.sleep(1.1)
    since = time.time()
    after = gmail.deliver(mail("後"))
    assert box.recent(3, 10) == [before["id"], after["id"]]
    assert box.recent(3, 10, after=since) == [after["id"]]


def test_labels_are_made_once_and_put_on_the_mail(gmail):
    box = mailbox(gmail)
    sent = gmail.deliver(mail())
    box.add_labels(sent["id"], ["Ackflow/確認待ち"])
    mailbox(gmail).add_labels(sent["id"], ["Ackflow/処理済"], ["Ackflow/確認待ち"])  # a fresh client finds them
    box.add_labels(sent["id"], ["Ackflow/処理済"])  # again: nothing changes
    assert gmail.labels_of(sent["id"]) == ["INBOX", "UNREAD", "Ackflow/処理済"]
    names = [label["name"] for label in gmail.service.boxes[MAILBOX].labels.values()]
    assert names.count("Ackflow/処理済") == 1 and names.count("Ackflow/確認待ち") == 1


def test_a_label_deleted_in_gmail_is_made_again_by_a_client_that_knew_it(gmail):
    """Someone deletes Ackflow's label in Gmail: the worker's client (one per process, its label ids
    kept) was answered 400 "Invalid label" for every mail after, until the process restarted; the
    labels stayed due and the sweep tried again forever."""
    from googleapiclient.discovery import build

    box = mailbox(gmail)
    first, second = gmail.deliver(mail()), gmail.deliver(mail("二件目"))
    box.add_labels(first["id"], ["Ackflow/処理済"])
    people = build("gmail", "v1", http=_authorized(gmail), static_discovery=True, cache_discovery=False,
                   client_options={"api_endpoint": gmail.url})  # a person, in Gmail, through the same API
    label = next(x for x in people.users().labels().list(userId="me").execute()["labels"]
                 if x["name"] == "Ackflow/処理済")
    people.users().labels().delete(userId="me", id=label["id"]).execute()
    assert gmail.labels_of(first["id"]) == ["INBOX", "UNREAD"]  # gone from its mails too, as in Gmail
    box.add_labels(second["id"], ["Ackflow/処理済"])
    assert gmail.labels_of(second["id"]) == ["INBOX", "UNREAD", "Ackflow/処理済"]


def test_a_label_a_person_made_in_other_letter_case_is_used_not_made_again(gmail):
    """Gmail's label names conflict whatever their case: creating ``Ackflow/処理済`` beside a
    person's ``ackflow/処理済`` is a 409, and the name read back was looked up as written, never
    found ("vanished"), so no mail was ever labelled."""
    gmail.service.create_label(gmail.service.boxes[MAILBOX], {"name": "ackflow/処理済"})
    sent = gmail.deliver(mail())
    mailbox(gmail).add_labels(sent["id"], ["Ackflow/処理済"])
    assert gmail.labels_of(sent["id"]) == ["INBOX", "UNREAD", "ackflow/処理済"]


def _authorized(gmail):
    import google_auth_httplib2
    import httplib2
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_file(
        str(gmail.key), scopes=["https://www.googleapis.com/auth/gmail.modify"], subject=MAILBOX)
    return google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=10))


def test_delegation_without_the_modify_scope_cannot_label(tmp_path):
    stand_in = GmailStandIn(tmp_path, scopes=("https://www.googleapis.com/auth/gmail.readonly",))
    try:
        sent = stand_in.deliver(mail())
        with pytest.raises(PermanentError, match="domain-wide delegation"):
            mailbox(stand_in).add_labels(sent["id"], ["Ackflow/処理済"])
    finally:
        stand_in.stop()


def test_gmails_per_user_rate_limit_is_a_wait_not_a_delegation_to_fix(tmp_path):
    """Gmail answers its per-user rate limit (15,000 quota units a minute; messages.get costs 5)
    with a 403 whose reason is ``userRateLimitExceeded``, to be retried with backoff. Every 403 was
    read as refused delegation, a PermanentError: the mail step of a case opened in a burst failed
    for good, telling people to check the domain-wide delegation."""
    from ackflow.errors import TransientError
    from workers.office.mail.mailbox import AccessRefused

    stand_in = GmailStandIn(tmp_path, user_rate_limit=10, rate_window=3600)  # two reads of a mail an hour
    try:
        sent = stand_in.deliver(mail())
        box = mailbox(stand_in)
        box.get(sent["id"])
        box.get(sent["id"])
        with pytest.raises(TransientError) as limited:
            box.get(sent["id"])
        assert not isinstance(limited.value, AccessRefused)
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


@pytest.mark.parametrize("args", [["--subject", "見積依頼", "--header", "Subject: 二つ目"],
                                  ["--subject", "見積依頼\nBcc: everyone@example.com"],
                                  ["--subject", "見積依頼", "--header", "X-Note: 一行目\r\n二行目"]])
def test_ackflow_mail_receive_refuses_a_mail_it_cannot_write_in_a_sentence_never_a_traceback(gmail, args):
    """A second Subject (``--header``) or a line break in a header is no mail Python writes: the
    command ended in a ValueError's traceback, and nothing said which option was wrong."""
    from click.testing import CliRunner

    from ackflow_tools.cli.main import cli

    result = CliRunner().invoke(cli, ["mail", "receive", "--from", "山田 <yamada@acme.co.jp>", *args,
                                      "--gmail-url", gmail.url, "--to", MAILBOX])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Error: " in result.output and "Traceback" not in result.output, result.output
    assert mailbox(gmail).recent(1, 10) == []  # nothing delivered
