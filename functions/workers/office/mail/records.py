"""What Ackflow remembers about the request mailbox, in the job store (collection ``mail``).

- The mailbox document (``box-<address hash>``): the history id mails were handled up to, which
  only moves forward (a re-scan after Gmail forgot the id replaces it), and the watch's expiry.
- One record per mail (``mail-<hash>``), created by the first delivery that claims it, with a
  lease like a job step's: PROPOSING (claimed; its card is being posted) → PROPOSED (card shown)
  → OPENED (a case was made) or IGNORED; or SKIPPED (an automatic mail: no card; a deleted or
  unreadable one); or UNSHOWN (Chat refused the card for good, ``reason`` says why). Every change is
  a transaction, so duplicated notifications and overlapping history ranges find the record and
  do nothing: one card per mail.
- An UNSHOWN mail is shown again by going back to PROPOSING with no holder (``reopen``: an
  operator's "show again", or the sweep's bounded automatic retry while ``retry_due``): that is a
  claim whose holder is gone, so the next delivery that claims it (the sweep's ``stalled``) posts
  its card, by the same rules as any other; asking twice changes nothing more.
- The confirmation a mail's "open a case" is bound to, in the same transaction as the record, so
  a mail becomes at most one job (and so one case) however often the button is pressed.
- Client names learnt per sender domain when a case is opened from a mail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from enum import Enum

from ackflow.jobs.model import Confirmation, ConfirmationStatus
from ackflow.store.documents import CONFIRMATIONS, JOBS, Documents, Tx

MAIL = "mail"


class MailStatus(str, Enum):
    PROPOSING = "PROPOSING"
    PROPOSED = "PROPOSED"
    SKIPPED = "SKIPPED"
    UNSHOWN = "UNSHOWN"  # Chat refused the card for good (no such space, app removed): not retried
    IGNORED = "IGNORED"
    OPENED = "OPENED"


class Claim(str, Enum):
    CLAIMED = "claimed"  # this delivery posts the card
    BUSY = "busy"  # another live delivery is posting it: do not move the history id past it
    DONE = "done"  # handled already


class Reopened(str, Enum):
    REOPENED = "reopened"  # UNSHOWN → PROPOSING: the next sweep shows it
    WAITING = "waiting"  # asked already: it waits for (or is in) a delivery that shows it
    SHOWN = "shown"  # not UNSHOWN any more (shown, opened, ignored, skipped): nothing to do


class Binding(str, Enum):
    NEW = "new"  # a fresh confirmation (the card to show)
    PENDING = "pending"  # the confirmation an earlier click made, still open
    OPENED = "opened"  # it became a job already


def _hash(text: str) -> str:
    return hashlib.sha256(text.lower().encode()).hexdigest()[:20]


def record_id(address: str, mail_id: str) -> str:
    return f"mail-{_hash(address + ':' + mail_id)}"


def box_id(address: str) -> str:
    return f"box-{_hash(address)}"


def opening_job(get: Callable[[str, str], dict | None], bound: dict | None) -> dict | None:
    """The job opening a case from a mail whose confirmation is ``bound`` (as a dict; ``get`` reads
    a document, in a transaction or not): the confirmed one's, unless that job was cancelled, when
    the mail may be opened again (a failed one is retried instead: it may have taken its number)."""
    if bound is None or bound.get("status") != ConfirmationStatus.CONFIRMED.value:
        return None
    job = (get(JOBS, bound["job_id"]) if bound.get("job_id") else None) or {"id": bound.get("job_id")}
    return None if job.get("status") == "CANCELLED" else job


class MailRecords:
    def __init__(self, docs: Documents):
        self.docs = docs

    # -- the mailbox ----------------------------------------------------------------------------
    def mailbox(self, address: str) -> dict:
        return self.docs.get(MAIL, box_id(address)) or {}

    def started_at(self, address: str) -> float:
        """When Ackflow first watched or read the mailbox (0: never): mail that was in it before is
        not a request for Ackflow. A mailbox noted before this was kept has its record's ``created_at``,
        written at that same moment."""
        doc = self.mailbox(address)
        return float(doc.get("started_at") or doc.get("created_at") or 0)

    def advance(self, address: str, history_id: str, now: float, *, replace: bool = False) -> str:
        """Move the stored history id forward to ``history_id`` (never back, unless ``replace``:
        after a re-scan the old id is useless). Returns the stored id."""

        def apply(tx: Tx) -> str:
            doc = tx.get(MAIL, box_id(address)) or {"id": box_id(address), "address": address, "kind": "mailbox",
                                                    "created_at": now}
            current = doc.get("history_id")
            if not current:  # the mailbox's first sync: mail before now is never proposed (a re-scan too)
                doc.setdefault("started_at", now)
            if replace or not current or int(history_id) > int(current):
                doc.update(history_id=str(history_id), updated_at=now)
            doc["synced_at"] = now
            tx.set(MAIL, doc["id"], doc)
            return doc["history_id"]

        return self.docs.transaction(apply)

    def note_watch(self, address: str, topic: str, expires_at: float, history_id: str, now: float) -> dict:
        """Record a (re)newed watch; the history id is taken only if none is stored yet."""

        def apply(tx: Tx) -> dict:
            doc = tx.get(MAIL, box_id(address)) or {"id": box_id(address), "address": address, "kind": "mailbox",
                                                    "created_at": now}
            doc.update(watch_topic=topic, watch_expires_at=expires_at, watched_at=now, updated_at=now)
            if not doc.get("history_id"):  # the first watch: mail before now is never proposed (a re-scan too)
                doc.setdefault("started_at", now)
            doc.setdefault("history_id", str(history_id))
            tx.set(MAIL, doc["id"], doc)
            return doc

        return self.docs.transaction(apply)

    # -- one mail -------------------------------------------------------------------------------
    def get(self, rid: str) -> dict | None:
        return self.docs.get(MAIL, rid)

    def claim(self, address: str, mail_id: str, holder: str, now: float, lease: float) -> tuple[Claim, dict]:
        rid = record_id(address, mail_id)

        def apply(tx: Tx):
            doc = tx.get(MAIL, rid)
            if doc is not None and (doc["status"] != MailStatus.PROPOSING.value or
                                    (doc.get("holder") != holder and doc.get("lease_until", 0) > now)):
                return (Claim.DONE if doc["status"] != MailStatus.PROPOSING.value else Claim.BUSY), doc
            doc = doc or {"id": rid, "kind": "mail", "address": address, "mail_id": mail_id, "created_at": now,
                          "attempts": 0}
            doc.update(status=MailStatus.PROPOSING.value, holder=holder, lease_until=now + lease, updated_at=now,
                       attempts=doc.get("attempts", 0) + 1)
            tx.set(MAIL, rid, doc)
            return Claim.CLAIMED, doc

        return self.docs.transaction(apply)

    def settle(self, rid: str, holder: str, status: MailStatus, now: float, **fields) -> dict:
        """End a claim: PROPOSED (card posted), SKIPPED or UNSHOWN. A record that moved on meanwhile (a
        later holder, a click) is left as it is."""

        def apply(tx: Tx) -> dict:
            doc = tx.get(MAIL, rid)
            if doc is None or doc["status"] != MailStatus.PROPOSING.value or doc.get("holder") != holder:
                return doc or {}
            doc.update(fields)
            doc.update(status=status.value, updated_at=now, lease_until=0)
            tx.set(MAIL, rid, doc)
            return doc

        return self.docs.transaction(apply)

    def describe(self, rid: str, holder: str, now: float, fields: dict) -> dict | None:
        """Write what the mail's card shows (sender, title, client guess, …) into the record while
        ``holder`` still holds it, before the card is posted: a press on the card in the moment
        before ``settle`` (or after its holder died there) reads them for the form. None when the
        record moved on (its lease ran out and another delivery took it, or it was settled): the
        card is then not this holder's to post."""

        def apply(tx: Tx) -> dict | None:
            doc = tx.get(MAIL, rid)
            if doc is None or doc["status"] != MailStatus.PROPOSING.value or doc.get("holder") != holder:
                return None
            doc.update(fields)
            doc["updated_at"] = now
            tx.set(MAIL, rid, doc)
            return doc

        return self.docs.transaction(apply)

    def stalled(self, now: float, limit: int = 20) -> list[dict]:
        """Records whose claim ended without a card (the holder died), oldest first."""
        rows = self.docs.query(MAIL, [("status", "==", MailStatus.PROPOSING.value), ("updated_at", "<", now)],
                               "updated_at", False, limit)
        return [r for r in rows if r.get("lease_until", 0) < now]

    def unshown(self, limit: int = 100, after: tuple[float, str] | None = None) -> list[dict]:
        """UNSHOWN mails, the longest unshown first (``after``: the cursor of the last one read)."""
        return self.docs.query(MAIL, [("status", "==", MailStatus.UNSHOWN.value)], "updated_at", False, limit,
                               start_after=after)

    def waiting(self, limit: int = 100) -> list[dict]:
        """Mails asked to be shown again whose card is not yet posted, oldest first."""
        rows = self.docs.query(MAIL, [("status", "==", MailStatus.PROPOSING.value)], "updated_at", False, limit)
        return [r for r in rows if r.get("reshow_at")]

    def retry_due(self, before: float, limit: int = 20) -> list[dict]:
        """UNSHOWN mails the sweep may try again by itself (``retry_due``), last refused before ``before``."""
        return self.docs.query(MAIL, [("retry_due", "==", True), ("updated_at", "<=", before)], "updated_at", False,
                               limit)

    def reopen(self, rid: str, now: float, by: str) -> tuple[Reopened, dict]:
        """Ask for an UNSHOWN mail's card again: back to PROPOSING with no holder and no lease, so the
        next claim takes it (KeyError when there is no such mail). Safe to repeat: a mail that is not
        UNSHOWN is left as it is."""

        def apply(tx: Tx):
            doc = tx.get(MAIL, rid)
            if doc is None or doc.get("kind") != "mail":
                raise KeyError(rid)
            if doc["status"] == MailStatus.PROPOSING.value:
                return Reopened.WAITING, doc
            if doc["status"] != MailStatus.UNSHOWN.value:
                return Reopened.SHOWN, doc
            doc.update(status=MailStatus.PROPOSING.value, holder="", lease_until=0, retry_due=False,
                       reshow_by=by[:200], reshow_at=now, updated_at=now)
            tx.set(MAIL, rid, doc)
            return Reopened.REOPENED, doc

        return self.docs.transaction(apply)

    def bind(self, rid: str, now: float, make: Callable[[dict], Confirmation], *,
             supersede: bool = False) -> tuple[Binding, dict, dict | None]:
        """The confirmation of "open a case" for this mail: the one an earlier click made while it
        is open (unless ``supersede``: a submitted form replaces it, and its card's Run then says
        it was cancelled), else a new one (made by ``make`` and stored in the same transaction).
        When it was confirmed already, the job (as a dict) comes back instead, unless that job was
        cancelled: then the mail is as if never confirmed (``opening_job``)."""

        def apply(tx: Tx):
            doc = tx.get(MAIL, rid)
            if doc is None:
                raise KeyError(rid)
            bound = tx.get(CONFIRMATIONS, doc["confirmation"]) if doc.get("confirmation") else None
            job = opening_job(tx.get, bound)
            if job is not None:
                return Binding.OPENED, doc, job
            if bound is not None and bound["status"] == ConfirmationStatus.PENDING.value and bound["expires_at"] > now:
                if not supersede:
                    return Binding.PENDING, doc, bound
                tx.set(CONFIRMATIONS, doc["confirmation"], {**bound, "status": ConfirmationStatus.CANCELLED.value,
                                                    "decided_at": now, "replaced": True})
            confirmation = make(doc)
            tx.create(CONFIRMATIONS, confirmation.id, confirmation.to_dict())
            doc.update(confirmation=confirmation.id, updated_at=now)
            tx.set(MAIL, rid, doc)
            return Binding.NEW, doc, confirmation.to_dict()

        return self.docs.transaction(apply)

    def ignore(self, rid: str, fields: dict) -> tuple[dict, dict | None]:
        """Mark the mail IGNORED with ``fields`` (from PROPOSED, PROPOSING or IGNORED), unless a case
        is being opened from it: its confirmation was confirmed and the job was not cancelled. Then
        the record is left as it is and that job (as a dict) comes back too, in the same transaction
        as the read of the record (a Run a moment before cannot slip between them)."""

        def apply(tx: Tx):
            doc = tx.get(MAIL, rid)
            if doc is None:
                raise KeyError(rid)
            job = opening_job(tx.get, tx.get(CONFIRMATIONS, doc["confirmation"]) if doc.get("confirmation") else None)
            if job is not None:
                return doc, job
            if doc["status"] not in (MailStatus.PROPOSED.value, MailStatus.IGNORED.value, MailStatus.PROPOSING.value):
                return doc, None
            doc = {**doc, **fields, "status": MailStatus.IGNORED.value}
            tx.set(MAIL, rid, doc)
            return doc, None

        return self.docs.transaction(apply)

    def update(self, rid: str, change: Callable[[dict], dict | None]) -> dict:
        def apply(tx: Tx) -> dict:
            doc = tx.get(MAIL, rid)
            if doc is None:
                raise KeyError(rid)
            new = change(dict(doc))
            if new is None:
                return doc
            tx.set(MAIL, rid, new)
            return new

        return self.docs.transaction(apply)

    def label_due(self, limit: int = 20) -> list[dict]:
        """Records whose mail still needs its label in Gmail, oldest first."""
        return self.docs.query(MAIL, [("label_due", "==", True)], "updated_at", False, limit)

    # -- clients learnt by sender domain --------------------------------------------------------
    def learn_client(self, domain: str, client: str, now: float) -> None:
        doc_id = f"domain-{_hash(domain)}"
        self.docs.transaction(lambda tx: tx.set(MAIL, doc_id, {"id": doc_id, "kind": "domain", "domain": domain,
                                                               "client": client, "updated_at": now}))

    def client_for(self, domain: str) -> str | None:
        doc = self.docs.get(MAIL, f"domain-{_hash(domain)}")
        return doc["client"] if doc else None
