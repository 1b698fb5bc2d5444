"""The mail card's buttons, answered at once by the webhook (no mailbox call here).

"Open a case" opens the ``newcase`` form filled in from the mail (client, title, due date) and
bound to it (``form_values``); its Next binds the mail to one ``newcase`` confirmation in the
store (``ask_bound``: one transaction with the mail's record; a later submit replaces a pending
one), so however often and by whom it is pressed, the mail becomes one job and so one case; once
confirmed, a press says which job or case it became. A card drawn before the form existed sends a
plain press (``on_open``): the confirmation card, prefilled. "Ignore" marks the record and redraws
the card; the label follows with the sweep.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ackflow.app import views
from ackflow.app.confirm import requester_of
from ackflow.app.speech import speaker_of
from ackflow.chat.replies import Reply
from ackflow.errors import UsageError
from ackflow.ids import new_confirmation_id, new_token
from ackflow.jobs.model import Confirmation, ConfirmationStatus
from ackflow.store.documents import CONFIRMATIONS

from . import card as cards
from .records import Binding, MailRecords, MailStatus, opening_job
from .texts import TEXTS, say

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime
    from ackflow.chat.events import ChatEvent

log = logging.getLogger(__name__)


def _language(runtime: Runtime) -> str:
    """The language of the mail's card, which the whole space reads (replies to a press are said in
    the language of whoever pressed)."""
    return runtime.services.office_settings.mail_language


def case_params(record: dict) -> dict:
    """``newcase`` parameters prefilled from the mail: the client guess (else the sender's domain
    or name), the subject as title, the due date the mail states. A sender who failed
    authentication gives no client (None: the person types it in the form): their domain and name
    are whatever they wrote."""
    from ackflow.jobs.normalize import normalize_field

    from ..names import safe_component
    from .parse import clean

    def shown(text: str, limit: int) -> str:
        # as the form will read it (NFKC: ㍿ is 株式会社), then cut: a value cut as written could be
        # read longer than its limit, and the form would refuse what nobody typed
        return normalize_field(clean(text))[:limit].strip()

    client = record.get("client_guess") or record.get("sender_domain") or record.get("sender_name") or "不明"
    title = shown(record.get("title") or record.get("subject") or "", 200)
    values = {"client": None if record.get("auth_failure") else shown(client, 60), "title": title,
              "due": record.get("due"), "portal": None, "item": []}
    for key, what in (("client", "client name"), ("title", "title")):
        if values[key] is None:
            continue
        try:
            safe_component(values[key], what)
        except UsageError:
            values[key] = "メール" if key == "title" else "不明"
    return {**values, "mail": record["id"]}


def open_case_form(runtime: Runtime, event: ChatEvent, record: dict, confirmation: Confirmation) -> Reply:
    """The ``newcase`` confirmation card of a mail's case."""
    job_type = runtime.registry.get("newcase")
    return views.confirmation_card(confirmation, job_type, runtime.settings.confirm_ttl, speaker_of(runtime, event))


FORM_FIELDS = ("client", "title", "due")  # what the form takes from the mail


def _in_the_mail_space(runtime: Runtime, event: ChatEvent) -> bool:
    """Mail cards are posted to one space (ACKFLOW_OFFICE_MAIL_SPACE, else the periodic space):
    a press or a form about a mail from any other space is a forged one (a mail id in its
    parameters), and must not tie that mail to a case or ignore it."""
    office = runtime.services.office_settings
    return event.space == (office.mail_space or runtime.settings.periodic_space)


def _mail_record(records: MailRecords, rid: str) -> dict:
    """The mail's record, or a UsageError saying why no case is opened from it."""
    record = records.get(rid[:100]) if rid else None
    if record is None or record.get("kind") != "mail":
        raise UsageError(TEXTS["unknown_mail"])
    if record.get("status") == MailStatus.OPENED.value:
        raise UsageError(TEXTS["already_opened"], case=record.get("case", "?"), job=record.get("job", "?"))
    return record


def form_values(runtime: Runtime, event: ChatEvent, rid: str, typed: dict) -> dict:
    """The ``newcase`` form of "open a case": the mail's guess (or what an earlier submit for this
    mail, still pending, said), for the person to correct. Outside the mail space the mail's
    sender, subject and due date are not shown: the form is refused as for an unknown mail."""
    if not _in_the_mail_space(runtime, event):
        raise UsageError(TEXTS["unknown_mail"])
    records = MailRecords(runtime.store.docs)
    record = _mail_record(records, rid)
    bound = runtime.store.docs.get(CONFIRMATIONS, record["confirmation"]) if record.get("confirmation") else None
    opening = opening_job(runtime.store.docs.get, bound)
    if opening is not None:
        raise UsageError(TEXTS["already_opening"], job=opening.get("id") or "?")
    pending = bound is not None and bound.get("status") == ConfirmationStatus.PENDING.value \
        and bound.get("expires_at", 0) > runtime.clock()
    source = bound["params"] if pending else case_params(record)
    return {**typed, **{key: source.get(key) for key in FORM_FIELDS}}


def ask_bound(runtime: Runtime, event: ChatEvent, rid: str, values: dict) -> Reply:
    """A valid "open a case" form: its values become the mail's one confirmation (replacing a
    pending one), answered with the confirmation card; a mail that became a case says which."""
    language = speaker_of(runtime, event)
    records = MailRecords(runtime.store.docs)
    if not _in_the_mail_space(runtime, event):
        return Reply(text=say("unknown_mail", language))
    try:
        record = _mail_record(records, rid)
    except UsageError as exc:
        return Reply(text=exc.render(language))
    if not runtime.access.allows("newcase", event.user.email, event.space):
        return Reply(text=say("not_allowed", language))
    now = runtime.clock()
    params = {**values, "mail": record["id"]}

    def make(doc: dict) -> Confirmation:
        return Confirmation(id=new_confirmation_id(), token=new_token(), job_type="newcase", params=params,
                            requester=requester_of(event, language), space=event.space, thread=event.thread,
                            created_at=now, expires_at=now + runtime.settings.confirm_ttl,
                            event_format=event.format.value)

    binding, record, found = records.bind(record["id"], now, make, supersede=True)
    if binding == Binding.OPENED:
        return _became(found, language)
    log.info("open a case from mail %s (form)", record["id"], extra={"space": event.space})
    return open_case_form(runtime, event, record, Confirmation.from_dict(found))


def _became(job: dict, language) -> Reply:
    case = next((s.get("output", {}).get("case") for s in job.get("steps", []) if s.get("output")), None)
    if case:
        return Reply(text=say("already_opened", language, case=case, job=job["id"]))
    return Reply(text=say("already_opening", language, job=job.get("id", "?")))


def on_open(runtime: Runtime, event: ChatEvent) -> Reply:
    language = speaker_of(runtime, event)
    records = MailRecords(runtime.store.docs)
    record = records.get(event.parameters.get("mail", "")[:100]) if event.parameters.get("mail") else None
    if record is None or record.get("kind") != "mail" or not _in_the_mail_space(runtime, event):
        return Reply(text=say("unknown_mail", language))
    if not runtime.access.allows("newcase", event.user.email, event.space):
        return Reply(text=say("not_allowed", language))
    if record.get("status") == MailStatus.OPENED.value:
        return Reply(text=say("already_opened", language, case=record.get("case", "?"), job=record.get("job", "?")))
    now = runtime.clock()
    params = case_params(record)
    if params["client"] is None:  # a card from before the form: its confirmation names no client it cannot know
        params["client"] = "不明"

    def make(doc: dict) -> Confirmation:
        return Confirmation(id=new_confirmation_id(), token=new_token(), job_type="newcase", params=params,
                            requester=requester_of(event, language), space=event.space, thread=event.thread,
                            created_at=now,
                            expires_at=now + runtime.settings.confirm_ttl, event_format=event.format.value)

    binding, record, found = records.bind(record["id"], now, make)
    if binding == Binding.OPENED:
        return _became(found, language)
    log.info("open a case from mail %s (%s)", record["id"], binding.value, extra={"space": event.space})
    return open_case_form(runtime, event, record, Confirmation.from_dict(found))


def on_ignore(runtime: Runtime, event: ChatEvent) -> Reply:
    language = speaker_of(runtime, event)
    records = MailRecords(runtime.store.docs)
    rid = event.parameters.get("mail", "")[:100]
    record = records.get(rid) if rid else None
    if record is None or record.get("kind") != "mail" or not _in_the_mail_space(runtime, event):
        return Reply(text=say("unknown_mail", language))
    if not runtime.access.allows("newcase", event.user.email, event.space):
        return Reply(text=say("not_allowed", language))
    who = event.user.display_name or event.user.email or event.user.name
    # PROPOSING too: its card is out (a press comes only from a card) and its delivery has not
    # settled it yet, or died there; that delivery's settle then leaves it ignored. Not once Run
    # was pressed on its case: the job opens the case and files the mail; the press says which job
    record, job = records.ignore(rid, {"ignored_by": who, "label_due": True, "updated_at": runtime.clock()})
    if job is not None:
        return _became(job, language)
    if record["status"] == MailStatus.OPENED.value:
        return Reply(text=say("already_opened", language, case=record.get("case", "?"), job=record.get("job", "?")))
    settings = runtime.services.office_settings
    reply = cards.mail_card(record, _language(runtime), settings.timezone)
    return Reply(card=reply.card, update=True)
