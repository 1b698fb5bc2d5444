"""An invoice number is never lost silently: a job that took one and then failed for good keeps it
for its retry (numbers stay consecutive, so it is never given to another invoice), and until then
the number is shown as not issued (未発行) with the job that holds it: a row of the documents tab,
``case CASE``, the console's case page and the failure card, which says how to finish it (retry
the job: the retry issues that same number and its row becomes 発行済).

The row is written when the job fails for good (the job type's ``on_failed``, right after its
failure card) and by the sweep, which finds every numbered invoice not yet issued
(``ledger.UNISSUED``) whose job failed and whose row was not written for that failure: a worker
that died between the failure and the row, or a sheet that was unavailable then, only delays it.
Writing it twice writes the same row (keyed by the number); a retry that issues the number while
the row is written is caught by reading again afterwards, and the issued row is written again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ackflow.errors import JobNotFound, StepFailed, Unavailable
from ackflow.i18n import N_, Speaker, texts
from ackflow.jobs.model import Job, JobStatus
from ackflow.store.documents import Tx

from . import ledger
from .accounting import Issued
from .filing import issued_row, unissued_row

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime

log = logging.getLogger(__name__)

SWEPT = 200  # unissued numbers read per sweep (a failed invoice job is rare; they wait for a retry)

TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "held": N_("Invoice number {number} is taken by this job and not issued (未発行 in the documents tab). "
               "Retry the job to issue it: the retry uses the same number, so no number is skipped."),
}


_say = texts(TEXTS)


def held_number(job: Job) -> str | None:
    """The invoice number ``job`` took and has not issued, if any (its ``number`` step done, its
    ``issue`` step not)."""
    outputs = job.outputs()
    number = (outputs.get("number") or {}).get("invoice")
    return number if number and "issue" not in outputs else None


def failure_note(job: Job, speaker: Speaker) -> str | None:
    """What the failure card of an invoice job adds: the number it holds, and how to finish it."""
    number = held_number(job)
    return _say("held", number=number).render(speaker) if number else None


def on_failed(runtime: Runtime, job: Job) -> None:
    """The ``invoice`` job failed for good: the 未発行 row of the number it holds, if it holds one."""
    number = held_number(job)
    if number:
        note(runtime, number, job)


def note(runtime: Runtime, number: str, job: Job) -> bool:
    """Write the 未発行 row of ``number`` for this failure of ``job``, once; False when there is
    nothing to write (issued already, or written for this failure)."""
    docs = runtime.store.docs
    entry = docs.get(ledger.UNISSUED, number)
    if entry is None or entry.get("noted") == job.generation or job.status != JobStatus.FAILED:
        return False
    document = ledger.get(docs, "invoice", number)
    sheet = runtime.services.documents_sheet
    if document is not None and sheet is not None:
        sheet.upsert(number, unissued_row(document, job.id))

    def mark(tx: Tx) -> bool:
        current = tx.get(ledger.UNISSUED, number)
        if current is None:
            return False  # issued meanwhile
        tx.set(ledger.UNISSUED, number, {**current, "noted": job.generation})
        return True

    if not docs.transaction(mark) and sheet is not None:
        _refile(docs, sheet, number)  # a retry issued it while the row was written: its row wins
    return True


def _refile(docs, sheet, number: str) -> None:
    data = docs.get(ledger.LEDGER, ledger.ledger_id("invoice", number))
    if data and data.get("issued_by"):
        document = ledger.get(docs, "invoice", number)
        sheet.upsert(number, issued_row(document, Issued.from_dict(data["issued_by"]), data.get("job", "")))


def sweep(runtime: Runtime, now: float) -> dict | None:
    """The sweep's part: the 未発行 rows the failures did not write (see the module's docstring)."""
    noted, errors = [], []
    for entry in runtime.store.docs.query(ledger.UNISSUED, [], "at", False, SWEPT):
        try:
            job = runtime.store.get_job(entry["job"])
        except JobNotFound:
            continue
        if job.status != JobStatus.FAILED or entry.get("noted") == job.generation:
            continue
        try:
            if note(runtime, entry["number"], job):
                noted.append(entry["number"])
        except (StepFailed, Unavailable) as exc:  # the sheet or the store: the next sweep tries again
            log.warning("could not note unissued invoice %s: %s", entry["number"], exc)
            errors.append(entry["number"])
    if not noted and not errors:
        return None
    return {"noted": noted, "errors": errors}
