"""The mails whose card Chat refused for good (UNSHOWN), for an operator: listed with what their
record knows (sender, subject, when, Chat's answer), and shown again on request.

"Show again" changes the store only: each record goes back to PROPOSING without a holder
(``MailRecords.reopen``), and the worker's next sweep claims it like a mail whose holder died and
posts its card in the space the deployment is configured with now, as the app. The console and
the CLI run on an operator's machine, with neither the app's Chat credentials nor the mailbox's,
so they never post or label themselves. Asking twice, or while the sweep is showing it, changes
nothing more (the claim and the card's fixed message id keep it to one card). Every request is in
the audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ackflow.app.audit import recorded
from ackflow.errors import NotFound
from ackflow.i18n import L_, N_, Msg

from .records import MailRecords, Reopened

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime

RID_RE = re.compile(r"^mail-[0-9a-f]{20}$")
ALL_LIMIT = 500  # mails "show all again" reopens at once (the rest: ask again)
ACTION = "show-mail-again"  # its name in the audit log
EVERY = N_("every unshown mail")  # its target when it names no mail (the console says it in the reader's words)


class MailNotFound(NotFound):
    def __init__(self, rid: str):
        super().__init__(f"no mail {rid[:60]!r} (the ids are those `ackflow mail unshown` lists)")
        self.rid = rid


@dataclass
class ShowAgain:
    reopened: list[str] = field(default_factory=list)  # the next sweep shows them
    waiting: list[str] = field(default_factory=list)  # asked before, not shown yet
    shown: list[str] = field(default_factory=list)  # not UNSHOWN any more: nothing done

    def to_dict(self) -> dict:
        return {"reopened": self.reopened, "waiting": self.waiting, "shown": self.shown}

    def summary(self) -> Msg:
        """What was done, said in the language of whoever reads it (the audit log's detail)."""
        counts = L_("{reopened} to show again, {waiting} already waiting, {shown} no longer unshown",
                    reopened=len(self.reopened), waiting=len(self.waiting), shown=len(self.shown))
        return L_("{counts}: {mails}", counts=counts, mails=", ".join(self.reopened)) if self.reopened else counts


def show_again(runtime: Runtime, rids: list[str] | None, by: str, surface: str = "") -> ShowAgain:
    """Ask for the cards of these mails (record ids; None: every UNSHOWN mail, up to ALL_LIMIT)
    again. An unknown id refuses the whole request before anything changes (MailNotFound)."""
    records = MailRecords(runtime.store.docs)
    target = ", ".join(rids)[:200] if rids else EVERY
    with recorded(runtime, ACTION, target, by, surface=surface) as notes:
        if rids is None:
            rids = [record["id"] for record in records.unshown(limit=ALL_LIMIT)]
        for rid in rids:
            if not RID_RE.match(rid) or (records.get(rid) or {}).get("kind") != "mail":
                raise MailNotFound(rid)
        result = ShowAgain()
        for rid in dict.fromkeys(rids):
            outcome, _ = records.reopen(rid, runtime.clock(), by)
            {Reopened.REOPENED: result.reopened, Reopened.WAITING: result.waiting,
             Reopened.SHOWN: result.shown}[outcome].append(rid)
        notes["detail"] = result.summary()
    return result
