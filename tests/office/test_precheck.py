"""A case command the case's state forbids is refused at once, in place of its card, in the person's
language and with what to do instead, and no job is made: typed, sent from its form, and when Run
is pressed on a card shown before the state changed (or while the store did not answer). Through
the webhook's real handler over a real SQLite store and the deployment's job types."""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ackflow.app.runtime import Runtime
from ackflow.app.webhook import Webhook
from ackflow.chat.events import parse_event
from ackflow.chat.replies import response_json
from ackflow.errors import StoreUnavailable
from ackflow.settings import Settings
from tests.support.dialogs import errors_after
from workers.job_types import build_registry
from workers.office.cases import CaseRecords
from workers.office.issuer import valid_registration

DATA = Path(__file__).parent.parent / "data" / "events"
NOW = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC).timestamp()  # noon in Tokyo
DELIVERED, ESTIMATED, ORDERED = "2026-001", "2026-002", "2026-003"
USER = "users/112233445566778899001"  # who the events' person is

STARTED_REFUSED = {  # started on a delivered case: why, and the correction an admin may make instead
    "ja": ("「着手」は実行しませんでした",
           f"案件 {DELIVERED} の状況は「納品」です。状況は先へ進むだけなので作業中には戻せません",
           f"「訂正 {DELIVERED} 作業中」"),
    "en": ("“started” was not started", f"case {DELIVERED} is 納品; a status only moves forward, so it cannot "
           "become 作業中", f"“correct {DELIVERED} 作業中”"),
}
INVOICE_REFUSED = {  # an invoice with no accepted estimate: mark the order first, or give the lines
    "ja": ("「請求」は実行しませんでした", f"案件 {ESTIMATED} には受注済みの見積がありません", f"「受注 {ESTIMATED}」",
           "明細："),
    "en": ("“invoice” was not started", f"case {ESTIMATED} has no accepted estimate", f"“ordered {ESTIMATED}”",
           "--item"),
}


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    # the office's own details, which an invoice needs before anything else is asked
    monkeypatch.setenv("ACKFLOW_OFFICE_NAME", "山田金型設計事務所")
    monkeypatch.setenv("ACKFLOW_OFFICE_REGISTRATION_NUMBER", valid_registration("123456789012"))
    monkeypatch.setenv("ACKFLOW_OFFICE_BANK_ACCOUNT", "サンプル銀行 本店 普通 1234567 ヤマダ")
    settings = Settings(sqlite_path=str(tmp_path / "jobs.db"))
    runtime = Runtime(settings, registry=build_registry(settings), clock=lambda: NOW)
    cases = CaseRecords(runtime.store.docs, clock=lambda: NOW)
    v1 = {"key": "v001", "version": 1, "number": "v1", "total": 110000, "job": "jnew"}
    for case in (DELIVERED, ESTIMATED, ORDERED):
        cases.update(case, "jnew", client="ACME", title="金型", folder=f"{case}_ACME_金型", status="見積提出",
                     by="Alice", estimates=[v1])
    cases.transition(DELIVERED, "納品", by="Alice", job_id="jdelivered")
    cases.transition(ORDERED, "受注", by="Alice", job_id="jordered", accepted={"version": 1, "total": 110000})
    yield runtime
    runtime.close()


def answer(runtime: Runtime, body: dict) -> dict:
    event = parse_event(body)
    return response_json(Webhook(runtime).answer(event), event.format, runtime.settings.webhook_url)


def typed(text: str, language: str) -> dict:
    event = json.loads((DATA / "classic" / "message.json").read_text())
    event["message"]["text"] = event["message"]["argumentText"] = text
    event["common"]["userLocale"] = language
    return event


def submitted(form: str, inputs: dict[str, str], language: str) -> dict:
    """The form of ``form`` sent with its Next button (``inputs`` as typed into it)."""
    event = json.loads((DATA / "addon" / "button_clicked.json").read_text())
    event["commonEventObject"].update(userLocale=language, parameters={
        "actionName": "form", "form": form, "by": USER, "step": "submit"})
    event["commonEventObject"]["formInputs"] = {name: {"stringInputs": {"value": [value]}}
                                                for name, value in inputs.items()}
    event["chat"]["buttonClickedPayload"].update(isDialogEvent=True, dialogEventType="SUBMIT_DIALOG")
    return event


def run_pressed(confirmation: dict, language: str) -> dict:
    event = json.loads((DATA / "classic" / "card_clicked.json").read_text())
    params = {"confirmation": confirmation["id"], "token": confirmation["token"]}
    event["action"]["parameters"] = [{"key": k, "value": v} for k, v in params.items()]
    event["common"].update(userLocale=language, parameters=params)
    return event


def cases_unreadable(runtime: Runtime, monkeypatch) -> Callable[[], None]:
    """The store stops answering reads of the cases (Firestore past its deadline); what it returns
    makes it answer again."""
    docs = runtime.store.docs
    read = docs.get

    def down(collection, doc_id):
        if collection == "cases":
            raise StoreUnavailable("Firestore did not answer: deadline exceeded")
        return read(collection, doc_id)

    monkeypatch.setattr(docs, "get", down)
    return lambda: monkeypatch.setattr(docs, "get", read)


def stored(runtime: Runtime, collection: str) -> list[dict]:
    return runtime.store.docs.query(collection, [], "created_at", True, 100)


def shown(body: dict) -> str:
    return html.unescape(json.dumps(body, ensure_ascii=False))


def card_asked(runtime: Runtime, text: str, language: str) -> dict:
    """The command's confirmation card is shown; its request, as stored."""
    reply = answer(runtime, typed(text, language))
    assert "cardsV2" in reply, reply
    [confirmation] = [c for c in stored(runtime, "confirmations") if c["status"] == "PENDING"]
    return confirmation


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize(("text", "said"), [
    ({"ja": f"着手 {DELIVERED}", "en": f"started {DELIVERED}"}, STARTED_REFUSED),
    ({"ja": f"請求 {ESTIMATED}", "en": f"invoice {ESTIMATED}"}, INVOICE_REFUSED),
])
def test_a_typed_command_the_case_forbids_is_refused_in_place_of_its_card(runtime, text, said, language):
    reply = answer(runtime, typed(text[language], language))
    assert set(reply) == {"text"}, reply  # a reply, no card to run
    for expected in said[language]:
        assert expected in reply["text"], (expected, reply["text"])
    assert stored(runtime, "confirmations") == [] and stored(runtime, "jobs") == []


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize(("form", "case", "said"), [("started", DELIVERED, STARTED_REFUSED),
                                                    ("invoice", ESTIMATED, INVOICE_REFUSED)])
def test_a_form_the_case_forbids_stays_open_saying_why(runtime, form, case, said, language):
    body = answer(runtime, submitted(form, {"case": case}, language))
    navigation = body["action"]["navigations"][0]
    card = navigation["updateCard"]  # the form again, not closed into a card to run
    error = html.unescape(errors_after(card)[""])
    for expected in said[language][1:]:  # the form names no command: the reason, and what to do instead
        assert expected in error, (expected, error)
    assert stored(runtime, "confirmations") == [] and stored(runtime, "jobs") == []


@pytest.mark.parametrize("language", ["ja", "en"])
def test_run_pressed_after_the_case_moved_on_is_refused_and_makes_no_job(runtime, language):
    """The card was right when it was shown; the case was delivered while it waited."""
    case = ORDERED
    confirmation = card_asked(runtime, f"started {case}", "en")
    CaseRecords(runtime.store.docs, clock=lambda: NOW).transition(case, "納品", by="Bob", job_id="jbob")
    body = answer(runtime, run_pressed(confirmation, language))
    assert body["actionResponse"]["type"] == "UPDATE_MESSAGE"  # the card, redrawn without its buttons
    text = shown(body)
    title, reason, instead = STARTED_REFUSED[language]
    assert reason.replace(DELIVERED, case) in text and instead.replace(DELIVERED, case) in text
    assert ("未実行" if language == "ja" else "Not run") in text and '"buttonList"' not in text
    assert stored(runtime, "jobs") == []
    [closed] = stored(runtime, "confirmations")
    assert closed["status"] == "CANCELLED" and closed["job_id"] is None
    again = answer(runtime, run_pressed(confirmation, language))  # Chat delivers the press again
    assert "buttonList" not in shown(again) and stored(runtime, "jobs") == []


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_card_shown_while_the_store_did_not_answer_is_refused_at_run(runtime, monkeypatch, language):
    """The check before the card could not read the case: the card is shown all the same (the job
    would refuse when it runs); Run asks again and refuses, with no job made."""
    answering = cases_unreadable(runtime, monkeypatch)
    confirmation = card_asked(runtime, f"invoice {ESTIMATED}", language)  # shown: the check fell back
    answering()
    body = answer(runtime, run_pressed(confirmation, language))
    text = shown(body)
    for expected in INVOICE_REFUSED[language][1:]:
        assert expected in text, (expected, text)
    assert stored(runtime, "jobs") == []


@pytest.mark.parametrize(("text", "said"), [
    (f"resume {ORDERED}", f"case {ORDERED} is 受注, not on hold (保留): there is nothing to resume"),
    (f"ordered {ORDERED} --estimate 4", f"case {ORDERED} has no estimate v4 (versions: v1)"),
    (f"paid {ORDERED} --amount 1000", f"case {ORDERED} has no invoice to be paid; write “invoice {ORDERED}” first"),
    (f"lost {DELIVERED}", f"case {DELIVERED} is 納品: a case delivered, invoiced or paid is not lost"),
    (f"hold {DELIVERED}", None),  # a delivered case may wait: a card
    (f"ordered {DELIVERED}", f"case {DELIVERED} is 納品; a status only moves forward, so it cannot become 受注"),
    (f'estimate {ESTIMATED} --change "1=::120000"', None),
    (f"delivered {ORDERED}", None),
    (f"invoice {ORDERED}", None),
    ("started 2026-404", "there is no case 2026-404; write “cases” to see the open cases and their numbers"),
    ("estimate 2026-404", "there is no case 2026-404"),
])
def test_each_case_command_is_checked_against_the_case_as_its_step_would(runtime, text, said):
    reply = answer(runtime, typed(text, "en"))
    if said is None:
        assert "cardsV2" in reply, reply
        return
    assert said in reply.get("text", ""), reply
    assert stored(runtime, "confirmations") == []


def test_the_check_reads_one_document(runtime, monkeypatch):
    docs = runtime.store.docs
    read, seen = docs.get, []
    monkeypatch.setattr(docs, "get", lambda collection, doc_id: seen.append((collection, doc_id))
                        or read(collection, doc_id))
    from ackflow.app import precheck

    assert precheck.check(runtime, runtime.registry.get("invoice"), {"case": ESTIMATED, "item": []}).refused
    assert seen == [("cases", ESTIMATED)]


def test_a_newcase_due_date_in_the_past_is_refused_before_its_card(runtime):
    reply = answer(runtime, typed('新規案件 ACME「金型」 納期：2026-11-19', "ja"))
    assert "過去の日付です" in reply["text"] and "今日は 2026年11月20日" in reply["text"], reply
    reply = answer(runtime, typed('newcase ACME "Die set" --due 2026-11-19', "en"))
    assert "--due 19 Nov 2026 is in the past (today is 20 Nov 2026)" in reply["text"], reply
    assert "cardsV2" in answer(runtime, typed('newcase ACME "Die set" --due 2026-11-20', "en"))  # today: fine
    assert "more than a year ahead" in answer(runtime, typed('newcase ACME "Die set" --due 2062-11-20', "en"))["text"]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_run_pressed_after_midnight_on_a_due_date_of_yesterday_is_refused(runtime, language):
    """The card was asked at 23:55 in Tokyo with 納期 today; Run is pressed at 00:05: the due date is
    now in the past, as it would be refused if typed now. No job."""
    tokyo = dt.timezone(dt.timedelta(hours=9))
    runtime.clock = lambda: dt.datetime(2026, 11, 20, 23, 55, tzinfo=tokyo).timestamp()
    confirmation = card_asked(runtime, 'newcase ACME "Die set" --due 2026-11-20', language)
    runtime.clock = lambda: dt.datetime(2026, 11, 21, 0, 5, tzinfo=tokyo).timestamp()
    text = shown(answer(runtime, run_pressed(confirmation, language)))
    said = "過去の日付です" if language == "ja" else "is in the past (today is 21 Nov 2026)"
    assert said in text and '"buttonList"' not in text, text
    assert stored(runtime, "jobs") == []
    runtime.clock = lambda: dt.datetime(2026, 11, 20, 23, 56, tzinfo=tokyo).timestamp()  # before midnight: runs
    confirmation = card_asked(runtime, 'newcase ACME "Die set" --due 2026-11-20', language)
    answer(runtime, run_pressed(confirmation, language))
    assert [job["type"] for job in stored(runtime, "jobs")] == ["newcase"]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_case_that_is_not_there_points_to_the_list_of_cases_not_round_in_a_circle(runtime, language):
    """受注 2026-009 said 「案件 2026-009」と書いて番号を確かめてください, and 案件 2026-009 said only
    that there is no such case and that numbers look like 2026-001, which it did (seen in the
    browser chat): each now points to 案件一覧, which lists the open cases and their numbers."""
    refused = answer(runtime, typed("受注 2026-009", language))["text"]
    shown = answer(runtime, typed("案件 2026-009", language))["text"]
    if language == "ja":
        assert "「案件一覧」" in refused and "「案件 2026-009」" not in refused, refused
        assert "「案件一覧」" in shown and "のような形" not in shown, shown
        assert "のような形" in answer(runtime, typed("案件 26-001", language))["text"]  # not a number: its shape
    else:
        assert "“cases”" in refused and "“cases”" in shown and "look like" not in shown, shown


PAID_EARLY = {  # a payment dated before the invoice it pays: the dates named, what to check
    "ja": ("「入金」は実行しませんでした", "入金日 2026年11月17日", "請求書 INV-2026-0001 の発行日（2026年11月18日",
           "日付："),
    "en": ("“paid” was not started", "the payment date 17 Nov 2026 is before invoice INV-2026-0001 was issued "
           "(18 Nov 2026", "--date"),
}


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_payment_dated_before_the_invoice_is_refused_in_place_of_its_card(runtime, language):
    """入金 11/17 for an invoice of 11/18 was recorded, and the case's history showed 入金 before
    請求: the project has no prepayment (paid needs an invoice), so the date is a typo."""
    invoice = {"key": "INV-2026-0001", "number": "INV-2026-0001", "total": 110000, "issued": "2026-11-18",
               "job": "jinvoice"}
    CaseRecords(runtime.store.docs, clock=lambda: NOW).update(DELIVERED, "jinvoice", invoices=[invoice])
    text = {"ja": f"入金 {DELIVERED} 金額：11万円 日付：11月17日",
            "en": f"paid {DELIVERED} --amount 110000 --date 2026-11-17"}[language]
    reply = answer(runtime, typed(text, language))
    assert set(reply) == {"text"}, reply
    for expected in PAID_EARLY[language]:
        assert expected in reply["text"], (expected, reply["text"])
    assert stored(runtime, "confirmations") == [] and stored(runtime, "jobs") == []
    on_the_day = text.replace("11月17日", "11月18日").replace("2026-11-17", "2026-11-18")
    assert "cardsV2" in answer(runtime, typed(on_the_day, language))  # paid on the invoice's day: a card


def test_the_step_refuses_a_payment_dated_before_the_first_invoice_too():
    from ackflow.errors import PermanentError
    from workers.office.lifecycle import check_payment_date

    record = {"invoices": [{"number": "INV-2026-0002", "issued": "2026-11-30", "total": 1},
                           {"number": "INV-2026-0001", "issued": "2026-11-20", "total": 1,
                            "replaced_by": "INV-2026-0002"},
                           {"number": "", "pending": True, "job": "j3"}]}
    check_payment_date("2026-001", record, "2026-11-25")  # for the first invoice, corrected since
    with pytest.raises(PermanentError) as refused:
        check_payment_date("2026-001", record, "2026-11-19")
    assert "INV-2026-0001" in str(refused.value)
