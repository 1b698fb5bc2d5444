"""``case CASE_NUMBER``: everything known about a case, answered at once from the job store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ackflow.app import links, views
from ackflow.chat.cards import Button, Buttons, Card, Field, Section, Text
from ackflow.chat.replies import Reply
from ackflow.errors import JobNotFound
from ackflow.i18n import Speaker

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime



def show_case(runtime: Runtime, event, words: list[str]) -> Reply:
    from .cases import CaseNotFound, CaseRecords

    if not words:
        return Reply(text="Which case? Write “case 2026-001”.")
    case = words[0]
    try:
        record = CaseRecords(runtime.store.docs).get(case)
    except CaseNotFound:
        return Reply(text=f"There is no case “{views.short(case, 30)}”. Case numbers look like 2026-001.")
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
    latest = record.get("estimates", [])[-10:]  # the latest versions: a card holds at most 100 widgets
    estimates: list = [Field(f"v{e['version']}", str(e.get("total", "")) + (
        "" if links.is_link(e["link"]) else f" · {views.short(e['link'], 200)}")) for e in latest]
    pdfs = links.fit([Button(f"v{e['version']} (PDF)", url=e["link"]) for e in reversed(latest)
                      if links.is_link(e["link"])], budget // 2)
    budget -= sum(len(b.url) for b in pdfs)
    if pdfs:
        estimates.append(Buttons(pdfs))
    if estimates:
        sections.append(Section(tuple(estimates), header="Estimates"))
    documents: list = [Text(f"{d['name']} ({d['bytes']:,} bytes)") for d in record.get("documents", [])[:20]]
    document_links = links.fit([Button(d["name"][:80], url=d["link"]) for d in record.get("documents", [])
                                if links.is_link(d.get("link"))], budget)
    if document_links:
        documents.append(Buttons(document_links))
    if documents:
        sections.append(Section(tuple(documents), header="Documents"))
    jobs = []
    for job_id in record.get("jobs", [])[-10:]:
        try:
            job = runtime.store.get_job(job_id)
            jobs.append(Field(job.id, f"{job.type} · {job.status.value}"))
        except JobNotFound:
            jobs.append(Field(job_id, "expired"))
    if jobs:
        sections.append(Section(tuple(jobs), header="Jobs"))
    return Reply(card=Card(f"case-{case}", f"Case {case}", tuple(sections), subtitle=record.get("title", "")))
