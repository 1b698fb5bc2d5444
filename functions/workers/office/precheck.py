"""The office's case commands refused at once, in place of their card (``JobType.precheck``): a case
number that does not exist, a move the case's status forbids (``started`` on a delivered case,
``resume`` on a case not on hold), ``ordered`` with no estimate, ``paid`` with no invoice,
``invoice`` with no accepted estimate and no lines, ``estimate`` of a case whose folder is not made.

Each check reads the case record, one document, and asks the very rules the job's step asks when it
runs (``cases.check_command``, ``cases.resume_stage``, ``lifecycle.accepted_version``,
``lifecycle.payable_invoices``, ``invoicing.check_case``): the same refusal, in the same words,
said before the card instead of as a failed job after Run. The steps keep their own checks (the
case may change between the card and the run); what needs more than the record (the estimate
document in the ledger, the accounting service) is left to them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from ackflow.errors import PermanentError, UsageError
from ackflow.i18n import N_
from ackflow.jobs.registry import Reads

from . import invoicing, lifecycle
from .cases import CASE_RE, CASES, check_command, resume_stage
from .estimating import TEXTS as ESTIMATE_TEXTS
from .estimating import split_list

NO_FOLDER = N_("case {case} has no folder yet (its newcase job has not made it)")  # as steps.redraft_estimate says

Rule = Callable[[str, dict, dict], None]  # (case, record, values); raises PermanentError as the step does


def case_record(values: dict, reads: Reads) -> dict:
    """The record of the case the command names (one read); UsageError when there is none."""
    case = str(values.get("case") or "")
    record = reads.get(CASES, case) if CASE_RE.fullmatch(case) else None
    if record is None:
        raise UsageError(lifecycle.TEXTS["no_case"], case=case[:30])
    return record


def on_the_case(rule: Rule | None = None) -> Callable[[dict, Reads], None]:
    """A precheck that reads the case and asks ``rule`` of it, its PermanentError said as a UsageError
    (the same text); without a rule, only that the case exists."""

    def check(values: dict, reads: Reads) -> None:
        record = case_record(values, reads)
        if rule is None:
            return
        try:
            rule(values["case"], record, values)
        except PermanentError as exc:
            raise UsageError(exc.text) from exc

    if rule is not None:
        check = wraps(rule)(check)
    return check


def moving_to(status: str) -> Callable[[dict, Reads], None]:
    """``started``, ``delivered``, ``lost``, ``hold``: the move ``transition`` would make."""

    def rule(case: str, record: dict, values: dict) -> None:
        check_command(case, record, status)

    return on_the_case(rule)


def _ordered(case: str, record: dict, values: dict) -> None:
    lifecycle.accepted_version(case, record, values.get("estimate"))
    check_command(case, record, "受注")


def _paid(case: str, record: dict, values: dict) -> None:
    lifecycle.payable_invoices(case, record)


def _resume(case: str, record: dict, values: dict) -> None:
    resume_stage(case, record)


def _estimate(case: str, record: dict, values: dict) -> None:
    """The case's folder is made (not a case being opened); lines to change need an earlier version;
    a form edited from version N is refused once another was issued (as ``issue_estimate`` does)."""
    if not record.get("folder"):
        raise PermanentError(NO_FOLDER, case=case)
    versions = [e.get("version") for e in record.get("estimates", []) if isinstance(e.get("version"), int)]
    latest = max(versions, default=0)
    base = values.get("base")
    if base is not None and latest != base:
        raise PermanentError(ESTIMATE_TEXTS["stale"], case=case, base=base, latest=latest)
    if not versions and (split_list(values.get("change"), ";") or split_list(values.get("remove"), ",")):
        raise PermanentError(ESTIMATE_TEXTS["no_base"], case=case)


def _invoice(case: str, record: dict, values: dict) -> None:
    invoicing.check_case(case, record, values, bool((record.get("accepted") or {}).get("version")))


ordered = on_the_case(_ordered)
paid = on_the_case(_paid)
resume = on_the_case(_resume)
estimate = on_the_case(_estimate)
invoice = on_the_case(_invoice)
exists = on_the_case()
