"""The office's ledger of documents in the job store: each estimate version and each invoice is
decided once, with its number, in one transaction.

An estimate version is one transaction: it reads the case, the job's allocation and the counter,
builds the document (which may refuse: then nothing is written and no number is taken), and writes
the counter, the allocation (keyed by the job, so a retried step gets the same number and the same
document back) and the document (collection ``ledger``, id ``kind:number``). An invoice is decided
first and numbered after (``new_invoice``), so the year's counter, which every invoice contends
for, is held by the shortest transaction. The document never changes afterwards, but for
the office's details on one not yet issued (``to_present``); what the accounting service answered is
added once, beside it (``issued``).

An invoice numbered and not yet issued is also listed in ``unissued_invoices`` (by number, with
its job), from the transaction that numbers it to the one that notes it issued: what
``unissued.py`` reads to show a number whose job failed for good (未発行), never lost silently.

Counters are the job store's (``counters`` / ``counter_allocations``), so ``estimate-<case>`` keeps
counting the versions drafted before this module existed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ackflow.errors import PermanentError
from ackflow.i18n import N_, texts
from ackflow.store.documents import ALLOCATIONS, COUNTERS, Documents, Tx
from ackflow.store.jobstore import hold, not_cancelled

from .accounting import Document, Issued
from .cases import CASES
from .issuer import Issuer

LEDGER = "ledger"
UNISSUED = "unissued_invoices"  # numbered, not yet issued: number -> {number, job, case, at, noted}

TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "no_case": N_("there is no case {case}; write “cases” to see the open cases and their numbers"),
    "not_in_ledger": N_("{kind} {number} is not in the ledger"),
    "cancelled": N_("the job was cancelled before the invoice was decided; nothing was numbered"),
}


_say = texts(TEXTS)


def ledger_id(kind: str, number: str) -> str:
    return f"{kind}:{number}"


def estimate_number(case: str, version: int) -> str:
    return f"{case}-v{version}"


def invoice_number(prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}{year}-{sequence:04d}"


def _mine(tx: Tx, counter: str, key: str) -> int | None:
    """The value this key was given already, or None. A read."""
    allocation = tx.get(ALLOCATIONS, f"{counter}:{key}")
    return int(allocation["value"]) if allocation else None


def _latest(tx: Tx, counter: str) -> int:
    """The counter's current value: read last, so the document everyone contends for is held (on a
    locking backend) for as short a time as possible."""
    current = tx.get(COUNTERS, counter)
    return int(current["value"]) if current else 0


def _take(tx: Tx, counter: str, key: str, value: int, latest: int) -> None:
    if value > latest:
        tx.set(COUNTERS, counter, {"name": counter, "value": value})
    tx.set(ALLOCATIONS, f"{counter}:{key}", {"counter": counter, "key": key, "value": value})


MakeEstimate = Callable[[dict, Document | None, int], Document]


def new_estimate_version(docs: Documents, case: str, job_id: str, make: MakeEstimate) -> Document:
    """The job's version of the case's estimate: made by ``make(case record, previous version or
    None, version)`` from the latest version, numbered, kept. Again for the same job: the same one."""
    counter = f"estimate-{case}"

    def apply(tx: Tx) -> Document:
        record = tx.get(CASES, case)
        if record is None:
            raise PermanentError(_say("no_case", case=case))
        mine = _mine(tx, counter, job_id)
        if mine is not None:
            kept = tx.get(LEDGER, ledger_id("quotation", estimate_number(case, mine)))
            if kept is not None:
                return Document.from_dict(kept)
        latest = _latest(tx, counter)
        base = mine - 1 if mine is not None else latest
        previous = tx.get(LEDGER, ledger_id("quotation", estimate_number(case, base))) if base else None
        version = mine if mine is not None else latest + 1
        document = make(record, Document.from_dict(previous) if previous else None, version)
        _take(tx, counter, job_id, version, latest)
        tx.set(LEDGER, ledger_id("quotation", document.number), {**document.to_dict(), "job": job_id})
        entry = {"key": f"v{version:03d}", "version": version, "number": document.number,
                 "total": document.totals.total, "job": job_id, "issued": document.issued}
        estimates = {e["key"]: e for e in record.get("estimates", [])}
        estimates[entry["key"]] = {**estimates.get(entry["key"], {}), **entry}
        tx.set(CASES, case, {**record, "estimates": sorted(estimates.values(), key=lambda e: e["key"])})
        return document

    return docs.transaction(apply)


MakeInvoice = Callable[[dict, Document | None], Document]
PENDING = "~"  # the key prefix of an invoice being numbered on the case (sorts after the numbers)


def new_invoice(store, case: str, year: int, prefix: str, job_id: str, make: MakeInvoice, now: float) -> Document:
    """The job's invoice for the case, in three short transactions, each safe to repeat:

    1. decide: ``make(case record, accepted estimate or None)`` builds it (or refuses: then nothing
       is written); it is kept as the job's draft and noted on the case as pending, so a second
       invoice asked for at the same moment sees it; and the job is held (``jobstore.hold``): from
       here it runs to its end, never cancelled (a job cancelled before decides nothing);
    2. number: the next value of the year's counter for this job (``JobStore.allocate``), in a
       transaction that touches nothing else, the one every invoice contends for;
    3. stamp: the numbered invoice in the ledger (and in ``unissued_invoices`` until it is issued),
       its entry on the case instead of the pending one.

    Nothing after the number can refuse, so a number taken is a number used; if issuing it fails
    for good, the job keeps it for its retry (``unissued.py`` says so)."""
    docs = store.docs
    draft_id = f"draft:{job_id}"

    def decide(tx: Tx) -> Document:
        record = tx.get(CASES, case)
        if record is None:
            raise PermanentError(_say("no_case", case=case))
        draft = tx.get(LEDGER, draft_id)
        if draft is not None:
            return Document.from_dict(draft)
        if not not_cancelled(tx, job_id):
            raise PermanentError(_say("cancelled"))
        accepted = (record.get("accepted") or {}).get("version")
        estimate = tx.get(LEDGER, ledger_id("quotation", estimate_number(case, accepted))) if accepted else None
        document = make(record, Document.from_dict(estimate) if estimate else None)
        tx.set(LEDGER, draft_id, {**document.to_dict(), "job": job_id})
        invoices = {e["key"]: e for e in record.get("invoices", [])}
        invoices[PENDING + job_id] = {"key": PENDING + job_id, "number": "", "pending": True, "job": job_id,
                                      "replaces": document.replaces}
        if document.replaces in invoices:
            invoices[document.replaces] = {**invoices[document.replaces], "replaced_by": PENDING + job_id}
        tx.set(CASES, case, {**record, "invoices": sorted(invoices.values(), key=lambda e: e["key"])})
        hold(tx, job_id, "number", now)
        return document

    decided = docs.transaction(decide)
    number = invoice_number(prefix, year, store.allocate(f"invoice-{year}", job_id))

    def stamp(tx: Tx) -> Document:
        record = tx.get(CASES, case)
        kept = tx.get(LEDGER, ledger_id("invoice", number))
        if kept is not None:
            return Document.from_dict(kept)
        document = replace(decided, number=number)
        tx.set(LEDGER, ledger_id("invoice", number), {**document.to_dict(), "job": job_id})
        tx.set(UNISSUED, number, {"number": number, "job": job_id, "case": case, "at": now})
        invoices = {e["key"]: e for e in record.get("invoices", []) if e["key"] != PENDING + job_id}
        invoices[number] = {"key": number, "number": number, "total": document.totals.total,
                            "issued": document.issued, "replaces": document.replaces, "job": job_id}
        if document.replaces in invoices:
            invoices[document.replaces] = {**invoices[document.replaces], "replaced_by": number}
        tx.set(CASES, case, {**record, "invoices": sorted(invoices.values(), key=lambda e: e["key"])})
        return document

    return docs.transaction(stamp)


def note_issued(docs: Documents, document: Document, issued: Issued) -> dict:
    """Keep what the service answered beside the document, once (a retry finds it there); an
    invoice is no longer unissued."""
    doc_id = ledger_id(document.kind, document.number)

    def apply(tx: Tx) -> dict:
        data = tx.get(LEDGER, doc_id)
        if data is None:
            raise PermanentError(_say("not_in_ledger", kind=document.kind, number=document.number))
        if not data.get("issued_by"):
            data = {**data, "issued_by": issued.to_dict()}
            tx.set(LEDGER, doc_id, data)
        if document.kind == "invoice":
            tx.delete(UNISSUED, document.number)
        return data

    return docs.transaction(apply)


def to_present(docs: Documents, document: Document, issuer: Issuer, printed: tuple[str, ...]) -> Document:
    """The document as it is presented to the accounting service, kept in its ledger entry: with
    ``issuer`` (the office's details as they are now), except that

    - an entry issued meanwhile is as it was issued (an issued document never changes);
    - an entry presented before keeps the ``printed`` fields of its issuer (those the service prints
      from the document: ``Accounting.issuer_printed``): the service may hold it as presented then
      (a PDF filed, a freee invoice made) though the step never noted it issued (killed between the
      two, or refused after: freee's registration check), and a retry is given what it holds.

    The entry is noted presented in the same transaction, before the service sees the document."""
    doc_id = ledger_id(document.kind, document.number)

    def apply(tx: Tx) -> Document:
        data = tx.get(LEDGER, doc_id)
        if data is None:
            raise PermanentError(_say("not_in_ledger", kind=document.kind, number=document.number))
        if data.get("issued_by"):
            return Document.from_dict(data)
        wanted = issuer.to_dict()
        if data.get("presented"):
            kept = data.get("issuer") or {}
            wanted = {**wanted, **{name: kept.get(name, "") for name in printed}}
        if wanted != data.get("issuer") or not data.get("presented"):
            data = {**data, "issuer": wanted, "presented": True}
            tx.set(LEDGER, doc_id, data)
        return Document.from_dict(data)

    return docs.transaction(apply)


def get(docs: Documents, kind: str, number: str) -> Document | None:
    data = docs.get(LEDGER, ledger_id(kind, number))
    return Document.from_dict(data) if data else None
