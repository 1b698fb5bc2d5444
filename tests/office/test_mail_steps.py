"""The mail's step of ``newcase`` says why it failed in the requester's language: its failures were
English sentences outside the catalog, shown as they were to a Japanese office."""

from __future__ import annotations

import pytest

from ackflow.errors import PermanentError
from ackflow.i18n import ENGLISH, Speaker
from ackflow.jobs.context import Services, StepContext
from ackflow.jobs.model import Job, Requester, StepState
from ackflow.store.jobstore import JobStore
from ackflow.store.sqlite import SqliteDocuments
from workers.office.mail.records import MailRecords
from workers.office.mail.steps import save_mail
from workers.office.settings import OfficeSettings

JAPANESE = Speaker("ja", "Asia/Tokyo")


@pytest.fixture
def store(tmp_path):
    return JobStore(SqliteDocuments(tmp_path / "jobs.db"))


def context(store: JobStore, mail: str) -> StepContext:
    steps = tuple(StepState(name) for name in ("number", "folder", "sheet", "estimate", "portal", "mail"))
    job = Job(id="j-mail", type="newcase", params={"client": "ACME", "title": "金型", "mail": mail},
              requester=Requester("users/1", "yamada@office.example", "山田", language="ja", time_zone="Asia/Tokyo"),
              space="spaces/office", thread=None, queue="ackflow-office", steps=steps, created_at=1.0,
              updated_at=1.0, confirmation_id="c-typed")
    services = Services({"store": lambda _: store, "office_settings": lambda _: OfficeSettings()})
    return StepContext(job, len(steps) - 1, 1, services, report=lambda *_: None, cancelled=lambda: False,
                       speaker=JAPANESE)


def test_a_mail_no_longer_known_is_said_in_japanese_to_a_japanese_office(store):
    with pytest.raises(PermanentError) as failed:
        save_mail(context(store, "mail-" + "0" * 20))
    assert failed.value.render(ENGLISH) == "the mail this case comes from is no longer known"
    said = failed.value.render(JAPANESE)
    assert said != failed.value.render(ENGLISH) and "メール" in said, said


def test_a_job_not_confirmed_from_the_mails_card_is_said_in_japanese(store):
    _, record = MailRecords(store.docs).claim("irai@office.example", "m-1", "push-1", 1.0, 60)
    with pytest.raises(PermanentError) as failed:
        save_mail(context(store, record["id"]))  # the record's card asked no confirmation c-typed
    assert "card" in failed.value.render(ENGLISH)
    said = failed.value.render(JAPANESE)
    assert "カード" in said and "card" not in said, said


def _nested(depth: int) -> bytes:
    """A mail whose first part is an attachment and whose second is nested ``depth`` multiparts deep."""
    inner = b"Content-Type: text/plain\r\n\r\nhello\r\n"
    for level in range(depth):
        boundary = f"b{level}".encode()
        inner = (b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--' + boundary + b"\r\n"
                 + inner + b"\r\n--" + boundary + b"--\r\n")
    return (b'From: a@b.example\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary="top"\r\n\r\n--top\r\n'
            b'Content-Type: application/pdf; name="big.pdf"\r\nContent-Disposition: attachment; filename="big.pdf"'
            b"\r\n\r\n%PDF big drawing\r\n--top\r\n" + inner + b"\r\n--top--\r\n")


def test_a_mail_too_deep_to_write_again_is_filed_as_received():
    """The mail is filed without its too-large attachments by parsing and writing it again; a mail
    nested 400 multiparts deep (small: the attachment is what is large) made Python's writer
    recurse past its limit, a RecursionError that failed the case's mail step on every retry."""
    from workers.office.mail.steps import mail_to_file

    shallow = mail_to_file(_nested(3), {"0"}, "[too large]")
    assert b"%PDF big drawing" not in shallow and b"[too large]" in shallow and b"hello" in shallow
    deep = _nested(400)
    assert mail_to_file(deep, {"0"}, "[too large]") == deep


def test_a_mail_rebuilt_from_its_parts_keeps_its_text_and_is_written_in_a_moment_whatever_its_headers():
    """A mail too large to file whole is rebuilt from what Gmail read of it. Its headers come from
    anyone: a To of 5,000 addresses took Python's writer 12 s (more than a mail's lease), comments
    nested 2,000 deep made it recurse past its limit. Such headers are named as omitted; the text stays."""
    import time
    from email import message_from_bytes, policy

    from workers.office.mail.mailbox import Mail, Part
    from workers.office.mail.steps import mail_from_parts

    many = ", ".join(f"user{n} <u{n}@ex{n}.example>" for n in range(5000))
    headers = (("From", "山田 <yamada@acme.co.jp>"), ("To", many), ("Cc", "(" * 2000 + "a@b" + ")" * 2000),
               ("Subject", "図面のご依頼"), ("Content-Type", 'multipart/mixed; boundary="x"'), ("Bad Name", "v"))
    body = Part("0", "text/plain", data="納期: 12月1日".encode("shift_jis"),
                headers=(("Content-Type", "text/plain; charset=shift_jis"),))
    drawing = Part("1", "application/octet-stream", filename="図面.dwg", size=40_000_000, handle="h1")
    mail = Mail("m1", "1", 41_000_000, 0.0, headers, (body, drawing))
    started = time.monotonic()
    filed = mail_from_parts(mail, [{"name": "図面.dwg", "size": 40_000_000, "part_id": "1", "too_large": True}],
                            {"1": "h1"})
    assert time.monotonic() - started < 2
    eml = message_from_bytes(filed, policy=policy.default)
    assert eml["Subject"] == "図面のご依頼" and eml["X-Ackflow-Omitted"].startswith("To (")
    assert "Cc" in eml["X-Ackflow-Omitted"] and eml["Bad Name"] is None
    assert eml.get_body(("plain",)).get_content() == "納期: 12月1日"
    assert "図面.dwg (40,000,000 bytes): not saved: too large" in filed.decode()
