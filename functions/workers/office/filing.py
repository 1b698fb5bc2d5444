"""Filing an issued document: beside it in the ledger, in the case record, in the case sheet's
documents tab (one row per document number: date, amount, client — the keys electronically issued
documents must be searchable by; its state, 発行済, and the job that issued it) and, when asked,
in the case's own row. Every write is keyed, so filing again changes nothing. An invoice number
whose job failed for good has a 未発行 row under the same number (``unissued.py``) until the
retry files it here."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ackflow.jobs.context import StepContext

from .accounting import NAMES, Document, Issued
from .cases import CaseNotFound, advanced
from .ledger import note_issued


def now(ctx: StepContext) -> dt.datetime:
    return dt.datetime.fromtimestamp(ctx.clock(), ZoneInfo(ctx.services.office_settings.timezone))


def job_date(ctx: StepContext) -> dt.date:
    """The job's own date in the office's time zone: the same on every retry."""
    zone = ZoneInfo(ctx.services.office_settings.timezone)
    return dt.datetime.fromtimestamp(ctx.job.created_at, zone).date()


HISTORY_SHOWN = 20  # the latest changes in the row's 経緯 cell (the case record keeps them all)


def history_text(ctx: StepContext, case: str, wanted: str | None, estimate: dict | None = None) -> str:
    """The case's history as its row's 経緯 cell shows it: a change a line, oldest first, when (in
    the office's time zone), the status, who; and each estimate version issued (``見積 v2（¥165,000）``:
    a new version is news to the office even when the status stays). With the move this step is
    about to record (``wanted``), when it moves the case on, and the version it issues
    (``estimate``, the case record's entry): the row is written before the record."""
    try:
        record = ctx.services.cases.get(case)
    except CaseNotFound:
        record = {}
    moves = list(record.get("history", []))
    current = record.get("status")
    if wanted and advanced(current, wanted) != current:
        moves.append({"status": wanted, "at": ctx.clock(), "by": ctx.job.requester.label, "job": ctx.job.id})
    versions = {e.get("key"): e for e in record.get("estimates", [])}
    if estimate is not None:
        versions[estimate["key"]] = estimate
    # a version right after the move its job made (見積提出, then 見積 v1), else at its time; versions
    # issued before they were dated here (no "at") have no place in time: left out
    moved = {m.get("job"): m["at"] for m in moves if m.get("job")}
    entries = sorted([(m["at"], 0, m) for m in moves] + [(moved.get(e.get("job"), e["at"]), 1, e)
                                                         for e in versions.values() if e.get("at")],
                     key=lambda item: item[:2])
    zone = ZoneInfo(ctx.services.office_settings.timezone)
    lines = []
    for _, kind, entry in entries[-HISTORY_SHOWN:]:
        when = dt.datetime.fromtimestamp(entry["at"], zone).strftime("%Y-%m-%d %H:%M")
        who = f"（{str(entry.get('by') or '-')[:60]}）"
        if kind:  # an estimate version
            total = f"（¥{entry['total']:,}）" if isinstance(entry.get("total"), int) else ""
            lines.append(f"{when} 見積 v{entry['version']}{total}{who}")
            continue
        corrected = "（訂正）" if entry.get("correction") else ""
        on = f"（{str(entry['on'])[:10]} 付）" if entry.get("on") else ""  # the day it happened, when given
        lines.append(f"{when} {entry['status']}{on}{corrected}{who}")
    return "\n".join(lines)


def case_row(ctx: StepContext, case: str, values: dict, *, force: bool = False,
             estimate: dict | None = None) -> dict:
    """Write the case's row; its status only moves forward there too, and one a person wrote stays
    (``force``: a command's deliberate change, a correction included, is written as it is). A row
    that gets a status gets the history with it (経緯: who moved the case, and when; ``estimate``:
    the version this step issues, in it too)."""
    sheet = ctx.services.case_sheet
    if sheet is None:
        return {}
    if "status" in values:
        values = {**values, "history": history_text(ctx, case, values["status"], estimate)}
    row = sheet.upsert(case, {**values, "updated": now(ctx).strftime("%Y-%m-%d %H:%M")},
                       merge=None if force else {"status": advanced})
    return {"sheet_row": row.number, "sheet_link": row.link}


ISSUED_STATE, UNISSUED_STATE = "発行済", "未発行"  # the documents tab's 状態 (the office's words, as 経緯)


def issued_row(document: Document, issued: Issued, job_id: str) -> dict:
    """The documents tab's row of an issued document."""
    return {"kind": NAMES[document.kind], "date": document.issued, "client": document.recipient,
            "amount": issued.totals.total, "tax": issued.totals.tax, "case": document.case,
            "replaces": document.replaces or "", "service": issued.service, "link": issued.link,
            "state": ISSUED_STATE, "job": job_id}


def unissued_row(document: Document, job_id: str) -> dict:
    """The documents tab's row of an invoice number a job took and could not issue: no date, amount
    or link (nothing was issued), who holds the number (the job: its retry issues it)."""
    return {"kind": NAMES[document.kind], "date": "", "client": document.recipient, "amount": "", "tax": "",
            "case": document.case, "replaces": document.replaces or "", "service": "", "link": "",
            "state": UNISSUED_STATE, "job": job_id}


def file_issued(ctx: StepContext, document: Document, issued: Issued) -> dict:
    services = ctx.services
    note_issued(services.store.docs, document, issued)
    entry = {"key": document.number, "kind": document.kind, "number": document.number, "date": document.issued,
             "client": document.recipient, "total": issued.totals.total, "tax": issued.totals.tax,
             "link": issued.link, "service": issued.service, "replaces": document.replaces}
    services.cases.update(document.case, ctx.job.id, issued=[entry])
    sheet = services.documents_sheet
    if sheet is not None:  # over a 未発行 row of the same number, if the job had failed before
        sheet.upsert(document.number, issued_row(document, issued, ctx.job.id))
    return entry
