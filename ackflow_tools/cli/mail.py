"""``ackflow mail receive``: a mail arrives in the running ``ackflow dev``'s request mailbox (the
local Gmail stand-in), which notifies the worker through Pub/Sub as Gmail would."""

from __future__ import annotations

import mimetypes
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import click


def build_mail(sender: str, subject: str, body: str, *, to: str, html: bool = False, attachments=(),
               headers=(), spf: str = "pass") -> bytes:
    """An RFC 822 mail as Gmail would store it: the receiving server's Authentication-Results on top."""
    import datetime as dt

    message = EmailMessage()
    domain = sender.rpartition("@")[2].strip(">") or "example.com"
    message["Authentication-Results"] = (f"mx.google.com; spf={spf} smtp.mailfrom={domain}; "
                                         f"dkim={'pass' if spf == 'pass' else 'fail'} header.d={domain}")
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = make_msgid(domain=domain)
    for header in headers:
        name, _, value = header.partition(":")
        message[name.strip()] = value.strip()
    message.set_content(body, subtype="html" if html else "plain")
    for path in attachments:
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        main, _, sub = mime.partition("/")
        message.add_attachment(path.read_bytes(), maintype=main, subtype=sub, filename=path.name)
    return message.as_bytes()


@click.group("mail")
def mail() -> None:
    """The request mailbox of the local pipeline."""


@mail.command("receive")
@click.option("--from", "sender", required=True, help='Sender, e.g. "山田 太郎 <yamada@acme.co.jp>".')
@click.option("--subject", required=True)
@click.option("--body", default="いつもお世話になっております。ご検討をお願いいたします。", show_default=True)
@click.option("--html", is_flag=True, help="Send the body as HTML only.")
@click.option("--attach", "attachments", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A file to attach (repeatable).")
@click.option("--header", "headers", multiple=True, metavar='"NAME: VALUE"', help="An extra header (repeatable).")
@click.option("--spf", type=click.Choice(["pass", "fail", "softfail", "none"]), default="pass", show_default=True,
              help="The SPF (and DKIM) result the receiving server records.")
@click.option("--gmail-url", default="", help="The Gmail stand-in (default: the running ackflow dev's).")
@click.option("--to", "mailbox", default="", help="The mailbox (default: the running ackflow dev's).")
def receive(sender: str, subject: str, body: str, html: bool, attachments: tuple[Path, ...], headers: tuple[str, ...],
            spf: str, gmail_url: str, mailbox: str) -> None:
    """Drop a mail into the request mailbox."""
    import requests

    from .common import dev_state

    state = dev_state() or {}
    gmail_url = gmail_url or state.get("urls", {}).get("gmail", "")
    mailbox = mailbox or state.get("env", {}).get("ACKFLOW_OFFICE_MAILBOX", "")
    if not gmail_url or not mailbox:
        raise click.ClickException("no local mailbox: start `ackflow dev` (with mail, the default), or give "
                                   "--gmail-url and --to")
    raw = build_mail(sender, subject, body, to=mailbox, html=html, attachments=attachments, headers=headers, spf=spf)
    response = requests.post(f"{gmail_url.rstrip('/')}/_emulator/users/{mailbox}/messages", data=raw,
                             headers={"Content-Type": "message/rfc822"}, timeout=30)
    if not response.ok:
        raise click.ClickException(f"the Gmail stand-in refused the mail: {response.text[:300]}")
    click.echo(f"delivered mail {response.json()['id']} to {mailbox} ({len(raw):,} bytes)")
