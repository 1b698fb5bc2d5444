"""Reading a mail as a hostile document: what the card shows and what opening a case saves.

Everything here is bounded (header lengths, parts, lines) and never raises on a malformed mail: a
part that cannot be read is noted, not fatal. Text is plain (control and bidi characters removed;
HTML bodies turned into their text, never passed on as markup); attachment names become safe file
names (``names.file_name``), unique within the mail, extensions kept.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field, replace
from email.errors import MessageError
from email.header import decode_header, make_header
from email.utils import getaddresses, parseaddr

from ..names import file_name
from .charsets import decode_text
from .mailbox import Mail, Part

MAX_LINES = 8
MAX_PREVIEW = 600
MAX_TITLE = 200
TEXT_LIMIT = 200_000  # characters of a body read at all
REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|fw|aw|tr|転送|返信)\s*[:：]\s*)+", re.IGNORECASE)
AUTO_PRECEDENCE = {"bulk", "list", "junk", "auto_reply"}
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d])", re.IGNORECASE)
AUTH_FAILURES = {"spf": {"fail", "softfail", "permerror"}, "dkim": {"fail", "permerror"}, "dmarc": {"fail"}}
ANGLE_ADDRESS = re.compile(r"<\s*([^<>\s]+@[^<>\s]+?)\s*>\s*$")  # the <address> that ends a From header


@dataclass(frozen=True)
class Attachment:
    name: str  # safe, unique within the mail
    original: str  # as the mail names it (for the card; escaped there)
    size: int
    mime_type: str
    handle: str
    part_id: str
    too_large: bool = False


@dataclass(frozen=True)
class Summary:
    sender_name: str
    sender_address: str
    subject: str
    received_at: float
    preview: str
    recipients: int
    attachments: tuple[Attachment, ...]
    automatic: str = ""  # why it is an automatic mail (an auto-reply, a list), or ""
    auth_failure: str = ""  # "spf=fail, dkim=fail", or ""
    html_only: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def sender_domain(self) -> str:
        return self.sender_address.rpartition("@")[2].lower()

    @property
    def title(self) -> str:
        """A case title from the subject: reply prefixes gone, cut to what ``newcase`` accepts."""
        title = REPLY_PREFIX.sub("", self.subject).strip()
        return title[:MAX_TITLE] or "(件名なし)"


def clean(text: str, *, keep_newlines: bool = False) -> str:
    """Plain, printable text: control and format characters (bidi overrides, zero-width) removed."""
    text = unicodedata.normalize("NFC", text)
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in "\n\u2028\u2029" and keep_newlines:
            kept.append("\n")
        elif ch in "\t\r\n\u2028\u2029":  # line and paragraph separators too: a name or subject is one line
            kept.append(" ")
        elif category in ("Cc", "Cf", "Cs", "Co") and ch not in "\u200d\ufe0f":
            continue
        else:
            kept.append(ch)
    return "".join(kept)


def decode_words(value: str) -> str:
    """An RFC 2047 header (``=?ISO-2022-JP?B?…?=``) as text; words in a Japanese charset carrying
    Windows' characters (①, ㈱) read as mail programs read them (``charsets``); undecodable pieces
    kept as written."""
    try:
        pieces = decode_header(value)
    except (LookupError, UnicodeError, ValueError, AssertionError, IndexError, MessageError):
        return value  # MessageError: broken base64 in a word (HeaderParseError)
    try:
        return str(make_header(pieces))
    except (LookupError, UnicodeError, ValueError, AssertionError, IndexError, MessageError):
        pass  # a charset Python reads strictly (Shift_JIS with ㈱), or one with no name (CharsetError)
    if not any(charset for _, charset in pieces):
        return value
    return "".join(data if isinstance(data, str) else decode_text(data, charset) if charset
                   else data.decode("raw-unicode-escape", "replace")  # (how decode_header gave plain text)
                   for data, charset in pieces)


def sender(value: str) -> tuple[str, str]:
    """(display name, address) of a From header. The address is the ``<…>`` that ends the header,
    never text inside the name: Gmail's API gives headers with their encoded words decoded, and a
    name such as ``=?UTF-8?B?…?=`` can decode to ``山田 <yamada@acme.co.jp>`` in front of the real
    ``<someone@elsewhere.example>``."""
    decoded = decode_words(value)
    found = ANGLE_ADDRESS.search(decoded)
    if found is None:
        try:
            return parseaddr(decoded)
        except RecursionError:  # comments nested past what Python's parser recurses through
            return "", ""
    name = decoded[: found.start()].strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"')
    return name, found.group(1)


def header_text(mail: Mail, name: str, limit: int = 1000) -> str:
    return clean(decode_words(mail.header(name)[: limit * 4]))[:limit].strip()


def _charset(part: Part) -> str:
    match = re.search(r'charset\s*=\s*"?([A-Za-z0-9_.:-]{1,40})', part.header("Content-Type"))
    return match.group(1).lower() if match else "utf-8"


def part_text(part: Part) -> str:
    return decode_text((part.data or b"")[: TEXT_LIMIT * 4], _charset(part))


HIDDEN_TAGS = {"script", "style", "head", "title", "template", "noscript", "iframe", "object", "svg"}
BLOCK_TAGS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4"}


def _hidden(tag) -> bool:
    """Whether a mail program shows nothing of ``tag`` (nor of what is inside it)."""
    if tag.name in HIDDEN_TAGS or tag.has_attr("hidden"):
        return True
    if str(tag.get("aria-hidden", "")).lower() == "true":
        return True
    return bool(HIDDEN_STYLE.search(str(tag.get("style", ""))))


def html_text(html: str) -> str:
    """The text a person would read in an HTML body; scripts, styles, hidden parts and markup
    dropped, a line break after each block. One walk of the parsed tree with a stack of its own,
    which changes nothing in it: a mail nested as deep as it is long (``<div><div>…``) is read in
    time linear in its length (inserting the line breaks into the tree walked each block's subtree
    again: minutes for 200,000 characters), and never recurses."""
    from bs4 import BeautifulSoup
    from bs4.element import CData, NavigableString, Tag

    soup = BeautifulSoup(html[:TEXT_LIMIT], "html.parser")
    out: list[str] = []
    stack = [(soup, iter(soup.contents))]
    while stack:
        node, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if node.name in BLOCK_TAGS:
                out.append("\n")
        elif isinstance(child, Tag):
            if not _hidden(child):  # what a mail program does not show is not shown on the card either
                stack.append((child, iter(child.contents)))
        elif type(child) in (NavigableString, CData):  # not comments, doctypes, processing instructions
            out.append(str(child))
    return "".join(out)


def preview(text: str) -> str:
    lines = [line.strip() for line in clean(text, keep_newlines=True).splitlines()]
    kept: list[str] = []
    for line in lines:
        if line.startswith(">") or not line:  # quoted replies and blank lines say little
            continue
        kept.append(line)
        if len(kept) >= MAX_LINES:
            break
    out = "\n".join(kept)
    return out if len(out) <= MAX_PREVIEW else out[: MAX_PREVIEW - 1] + "…"


def attachment_name(original: str, index: int, taken: set[str]) -> str:
    """A safe, unique file name: no path, no control characters, at most 120 bytes, extension kept."""
    return file_name(decode_words(original), index, taken)


MAIL_FILE = "受信メール.eml"  # the mail's own file in the case's 01_受領資料/メール; never an attachment's
ATTACHED_PREFIX = "添付_"  # put before an attachment's name that would pass for the mail's own file
MAIL_FILE_LIKE = re.compile(r"受信メール\s*(\(.*\))?")  # 受信メール, 受信メール (Ackflow), 受信メール (2), …


def passes_for_the_mail(name: str) -> bool:
    """Whether an attachment's name would pass for the mail's own file (``MAIL_FILE``) in the case
    folder: the same name, or one that reads the same to a person or to a filesystem that folds
    case or width (Windows and macOS through Drive for desktop): ``受信メール.EML``, full-width
    ``受信メール．ｅｍｌ``, half-width ``受信ﾒｰﾙ.eml``, trailing dots or spaces, and the names the mail
    itself once took beside such an attachment (``受信メール (Ackflow).eml``)."""
    key = unicodedata.normalize("NFKC", name).casefold().strip().rstrip(". ")
    stem, dot, extension = key.rpartition(".")
    return bool(dot) and extension.strip() == "eml" and bool(MAIL_FILE_LIKE.fullmatch(stem.strip().rstrip(". ")))


def filed_names(names: list[str]) -> list[str]:
    """The names the mail's attachments are filed under beside ``MAIL_FILE``: each as given, but
    one that would pass for the mail's own file (``passes_for_the_mail``) takes ``添付_`` before it
    (``添付_受信メール.eml``), numbered if another attachment has that name. The mail always keeps
    ``MAIL_FILE``, so a sender cannot put a mail of their own where the office looks for the one
    received. The same names for the same list, however often asked (a retried step files nothing
    twice), and names already given stay as they are."""
    taken = {name.casefold() for name in names if not passes_for_the_mail(name)}
    out = []
    for index, name in enumerate(names, start=1):
        if passes_for_the_mail(name):
            name = file_name(ATTACHED_PREFIX + name, index, taken)
        out.append(name)
    return out


def automatic(mail: Mail) -> str:
    auto = mail.header("Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto[:40]}"
    if mail.header("List-Id"):
        return "List-Id"
    precedence = mail.header("Precedence").strip().lower()
    if precedence in AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    return ""


def _signed_for(properties: str, domain: str) -> bool:
    """Whether a DKIM result's ``header.d``/``header.i`` is the sender's domain or a parent of it."""
    match = re.search(r"\bheader\.[di]\s*=\s*(?:[^\s@;]*@)?([A-Za-z0-9.-]+)", properties, re.IGNORECASE)
    signer = match.group(1).lower().strip(".") if match else ""
    return bool(signer and domain) and (domain == signer or domain.endswith("." + signer))


def auth_failure(mail: Mail, authserv_id: str, sender_domain: str = "") -> str:
    """The failed checks in the receiving server's own Authentication-Results (a sender can add
    headers of that name too, so only the one from ``authserv_id`` counts). A mail may carry several
    DKIM signatures, in an order its sender chose: a failed one counts unless another passed for
    the sender's own domain (a signature of the forger's domain passes, and may come first)."""
    for value in mail.all_headers("Authentication-Results"):
        server, _, results = value.partition(";")
        if server.strip().lower() != authserv_id.lower():
            continue
        failed = []
        for method, outcomes in AUTH_FAILURES.items():
            found = [(m.group(1).lower(), m.group(2)) for m in
                     re.finditer(rf"\b{method}\s*=\s*([a-z]+)([^;]*)", results, re.IGNORECASE)][:20]
            if method != "dkim":
                found = found[:1]
            bad = next((outcome for outcome, _ in found if outcome in outcomes), "")
            if bad and not any(outcome == "pass" and _signed_for(props, sender_domain) for outcome, props in found):
                failed.append(f"{method}={bad}")
        return ", ".join(failed)
    return ""


def count_recipients(values: list[str]) -> int:
    """How many addresses the headers name; for headers Python's parser cannot take (comments
    nested past what it recurses through), how many ``@`` they hold."""
    try:
        return sum(1 for _, a in getaddresses(values) if "@" in a)
    except RecursionError:
        return sum(value.count("@") for value in values)


def summarize(mail: Mail, *, max_attachment_bytes: int, authserv_id: str = "mx.google.com") -> Summary:
    name, address = sender(mail.header("From")[:2000])
    address = clean(address)[:200]
    if "@" not in address:
        address = ""
    recipients = count_recipients([*mail.all_headers("To"), *mail.all_headers("Cc")])
    texts = [p for p in mail.parts if not p.filename and not p.handle and p.mime_type in ("text/plain", "text/html")]
    plain = next((p for p in texts if p.mime_type == "text/plain"), None)
    notes = ["the mail's structure was deeper or wider than read"] if mail.truncated else []
    html_only = False
    body = ""
    try:
        if plain is not None:
            body = part_text(plain)
        elif texts:
            body, html_only = html_text(part_text(texts[0])), True
    except Exception as exc:  # noqa: BLE001 - a body we cannot read is a note, never a failure
        notes.append(f"the body could not be read ({type(exc).__name__})")
    taken: set[str] = set()
    attachments = []
    for index, part in enumerate((p for p in mail.parts if p.filename or p.handle), start=1):
        given = part.filename or f"attachment-{index}"
        if part.mime_type == "message/rfc822" and not given.lower().endswith(".eml"):
            given += ".eml"  # an attached mail (a request forwarded as an attachment) opens as a mail
        attachments.append(Attachment(
            name=attachment_name(given, index, taken),
            original=clean(decode_words(part.filename))[:300] or given, size=part.size,
            mime_type=part.mime_type, handle=part.handle, part_id=part.part_id,
            too_large=part.size > max_attachment_bytes))
    names = filed_names([a.name for a in attachments])
    attachments = [replace(a, name=name) for a, name in zip(attachments, names, strict=True)]
    return Summary(sender_name=clean(name)[:200].strip(), sender_address=address,
                   subject=header_text(mail, "Subject", 500),
                   received_at=mail.received_at, preview=preview(body), recipients=recipients,
                   attachments=tuple(attachments), automatic=automatic(mail), html_only=html_only,
                   auth_failure=auth_failure(mail, authserv_id, address.rpartition("@")[2].lower()),
                   notes=tuple(notes))


DATE_KEYS = r"(?:納期|納品日|期限|締切|締め切り|希望日|due|deadline)"
DATE_FORMS = [
    (re.compile(r"(\d{4})[-/.年]\s*(\d{1,2})[-/.月]\s*(\d{1,2})日?"), ("y", "m", "d")),
    (re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*日"), ("m", "d")),
    (re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])"), ("m", "d")),
]


# the year in 令和 as business mail often writes it (令和8年, R8.12.1): the Western year, before the dates are read
_REIWA = re.compile(r"令和\s*(\d{1,2}|元)\s*年")
_REIWA_INITIAL = re.compile(r"(?<![A-Za-z0-9])[RＲ]\s*(\d{1,2}|元)\s*([./／．])(?=\s*\d)")


def _western_years(text: str) -> str:
    def year(found: re.Match) -> int:
        return 2018 + (1 if found.group(1) == "元" else int(found.group(1)))

    text = _REIWA.sub(lambda found: f"{year(found)}年", text)
    return _REIWA_INITIAL.sub(lambda found: f"{year(found)}/", text)


def due_date(text: str, received: dt.date) -> str | None:
    """A due date the mail states (``納期: 2026年12月1日``, ``納期: 令和8年12月1日``, ``due 12/1``), as
    YYYY-MM-DD, or None. Only dates next to a word that says so; a month and day without a year is the
    next such date."""
    text = _western_years(text[:20_000])
    for match in re.finditer(DATE_KEYS + r"[^\n\d]{0,12}", text, re.IGNORECASE):
        window = text[match.end(): match.end() + 20]
        for pattern, fields in DATE_FORMS:
            found = pattern.match(window)
            if not found:
                continue
            values = dict(zip(fields, (int(g) for g in found.groups()), strict=True))
            year = values.get("y", received.year)
            try:
                day = dt.date(year, values["m"], values["d"])
            except ValueError:
                continue
            if "y" not in values and day < received:
                try:
                    day = day.replace(year=year + 1)
                except ValueError:
                    continue
            return day.isoformat()
    return None
