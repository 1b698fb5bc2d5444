"""The office's case commands refused at once, in place of their card (``JobType.precheck``): a case
number that does not exist, a move the case's status forbids (``started`` on a delivered case,
``resume`` on a case not on hold), ``ordered`` with no estimate, ``paid`` with no invoice (or dated
before its first one), ``invoice`` with no accepted estimate and no lines, ``estimate`` of a case
whose folder is not made.

Each check reads the case record (and at most one document of the ledger) and asks the very rules
the job's step asks when it runs (``cases.check_command``, ``cases.resume_stage``, ``lifecycle.accepted_version``,
``lifecycle.payable_invoices``, ``invoicing.check_case``): the same refusal, in the same words,
said before the card instead of as a failed job after Run. The steps keep their own checks (the
case may change between the card and the run); what needs the accounting service is left to them.

A check also returns the card's notes: what the job will do with the case as it stands (the
estimate version an order accepts and its amount, the version and total a new estimate makes, an
invoice's total and where its lines come from, what a payment leaves outstanding, the stage a held
case goes back to). Run refuses when they are no longer so (``ackflow.app.precheck``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import wraps
from zoneinfo import ZoneInfo

from ackflow.errors import PermanentError, UsageError
from ackflow.i18n import N_, Day, Listed, Msg, Yen, texts
from ackflow.jobs.registry import Reads

from . import invoicing, lifecycle
from .cases import CASE_RE, CASES, HOLD, LOST, check_command, resume_stage
from .estimating import TEXTS as ESTIMATE_TEXTS
from .estimating import split_list

NO_FOLDER = N_("case {case} has no folder yet (its newcase job has not made it)")  # as steps.redraft_estimate says

NOTES = {  # what a card says the job will do (English, marked for the catalog)
    "accepts": N_("Accepts estimate v{version}: {total} including tax."),
    "accepted_before": N_("It takes the place of v{version}, accepted before."),
    "new_version": N_("Makes estimate v{version}: {total} including tax (v{base}: {before})."),
    "same_lines": N_("Its lines are the same as v{base}'s."),
    "first_version": N_("Makes estimate v{version}: {total} including tax."),
    "first_default": N_("Makes estimate v{version}, from the client's usual lines."),
    "invoice_from_estimate": N_("Invoice total {total} including tax, from the accepted estimate v{version}."),
    "invoice_from_lines": N_("Invoice total {total} including tax, from the lines given."),
    "corrects": N_("Corrects invoice {number} ({total}); it stays on record as corrected."),
    "issued_before": N_("Issued before for this case: {numbers}."),
    "outstanding": N_("Invoiced {invoiced}, received so far {received}: {outstanding} still to come after this."),
    "settles": N_("Invoiced {invoiced}, received so far {received}: this settles it, the case becomes 入金."),
    "over": N_("Invoiced {invoiced}, received so far {received}: this is {over} more than what is owed; "
               "the case becomes 入金."),
    "back_to": N_("The case goes back to {stage}."),
    "off_hold": N_("The case comes off hold (保留)."),
    "invoice_dates": N_("Transaction date {date}, payment due {due}."),
    "invoice_dates_delivered": N_("Transaction date {date} (the delivery), payment due {due}."),
    "valid_until": N_("Valid until {date}."),
}
_note = texts(NOTES)

Notes = Iterable[Msg] | None
# (case, record, values, reads) -> the card's notes; raises PermanentError as the step does
Rule = Callable[[str, dict, dict, Reads], Notes]


def case_record(values: dict, reads: Reads) -> dict:
    """The record of the case the command names (one read); UsageError when there is none."""
    case = str(values.get("case") or "")
    record = reads.get(CASES, case) if CASE_RE.fullmatch(case) else None
    if record is None:
        raise UsageError(lifecycle.TEXTS["no_case"], case=case[:30])
    return record


def on_the_case(rule: Rule | None = None) -> Callable[[dict, Reads], Notes]:
    """A precheck that reads the case and asks ``rule`` of it, its PermanentError said as a UsageError
    (the same text), its notes shown on the card; without a rule, only that the case exists."""

    def check(values: dict, reads: Reads) -> Notes:
        record = case_record(values, reads)
        if rule is None:
            return None
        try:
            return rule(values["case"], record, values, reads)
        except PermanentError as exc:
            raise UsageError(exc.text) from exc

    if rule is not None:
        check = wraps(rule)(check)
    return check


def moving_to(status: str) -> Callable[[dict, Reads], Notes]:
    """``started``, ``delivered``, ``lost``, ``hold``: the move ``transition`` would make."""

    def rule(case: str, record: dict, values: dict, reads: Reads) -> Notes:
        check_command(case, record, status)
        return _off_hold(record, status)

    return on_the_case(rule)


def _off_hold(record: dict, status: str) -> list[Msg]:
    """A case on hold that a later stage's command moves on is no longer held (``transition``)."""
    return [_note("off_hold")] if record.get("status") == HOLD and status not in (HOLD, LOST) else []


def _estimates(record: dict) -> dict[int, dict]:
    return {e["version"]: e for e in record.get("estimates", []) if isinstance(e.get("version"), int)}


def _ordered(case: str, record: dict, values: dict, reads: Reads) -> Notes:
    version = lifecycle.accepted_version(case, record, values.get("estimate"))
    check_command(case, record, "受注")
    total = _estimates(record)[version].get("total")
    notes = [_note("accepts", version=version, total=Yen(total))] if isinstance(total, int) else []
    before = (record.get("accepted") or {}).get("version")
    if record.get("status") in ("受注", HOLD) and before and before != version:  # the step replaces it
        notes.append(_note("accepted_before", version=before))
    return notes + _off_hold(record, "受注")


def _paid(case: str, record: dict, values: dict, reads: Reads) -> Notes:
    invoices = lifecycle.payable_invoices(case, record)
    if values.get("date"):  # without one the payment is today's: on or after any invoice's day
        lifecycle.check_payment_date(case, record, values["date"])
    amount = values.get("amount")
    if not isinstance(amount, int):
        return None
    invoiced = sum(int(i.get("total") or 0) for i in invoices)
    received = sum(int(p.get("amount") or 0) for p in record.get("payments", []))
    owed = invoiced - received - amount
    said = {"invoiced": Yen(invoiced), "received": Yen(received)}
    if owed > 0:
        return [_note("outstanding", outstanding=Yen(owed), **said)]
    if owed < 0:
        return [_note("over", over=Yen(-owed), **said)]
    return [_note("settles", **said)]


def _resume(case: str, record: dict, values: dict, reads: Reads) -> Notes:
    return [_note("back_to", stage=resume_stage(case, record))]


def _estimate(case: str, record: dict, values: dict, reads: Reads) -> Notes:
    """The case's folder is made (not a case being opened); lines to change need an earlier version;
    a form edited from version N is refused once another was issued (as ``issue_estimate`` does).
    Notes: the version it makes and its total, worked out from the previous version's lines as the
    step does (a line to change that it does not have is refused here, in the step's words)."""
    if not record.get("folder"):
        raise PermanentError(NO_FOLDER, case=case)
    estimates = _estimates(record)
    latest = max(estimates, default=0)
    base = values.get("base")
    if base is not None and latest != base:
        raise PermanentError(ESTIMATE_TEXTS["stale"], case=case, base=base, latest=latest)
    change, remove = split_list(values.get("change"), ";"), split_list(values.get("remove"), ",")
    if not estimates and (change or remove):
        raise PermanentError(ESTIMATE_TEXTS["no_base"], case=case)
    from .estimating import default_lines, edit_lines, typed_lines

    settings, rules = _office()
    added = typed_lines(values.get("item") or [], rules)
    validity = _validity(values, settings, reads)
    if not estimates:
        if not added:  # the client's usual lines (as the step reads them), or a refusal in its words
            if settings is None:
                return [_note("first_default", version=1), *validity]
            added = default_lines(record["client"], settings.client_items, rules)
            if not added:
                raise PermanentError(ESTIMATE_TEXTS["no_lines"], case=case, client=record["client"])
        return [_note("first_version", version=1, total=Yen(rules.totals(added).total)), *validity]
    previous = _document(reads, "quotation", estimates[latest].get("number"))
    if values.get("replace"):
        lines = tuple(added)
    else:
        if previous is None:
            return None
        try:
            lines = edit_lines(previous.lines, add=added, change=change, remove=[int(n) for n in remove],
                               rules=rules, version=latest, case=case)
        except UsageError as exc:
            raise PermanentError(exc.text) from exc
    if not lines:
        return None
    before = estimates[latest].get("total")
    # the form sends every line again: one sent as it came (a second thought, a double submit) says so
    same = [_note("same_lines", base=latest)] if previous is not None and tuple(lines) == tuple(previous.lines) else []
    return [_note("new_version", version=latest + 1, base=latest, total=Yen(rules.totals(lines).total),
                  before=Yen(before) if isinstance(before, int) else "—"), *same, *validity]


def _office() -> tuple:
    """The office's settings and tax rules, read once per check; (None, the standard rules) when the
    settings do not read (the job's own check says why)."""
    from .estimating import rules_of
    from .money import TaxRules

    try:
        from .settings import load_office_settings

        settings = load_office_settings()
    except Exception:  # noqa: BLE001 - a note is a courtesy
        return None, TaxRules()
    return settings, rules_of(settings)


def _today(settings, reads: Reads) -> dt.date:
    return dt.datetime.fromtimestamp(reads.now, ZoneInfo(settings.timezone)).date()


def _validity(values: dict, settings, reads: Reads) -> list[Msg]:
    """An estimate's validity date: as given, else the office's days from today (as the step)."""
    if settings is None:
        return []
    until = values.get("valid_until") or (
        _today(settings, reads) + dt.timedelta(days=settings.estimate_validity_days)).isoformat()
    return [_note("valid_until", date=Day(until))]


def _invoice_dates(values: dict, record: dict, settings, reads: Reads) -> list[Msg]:
    """The transaction date and the payment due date the invoice will print, as the step decides
    them (``invoicing.allocate``): the date given, else the delivery's, else today."""
    if settings is None:
        return []
    today = _today(settings, reads)
    due = values.get("due") or invoicing.payment_due(today, settings.payment_terms).isoformat()
    if values.get("date") or not record.get("delivered_on"):
        return [_note("invoice_dates", date=Day(values.get("date") or today.isoformat()), due=Day(due))]
    return [_note("invoice_dates_delivered", date=Day(record["delivered_on"]), due=Day(due))]


def _document(reads: Reads, kind: str, number: str | None):
    """A document of the ledger (the second read), or None."""
    from .accounting import Document
    from .ledger import LEDGER, ledger_id

    data = reads.get(LEDGER, ledger_id(kind, number)) if number else None
    return Document.from_dict(data) if data else None


def _invoice(case: str, record: dict, values: dict, reads: Reads) -> Notes:
    accepted = record.get("accepted") or {}
    invoicing.check_case(case, record, values, bool(accepted.get("version")))
    from .estimating import typed_lines

    settings, rules = _office()
    notes = []
    if values.get("item"):
        notes.append(_note("invoice_from_lines", total=Yen(rules.totals(typed_lines(values["item"], rules)).total)))
    else:
        estimate = _document(reads, "quotation", accepted.get("number"))
        if estimate is not None:
            notes.append(_note("invoice_from_estimate", version=accepted["version"],
                               total=Yen(rules.totals(estimate.lines).total)))
    invoices = record.get("invoices", [])
    replaces = values.get("replaces")
    if replaces:
        target = next((i for i in invoices if i.get("number") == replaces), {})
        notes.append(_note("corrects", number=replaces, total=Yen(int(target.get("total") or 0))))
    elif invoices:
        notes.append(_note("issued_before", numbers=Listed([i.get("number") or "…" for i in invoices])))
    return notes + _invoice_dates(values, record, settings, reads)


ordered = on_the_case(_ordered)
paid = on_the_case(_paid)
resume = on_the_case(_resume)
estimate = on_the_case(_estimate)
invoice = on_the_case(_invoice)
exists = on_the_case()
