"""``case CASE_NUMBER``: everything known about a case, answered at once from the job store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ackflow.app import links, views
from ackflow.app.speech import speaker_of
from ackflow.chat.cards import Button, Buttons, Card, Field, Section, Text
from ackflow.chat.replies import Reply
from ackflow.errors import JobNotFound
from ackflow.i18n import N_, Speaker

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime

# The case's status as the sheet holds it (Japanese, as the office writes it), for other readers.
STATUS_NAMES = {"登録済": N_("registered"), "見積作成済": N_("estimate drafted"),
                "資料取得済": N_("documents collected"), "受付完了": N_("ready")}
FIELDS = ((N_("client"), "client"), (N_("title"), "title"), (N_("status"), "status"), (N_("due"), "due"),
          (N_("requested by"), "requester"), (N_("opened"), "opened_at"), (N_("folder"), "folder_link"),
          (N_("sheet row"), "sheet_link"))


def _shown(key: str, value, speaker: Speaker) -> str:
    try:
        if key == "due" and isinstance(value, str) and value:
            return speaker.date(value)
        if key == "opened_at" and isinstance(value, (int, float)):
            return speaker.moment(value)
        if key == "status" and speaker.language != "ja" and value in STATUS_NAMES:
            return speaker._(STATUS_NAMES[value])
    except ValueError:
        pass
    return views.short(str(value or "—"))


def _total(value, speaker: Speaker) -> str:
    return speaker.yen(value) if isinstance(value, int) else str(value or "")


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
    sections = [Section(tuple(fields))]
    latest = record.get("estimates", [])[-10:]  # the latest versions: a card holds at most 100 widgets
    estimates: list = [Field(f"v{e['version']}", _total(e.get("total"), speaker) + (
        "" if links.is_link(e["link"]) else f" · {views.short(e['link'], 200)}")) for e in latest]
    pdfs = links.fit([Button(f"v{e['version']} (PDF)", url=e["link"]) for e in reversed(latest)
                      if links.is_link(e["link"])], budget // 2)
    budget -= sum(len(b.url) for b in pdfs)
    if pdfs:
        estimates.append(Buttons(pdfs))
    if estimates:
        sections.append(Section(tuple(estimates), header=speaker._("Estimates")))
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
