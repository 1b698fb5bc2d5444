"""``case CASE_NUMBER`` (everything known about a case) and ``cases`` (the open ones, by due date),
answered at once from the job store."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ackflow.app import links, views
from ackflow.chat.cards import Button, Buttons, Card, Field, Section, Text
from ackflow.chat.replies import Reply
from ackflow.errors import JobNotFound
from ackflow.i18n import Speaker

from .cases import ASIDE, CASES, OPEN, STAGES, rank
from .money import yen

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime

MAX_LISTED = 30

TEXTS = {
    "which": ("Which case? Write “case 2026-001”.", "どの案件ですか？「case 2026-001」のように書いてください。"),
    "none": ("There is no case “{case}”. Case numbers look like 2026-001.",
             "案件「{case}」はありません。案件番号は 2026-001 のような形です。"),
    "filter": ("Write filters as client=NAME or status=STATUS (statuses: {statuses}); got {word!r}.",
               "絞り込みは client=取引先 か status=状況 の形で書いてください（状況: {statuses}）。入力: {word!r}"),
    "no_open": ("No open cases{where}.", "進行中の案件はありません{where}。"),
    "open_title": ("Open cases", "進行中の案件"),
    "more": ("… and {count} more; narrow with client= or status=.",
             "ほか {count} 件。client= か status= で絞り込めます。"),
    "no_due": ("no due date", "納期なし"),
    "correction": ("correction", "訂正"),
    "title": ("Case {case}", "案件 {case}"),
    "history": ("History", "履歴"),
    "estimates": ("Estimates", "見積"),
    "invoices": ("Invoices", "請求書"),
    "payments": ("Payments", "入金"),
    "documents": ("Documents", "受領資料"),
    "jobs": ("Jobs", "ジョブ"),
    "replaces": ("replaces {number}", "{number} の訂正"),
    "replaced_by": ("replaced by {number}", "{number} で訂正済み"),
    "expired": ("expired", "期限切れ"),
}


def _say(key: str, **values) -> str:
    return TEXTS[key][0].format(**values)


def _when(at: float | None, zone) -> str:
    if not at:
        return ""
    return dt.datetime.fromtimestamp(at, dt.UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _zone():
    from zoneinfo import ZoneInfo

    from .settings import load_office_settings

    return ZoneInfo(load_office_settings().timezone)


def show_case(runtime: Runtime, event, words: list[str]) -> Reply:
    from .cases import CaseNotFound, CaseRecords

    if not words:
        return Reply(text=_say("which"))
    case = words[0]
    try:
        record = CaseRecords(runtime.store.docs).get(case)
    except CaseNotFound:
        return Reply(text=_say("none", case=views.short(case, 30)))
    fields: list = [Field(label, views.short(str(record.get(key) or "—"))) for label, key in (
        ("client", "client"), ("title", "title"), ("status", "status"), ("due", "due"),
        ("requested by", "requester"), ("folder", "folder_link"), ("sheet row", "sheet_link"))
        if not links.is_link(record.get(key))]
    # links are buttons (one tap on a phone), within one budget for the card (Chat's 32,000 bytes)
    budget = links.MAX_LINK_CHARS
    opened = links.fit(list(links.link_buttons(record, ("folder_link", "sheet_link"), Speaker())), budget)
    budget -= sum(len(b.url) for b in opened)
    if opened:
        fields.append(Buttons(opened))
    sections = [Section(tuple(fields))]
    zone = _zone()
    history = [Field(views.short(str(entry.get("status")), 20)
                     + (f" ({_say('correction')})" if entry.get("correction") else ""),
                     f"{_when(entry.get('at'), zone)} · {views.short(str(entry.get('by') or '—'), 60)}")
               for entry in record.get("history", [])[-12:]]
    if history:
        sections.append(Section(tuple(history), header=_say("history")))
    accepted = (record.get("accepted") or {}).get("version")
    latest = record.get("estimates", [])[-10:]  # the latest versions: a card holds at most 100 widgets
    estimates: list = [Field(f"v{e['version']}" + (" ✓" if e["version"] == accepted else ""),
                             _amount(e.get("total")) + ("" if links.is_link(e.get("link")) or not e.get("link")
                                                        else f" · {views.short(e['link'], 200)}")) for e in latest]
    pdfs = links.fit([Button(f"v{e['version']}", url=e["link"]) for e in reversed(latest)
                      if links.is_link(e.get("link"))], budget // 3)
    budget -= sum(len(b.url) for b in pdfs)
    if pdfs:
        estimates.append(Buttons(pdfs))
    if estimates:
        sections.append(Section(tuple(estimates), header=_say("estimates")))
    issued = {d["number"]: d for d in record.get("issued", []) if isinstance(d, dict) and d.get("number")}
    latest_invoices = record.get("invoices", [])[-10:]
    invoices: list = [Field(i["number"] or "…", f"{_amount(i.get('total'))} · {i.get('issued', '')}"
                            + (" · " + _say("replaces", number=i["replaces"]) if i.get("replaces") else "")
                            + (" · " + _say("replaced_by", number=i["replaced_by"].replace("~", "…"))
                               if i.get("replaced_by") else ""))
                      for i in latest_invoices]
    invoice_links = links.fit([Button(i["number"], url=issued[i["number"]]["link"]) for i in reversed(latest_invoices)
                               if links.is_link(issued.get(i["number"], {}).get("link"))], budget // 2)
    budget -= sum(len(b.url) for b in invoice_links)
    if invoice_links:
        invoices.append(Buttons(invoice_links))
    if invoices:
        sections.append(Section(tuple(invoices), header=_say("invoices")))
    payments = [Field(str(p.get("on", "")), _amount(p.get("amount"))) for p in record.get("payments", [])[-10:]]
    if payments:
        sections.append(Section(tuple(payments), header=_say("payments")))
    documents: list = [Text(f"{d['name']} ({d['bytes']:,} bytes)") for d in record.get("documents", [])[:20]]
    document_links = links.fit([Button(d["name"][:80], url=d["link"]) for d in record.get("documents", [])
                                if links.is_link(d.get("link"))], budget)
    if document_links:
        documents.append(Buttons(document_links))
    if documents:
        sections.append(Section(tuple(documents), header=_say("documents")))
    jobs = []
    for job_id in record.get("jobs", [])[-10:]:
        try:
            job = runtime.store.get_job(job_id)
            jobs.append(Field(job.id, f"{job.type} · {job.status.value}"))
        except JobNotFound:
            jobs.append(Field(job_id, _say("expired")))
    if jobs:
        sections.append(Section(tuple(jobs), header=_say("jobs")))
    return Reply(card=Card(f"case-{case}", _say("title", case=case), tuple(sections), subtitle=record.get("title", "")))


def _amount(value) -> str:
    if isinstance(value, int):
        return yen(value)
    return str(value or "")


def parse_filters(words: list[str]) -> dict[str, str]:
    filters = {}
    statuses = ", ".join((*STAGES, *ASIDE))
    for word in words:
        key, equals, value = word.partition("=")
        if not equals or key not in ("client", "status") or not value:
            raise ValueError(_say("filter", statuses=statuses, word=word))
        filters[key] = value
    return filters


def open_cases(docs, *, client: str | None = None, status: str | None = None, limit: int = 1000) -> list[dict]:
    """Open cases (not paid, not lost), by due date (those without one last), then number."""
    rows = docs.query(CASES, [], "created_at", False, limit)
    found = []
    for record in rows:
        current = record.get("status") or ""
        is_open = current in OPEN or (rank(current) is not None and rank(current) < STAGES.index("入金"))
        if status is not None:
            if current != status:
                continue
        elif not is_open:
            continue
        if client is not None and client not in (record.get("client") or ""):
            continue
        found.append(record)
    return sorted(found, key=lambda r: (r.get("due") or "9999-99-99", r.get("case", "")))


def list_cases(runtime: Runtime, event, words: list[str]) -> Reply:
    try:
        filters = parse_filters(words)
    except ValueError as exc:
        return Reply(text=str(exc))
    found = open_cases(runtime.store.docs, **filters)
    if not found:
        where = "".join(f" ({k}={v})" for k, v in filters.items())
        return Reply(text=_say("no_open", where=where))
    lines = [Text(f"{r['case']} · {views.short(r.get('client') or '', 20)} · {views.short(r.get('title') or '', 30)}"
                  f" · {r.get('status') or '—'} · {r.get('due') or _say('no_due')}") for r in found[:MAX_LISTED]]
    if len(found) > MAX_LISTED:
        lines.append(Text(_say("more", count=len(found) - MAX_LISTED)))
    return Reply(card=Card("cases", _say("open_title"), (Section(tuple(lines)),),
                           subtitle=" ".join(f"{k}={v}" for k, v in filters.items())))
