"""Filing an issued document: beside it in the ledger, in the case record, in the case sheet's
documents tab (one row per document number: date, amount, client — the keys electronically issued
documents must be searchable by) and, when asked, in the case's own row. Every write is keyed, so
filing again changes nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ackflow.jobs.context import StepContext

from .accounting import NAMES, Document, Issued
from .cases import advanced
from .ledger import note_issued


def now(ctx: StepContext) -> dt.datetime:
    return dt.datetime.fromtimestamp(ctx.clock(), ZoneInfo(ctx.services.office_settings.timezone))


def job_date(ctx: StepContext) -> dt.date:
    """The job's own date in the office's time zone: the same on every retry."""
    zone = ZoneInfo(ctx.services.office_settings.timezone)
    return dt.datetime.fromtimestamp(ctx.job.created_at, zone).date()


def case_row(ctx: StepContext, case: str, values: dict, *, force: bool = False) -> dict:
    """Write the case's row; its status only moves forward there too, and one a person wrote stays
    (``force``: a command's deliberate change, a correction included, is written as it is)."""
    sheet = ctx.services.case_sheet
    if sheet is None:
        return {}
    row = sheet.upsert(case, {**values, "updated": now(ctx).strftime("%Y-%m-%d %H:%M")},
                       merge=None if force else {"status": advanced})
    return {"sheet_row": row.number, "sheet_link": row.link}


def file_issued(ctx: StepContext, document: Document, issued: Issued) -> dict:
    services = ctx.services
    note_issued(services.store.docs, document, issued)
    entry = {"key": document.number, "kind": document.kind, "number": document.number, "date": document.issued,
             "client": document.recipient, "total": issued.totals.total, "tax": issued.totals.tax,
             "link": issued.link, "service": issued.service, "replaces": document.replaces}
    services.cases.update(document.case, ctx.job.id, issued=[entry])
    sheet = services.documents_sheet
    if sheet is not None:
        sheet.upsert(document.number, {"kind": NAMES[document.kind], "date": document.issued,
                                       "client": document.recipient, "amount": issued.totals.total,
                                       "tax": issued.totals.tax, "case": document.case,
                                       "replaces": document.replaces or "", "service": issued.service,
                                       "link": issued.link})
    return entry
