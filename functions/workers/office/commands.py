"""``case CASE_NUMBER`` (everything known about a case) and ``cases`` (the open ones, by due date),
answered at once from the job store."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from ackflow.app import links, views
from ackflow.app.speech import speaker_of
from ackflow.chat.cards import Button, Buttons, Card, Field, Section, Text
from ackflow.chat.replies import Reply
from ackflow.errors import JobNotFound
from ackflow.i18n import L_, N_, Listed, Speaker
from ackflow.jobs.model import JobStatus

from .cases import CASE_RE, CASES, OPEN, STAGES, opening_job, rank

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime

MAX_LISTED = 30
PAGE = 500  # cases read per query: every case is read, page after page (open_cases)

# The case's status is kept as the office writes it (Japanese, also in the sheet); said in words in English.
STATUS_NAMES = {"受付": N_("received"), "見積提出": N_("estimate sent"), "受注": N_("ordered"),
                "作業中": N_("in progress"), "納品": N_("delivered"), "請求": N_("invoiced"), "入金": N_("paid"),
                "失注": N_("lost"), "保留": N_("on hold")}
FIELDS = ((N_("client"), "client"), (N_("title"), "title"), (N_("status"), "status"), (N_("due"), "due"),
          (N_("requested by"), "requester"), (N_("opened"), "opened_at"), (N_("folder"), "folder_link"),
          (N_("sheet row"), "sheet_link"))


def status_name(value, speaker: Speaker) -> str:
    """A case status for ``speaker``: as written in Japanese, with its English word otherwise."""
    text = str(value or "—")
    if speaker.language != "ja" and text in STATUS_NAMES:
        return f"{speaker._(STATUS_NAMES[text])} ({text})"
    return views.short(text, 20)


def _shown(key: str, value, speaker: Speaker) -> str:
    try:
        if key == "due" and isinstance(value, str) and value:
            return speaker.date(value)
        if key == "opened_at" and isinstance(value, (int, float)):
            return speaker.moment(value)
        if key == "status":
            return status_name(value, speaker)
    except ValueError:
        pass
    return views.short(str(value or "—"))


def _day(value, speaker: Speaker) -> str:
    try:
        return speaker.date(value) if value else ""
    except (TypeError, ValueError):
        return views.short(str(value), 20)


def _when(entry: dict, speaker: Speaker) -> str:
    """When a history entry happened: the moment it was recorded, and the day a person gave for it
    (delivered on the 25th, recorded on the 29th) before it."""
    recorded = speaker.moment(entry["at"]) if entry.get("at") else ""
    on = entry.get("on")
    if not on:
        return recorded
    return speaker._("{day} (recorded {moment})", day=_day(str(on)[:10], speaker), moment=recorded)


def show_case(runtime: Runtime, event, words: list[str]) -> Reply:
    from .cases import CaseNotFound, CaseRecords

    speaker = speaker_of(runtime, event)
    command = "案件" if speaker.language == "ja" else "case"
    if not words:
        return Reply(text=speaker._("Which case? Write “{command} 2026-001”.", command=command))
    case = words[0]
    try:
        record = CaseRecords(runtime.store.docs).get(case)
    except CaseNotFound:
        if CASE_RE.fullmatch(case):  # a number of the right shape: which numbers there are, not their shape
            return Reply(text=speaker._("There is no case {case}. Write “cases” to see the open cases and their "
                                        "numbers.", case=case))
        return Reply(text=speaker._("There is no case “{case}”. Case numbers look like 2026-001.",
                                    case=views.short(case, 30)))
    fields: list = [Field(speaker._(label), _shown(key, record.get(key), speaker)) for label, key in FIELDS
                    if not links.is_link(record.get(key))]
    # links are buttons (one tap on a phone), within one budget for the card (Chat's 32,000 bytes)
    budget = links.MAX_LINK_CHARS
    opened = links.fit(list(links.link_buttons(record, ("folder_link", "sheet_link"), speaker)), budget)
    budget -= sum(len(b.url) for b in opened)
    if opened:
        fields.append(Buttons(opened))
    if opening_job(record):  # its newcase job has not made its folder (steps.allocate_number)
        fields.insert(0, Text(unopened_text(runtime, opening_job(record), speaker)))
    sections = [Section(tuple(fields))]
    correction = " (" + speaker._("correction") + ")"
    history = [Field(status_name(entry.get("status"), speaker) + (correction if entry.get("correction") else ""),
                     f"{_when(entry, speaker)} · {views.short(str(entry.get('by') or '—'), 60)}")
               for entry in record.get("history", [])[-12:]]
    if history:
        sections.append(Section(tuple(history), header=speaker._("History")))
    accepted = (record.get("accepted") or {}).get("version")
    accepted_mark = " ✓ " + speaker._("accepted")  # the version the client accepted (ordered)
    latest = record.get("estimates", [])[-10:]  # the latest versions: a card holds at most 100 widgets
    estimates: list = [Field(f"v{e['version']}" + (accepted_mark if e["version"] == accepted else ""),
                             _amount(e.get("total"), speaker) + ("" if links.is_link(e.get("link")) or not e.get("link")
                                                        else f" · {views.short(e['link'], 200)}")) for e in latest]
    pdfs = links.fit([Button(f"v{e['version']}", url=e["link"]) for e in reversed(latest)
                      if links.is_link(e.get("link"))], budget // 3)
    budget -= sum(len(b.url) for b in pdfs)
    if pdfs:
        estimates.append(Buttons(pdfs))
    if estimates:
        sections.append(Section(tuple(estimates), header=speaker._("Estimates")))
    issued = {d["number"]: d for d in record.get("issued", []) if isinstance(d, dict) and d.get("number")}
    latest_invoices = record.get("invoices", [])[-10:]
    invoices: list = [Field(i["number"] or "…",
                            f"{_amount(i.get('total'), speaker)} · {_day(i.get('issued'), speaker)}"
                            + (" · " + speaker._("replaces {number}", number=i["replaces"])
                               if i.get("replaces") else "")
                            + (" · " + speaker._("replaced by {number}",
                                                   number=i["replaced_by"].replace("~", "…"))
                               if i.get("replaced_by") else "")
                            + (" · " + unissued_text(runtime, i.get("job") or "", speaker)
                               if i["number"] and i["number"] not in issued else ""))
                      for i in latest_invoices]
    invoice_links = links.fit([Button(i["number"], url=issued[i["number"]]["link"]) for i in reversed(latest_invoices)
                               if links.is_link(issued.get(i["number"], {}).get("link"))], budget // 2)
    budget -= sum(len(b.url) for b in invoice_links)
    if invoice_links:
        invoices.append(Buttons(invoice_links))
    if invoices:
        sections.append(Section(tuple(invoices), header=speaker._("Invoices")))
    # the record keeps payments by their job's id (a random order): shown by date, the latest ten
    received = sorted(record.get("payments", []), key=lambda p: (p.get("on") or "", p.get("at") or 0))
    payments = [Field(_day(p.get("on"), speaker), _amount(p.get("amount"), speaker)) for p in received[-10:]]
    if payments:
        sections.append(Section(tuple(payments), header=speaker._("Payments")))
    documents: list = [Text(speaker.n_("{name} ({count} byte)", "{name} ({count} bytes)", d["bytes"], name=d["name"]))
                       for d in record.get("documents", [])[:20]]
    document_links = links.fit([Button(d["name"][:80], url=d["link"]) for d in record.get("documents", [])
                                if links.is_link(d.get("link"))], budget)
    if document_links:
        documents.append(Buttons(document_links))
    if documents:
        sections.append(Section(tuple(documents), header=speaker._("Documents")))
    jobs = []
    for job_id in record.get("jobs", [])[-10:]:
        try:
            job = runtime.store.get_job(job_id)
            job_type = runtime.registry.get(job.type) if job.type in runtime.registry else None
            jobs.append(Field(job.id, f"{views.type_name(job_type, job.type, speaker)} · "
                                      f"{views.status_label(job.status, speaker)}"))
        except JobNotFound:
            jobs.append(Field(job_id, speaker._("expired")))
    if jobs:
        sections.append(Section(tuple(jobs), header=speaker._("Jobs")))
    return Reply(card=Card(f"case-{case}", speaker._("Case {case}", case=case), tuple(sections),
                           subtitle=record.get("title", "")))


def _job_or_none(runtime: Runtime, job_id: str):
    try:
        return runtime.store.get_job(job_id)
    except JobNotFound:
        return None


def unissued_text(runtime: Runtime, job_id: str, speaker: Speaker) -> str:
    """What a numbered invoice not yet issued says (``case``, the console): being issued, or 未発行
    with the failed job whose retry issues it (unissued.py)."""
    job = _job_or_none(runtime, job_id)
    if job is not None and job.status == JobStatus.FAILED:
        command = views.builtin_name("retry", speaker)
        return speaker._("not issued (未発行): job {job_id} failed; retry it (“{command} {job_id}”) to issue "
                         "this number", job_id=job_id, command=command)
    if job is not None and not job.status.finished:
        return speaker._("being issued by job {job_id}", job_id=job_id)
    return speaker._("not issued (未発行), job {job_id}", job_id=job_id or "—")


def unopened_text(runtime: Runtime, job_id: str, speaker: Speaker) -> str:
    """What a case whose folder its ``newcase`` job has not made says: being opened, or not opened
    with the failed job whose retry opens it under this number."""
    job = _job_or_none(runtime, job_id)
    if job is not None and job.status == JobStatus.FAILED:
        command = views.builtin_name("retry", speaker)
        return speaker._("Not opened: job {job_id} failed before it made the case folder, so the case is not among "
                         "the open cases. Retry it (“{command} {job_id}”) to open the case under this number.",
                         job_id=job_id, command=command)
    if job is not None and not job.status.finished:
        return speaker._("Being opened by job {job_id}: the case is among the open cases once the job has made "
                         "its folder.", job_id=job_id)
    return speaker._("Not opened (no case folder), job {job_id}.", job_id=job_id)


def _amount(value, speaker: Speaker) -> str:
    if isinstance(value, int):
        return speaker.yen(value)
    return str(value or "")


# A status filter may name a status in English too (status=ordered, status=in-progress).
ENGLISH_STATUSES = {english.replace(" ", "-"): japanese for japanese, english in STATUS_NAMES.items()}


def _status(value: str) -> str | None:
    """The status (as kept, in Japanese) a filter names, in Japanese or in English; None if none."""
    if value in STATUS_NAMES:
        return value
    return ENGLISH_STATUSES.get(re.sub(r"[\s_]+", "-", value.strip().lower()))


# the filters' Japanese names (取引先=ACME 状況=受注), as the help shows them to a Japanese reader
FILTER_NAMES = {"取引先": "client", "状況": "status"}


def filter_key(key: str, speaker: Speaker) -> str:
    """What a filter is called for ``speaker`` (取引先 for client in Japanese)."""
    if speaker.language == "ja":
        return next((japanese for japanese, english in FILTER_NAMES.items() if english == key), key)
    return key


def parse_filters(words: list[str], language: str = "en") -> dict[str, str]:
    """The filters of ``cases``; a refusal lists the statuses, with their English names unless it is
    said in Japanese (``language``), where the Japanese ones are the names to write."""
    filters = {}
    if language == "ja":
        statuses = "、".join(STATUS_NAMES)
    else:
        statuses = ", ".join(f"{japanese} ({english.replace(' ', '-')})" for japanese, english in STATUS_NAMES.items())
    for word in words:
        named = re.match(r"([^=:]*)([=:])(.*)", word, re.DOTALL)  # 取引先=ACME, or 取引先：ACME as options are written
        key, equals, value = named.groups() if named else (word, "", "")
        key = FILTER_NAMES.get(key, key)
        if not equals or key not in ("client", "status") or not value:
            raise ValueError(L_("Write filters as client=NAME or status=STATUS (statuses: {statuses}); got “{word}”.",
                                statuses=statuses, word=views.short(word, 40)))
        if key == "status":
            named, value = value, _status(value)
            if value is None:  # the status written, not the whole filter: 「出荷」という状況はありません
                raise ValueError(L_("“{word}” names no status. Statuses: {statuses}.",
                                    word=views.short(named, 40), statuses=statuses))
        filters[key] = value
    return filters


def every_case(docs):
    """Every case record, oldest first, read a page at a time (a cursor, never an offset). Open is
    not one query condition (seven statuses, and any a person wrote in the sheet), so all are read:
    an office opens a few hundred cases a year."""
    after = None
    while True:
        rows = docs.query(CASES, [], "created_at", False, PAGE, start_after=after)
        yield from rows
        if len(rows) < PAGE:
            return
        after = (rows[-1]["created_at"], rows[-1]["case"])


def open_cases(docs, *, client: str | None = None, status: str | None = None) -> list[dict]:
    """Open cases (not paid, not lost), by due date (those without one last), then number; a case
    whose ``newcase`` job has not made its folder (``opening``) is not opened yet."""
    found = []
    for record in every_case(docs):
        if opening_job(record):  # taken by a newcase job that has not made its folder: not opened
            continue
        current = record.get("status") or ""
        is_open = current in OPEN or (rank(current) is not None and rank(current) < STAGES.index("入金"))
        if status is not None:
            if current != status:
                continue
        elif not is_open:
            continue
        if client is not None and _folded(client) not in _folded(record.get("client") or ""):
            continue
        found.append(record)
    return sorted(found, key=lambda r: (r.get("due") or "9999-99-99", r.get("case", "")))


def _folded(text: str) -> str:
    """A client's name as a filter compares it: full-width letters as typed in a sheet made plain,
    any case (取引先=acme finds ACME精機 and ＡＣＭＥ精機)."""
    return unicodedata.normalize("NFKC", text).casefold()


def list_cases(runtime: Runtime, event, words: list[str]) -> Reply:
    speaker = speaker_of(runtime, event)
    try:
        filters = parse_filters(words, speaker.language)
    except ValueError as exc:
        message = exc.args[0] if exc.args else exc
        return Reply(text=message.render(speaker) if hasattr(message, "render") else str(message))
    found = open_cases(runtime.store.docs, **filters)
    if not found:
        where = views.short(str(Listed([f"{filter_key(k, speaker)}={v}" for k, v in filters.items()])
                                .render(speaker)), 80)
        if not where:
            return Reply(text=speaker._("No open cases."))
        return Reply(text=speaker._("No open cases ({filters}).", filters=where))
    no_due = speaker._("no due date")

    def due(record: dict) -> str:
        day = _day(record.get("due"), speaker)
        return speaker._("due {date}", date=day) if day else no_due

    lines = [Text(f"{r['case']} · {views.short(r.get('client') or '', 20)} · {views.short(r.get('title') or '', 30)}"
                  f" · {status_name(r.get('status'), speaker)} · {due(r)}")
             for r in found[:MAX_LISTED]]
    if len(found) > MAX_LISTED:
        lines.append(Text(speaker.n_("… and {count} more; narrow with client= or status=.",
                                     "… and {count} more; narrow with client= or status=.", len(found) - MAX_LISTED)))
    return Reply(card=Card("cases", speaker._("Open cases"), (Section(tuple(lines)),),
                           subtitle=" ".join(f"{filter_key(k, speaker)}={v}" for k, v in filters.items())))
