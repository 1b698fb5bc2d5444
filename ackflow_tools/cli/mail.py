"""``ackflow mail``: ``receive`` drops a mail into the running ``ackflow dev``'s request mailbox (the
local Gmail stand-in), which notifies the worker through Pub/Sub as Gmail would; ``unshown`` lists
the mails whose card Chat refused for good, and ``show-again`` asks the worker's next sweep to post
their cards (locally, or on a deployment with its settings, like ``ackflow jobs``).

Everything shown comes from mails, so from anyone: what could steer the terminal (control and bidi
characters) is dropped from the table and escaped in the JSON."""

from __future__ import annotations

import mimetypes
import unicodedata
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import click

from .operate import operator_name


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
    """The request mailbox: drop a mail into the local one; list the mails whose card Chat refused,
    and show them again."""


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
    try:
        raw = build_mail(sender, subject, body, to=mailbox, html=html, attachments=attachments, headers=headers,
                         spf=spf)
    except ValueError as exc:  # a second Subject, a line break in a header: no mail Python writes
        raise click.ClickException(f"no mail written: {exc}") from exc
    response = requests.post(f"{gmail_url.rstrip('/')}/_emulator/users/{mailbox}/messages", data=raw,
                             headers={"Content-Type": "message/rfc822"}, timeout=30)
    if not response.ok:
        raise click.ClickException(f"the Gmail stand-in refused the mail: {response.text[:300]}")
    click.echo(f"delivered mail {response.json()['id']} to {mailbox} ({len(raw):,} bytes)")


def _json_text(value) -> str:
    """JSON a terminal shows as it is: controls and bidi characters left raw by json.dumps (DEL,
    C1, U+202E…) become \\u escapes, which JSON reads back as the same text."""
    import json

    from ..devtools.dialogcli import BIDI

    text = json.dumps(value, indent=2, ensure_ascii=False)
    return "".join(f"\\u{ord(c):04x}" if c in BIDI or (ord(c) >= 0x7f and unicodedata.category(c) == "Cc") else c
                   for c in text)


@mail.command("unshown")
@click.option("--limit", type=int, default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The records as JSON (every field, Chat's whole answer).")
def unshown(limit: int, as_json: bool) -> None:
    """List the mails whose card Chat refused for good (Ackflow/未表示).

    The longest unshown first: id, received, sender, subject, refusals (N), Chat's answer; then
    those asked to be shown again that the sweep has not shown yet."""
    from workers.office.mail.records import MailRecords

    from ..devtools.dialogcli import fit
    from .common import cli_runtime

    runtime = cli_runtime()
    records = MailRecords(runtime.store.docs)
    found, waiting = records.unshown(limit=limit), records.waiting(limit=limit)
    if as_json:
        click.echo(_json_text({"unshown": found, "waiting": waiting}))
        return
    from ackflow.i18n import speaker_for

    speaker = speaker_for("en", runtime.settings.time_zone)
    if not found:
        click.echo("no unshown mails")
    else:
        widths = (26, 19, 34, 36, 3)
        click.echo(" ".join(fit(h, w) for h, w in zip(("ID", "RECEIVED", "FROM", "SUBJECT", "N"), widths,
                                                       strict=True)) + " CHAT'S ANSWER")
        for record in found:
            row = (record["id"], speaker.moment(record["received_at"]) if record.get("received_at") else "-",
                   _sender(record),
                   record.get("subject") or "(no subject)", str(record.get("refusals", 1)))
            click.echo(" ".join(fit(cell, w) for cell, w in zip(row, widths, strict=True)) + " "
                       + fit(record.get("reason", ""), 100).rstrip())
        click.echo(f"\n{len(found)} unshown; show them again with `ackflow mail show-again --all` "
                   "(or give their ids): the next sweep posts their cards")
    for record in waiting:
        click.echo(f"waiting for the sweep: {record['id']}  {fit(record.get('subject') or '', 40).rstrip()}  "
                   f"(asked by {fit(record.get('reshow_by', ''), 40).rstrip()})")


@mail.command("show-again")
@click.argument("rids", nargs=-1, metavar="[MAIL_ID]...")
@click.option("--all", "every", is_flag=True, help="Every unshown mail.")
@click.option("--by", envvar="ACKFLOW_OPERATOR", default=operator_name, show_default="user@host",
              help="Who is acting, as recorded in the audit log.")
def show_again(rids: tuple[str, ...], every: bool, by: str) -> None:
    """Show unshown mails again: the next sweep posts their cards.

    The worker's sweep (every minute on Google Cloud) posts each card in the office space the
    deployment is configured with now, and moves the mail's label from Ackflow/未表示 to
    Ackflow/確認待ち. Asking twice is harmless; each request is in the audit log."""
    from workers.office.mail.unshown import MailNotFound
    from workers.office.mail.unshown import show_again as ask

    from .common import cli_runtime

    if bool(rids) == every:
        raise click.UsageError("give the mail ids `ackflow mail unshown` lists, or --all")
    runtime = cli_runtime()
    try:
        result = ask(runtime, None if every else list(rids), by, "cli")
    except MailNotFound as exc:
        raise click.ClickException(f"{exc}; nothing was changed") from exc
    for rid in result.reopened:
        click.echo(f"{rid}: the next sweep shows its card")
    for rid in result.waiting:
        click.echo(f"{rid}: already waiting for the sweep")
    for rid in result.shown:
        click.echo(f"{rid}: not unshown (shown, opened or ignored meanwhile): nothing to do")
    if not (result.reopened or result.waiting or result.shown):
        click.echo("no unshown mails")


def _sender(record: dict) -> str:
    address = record.get("sender_address") or "?"
    return f"{record['sender_name']} <{address}>" if record.get("sender_name") else address
