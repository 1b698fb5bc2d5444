"""Mails for the tests (realistic, and hostile), and the Gmail stand-in on a free port."""

from __future__ import annotations

import datetime as dt
import json
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from ackflow_tools.emulators.gmail.api import build_app
from ackflow_tools.emulators.gmail.service import GmailService
from ackflow_tools.emulators.web import ServerThread

MAILBOX = "irai@office.example"
AUTH_PASS = "mx.google.com; spf=pass smtp.mailfrom=acme.co.jp; dkim=pass header.d=acme.co.jp; dmarc=pass"


def key_file(path: Path, token_uri: str) -> Path:
    """A service-account key file whose token endpoint is a local service."""
    from ackflow.auth.signing import LocalSigner

    key = LocalSigner.generate("mail-test")
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "local-project", "private_key_id": key.kid,
        "private_key": key.key_pem.decode(), "client_email": "ackflow-worker@local-project.iam.gserviceaccount.com",
        "client_id": "100000000000000000003", "token_uri": token_uri}))
    return path


class GmailStandIn:
    def __init__(self, tmp: Path, pubsub_url: str = "", scopes: tuple[str, ...] | None = None, **options):
        self.service = GmailService(tmp / "gmail.json", pubsub_url=pubsub_url, **options)
        self.service.ensure(MAILBOX)
        kwargs = {"granted_scopes": scopes} if scopes else {}
        self.server = ServerThread(build_app(self.service, **kwargs)).start()
        self.url = self.server.url
        self.key = key_file(tmp / "gmail-key.json", self.url + "/token")

    def deliver(self, raw: bytes, address: str = MAILBOX) -> dict:
        return self.service.deliver(address, raw)

    def labels_of(self, mail_id: str, address: str = MAILBOX) -> list[str]:
        box = self.service.boxes[address]
        names = {label["id"]: label["name"] for label in box.labels.values()}
        return [names[i] for i in box.messages[mail_id]["labelIds"]]

    def stop(self) -> None:
        self.server.stop()


def request_due() -> dt.date:
    """A due date a request may state for a case opened from it today: a month ahead, in Tokyo (a
    case's due date may not be in the past)."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo("Asia/Tokyo")).date() + dt.timedelta(days=30)


def request_body(due: dt.date) -> str:
    """The body of a request that states ``due`` as its due date (納期), as a client writes it."""
    return f"いつもお世話になっております。\n納期: {due.year}年{due.month}月{due.day}日\nよろしくお願いいたします。"


def mail(subject: str = "プレス金型 A-12 のお見積りのお願い", *, sender: str = "山田 太郎 <yamada@acme.co.jp>",
         body: str | None = "いつもお世話になっております。\n納期: 2026年12月1日\nよろしくお願いいたします。",
         html: str | None = None, attachments: tuple[tuple[str, bytes, str], ...] = (), headers: dict | None = None,
         to: str = MAILBOX, auth: str | None = AUTH_PASS, date: dt.datetime | None = None) -> bytes:
    message = EmailMessage()
    if auth:
        message["Authentication-Results"] = auth
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
    message["Message-ID"] = f"<{abs(hash((subject, sender, body)))}@acme.co.jp>"
    for name, value in (headers or {}).items():
        message[name] = value
    if body is not None:
        message.set_content(body)
    if html is not None:
        if body is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for name, data, mime in attachments:
        main, _, sub = mime.partition("/")
        message.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return message.as_bytes()
