"""The last step of ``newcase`` when the case comes from a mail: the mail (.eml) and its
attachments into ``01_受領資料/メール/``, the case record's documents, the Gmail label, the mail's
record (OPENED, linking the case) and its card. Each part is safe to run again: files are
created only if absent, records merge, the card is replaced by its fixed id.
"""

from __future__ import annotations

import logging
import re
from email import message_from_bytes
from email.errors import MessageError
from email.generator import BytesGenerator
from email.policy import compat32
from io import BytesIO

from ackflow.errors import ChatRateLimited, ChatUnavailable, PermanentError, RetryLater, TransientError
from ackflow.jobs.context import StepContext, nothing_to_do
from ackflow.jobs.model import without_marker

from .mailbox import Mail, MailGone
from .parse import MAIL_FILE, filed_names
from .records import MailRecords, MailStatus
from .texts import TEXTS, say

log = logging.getLogger(__name__)
RECEIVED = "01_受領資料"
SUBFOLDER = "メール"
EML_NAME = MAIL_FILE  # the mail itself, whatever its attachments are called
HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")  # printable ASCII but the colon (RFC 5322)
MAX_REBUILT_HEADER = 16_000  # characters of one header written into a mail rebuilt from its parts


def without_parts(raw: bytes, part_ids: set[str], note: str) -> bytes:
    """The mail with the named leaf parts' content replaced by a short note (an attachment too
    large to keep), everything else as received."""
    message = message_from_bytes(raw, policy=compat32)

    def walk(part, part_id: str) -> None:
        if part_id not in part_ids and part.is_multipart():  # (a mail attached to it is one part, too)
            for n, child in enumerate(part.get_payload()):
                walk(child, f"{part_id}.{n}" if part_id else str(n))
        elif part_id in part_ids:
            for header in ("Content-Transfer-Encoding", "Content-Type"):
                del part[header]
            part["Content-Type"] = 'text/plain; charset="utf-8"'
            part["Content-Transfer-Encoding"] = "8bit"
            part.set_payload(note.encode().decode("utf-8"))

    walk(message, "")
    out = BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=compat32).flatten(message)
    return out.getvalue()


def mail_to_file(raw: bytes, large: set[str], note: str) -> bytes:
    """The mail as filed: without its too-large attachments (``without_parts``) when it has some,
    else, or when it cannot be written again (a structure nested deeper than Python's writer
    recurses), as received: a mail no larger than ``mail_max_bytes`` is filed whole."""
    if not large:
        return raw
    try:
        return without_parts(raw, large, note)
    except (RecursionError, LookupError, UnicodeError, ValueError, TypeError, AttributeError, MessageError) as exc:
        log.warning("the mail is filed as received: it could not be written without its large attachments "
                    "(%s: %s)", type(exc).__name__, str(exc)[:200])
        return raw


def mail_from_parts(mail: Mail, attachments: list[dict], handles: dict[str, str]) -> bytes:
    """The mail rebuilt from what Gmail gave of it (``messages.get``, format full), for a mail too
    large to download whole (over ``mail_max_bytes``): its headers and its text as received, and
    in place of each attachment a line naming it and where it is (saved beside this file under
    its safe name, or not: too large). Small whatever the mail's size: Gmail gives text parts
    inline, attachments by id, and none is fetched here."""
    from email.message import EmailMessage
    from email.policy import SMTP

    message = EmailMessage(policy=SMTP)
    omitted = []
    for name, value in mail.headers:
        lowered = name.lower()
        if lowered.startswith("content-") or lowered == "mime-version" or not HEADER_NAME.fullmatch(name):
            continue
        if len(value) > MAX_REBUILT_HEADER:  # thousands of recipients: Python's writer takes seconds per kB
            omitted.append(f"{name} ({len(value):,} characters)")
            continue
        try:
            message[name] = " ".join(value.split())  # Gmail's value: unfolded, its encoded words decoded
        except (ValueError, TypeError, IndexError, AttributeError, MessageError, RecursionError):
            omitted.append(name)  # a header Python will not write again (Gmail keeps the mail as received)
    if omitted:
        message["X-Ackflow-Omitted"] = ", ".join(omitted)[:MAX_REBUILT_HEADER]
    message["X-Ackflow-Note"] = "the mail was too large to file whole: its attachments are not in this file"
    message.make_mixed()
    for part in mail.parts:
        if part.data is not None and not part.handle and not part.filename and part.mime_type.startswith("text/"):
            text = EmailMessage(policy=SMTP)
            main, _, sub = part.mime_type.partition("/")
            text.set_content(part.data, maintype=main, subtype=sub or "plain")
            charset = re.search(r'charset\s*=\s*"?([A-Za-z0-9_.:-]{1,40})', part.header("Content-Type"))
            if charset:
                text.set_param("charset", charset.group(1))
            message.attach(text)
    for item in attachments:
        where = ("not saved: too large" if item.get("too_large") else "saved beside this file"
                 if handles.get(item["part_id"]) else "not saved: not found in the mail")
        note = EmailMessage(policy=SMTP)
        note.set_content(f"[Ackflow: attachment {item['name']} ({item['size']:,} bytes): {where}]\n")
        message.attach(note)
    return message.as_bytes()


def filed_attachments(attachments: list[dict]) -> list[dict]:
    """The record's attachments under the names they are filed by (``parse.filed_names``): a
    record read before those names were given may hold an attachment named as the mail's own file."""
    names = filed_names([a["name"] for a in attachments])
    return [{**a, "name": name} for a, name in zip(attachments, names, strict=True)]


# Chat's per-space write quota is per minute: a card update it refused with 429 (and no
# Retry-After) is tried again half a minute later under a task of its own, for up to an hour, so the
# queue's quick retries (seconds apart) are not spent on it and fail a case that was opened
QUOTA_WAIT = 30.0
MAX_QUOTA_WAIT = 300.0
CARD_WITHIN = 3600.0


def save_mail(ctx: StepContext) -> dict:
    summary = without_marker(ctx.outputs.get("portal"))
    rid = ctx.params.get("mail")
    if not rid:
        return nothing_to_do(summary)
    services = ctx.services
    settings = services.office_settings
    records = MailRecords(services.store.docs)
    record = records.get(rid)
    if record is None or record.get("kind") != "mail":
        raise PermanentError(TEXTS["mail_unknown"])
    if record.get("confirmation") != ctx.job.confirmation_id:
        raise PermanentError(TEXTS["not_from_card"])
    case = ctx.outputs["number"]["case"]
    folder, folder_link = ctx.outputs["folder"]["folder"], ctx.outputs["folder"]["folder_link"]
    base = f"{folder}/{RECEIVED}/{SUBFOLDER}"
    storage = services.case_storage
    mailbox = services.mailbox
    saved, skipped, documents = [], [], []
    try:
        mail = mailbox.get(record["mail_id"])
    except MailGone:
        mail = None
        skipped.append(say("skip_gone", ctx.speaker, name=EML_NAME))
    if mail is not None:
        ctx.progress(ctx._("saving the mail"))
        handles = {p.part_id: p.handle for p in mail.parts if p.handle}
        attachments = filed_attachments(record.get("attachments", []))
        large = {a["part_id"] for a in attachments if a["too_large"]}
        eml = EML_NAME
        if mail.size <= settings.mail_max_bytes:
            raw = mail_to_file(mailbox.raw(record["mail_id"]), large, "[Ackflow: " + say("too_large", "en") + "]")
        else:  # too large to download whole: its headers and text, with a line for each attachment
            raw = mail_from_parts(mail, attachments, handles)
            skipped.append(say("filed_without_attachments", ctx.speaker, name=eml, size=mail.size))
        storage.create(f"{base}/{eml}", raw, "message/rfc822")
        saved.append(eml)
        documents.append({"key": f"{base}/{eml}", "name": eml, "path": f"{base}/{eml}", "bytes": len(raw)})
        for item in attachments:
            if item["too_large"]:
                skipped.append(say("skip_large", ctx.speaker, name=item["name"], size=item["size"]))
                continue
            handle = handles.get(item["part_id"])
            if not handle:
                skipped.append(say("skip_missing", ctx.speaker, name=item["name"]))
                continue
            path = f"{base}/{item['name']}"
            if not storage.exists(path):
                data = mailbox.attachment(record["mail_id"], handle)
                storage.create(path, data, item.get("mime_type") or "application/octet-stream")
            saved.append(item["name"])
            documents.append({"key": path, "name": item["name"], "path": path, "bytes": item["size"]})
    services.cases.update(case, ctx.job.id, documents=documents, mail=rid)
    now = ctx.clock()
    who = ctx.job.requester.label

    def opened(doc: dict) -> dict:
        return {**doc, "status": MailStatus.OPENED.value, "case": case, "job": ctx.job.id, "folder": folder,
                "folder_link": folder_link, "opened_by": who, "case_client": ctx.params["client"],
                "label_due": doc.get("label_due", False) or doc.get("status") != MailStatus.OPENED.value,
                "updated_at": now}

    record = records.update(rid, opened)
    if record.get("sender_domain") and not record.get("auth_failure"):  # a forged From teaches nothing
        records.learn_client(record["sender_domain"], ctx.params["client"], now)
    from .flow import MailFlow

    flow = MailFlow(services, ctx.clock)
    flow.label(record)
    try:
        flow.show(record)
    except ChatRateLimited as exc:  # the space's write quota (a minute's): a wait, not the queue's quick retries
        after = min(max(exc.retry_after or QUOTA_WAIT, 1.0), MAX_QUOTA_WAIT)
        raise RetryLater(TEXTS["card_not_updated"], after=after, within=CARD_WITHIN, error=str(exc)) from exc
    except ChatUnavailable as exc:
        raise TransientError(TEXTS["card_not_updated"], error=str(exc)) from exc
    summary["mail"] = say("saved", ctx.speaker, count=len(saved[1:]))  # the mail's file first, then its attachments
    if skipped:
        summary["mail_skipped"] = "; ".join(skipped)
    return summary
