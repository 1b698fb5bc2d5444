"""Case records: what the office workflow knows about each case, kept in the job store.

One document per case number (collection ``cases``), merged by the steps as they finish: folder,
sheet row, estimate versions, portal documents, and every job that touched the case. The ``case``
command answers from here at once, without calling the sheet or the storage.

A case's status only moves forward (``STATUSES`` in order): a step that would set an earlier one
(``estimate`` on a case that is already 受付完了, a late retry) leaves it where it is.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from ackflow.errors import NotFound
from ackflow.store.documents import Documents, Tx

CASES = "cases"
CASE_RE = re.compile(r"[0-9]{4}-[0-9]{3,6}")  # 2026-001: the year and the case's number in it


class CaseNotFound(NotFound):
    pass


STATUSES = ("登録済", "見積作成済", "資料取得済", "受付完了")  # registered, estimated, documents, ready


def advanced(current: str | None, new: str) -> str:
    """The status to keep when a step reports ``new``: the later of the two. A status that is not
    one of ours (a person wrote it in the sheet, e.g. 保留 or 納品済) is kept as it is."""
    if not current:
        return new
    if current not in STATUSES or new not in STATUSES:
        return current
    return max(current, new, key=STATUSES.index)


class CaseRecords:
    def __init__(self, docs: Documents, clock: Callable[[], float] = time.time):
        self.docs = docs
        self.clock = clock

    def get(self, case: str) -> dict:
        if not CASE_RE.fullmatch(case):  # never a document path made of what someone typed
            raise CaseNotFound(f"{case[:30]!r} is not a case number")
        record = self.docs.get(CASES, case)
        if record is None:
            raise CaseNotFound(f"case {case} not found")
        return record

    def update(self, case: str, job_id: str, **fields) -> dict:
        """Merge ``fields`` into the case (creating it), and note the job. Lists of dicts with a
        ``key`` field (estimates, documents) are merged by that key, so a repeat adds nothing; the
        status only moves forward (``advanced``)."""

        def apply(tx: Tx) -> dict:
            record = tx.get(CASES, case) or {"case": case, "jobs": [], "estimates": [], "documents": [],
                                             "created_at": self.clock()}
            for name, value in fields.items():
                if name in ("estimates", "documents"):
                    merged = {item["key"]: item for item in record.get(name, [])}
                    merged.update({item["key"]: item for item in value})
                    record[name] = sorted(merged.values(), key=lambda item: item["key"])
                elif name == "status":
                    record[name] = advanced(record.get(name), value)
                else:
                    record[name] = value
            if job_id not in record["jobs"]:
                record["jobs"] = [*record["jobs"], job_id]
            record["updated_at"] = self.clock()
            tx.set(CASES, case, record)
            return record

        return self.docs.transaction(apply)
