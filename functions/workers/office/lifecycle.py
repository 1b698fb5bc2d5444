"""Moving a case on: ``ordered`` (受注, the estimate accepted), ``started`` (作業中), ``delivered``
(納品), ``paid`` (入金); aside: ``lost`` (失注), ``hold`` (保留) and ``resume`` (back to the stage it
was held at); and an admin's ``correct`` (any status, recorded as a correction). Each is a job
confirmed on a card; each step is one transaction on the case record (forward only, who and when in
its history; the rules are ``cases.transition``'s) and then the case's row in the sheet. Run again, a
step finds its change made and does nothing.
"""

from __future__ import annotations

from ackflow.errors import PermanentError
from ackflow.i18n import N_, Day, texts
from ackflow.jobs.context import StepContext

from . import ledger
from .cases import CaseNotFound
from .filing import case_row, job_date
from .money import MAX_TOTAL, read_yen, yen

TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "no_case": N_("there is no case {case}; write “cases” to see the open cases and their numbers"),
    "no_estimate": N_("case {case} has no estimate v{version} (versions: {versions})"),
    "no_estimates": N_("case {case} has no estimate yet; write “estimate {case} --item …” first"),
    "amount": N_("the amount received must be a whole number of yen from 1 to ¥999,999,999,999, got “{text}”"),
    "negative": N_("the amount received is negative (“{text}”): an amount received is more than ¥0; write it "
                   "without a minus sign"),
    "no_invoice": N_("case {case} has no invoice to be paid; write “invoice {case}” first"),
    "before_invoice": N_("the payment date {date} is before invoice {number} was issued ({issued}): a payment for "
                         "the case is received on that day or later; check the date (--date)"),
    "admins_only": N_("only an admin may correct a case's status (ACKFLOW_ADMINS)"),
}


_say = texts(TEXTS)


def read_amount(text: str | int) -> int:
    """The amount received: the parameter as parsed (int), or as typed in older jobs (text)."""
    from ackflow.errors import UsageError

    try:
        amount = text if isinstance(text, int) else read_yen(text)
    except ValueError as exc:
        raise UsageError(_say("negative" if str(exc) == "negative" else "amount", text=text)) from exc
    if amount < 0:
        raise UsageError(_say("negative", text=text))
    if not 1 <= amount <= MAX_TOTAL:
        raise UsageError(_say("amount", text=text))
    return amount


def _record(ctx: StepContext) -> dict:
    case = ctx.params["case"]
    try:
        return ctx.services.cases.get(case)
    except CaseNotFound as exc:
        raise PermanentError(_say("no_case", case=case)) from exc


def _move(ctx: StepContext, status: str, *, correction: bool = False, renew: bool = False, **fields) -> dict:
    case = ctx.params["case"]
    record = ctx.services.cases.transition(case, status, by=ctx.job.requester.label, job_id=ctx.job.id,
                                           correction=correction, renew=renew, on=ctx.params.get("date"),
                                           **fields)
    return _mirror(ctx, record)


def _mirror(ctx: StepContext, record: dict) -> dict:
    """The case's row in the sheet gets the status the record has now, with its history."""
    case = ctx.params["case"]
    row = case_row(ctx, case, {"status": record["status"]}, force=True)
    if row:
        ctx.services.cases.update(case, ctx.job.id, **row)
    return {"case": case, "status": record["status"], "sheet_link": row.get("sheet_link", "")}


def accepted_version(case: str, record: dict, wanted: int | None) -> int:
    """The estimate version ``ordered`` accepts: ``wanted``, else the latest; PermanentError when the
    case has no estimate, or not that version."""
    versions = [e["version"] for e in record.get("estimates", [])]
    if not versions:
        raise PermanentError(_say("no_estimates", case=case))
    version = wanted or max(versions)
    if version not in versions:
        raise _no_version(case, version, versions)
    return version


def _no_version(case: str, version: int, versions: list[int]) -> PermanentError:
    return PermanentError(_say("no_estimate", case=case, version=version,
                               versions=", ".join(f"v{v}" for v in versions)))


def payable_invoices(case: str, record: dict) -> list[dict]:
    """The invoices a payment is for (issued, not replaced by a correction); PermanentError when none."""
    invoices = [i for i in record.get("invoices", []) if not i.get("replaced_by") and not i.get("pending")]
    if not invoices:
        raise PermanentError(_say("no_invoice", case=case))
    return invoices


def check_payment_date(case: str, record: dict, on: str) -> None:
    """A payment is received on the day the case's first invoice was issued or later (the project has
    no prepayment: ``paid`` needs an invoice): one dated before it is a typo (11/29 for an invoice of
    11/30), and would put 入金 before 請求 in the case's history. PermanentError naming the invoice."""
    issued = [i for i in record.get("invoices", []) if i.get("number") and i.get("issued")]
    if not issued:
        return
    first = min(issued, key=lambda i: i["issued"])
    if on < first["issued"]:
        raise PermanentError(_say("before_invoice", date=Day(on), number=first["number"], issued=Day(first["issued"])))


def ordered(ctx: StepContext) -> dict:
    """受注: the client accepted an estimate version (the latest unless --estimate N); on a case
    ordered already, another version replaces the accepted one (until it is invoiced: 請求 is later)."""
    record = _record(ctx)
    case = ctx.params["case"]
    version = accepted_version(case, record, ctx.params["estimate"])
    document = ledger.get(ctx.services.store.docs, "quotation", ledger.estimate_number(case, version))
    if document is None:
        raise _no_version(case, version, [e["version"] for e in record.get("estimates", [])])
    accepted = {"version": version, "number": document.number, "total": document.totals.total,
                "by": ctx.job.requester.label, "on": ctx.params["date"] or job_date(ctx).isoformat()}
    # ordered already, another version: that one is accepted now (it was answered, and not kept)
    other = record.get("status") == "受注" and (record.get("accepted") or {}).get("version") != version
    result = _move(ctx, "受注", renew=other, accepted=accepted)
    return {**result, "accepted": f"v{version}", "total": yen(document.totals.total)}


def delivered(ctx: StepContext) -> dict:
    """納品: the work was delivered (the invoice's transaction date unless it says another)."""
    _record(ctx)
    on = ctx.params["date"] or job_date(ctx).isoformat()
    return {**_move(ctx, "納品", delivered_on=on), "delivered_on": on}


def paid(ctx: StepContext) -> dict:
    """入金: money received. The case is paid when what was received covers what was invoiced (the
    invoices not replaced by a correction); until then the payment is recorded and the status kept."""
    record = _record(ctx)
    case = ctx.params["case"]
    invoices = payable_invoices(case, record)
    amount = read_amount(ctx.params["amount"])
    on = ctx.params["date"] or job_date(ctx).isoformat()
    check_payment_date(case, record, on)
    payment = {"key": ctx.job.id, "amount": amount, "on": on, "by": ctx.job.requester.label,
               "at": ctx.job.created_at}  # two payments of one day: in the order they were asked
    record = ctx.services.cases.update(case, ctx.job.id, payments=[payment])
    received = sum(p["amount"] for p in record.get("payments", []))
    invoiced = sum(int(i["total"]) for i in invoices)
    summary = {"case": case, "received": yen(received), "invoiced": yen(invoiced)}
    if received < invoiced:
        return {**summary, "status": record.get("status", ""), "outstanding": yen(invoiced - received)}
    return {**summary, **_move(ctx, "入金", paid_on=on)}


def started(ctx: StepContext) -> dict:
    """作業中: the work began (forward only: not for a case delivered already)."""
    _record(ctx)
    return _move(ctx, "作業中")


def lost(ctx: StepContext) -> dict:
    """失注: the client went elsewhere (only before the case is delivered)."""
    _record(ctx)
    return _move(ctx, "失注")


def hold(ctx: StepContext) -> dict:
    """保留: the case waits (an open case only); ``resume`` takes it back to this stage."""
    _record(ctx)
    return _move(ctx, "保留")


def resume(ctx: StepContext) -> dict:
    """A case on hold back at the stage it was held at."""
    _record(ctx)
    record = ctx.services.cases.resume(ctx.params["case"], by=ctx.job.requester.label, job_id=ctx.job.id)
    return _mirror(ctx, record)


def correct(ctx: StepContext) -> dict:
    """An admin sets any status; the history keeps it as a correction."""
    from ackflow.settings import load_settings

    admins = {a.lower() for a in load_settings().admins}
    if (ctx.job.requester.email or "").lower() not in admins:
        raise PermanentError(_say("admins_only"))
    _record(ctx)
    return _move(ctx, ctx.params["status"], correction=True)
