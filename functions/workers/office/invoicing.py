"""``invoice CASE``: a qualified invoice (適格請求書) from the accepted estimate, or from given lines.

Three steps, each safe to run again:

1. ``number``: refuse what must not be issued (the office's details missing or wrong, a lost or paid case,
   no accepted estimate, a second invoice not asked for, a correction of an unknown invoice) before any number
   is taken; then the next number of the year (consecutive, allocated once per job) and the
   invoice itself, kept in the ledger and noted on the case (``ledger.new_invoice``);
2. ``issue``: the Accounting port issues exactly that document (looked up by number first);
3. ``file``: the case record, the documents tab and the case's row.

An issued invoice never changes; ``--replaces INV-…`` issues a new one that names it.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt

from ackflow.errors import PermanentError, UsageError
from ackflow.i18n import N_, Day, Joined, Yen, texts
from ackflow.jobs.context import StepContext

from . import ledger
from .accounting import Document, link_key, service_name
from .estimating import rules_of, typed_lines
from .filing import case_row, file_issued, job_date
from .issuer import Issuer, invoice_problems
from .money import yen

INVOICED = "請求"  # the stage an issued invoice brings a case to (cases.STAGES; never back from 入金)
LOST = "失注"  # cases.ASIDE: no invoice for a lost case
PAID = "入金"  # the last stage: a further invoice would stay out of `cases` and the digest, unpaid unseen

TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "no_accepted": N_("case {case} has no accepted estimate: mark the order first (“ordered {case}”, "
                      "which accepts the latest version, or “ordered {case} --estimate N”), or give "
                      "the lines with --item"),
    "second": N_("case {case} already has invoice {numbers}; to issue another add --again, to "
                 "correct one write --replaces {last}"),
    "unknown_replaced": N_("{number} is not an invoice of case {case} (its invoices: {numbers})"),
    "already_replaced": N_("{number} was already corrected by {by}; correct {by} instead"),
    "being_issued": N_("(being issued by job {job})"),
    "lost": N_("case {case} is lost (失注): no invoice is issued for it; if the client ordered after all, "
               "mark it “ordered {case}” first"),
    "paid": N_("case {case} is paid (入金): an invoice issued now would leave it 入金, out of “cases” and the "
               "digest while unpaid; an admin first corrects it (“correct {case} 請求”), then the invoice is issued"),
    "zero": N_("the invoice would total ¥0; nothing to bill"),
    "numbered": N_("invoice number {number}"),
    "issuing": N_("issuing {number} ({service})"),
    "not_in_ledger": N_("invoice {number} is not in the ledger"),
    "mismatch": N_("{service} holds {number} with a total of {theirs} (tax {theirs_tax}), not this invoice's "
                   "{ours} (tax {ours_tax}); check it there"),
    "due_before": N_("the payment due date {due} is before the issue date {issued}"),
}


_say = texts(TEXTS)


def payment_due(issued: dt.date, terms: str) -> dt.date:
    """next-month-end (翌月末), month-end (当月末) or ``Nd`` days after the issue date."""
    if terms in ("month-end", "next-month-end"):
        year, month = issued.year, issued.month
        if terms == "next-month-end":
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    return issued + dt.timedelta(days=int(terms.rstrip("d")))


def check_invoice_settings(settings) -> None:
    """What the ``invoice`` command and its first step refuse on: the office's own details."""
    problem = invoice_problems(settings)
    if problem:
        raise UsageError(problem)


def check_case(case: str, record: dict, params: dict, accepted: bool) -> None:
    """What the case refuses an invoice for (PermanentError), before anything is decided: a lost or
    paid case, a correction of an invoice it does not have (or one corrected already), a second
    invoice not asked for, no lines given and no accepted estimate (``accepted``: the case has one).
    The ``number`` step asks it inside its transaction; the command, before its card (``precheck``)."""
    if record.get("status") == LOST:  # it would stay 失注, out of `cases` and the digest, unpaid unseen
        raise PermanentError(_say("lost", case=case))
    if record.get("status") == PAID:  # a step never moves a status back: it would stay 入金
        raise PermanentError(_say("paid", case=case))
    invoices = record.get("invoices", [])
    numbers = [i["number"] or _say("being_issued", job=i["job"]) for i in invoices]
    replaces = params.get("replaces")
    if replaces:
        target = next((i for i in invoices if i["number"] == replaces), None)
        if target is None:
            raise PermanentError(_say("unknown_replaced", number=replaces, case=case,
                                      numbers=Joined(numbers, ", ") if numbers else "—"))
        if target.get("replaced_by"):
            by = target["replaced_by"]
            if by.startswith(ledger.PENDING):
                by = _say("being_issued", job=by[len(ledger.PENDING):])
            raise PermanentError(_say("already_replaced", number=replaces, by=by))
    elif invoices and not params.get("again"):
        raise PermanentError(_say("second", case=case, numbers=Joined(numbers, ", "), last=numbers[-1]))
    if not params.get("item") and not accepted:
        raise PermanentError(_say("no_accepted", case=case))


def _number(ctx: StepContext) -> str:
    return ctx.outputs["number"]["invoice"]


def allocate(ctx: StepContext) -> dict:
    services = ctx.services
    settings = services.office_settings
    params = ctx.params
    case = params["case"]
    try:
        check_invoice_settings(settings)
    except UsageError as exc:
        raise PermanentError(exc.text) from exc
    rules = rules_of(settings)
    given = typed_lines(params["item"], rules)
    issued_on = job_date(ctx)
    services.accounting.check()  # a missing grant or font refuses here, before a number is taken

    def make(record: dict, accepted: Document | None) -> Document:
        check_case(case, record, params, accepted is not None)
        lines = tuple(given) if given else accepted.lines
        replaces = params["replaces"]
        try:
            totals = rules.totals(lines)
        except UsageError as exc:
            raise PermanentError(exc.text) from exc
        if totals.total <= 0:
            raise PermanentError(_say("zero"))
        due = params["due"] or payment_due(issued_on, settings.payment_terms).isoformat()
        if due < issued_on.isoformat():
            raise PermanentError(_say("due_before", due=Day(due), issued=Day(issued_on)))
        recipient = params["to"] or (accepted.recipient if accepted else record["client"])
        document = Document(kind="invoice", number="",  # numbered once decided (ledger.new_invoice)
                            case=case, folder=record.get("folder") or case, recipient=recipient,
                            title=record["title"], issued=issued_on.isoformat(), lines=lines, rules=rules,
                            issuer=Issuer.from_settings(settings),
                            transaction_date=params["date"] or record.get("delivered_on") or issued_on.isoformat(),
                            payment_due=due, replaces=replaces)
        services.accounting.check_document(document)  # e.g. a character the PDF cannot print: no number taken
        return document

    document = ledger.new_invoice(services.store, case, issued_on.year, settings.invoice_prefix, ctx.job.id, make,
                                  ctx.clock())
    ctx.progress(_say("numbered", number=document.number))
    return {"case": case, "invoice": document.number, "total": yen(document.totals.total)}


def issue(ctx: StepContext) -> dict:
    services = ctx.services
    document = ledger.get(services.store.docs, "invoice", _number(ctx))
    if document is None:
        raise PermanentError(_say("not_in_ledger", number=_number(ctx)))
    document = _as_the_office_is_now(ctx, document)
    ctx.progress(_say("issuing", number=document.number, service=service_name(services.accounting.service)))
    issued = services.accounting.issue(document)
    if issued.totals != document.totals:  # freee computed other totals: say so, never hide it
        raise PermanentError(_say("mismatch", service=services.accounting.service, number=document.number,
                                  theirs=Yen(issued.totals.total), theirs_tax=Yen(issued.totals.tax),
                                  ours=Yen(document.totals.total), ours_tax=Yen(document.totals.tax)))
    file_issued(ctx, document, issued)
    return {"invoice_link": issued.link, "link_key": link_key(issued)}


def _as_the_office_is_now(ctx: StepContext, document: Document) -> Document:
    """An invoice numbered but not yet issued carries the office's details as they are when it is
    issued: freee refused it for a registration number its template and the settings disagreed on,
    the office corrected ``ACKFLOW_OFFICE_REGISTRATION_NUMBER`` (as the refusal says) and retried;
    the ledger's copy from the numbering still had the wrong number, so every retry was refused
    again. Details that are not valid now (not allowed on an invoice, or not printable by the
    service) are left as they were numbered with, which were. What the service prints from a
    document it may already hold stays as it was first presented (``ledger.to_present``): a PDF
    filed, or a freee invoice made, before the step could note it issued."""
    services = ctx.services
    current = Issuer.from_settings(services.office_settings)
    if current != document.issuer:
        try:
            check_invoice_settings(services.office_settings)
            services.accounting.check_document(dataclasses.replace(document, issuer=current))
        except (UsageError, PermanentError):  # its refusal would say nothing was numbered: untrue here
            current = document.issuer
    return ledger.to_present(services.store.docs, document, current, services.accounting.issuer_printed)


def file(ctx: StepContext) -> dict:
    services = ctx.services
    number = _number(ctx)
    case = ctx.params["case"]
    link = ctx.outputs["issue"]["invoice_link"]
    row = case_row(ctx, case, {"invoice": link, "status": INVOICED})
    services.cases.update(case, ctx.job.id, invoice=number, invoice_link=link, status=INVOICED,
                          by=ctx.job.requester.label, **row)
    key = ctx.outputs["issue"].get("link_key", "invoice_link")  # freee's page, or the PDF
    return {"case": case, "invoice": number, key: link, "total": ctx.outputs["number"]["total"],
            "sheet_link": row.get("sheet_link", "")}
