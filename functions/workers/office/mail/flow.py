"""From new mail to one card each: the history walk, the claims, the cards, the labels.

Run by the worker for each Pub/Sub push and by the sweep (which also renews the watch and polls,
so a lost notification only delays a mail). Every delivery may be a duplicate and may die at any
line: a mail is claimed in the store before its card is posted (the card's message id is fixed,
so posting twice shows one card), settled after, and the stored history id moves forward only
when every mail before it is settled. A mail another live delivery holds stops the walk: the
caller answers "retry later" and the history id stays where it was.

A mail whose card Chat refused for good is UNSHOWN. An operator's "show again" (``ackflow mail
show-again``, the console's Mail page: ``unshown.py``) puts it back to PROPOSING with no holder,
and the sweep's ``retry_stalled`` shows it in the space configured now. The sweep also tries it
again by itself, a day after each refusal, ``mail_unshown_retries`` times (a space fixed in the
meantime gets the card; an app removed for good is not asked forever).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ackflow.chat.events import EventFormat
from ackflow.chat.plain import put_message_or_text
from ackflow.chat.replies import message_json
from ackflow.errors import ChatRefused, ChatUnavailable, StepFailed

from . import card as cards
from .clients import guess, known_clients
from .mailbox import AccessRefused, HistoryGone, MailboxThrottled, MailGone
from .parse import Summary, clean, due_date, summarize
from .records import Claim, MailRecords, MailStatus, Reopened
from .texts import LABEL_AUTOMATIC, LABEL_DONE, LABEL_PENDING, LABEL_UNSHOWN

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime

log = logging.getLogger(__name__)
MAX_READS = 5  # a mail Gmail fails to give this often (its usage limits aside) is skipped (logged), so it never
# blocks the ones after it
UNSHOWN_RETRY_AFTER = 86400.0  # the sweep tries an UNSHOWN mail again this long after Chat refused it


# the labels a mail's state puts on it in Gmail (added, removed)
LABELS = {
    MailStatus.PROPOSED.value: ([LABEL_PENDING], []),
    MailStatus.OPENED.value: ([LABEL_DONE], [LABEL_PENDING]),
    MailStatus.IGNORED.value: ([LABEL_DONE], [LABEL_PENDING]),
    MailStatus.SKIPPED.value: ([LABEL_AUTOMATIC], []),  # only automatic mails are labelled (label_due)
    MailStatus.UNSHOWN.value: ([LABEL_UNSHOWN], []),
}


@dataclass
class SyncReport:
    proposed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    busy: bool = False
    rescanned: bool = False
    history_id: str = ""

    def to_dict(self) -> dict:
        return {"proposed": self.proposed, "skipped": self.skipped, "busy": self.busy,
                "rescanned": self.rescanned, "history_id": self.history_id}


class MailFlow:
    """The mail flow over a deployment's services (``store``, ``chat``, ``settings``, ``mailbox``,
    ``office_settings``, ``case_sheet``): the same from the worker's push path, the sweep and a step."""

    def __init__(self, services, clock):
        self.services = services
        self.clock = clock
        self.settings = services.office_settings
        self.address = self.settings.mailbox
        self.records = MailRecords(services.store.docs)

    @property
    def mailbox(self):
        return self.services.mailbox

    @property
    def space(self) -> str:
        return self.settings.mail_space or self.services.settings.periodic_space

    # -- new mail ---------------------------------------------------------------------------------
    def sync(self, holder: str) -> SyncReport:
        """Propose every mail added since the stored history id (or re-scan recent mail)."""
        report = SyncReport()
        now = self.clock()
        start = self.records.mailbox(self.address).get("history_id")
        if not start:  # never watched nor synced: start from now (earlier mail is not proposed)
            report.history_id = self.records.advance(self.address, self.mailbox.current_history(), now)
            return report
        try:
            changes = self.mailbox.changes(start, self.settings.mail_batch)
        except HistoryGone:
            return self.rescan(holder, report)
        for mail_id in changes.added:
            if not self._propose(mail_id, holder, report):
                return report
        report.history_id = self.records.advance(self.address, changes.history_id, self.clock())
        return report

    def rescan(self, holder: str, report: SyncReport) -> SyncReport:
        """Gmail forgot our history id: read the last days of mail (bounded); mails already
        proposed are found in the store and skipped, so none is proposed twice. Mail received
        before the mailbox was first watched is not listed (Gmail's ``after:``) and, should Gmail
        list it anyway, not proposed: it was in the inbox before Ackflow, like any such mail."""
        log.warning("the mailbox history id is no longer known; re-scanning the last %d days",
                    self.settings.mail_rescan_days)
        report.rescanned = True
        started = self.records.started_at(self.address)
        current = self.mailbox.current_history()  # before listing: nothing between is lost
        for mail_id in self.mailbox.recent(self.settings.mail_rescan_days, self.settings.mail_rescan_max,
                                           after=started):
            if not self._propose(mail_id, holder, report, not_before=started):
                return report
        report.history_id = self.records.advance(self.address, current, self.clock(), replace=True)
        return report

    def retry_stalled(self, holder: str) -> SyncReport:
        report = SyncReport()
        for record in self.records.stalled(self.clock()):
            if self._ours(record):
                self._propose(record["mail_id"], holder, report)
        return report

    def _ours(self, record: dict) -> bool:
        """A record of the mailbox read now (another's mail ids mean nothing here)."""
        return record.get("address", self.address).lower() == self.address.lower()

    def retry_unshown(self, now: float, holder: str) -> SyncReport:
        """Try again the UNSHOWN mails whose last refusal is a day old and whose automatic tries are
        not spent (``retry_due``, set when Chat refused): each is reopened, then claimed and shown
        like any other, so a delivery that also took it meanwhile still makes one card."""
        report = SyncReport()
        if not self.settings.mail_unshown_retries:
            return report
        for record in self.records.retry_due(now - UNSHOWN_RETRY_AFTER):
            if not self._ours(record):
                continue
            outcome, _ = self.records.reopen(record["id"], now, "sweep")
            if outcome == Reopened.REOPENED:
                log.info("mail %s: trying its card again (refused %d time(s))", record["mail_id"],
                         record.get("refusals", 1))
                self._propose(record["mail_id"], holder, report)
        return report

    def _propose(self, mail_id: str, holder: str, report: SyncReport, not_before: float = 0) -> bool:
        """One mail: False when another delivery holds it (stop the walk there). A mail received
        before ``not_before`` (the re-scan's first watch) is settled SKIPPED, with no card and no label."""
        now = self.clock()
        outcome, record = self.records.claim(self.address, mail_id, holder, now, self.settings.mail_lease)
        if outcome == Claim.BUSY:
            report.busy = True
            return False
        if outcome == Claim.DONE:
            return True
        rid = record["id"]
        try:
            mail = self.mailbox.get(mail_id)
        except MailGone:
            self.records.settle(rid, holder, MailStatus.SKIPPED, self.clock(), reason="deleted")
            report.skipped.append(rid)
            return True
        except StepFailed as exc:
            if isinstance(exc, (AccessRefused, MailboxThrottled)) or record.get("attempts", 1) < MAX_READS:
                raise
            log.error("mail %s skipped: it could not be read after %d attempts: %s", mail_id, record["attempts"], exc)
            self.records.settle(rid, holder, MailStatus.SKIPPED, self.clock(), reason=f"unreadable: {exc}")
            report.skipped.append(rid)
            return True
        if not_before and 0 < mail.received_at < not_before:
            log.info("mail %s not proposed: it was in the inbox before the mailbox was first watched", mail_id)
            self.records.settle(rid, holder, MailStatus.SKIPPED, self.clock(), reason="before the first watch")
            report.skipped.append(rid)
            return True
        try:
            summary = summarize(mail, max_attachment_bytes=self.settings.mail_max_attachment_bytes,
                                authserv_id=self.settings.mail_authserv_id)
            fields = None if summary.automatic else self._fields(summary, mail.truncated, mail.size)
        except Exception as exc:  # noqa: BLE001 - a mail we fail to read must not block every mail after it
            log.exception("mail %s skipped: reading it failed", mail_id)
            self.records.settle(rid, holder, MailStatus.SKIPPED, self.clock(),
                                reason=f"unreadable: {type(exc).__name__}: {str(exc)[:200]}")
            report.skipped.append(rid)
            return True
        if summary.automatic:
            log.info("mail %s skipped: an automatic mail (%s)", mail_id, summary.automatic)
            settled = self.records.settle(rid, holder, MailStatus.SKIPPED, self.clock(), reason=summary.automatic,
                                          sender_address=summary.sender_address, label_due=True)
            self.label(settled)
            report.skipped.append(rid)
            return True
        described = self.records.describe(rid, holder, self.clock(), fields)  # what a press on the card reads
        if described is None:  # our lease ran out while Gmail was read: the card is another delivery's to post
            if (self.records.get(rid) or {}).get("status") == MailStatus.PROPOSING.value:
                report.busy = True
                return False
            return True
        record = described
        refused = self.show({**record, **fields, "status": MailStatus.PROPOSED.value})
        if refused:  # Chat will not take this card: say so on the record and in Gmail; retried a day later, a few times
            refusals = record.get("refusals", 0) + 1
            settled = self.records.settle(rid, holder, MailStatus.UNSHOWN, self.clock(), label_due=True,
                                          space=self.space, reason=refused, refusals=refusals,
                                          retry_due=refusals <= self.settings.mail_unshown_retries, **fields)
            self.label(settled)
            report.skipped.append(rid)
            return True
        settled = self.records.settle(rid, holder, MailStatus.PROPOSED, self.clock(), label_due=True,
                                      space=self.space, message=cards.message_id(rid), retry_due=False, **fields)
        self.label(settled)
        log.info("mail %s proposed", mail_id, extra={"space": self.space})
        report.proposed.append(rid)
        return True

    def _fields(self, summary: Summary, truncated: bool, size: int) -> dict:
        docs = self.services.store.docs
        try:
            sheet = self.services.case_sheet
        except Exception:  # noqa: BLE001 - no sheet configured or reachable: the records suffice
            sheet = None
        client = None  # a sender who failed authentication may be anyone: no client is guessed from their From
        if not summary.auth_failure:
            client = guess(summary.sender_domain, summary.sender_name, known_clients(docs, sheet),
                           self.records.client_for(summary.sender_domain) if summary.sender_domain else None)
        received_at = summary.received_at or self.clock()
        try:
            received = dt.datetime.fromtimestamp(received_at, ZoneInfo(self.settings.timezone)).date()
        except (ValueError, OverflowError, OSError):  # a time no calendar holds (an imported mail's Date)
            received_at = self.clock()
            received = dt.datetime.fromtimestamp(received_at, ZoneInfo(self.settings.timezone)).date()
        return {"sender_name": summary.sender_name, "sender_address": summary.sender_address,
                "sender_domain": summary.sender_domain, "subject": summary.subject, "title": summary.title,
                "received_at": received_at, "preview": summary.preview, "recipients": summary.recipients,
                "html_only": summary.html_only, "auth_failure": summary.auth_failure, "truncated": truncated,
                "size": size, "client_guess": client,
                "due": due_date(clean(summary.subject) + "\n" + summary.preview, received),
                "attachments": [{"name": a.name, "original": a.original, "size": a.size, "mime_type": a.mime_type,
                                 "part_id": a.part_id, "too_large": a.too_large} for a in summary.attachments]}

    # -- showing and labelling --------------------------------------------------------------------
    def show(self, record: dict) -> str:
        """Write the mail's card (create or replace, by its fixed message id). ChatUnavailable is
        raised (a 429 or an outage: the record stays claimed, so Pub/Sub's redelivery or the
        sweep's ``retry_stalled`` shows it later). A refusal that no retry can change (no such
        space, the app removed from it, a message Chat rejects) is logged and returned as the
        reason; "" when the card is shown."""
        if not self.space:
            log.error("mail %s: no space for mail cards (set ACKFLOW_OFFICE_MAIL_SPACE)", record["id"])
            return "no space for mail cards (ACKFLOW_OFFICE_MAIL_SPACE)"
        reply = cards.mail_card(record, self.settings.mail_language, self.settings.timezone)
        message = message_json(reply, EventFormat(self.settings.mail_event_format), self.services.settings.webhook_url)
        try:
            put_message_or_text(self.services.chat, self.space, cards.message_id(record["id"]), message, None)
        except ChatRefused as exc:
            log.error("cannot show mail %s in %s: %s", record["id"], self.space, exc)
            return str(exc)[:500]
        return ""

    def label(self, record: dict) -> bool:
        """Bring the mail's Gmail labels in line with its state; best effort (the sweep retries
        what is still due)."""
        if not record or not record.get("label_due"):
            return True
        add, remove = LABELS.get(record["status"], ([], []))
        if not add:
            return True
        if record.get("refusals") and record["status"] != MailStatus.UNSHOWN.value:
            remove = [*remove, LABEL_UNSHOWN]  # shown after all (only such mails: removing creates the label)
        try:
            self.mailbox.add_labels(record["mail_id"], add, remove)
        except MailGone:
            pass
        except StepFailed as exc:
            log.warning("could not label mail %s (the sweep will try again): %s", record["mail_id"], exc)
            return False
        status = record["status"]
        self.records.update(record["id"], lambda d: {**d, "label_due": False} if d["status"] == status else None)
        return True

    # -- the sweep --------------------------------------------------------------------------------
    def sweep(self, now: float) -> dict:
        """Renew the watch when due, poll for new mail (the safety net under push), take over mails
        whose holder died, and apply labels still due. A watch Gmail refuses (its topic deleted, its
        publish right taken away, Gmail unavailable) is logged and tried again next sweep; the poll
        still runs, so new mail gets its cards without push."""
        out: dict = {}
        topic = self.settings.gmail_topic
        box = self.records.mailbox(self.address)
        renew = self.settings.mail_watch_renew_after
        if topic and (box.get("watch_topic") != topic or now - box.get("watched_at", 0) >= renew
                      or box.get("watch_expires_at", 0) - now < 2 * 86400):
            try:
                watch = self.mailbox.watch(topic)
            except StepFailed as exc:
                log.error("mail sweep: the Gmail watch on %s was not renewed (polling instead): %s", topic, exc)
                out["watch_error"] = str(exc)[:500]
            else:
                self.records.note_watch(self.address, topic, watch.expires_at, watch.history_id, now)
                out["watch_expires_at"] = watch.expires_at
        holder = f"sweep-{int(now)}"
        out["sync"] = self.sync(holder).to_dict()
        out["stalled"] = self.retry_stalled(holder).proposed
        retried = self.retry_unshown(now, holder)
        if retried.proposed or retried.skipped:
            out["unshown_retried"] = {"shown": retried.proposed, "not_shown": retried.skipped}
        out["labelled"] = sum(1 for record in self.records.label_due() if self.label(record))
        return out


def mail_sweep(runtime: Runtime, now: float) -> dict | None:
    """The sweep's mail pass (nothing when no mailbox is configured)."""
    if not runtime.services.office_settings.mailbox:
        return None
    try:
        return MailFlow(runtime.services, runtime.clock).sweep(now)
    except (StepFailed, ChatUnavailable) as exc:
        log.warning("mail sweep: %s", exc)
        return {"error": str(exc)}
