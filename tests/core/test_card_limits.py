"""Every card the app can send stays within Google Chat's limits (``ackflow.chat.limits``): built
from the views with the largest and most hostile data they can be given, in both event formats,
for a phone and a desktop, in Japanese and English. A card past 100 widgets loses what follows
(its buttons) without a word from Chat, so this is checked, not hoped."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from ackflow.app import formspec, precheck, views
from ackflow.app.dialogs import info_card, with_fill_in
from ackflow.app.runtime import Runtime
from ackflow.chat.cards import card_body
from ackflow.chat.events import ChatEvent, ChatUser, EventFormat, EventKind
from ackflow.chat.limits import card_problems, message_problems
from ackflow.chat.replies import Reply, message_json
from ackflow.i18n import Speaker
from ackflow.jobs.model import Confirmation, Job, JobStatus, Requester, StepState
from ackflow.settings import Settings
from workers.job_types import build_registry

HOSTILE = "<b>太字?</b>\u202eevil\u202c 🚀 ＡＣＭＥ「金型」" + "x" * 40
LONG = HOSTILE * 300  # ~20,000 characters
FORMATS = [EventFormat.CLASSIC, EventFormat.ADDON]
SPEAKERS = [Speaker("ja", "Asia/Tokyo", "IOS"), Speaker("en", "America/New_York", "WEB")]
# a Cloud Storage link to a file under the longest folder name a case can have, percent-encoded
URL = "https://storage.cloud.google.com/office-cases/cases/" + quote(
    "2026-001_" + "顧" * 60 + "_" + "案" * 200 + "/03_見積/見積書_2026-001_v1.pdf")
NOW = 1_790_000_000.0


def hostile_case(entries: int) -> dict:
    """A case record of hostile text with ``entries`` jobs, estimates, documents, history lines and
    payments (its cards must stay within Chat's limits and escape all of it)."""
    many = range(entries)
    return {"case": "2026-001", "client": HOSTILE, "title": LONG[:200], "status": "受付完了", "due": "2026-12-01",
            "requester": HOSTILE, "folder_link": URL, "sheet_link": URL, "updated_at": NOW, "jobs": ["jx"] * entries,
            "estimates": [{"key": f"v{i:03d}", "version": i, "link": URL, "total": "¥1"} for i in many],
            "documents": [{"key": str(i), "name": HOSTILE, "bytes": 10**9, "link": URL} for i in many],
            "history": [{"status": "受注", "from": "見積提出", "at": NOW + i, "by": HOSTILE, "job": "jx",
                         "correction": i % 2 == 0} for i in many],
            "payments": [{"key": f"p{i}", "amount": 10**11, "on": "2026-12-01", "by": HOSTILE} for i in many]}


@pytest.fixture(scope="module")
def registry():
    return build_registry(Settings())


def requester() -> Requester:
    return Requester("users/1", "someone@" + "x" * 200 + ".example", "Y" * 100)


def event(speaker: Speaker) -> ChatEvent:
    return ChatEvent(kind=EventKind.MESSAGE, format=EventFormat.CLASSIC,
                     user=ChatUser("users/1", "Y" * 100, "a@example.com"), space="spaces/x",
                     locale=speaker.language, time_zone=speaker.time_zone, platform=speaker.platform)


def longest(param) -> object:
    if param.kind == "date":
        return "2026-12-01"
    if param.kind in ("int", "float"):
        return param.maximum or 10**9
    if param.kind == "flag":
        return True
    value = (HOSTILE * 50)[: param.max_length]
    return [value] * 50 if param.repeated else value


def confirmation(job_type) -> Confirmation:
    params = {p.name: longest(p) for p in job_type.params}
    return Confirmation(id="c" * 12, token="t" * 32, job_type=job_type.name, params=params, requester=requester(),
                        space="spaces/x", thread=None, created_at=NOW, expires_at=NOW + 900, event_format="classic")


def job(job_type, status: JobStatus) -> Job:
    result = {k: LONG for k in job_type.result_fields or ("text",)}
    result.update({"folder_link": URL, "sheet_link": URL, "estimate_link": URL,
                   "document_links": [{"name": HOSTILE, "link": URL}] * 200})
    steps = tuple(StepState(s.name) for s in job_type.steps)
    return Job(id="j" * 12, type=job_type.name, params=confirmation(job_type).params, requester=requester(),
               space="spaces/x", thread=None, queue=job_type.queue, steps=steps, created_at=NOW, updated_at=NOW,
               status=status, result=result if status == JobStatus.SUCCEEDED else None, last_error=LONG,
               finished_at=NOW + 5 if status.finished else None)


def replies(registry, speaker: Speaker = SPEAKERS[1]) -> list[tuple[str, Reply]]:
    everything = {jt.name for jt in registry} | set(registry.commands) | {"help", "status", "jobs", "cancel", "retry"}
    out = [("help", views.help_card(registry, everything, speaker, views.short(LONG, 600))),
           ("usage", views.usage_reply(LONG, registry.get("newcase").usage_for(speaker), speaker)),
           ("jobs", views.jobs_list([job(registry.get("echo"), JobStatus.FAILED)] * 15, HOSTILE, NOW, speaker,
                                    registry))]
    for job_type in registry:
        notes = (HOSTILE, LONG) * precheck.MAX_NOTES  # the most a precheck may add (more are dropped)
        out.append((f"confirm {job_type.name}", views.confirmation_card(confirmation(job_type), job_type, 900,
                                                                        speaker, notes[:precheck.MAX_NOTES])))
        out.append((f"queued {job_type.name}", views.queued_card(job(job_type, JobStatus.QUEUED), job_type, speaker)))
        out.append((f"decided {job_type.name}", views.decided_card(confirmation(job_type), HOSTILE, LONG[:600])))
        for status in JobStatus:
            built = job(job_type, status)
            out.append((f"{status.value} {job_type.name}", views.job_message(built, job_type, speaker, progress=LONG,
                                                                             retry_delay=30, now=NOW)))
            out.append((f"status {status.value} {job_type.name}", views.job_details(built, job_type, NOW, speaker)))
    return out


@pytest.mark.parametrize("speaker", SPEAKERS, ids=lambda s: s.language)
@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
def test_every_message_card_is_within_chats_limits(registry, fmt, speaker):
    for name, reply in replies(registry, speaker):
        message = message_json(reply, fmt, "https://example.com/chat")
        assert message_problems(message) == [], name
        if reply.card is not None:
            assert message["fallbackText"] and len(message["fallbackText"]) <= 300, name


@pytest.mark.parametrize("speaker", SPEAKERS, ids=lambda s: s.language)
def test_every_form_is_within_chats_limits_with_every_line_and_every_error(registry, speaker):
    known = {"clients": [HOSTILE[:60]] * 500}
    for job_type in registry:
        if job_type.schedule:
            continue
        state = formspec.initial(job_type, {p.name: longest(p) for p in job_type.params}, known)
        for param in job_type.params:
            if param.repeated:
                state.lines[param.name] = formspec.MAX_LINES
        state.errors = {name: LONG[:600] for name in formspec.input_names(state)}
        state.errors.update({p.name: LONG[:600] for p in job_type.params})
        state.errors[formspec.FORM] = LONG[:600]
        card = formspec.build(state, speaker, known, "users/" + "9" * 30)
        for fmt in FORMATS:
            body = card_body(card, fmt, "https://example.com/chat")
            assert card_problems(body, dialog=True) == [], job_type.name
            assert len(json.dumps(body, ensure_ascii=False).encode()) < 32_000, job_type.name
        runtime = Runtime(Settings(), registry=registry)
        usage = with_fill_in(views.usage_reply(LONG, job_type.usage_for(speaker), speaker), runtime, event(speaker),
                             job_type, [LONG] * 10)
        assert message_problems(message_json(usage, EventFormat.ADDON, "https://example.com/chat")) == []


def test_the_case_card_and_the_mail_card_are_within_chats_limits(registry, tmp_path):
    from ackflow.app.runtime import Runtime
    from workers.office.cases import CASES
    from workers.office.commands import list_cases, show_case
    from workers.office.mail.card import mail_card

    runtime = Runtime(Settings(sqlite_path=str(tmp_path / "a.db")), registry=registry)
    record = hostile_case(150)  # far past what a card shows, and within the 1 MiB a Firestore document may be
    runtime.store.docs.transaction(lambda tx: tx.set(CASES, "2026-001", record))
    for number in range(2, 122):  # the open cases' list, far past the 30 it shows
        case = f"2026-{number:03d}"
        runtime.store.docs.transaction(lambda tx, c=case: tx.set(CASES, c, {**record, "case": c, "created_at": NOW}))
    for speaker in SPEAKERS:
        reply = show_case(runtime, event(speaker), ["2026-001"])
        assert message_problems(message_json(reply, EventFormat.CLASSIC, "https://example.com/chat")) == []
        for words in ([], ["client=" + HOSTILE[:30]], ["status=受付完了"]):
            listed = list_cases(runtime, event(speaker), words)
            assert listed.card is not None or words, words
            assert message_problems(message_json(listed, EventFormat.ADDON, "https://example.com/chat")) == [], words
    assert message_problems(message_json(reply, EventFormat.CLASSIC, "https://example.com/chat")) == []
    # a mail as the mail flow records it at its largest (workers/office/mail/parse.py bounds each part)
    mail = {"id": "m" * 20, "status": "OPENED", "sender_address": LONG[:200], "sender_name": LONG[:200],
            "subject": LONG[:500], "preview": LONG[:600], "received_at": NOW, "due": "2026-12-01",
            "attachments": [{"original": LONG[:300], "size": 10**9, "too_large": True}] * 500, "recipients": 5000,
            "truncated": True, "auth_failure": HOSTILE, "folder_link": URL, "folder": LONG[:270], "case": "2026-001",
            "opened_by": HOSTILE, "ignored_by": HOSTILE, "job": "j" * 12, "client_guess": LONG[:60]}
    for status in ("PROPOSED", "OPENED", "IGNORED"):
        built = mail_card({**mail, "status": status})
        assert message_problems(message_json(built, EventFormat.ADDON, "https://example.com/chat")) == [], status


@pytest.mark.parametrize("unit", ['"', "&", "<", "🚀"])
def test_a_mail_card_of_text_that_grows_when_escaped_is_within_chats_limits(unit):
    """Each part of a mail at the length the mail flow keeps (parse.py), made of characters that grow
    when escaped (" is &#34;, five bytes) or take four bytes: 20 shown attachments named with 300 of
    them made a card of 42 kB, which Chat refuses; the flow then wrote its text alone, without the
    buttons that open a case from the mail or ignore it."""
    from workers.office.mail.card import mail_card

    mail = {"id": "m" * 20, "sender_address": "a@" + "b" * 190 + ".jp", "sender_name": unit * 200,
            "subject": unit * 500, "preview": "\n".join([unit * 70] * 8)[:600], "received_at": NOW, "due": "2026-12-01",
            "attachments": [{"original": unit * 300, "size": 10**9, "too_large": True}] * 300, "recipients": 5000,
            "truncated": True, "auth_failure": "spf=fail, dkim=fail, dmarc=fail", "folder_link": URL,
            "folder": "2026-001_" + unit * 60, "case": "2026-001", "opened_by": unit * 100, "ignored_by": unit * 100,
            "job": "j" * 12, "client_guess": unit * 60}
    for status in ("PROPOSED", "OPENED", "IGNORED"):
        for fmt in FORMATS:
            built = message_json(mail_card({**mail, "status": status}), fmt, "https://example.com/chat")
            assert message_problems(built) == [], (status, fmt)


def test_info_dialogs_are_within_chats_limits(registry):
    for name, reply in replies(registry)[:3]:
        body = card_body(info_card(reply), EventFormat.CLASSIC, "https://example.com/chat")
        assert card_problems(body, dialog=True) == [], name


def test_the_checker_finds_what_breaks_the_limits():
    widgets = [{"textParagraph": {"text": "x"}}] * 101
    columns = {"columns": {"columnItems": [{"widgets": [{"columns": {"columnItems": []}}]}] * 3}}
    card = {"sections": [{"widgets": widgets + [columns, {"buttonList": {"buttons": [
        {"text": "open", "onClick": {"openLink": {"url": "file:///etc/passwd"}}}, {"onClick": {}}]}}]}],
            "fixedFooter": {"primaryButton": {"text": "Go"}}}
    found = " | ".join(card_problems(card))
    for expected in ("widgets", "3 columns", "columns inside columns", "fixed footer", "file:///etc/passwd",
                     "without a label"):
        assert expected in found
    assert "bytes" in " ".join(message_problems({"text": "字" * 11_000}))
    assert card_problems({}) == []


@pytest.mark.parametrize("speaker", SPEAKERS, ids=lambda s: s.language)
def test_a_digest_and_a_reminder_of_many_cases_show_every_line_they_list_within_chats_limits(registry, tmp_path,
                                                                                             speaker):
    """The periodic jobs' lists as the worker makes them (reminders.py) from 300 open cases of the
    longest, most hostile client and title, shown whole: each listed case and the "… and N more"
    line (a result value cut at 300 characters showed six cases of forty), within Chat's limits."""
    from types import SimpleNamespace

    from ackflow.store.jobstore import JobStore
    from ackflow.store.sqlite import SqliteDocuments
    from workers.office import reminders
    from workers.office.cases import CASES
    from workers.office.settings import OfficeSettings

    store = JobStore(SqliteDocuments(tmp_path / "cases.db"))
    cases = [f"2026-{number:03d}" for number in range(1, 301)]

    def write(tx):
        for number, case in enumerate(cases, start=1):
            tx.set(CASES, case, {"case": case, "client": (HOSTILE * 3)[:60], "title": LONG[:200], "status": "受注",
                                 "due": "2026-12-07", "created_at": NOW + number})

    store.docs.transaction(write)
    friday = SimpleNamespace(slot="202612040000", created_at=NOW)  # the reminder of Monday 7 December's cases
    ctx = SimpleNamespace(services=SimpleNamespace(store=store, office_settings=OfficeSettings()), job=friday,
                          speaker=speaker)
    for name, step in (("digest", reminders.digest), ("reminder", reminders.reminder)):
        job_type = registry.get(name)
        made = Job(id="j" * 12, type=name, params={}, requester=Requester("system", "", "system"), space="spaces/x",
                   thread=None, queue=job_type.queue, steps=(StepState(name),), created_at=NOW, updated_at=NOW,
                   status=JobStatus.SUCCEEDED, result=step(ctx), finished_at=NOW + 1)
        for fmt in FORMATS:
            message = message_json(views.job_message(made, job_type, speaker, now=NOW), fmt, "https://example.com")
            assert message_problems(message) == [], name
            shown = json.dumps(message, ensure_ascii=False)
            listed = [case for case in cases if case in shown]
            assert listed == cases[:reminders.MAX_LINES], (name, len(listed))
            assert str(len(cases) - reminders.MAX_LINES) in shown, name  # "… and 260 more"
    store.close()
