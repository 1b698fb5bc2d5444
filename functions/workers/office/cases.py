"""Case records: what the office workflow knows about each case, kept in the job store.

One document per case number (collection ``cases``), merged by the steps as they finish: folder,
sheet row, estimate versions, invoices, issued documents, portal documents, the status with its
history, and every job that touched the case. The ``case`` command answers from here at once.

A case moves through ``STAGES`` (受付 → 見積提出 → 受注 → 作業中 → 納品 → 請求 → 入金), forward only,
or aside to 失注 (lost) or 保留 (on hold). Steps report the stage their work reached and a later one
is never undone (``advanced``); a status that is not a stage (失注, 保留, or one a person wrote in the
sheet) is left alone by steps. Commands move a case on purpose (``transition``), also forward only;
an admin's correction may go back, and is recorded as one. Every change is in ``history`` with who,
when and which job. The statuses of the first version (登録済, 見積作成済, 資料取得済, 受付完了) are read
as the stages they belonged to.

A case set aside still stands at the stage it was set aside from (``standing``, from its history):
forward only is judged from there, so a case held at 作業中 may be delivered (which ends the hold) but
not marked ordered, and ``resume`` takes a held case back to exactly that stage. Only a case not yet
delivered can be lost (失注: the order did not come, or was withdrawn); a lost case comes back by a
later stage's command (“ordered” if the client ordered after all), never by ``resume``. A lost or
paid case cannot be put on hold. An admin's correction may still set anything.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from ackflow.errors import NotFound, PermanentError
from ackflow.i18n import N_, texts
from ackflow.store.documents import Documents, Tx

CASES = "cases"
CASE_RE = re.compile(r"[0-9]{4}-[0-9]{3,6}")  # 2026-001: the year and the case's number in it
KEYED = ("estimates", "documents", "invoices", "issued", "payments")  # lists of dicts merged by their "key"


class CaseNotFound(NotFound):
    pass


STAGES = ("受付", "見積提出", "受注", "作業中", "納品", "請求", "入金")  # received … paid
ASIDE = ("失注", "保留")  # lost, on hold
LOST, HOLD = ASIDE
DELIVERED, PAID = "納品", "入金"
LEGACY = {"登録済": "受付", "資料取得済": "受付", "受付完了": "受付", "見積作成済": "見積提出"}
STATUSES = STAGES
OPEN = tuple(s for s in STAGES if s != "入金") + ("保留",)  # what `cases` lists

TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "backwards": N_("case {case} is {current}; a status only moves forward, so it cannot become "
                    "{wanted} (an admin may correct it: “correct {case} {wanted}”)"),
    "unknown": N_("“{wanted}” is not a case status; the statuses are {statuses}"),
    "aside_backwards": N_("case {case} is {current}, set aside at {stage}; a status only moves forward, so it "
                          "cannot become {wanted} (an admin may correct it: “correct {case} {wanted}”)"),
    "not_lost": N_("case {case} is {current}: a case delivered, invoiced or paid is not lost (an admin may "
                   "correct it: “correct {case} 失注”)"),
    "not_held": N_("case {case} is {current}: only an open case can be put on hold (an admin may correct it: "
                   "“correct {case} 保留”)"),
    "not_on_hold": N_("case {case} is {current}, not on hold (保留): there is nothing to resume"),
    "hold_unknown": N_("case {case} is on hold, and its history does not say at which stage it was held; an "
                       "admin sets the stage: “correct {case} STATUS”"),
}


_say = texts(TEXTS)


def opening_job(record: dict) -> str | None:
    """The ``newcase`` job that took this case's number and has not made its folder (the case is
    not opened: not among the open cases), or None. A record with a folder is opened whatever it
    says: a number step that ran late, after its job had gone on, may have written ``opening``."""
    return None if record.get("folder") else record.get("opening") or None


def rank(status: str | None) -> int | None:
    """The position of a status among the stages (older names read as their stage); None aside."""
    stage = LEGACY.get(status or "", status)
    return STAGES.index(stage) if stage in STAGES else None


def standing(record: dict) -> str | None:
    """The stage a case stands at: its status (older names read as their stage), or for a case set
    aside (失注, 保留) the stage it was set aside from, by its history; None when not known (a status
    a person wrote in the sheet, a case set aside with no record of it)."""
    status = record.get("status")
    for entry in reversed(record.get("history", [])):
        if rank(status) is not None or status not in ASIDE:
            break
        if entry.get("status") == status:
            status = entry.get("from")
    return LEGACY.get(status or "", status) if rank(status) is not None else None


def advanced(current: str | None, new: str) -> str:
    """The status to keep when a step reports ``new``: the later of the two. A status that is not
    a stage (失注, 保留, or one a person wrote in the sheet) is kept as it is."""
    if not current:
        return new
    now, then = rank(current), rank(new)
    if now is None or then is None:
        return current
    return new if then > now else current


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

    def update(self, case: str, job_id: str, *, by: str = "", **fields) -> dict:
        """Merge ``fields`` into the case (creating it), and note the job. Lists of dicts with a
        ``key`` field (``KEYED``) are merged by that key, entry by entry, so a repeat adds nothing;
        the status only moves forward (``advanced``), and a change is added to the history."""

        def apply(tx: Tx) -> dict:
            record = tx.get(CASES, case) or {"case": case, "jobs": [], "estimates": [], "documents": [],
                                             "created_at": self.clock()}
            for name, value in fields.items():
                if name in KEYED:
                    merged = {item["key"]: item for item in record.get(name, [])}
                    for item in value:
                        merged[item["key"]] = {**merged.get(item["key"], {}), **item}
                    record[name] = sorted(merged.values(), key=lambda item: item["key"])
                elif name == "status":
                    self._move(record, advanced(record.get(name), value), by, job_id)
                else:
                    record[name] = value
            if job_id not in record["jobs"]:
                record["jobs"] = [*record["jobs"], job_id]
            record["updated_at"] = self.clock()
            tx.set(CASES, case, record)
            return record

        return self.docs.transaction(apply)

    def transition(self, case: str, wanted: str, *, by: str, job_id: str, correction: bool = False,
                   renew: bool = False, on: str | None = None, **fields) -> dict:
        """A person moves the case (a command): forward only, or anywhere as a recorded correction.
        ``renew``: the case may already be at ``wanted`` and ``fields`` change what it holds there
        (another estimate version accepted), recorded as a move to the same status. ``on``: the day
        it happened, when a person gave one (delivered on the 25th, recorded on the 29th), kept in
        the history entry beside the moment it was recorded. The same job asking again finds its
        change made and changes nothing."""
        if wanted not in STAGES and wanted not in ASIDE:
            raise PermanentError(_say("unknown", wanted=wanted, statuses=" → ".join(STAGES) + ", " + ", ".join(ASIDE)))

        def apply(tx: Tx) -> dict:
            record = tx.get(CASES, case)
            if record is None:
                raise CaseNotFound(f"case {case} not found")
            history = record.get("history", [])
            if any(entry.get("job") == job_id and entry["status"] == wanted for entry in history):
                return record  # this job did it already
            current = record.get("status")
            if not correction:
                if current == wanted and not renew:
                    return record
                _check_move(case, record, wanted)
            record = {**record, **fields}
            self._move(record, wanted, by, job_id, correction=correction, force=True, on=on)
            record["jobs"] = [*record.get("jobs", []), *([job_id] if job_id not in record.get("jobs", []) else [])]
            record["updated_at"] = self.clock()
            tx.set(CASES, case, record)
            return record

        return self.docs.transaction(apply)

    def resume(self, case: str, *, by: str, job_id: str) -> dict:
        """A case on hold (保留) back at the stage it was held at (``standing``), as a move (not a
        correction). The same job asking again finds its change made and changes nothing."""

        def apply(tx: Tx) -> dict:
            record = tx.get(CASES, case)
            if record is None:
                raise CaseNotFound(f"case {case} not found")
            if any(entry.get("job") == job_id for entry in record.get("history", [])):
                return record  # this job did it already
            stage = resume_stage(case, record)
            record = dict(record)
            self._move(record, stage, by, job_id, force=True)
            record["jobs"] = [*record.get("jobs", []), *([job_id] if job_id not in record.get("jobs", []) else [])]
            record["updated_at"] = self.clock()
            tx.set(CASES, case, record)
            return record

        return self.docs.transaction(apply)

    def _move(self, record: dict, status: str, by: str, job_id: str, *, correction: bool = False,
              force: bool = False, on: str | None = None) -> None:
        previous = record.get("status")
        if status == previous and not force:
            return
        record["status"] = status
        entry = {"status": status, "from": previous, "at": self.clock(), "by": by, "job": job_id}
        if correction:
            entry["correction"] = True
        if on:
            entry["on"] = on
        record["history"] = [*record.get("history", []), entry]


def check_command(case: str, record: dict, wanted: str) -> None:
    """What ``transition`` refuses a person's move (not a correction) to ``wanted`` for, read from
    the record as it is (the command's check before its card: ``precheck.py``): nothing when the
    case is at ``wanted`` already (the move changes nothing, or renews what it holds there)."""
    if record.get("status") != wanted:
        _check_move(case, record, wanted)


def resume_stage(case: str, record: dict) -> str:
    """The stage a case on hold goes back to (``standing``); PermanentError when it is not on hold,
    or its history does not say."""
    current = record.get("status")
    if current != HOLD:
        raise PermanentError(_say("not_on_hold", case=case, current=current or "—"))
    stage = standing(record)
    if stage is None:
        raise PermanentError(_say("hold_unknown", case=case))
    return stage


def _check_move(case: str, record: dict, wanted: str) -> None:
    """A person's move (not a correction): forward only from where the case stands, a case lost only
    before it is delivered, put on hold only while it is open. PermanentError says why not."""
    current = record.get("status")
    stage = standing(record)
    now, then = rank(stage), rank(wanted)
    if wanted == LOST and now is not None and now >= STAGES.index(DELIVERED):
        raise PermanentError(_say("not_lost", case=case, current=current))
    if wanted == HOLD and (current == LOST or stage == PAID):
        raise PermanentError(_say("not_held", case=case, current=current))
    if now is not None and then is not None and then < now:
        if current in ASIDE:
            raise PermanentError(_say("aside_backwards", case=case, current=current, stage=stage, wanted=wanted))
        raise PermanentError(_say("backwards", case=case, current=current, wanted=wanted))
