"""The mail's card in the office space, drawn from its record in every state: proposed (open a
case / ignore), opening, opened (linking the case), ignored.

Everything that comes from the mail is escaped here (``markupsafe.escape``): a card shows the
mail's text, never obeys it. ``chat/cards.py`` escapes plain text itself once card escaping is in
place; escaped text (``Markup``) passes through it unchanged, so this stays right before and after.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from ackflow.chat.cards import Button, Buttons, Card, Field, Section, Text
from ackflow.chat.replies import Reply
from ackflow.i18n import speaker_for

from .texts import say

MAX_ATTACHMENTS_SHOWN = 20
MAX_NAME_SHOWN = 80  # characters of an attachment's name on the card (its file keeps the name whole, cut to 120 bytes):
# 20 names of 300 quotes, each &#34; once escaped, made a card of 42 kB, which Chat refuses (32,000 bytes)


def message_id(rid: str) -> str:
    """The card's client-assigned Chat message id: written again, it replaces, never duplicates."""
    return f"client-{rid}"


def size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def mail_card(record: dict, language: str = "ja", timezone: str = "Asia/Tokyo") -> Reply:
    rid = record["id"]
    status = record.get("status", "PROPOSED")
    sender = record.get("sender_address") or "?"
    if record.get("sender_name"):
        sender = f"{record['sender_name']} <{sender}>"
    speaker = speaker_for(language, timezone)
    when = speaker.moment(record.get("received_at") or 0)
    client = record.get("client_guess")
    if status == "OPENED" and record.get("case_client"):  # the person named it: no guess any more
        named = escape(record["case_client"])
    elif record.get("auth_failure"):  # a forged From: its domain says nothing of the client (a guess kept before)
        named = say("client_unverified", language)
    elif client:
        named = escape(say("client_guess", language, client=client))
    else:
        named = say("client_unknown", language)
    fields = [Field(say("from", language), escape(sender)),
              Field(say("subject", language), escape(record.get("subject") or say("no_subject", language))),
              Field(say("received", language), when),
              Field(say("client", language), named)]
    if record.get("due"):
        fields.append(Field(say("due", language), speaker.date(record["due"])))  # 2026年12月1日(火), never ISO
    warnings = []
    if record.get("auth_failure"):
        warnings.append(Text(escape(say("auth_failed", language, checks=record["auth_failure"]))))
    if (record.get("recipients") or 0) > 20:
        warnings.append(Text(say("recipients", language, count=record["recipients"])))
    if record.get("truncated"):
        warnings.append(Text(say("truncated", language)))
    body_label = say("html_only", language) if record.get("html_only") else say("body", language)
    preview = record.get("preview") or say("no_body", language)
    body = Markup("<br>").join(escape(line) for line in preview.splitlines())
    sections = [Section(tuple(warnings + fields)), Section((Text(body),), header=body_label)]
    attachments = record.get("attachments") or []
    lines = []
    for item in attachments[:MAX_ATTACHMENTS_SHOWN]:
        name = str(item.get("original") or "")
        name = name if len(name) <= MAX_NAME_SHOWN else name[:MAX_NAME_SHOWN - 1] + "…"
        line = escape(f"{name} ({size(item['size'])})")
        if item.get("too_large"):
            line += Markup(" — ") + escape(say("too_large", language))
        lines.append(line)
    if len(attachments) > MAX_ATTACHMENTS_SHOWN:
        lines.append(escape(f"… +{len(attachments) - MAX_ATTACHMENTS_SHOWN}"))
    sections.append(Section((Text(Markup("<br>").join(lines) if lines else say("no_attachments", language)),),
                            header=say("attachments", language)))
    sections.append(_state(record, rid, status, language))
    return Reply(card=Card(rid, say("card_title", language), tuple(sections)))


def _state(record: dict, rid: str, status: str, language: str) -> Section:
    params = {"mail": rid}
    form = {"mail": rid, "form": "newcase"}  # "open a case" opens the newcase form, bound to the mail
    if status == "OPENED":
        widgets: list = [Text(escape(say("opened", language, case=record.get("case", "?"),
                                         who=record.get("opened_by", ""))))]
        link = record.get("folder_link")
        if link and str(link).startswith(("https://", "http://")):  # a button: one tap on a phone
            widgets.append(Field(say("folder", language), escape(record.get("folder", ""))))
            widgets.append(Buttons((Button(say("folder", language), url=link),)))
        elif link:
            widgets.append(Field(say("folder", language),
                                 Markup('<a href="{}">{}</a>').format(record["folder_link"], record.get("folder", ""))))
        return Section(tuple(widgets))
    if status == "IGNORED":
        return Section((Text(escape(say("ignored_by", language, who=record.get("ignored_by", "")))),
                        Buttons((Button(say("open_anyway", language), "mail-open", form, open_dialog=True),))))
    widgets = []
    if record.get("job"):
        widgets.append(Text(escape(say("opening", language, who=record.get("opened_by", ""), job=record["job"]))))
    widgets.append(Buttons((Button(say("open", language), "mail-open", form, filled=True, open_dialog=True),
                            Button(say("ignore", language), "mail-ignore", params))))
    return Section(tuple(widgets))
