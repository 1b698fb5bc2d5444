"""Dialogs in the core: dialog events read in both formats (typed, hostile-safe), the answers
written as Chat's dialog contract asks, and a job type's parameters as a form and back through the
typed command's parsers. The whole flow against the local Chat service is tests/e2e/test_dialogs.py."""

from __future__ import annotations

import copy
import datetime as dt
import html
import json
import re
from pathlib import Path

import pytest

from ackflow.app import formspec
from ackflow.app.runtime import Runtime
from ackflow.app.webhook import Webhook
from ackflow.chat.cards import Card, Section, Text, card_body
from ackflow.chat.events import EventFormat, FormInput, MalformedEvent, parse_event
from ackflow.chat.replies import DialogClose, DialogReply, Reply, response_json
from ackflow.errors import StoreUnavailable
from ackflow.i18n import Speaker
from ackflow.settings import Settings
from tests.support.dialogs import errors_after, inputs_of
from workers.job_types import build_registry

DATA = Path(__file__).parent.parent / "data" / "events"
EN, JA = Speaker("en"), Speaker("ja")


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def classic_request() -> dict:
    event = load("classic/slash_command.json")
    event["message"]["text"], event["message"]["argumentText"] = "/newcase ACME", " ACME"
    event["message"]["annotations"][0]["slashCommand"]["commandName"] = "/newcase"
    return {**event, "isDialogEvent": True, "dialogEventType": "REQUEST_DIALOG"}


def addon_submit(inputs: dict, parameters: dict) -> dict:
    event = load("addon/button_clicked.json")
    event["commonEventObject"]["parameters"] = {"actionName": "form", **parameters}
    event["commonEventObject"]["formInputs"] = inputs
    event["chat"]["buttonClickedPayload"].update(isDialogEvent=True, dialogEventType="SUBMIT_DIALOG")
    return event


@pytest.fixture
def runtime(tmp_path):
    settings = Settings(sqlite_path=str(tmp_path / "a.db"))
    return Runtime(settings, registry=build_registry(settings))


# -- events -----------------------------------------------------------------------------------------
def test_dialog_events_are_read_in_both_formats():
    opened = parse_event(classic_request())
    assert opened.dialog == "REQUEST_DIALOG" and opened.command_name == "newcase" and opened.text == "ACME"
    assert (opened.locale, opened.time_zone, opened.platform) == ("ja", "Asia/Tokyo", "WEB")
    submitted = parse_event(addon_submit({"title": {"stringInputs": {"value": ["金型"]}},
                                          "due": {"dateInput": {"msSinceEpoch": "1796083200000"}}}, {"form": "x"}))
    assert submitted.dialog == "SUBMIT_DIALOG" and submitted.action == "form"
    assert submitted.form == {"title": FormInput(("金型",)), "due": FormInput((), 1796083200000)}
    assert parse_event(load("classic/card_clicked.json")).dialog is None


@pytest.mark.parametrize("inputs", [
    "text", {"a": "text"}, {"a": {"stringInputs": {"value": "not a list"}}}, {"a": {"stringInputs": {"value": [1]}}},
    {"a": {"dateInput": {"msSinceEpoch": "1e99"}}}, {"a": {"dateInput": {"msSinceEpoch": str(10**18)}}},
    {"a": {"dateInput": {"msSinceEpoch": True}}}, {"a": {"timeInput": {"hours": 25, "minutes": 0}}},
    {"": {}}, {"x" * 101: {}}, {f"n{i}": {} for i in range(301)},
    {"a": {"stringInputs": {"value": ["v"] * 101}}},
])
def test_form_inputs_of_the_wrong_shape_make_the_event_malformed(inputs):
    with pytest.raises(MalformedEvent):
        parse_event(addon_submit(inputs, {}))


def test_a_dialog_flag_of_the_wrong_type_makes_the_event_malformed():
    event = classic_request()
    event["isDialogEvent"] = "yes"
    with pytest.raises(MalformedEvent):
        parse_event(event)


# -- answers ----------------------------------------------------------------------------------------
CARD = Card("form-x", "x", (Section((Text("<b>hi</b>"),)),))


def test_dialog_answers_follow_chats_contract_in_both_formats():
    opened = response_json(DialogReply(CARD), EventFormat.CLASSIC, "https://a/")
    assert opened["actionResponse"]["type"] == "DIALOG"
    assert opened["actionResponse"]["dialogAction"]["dialog"]["body"]["sections"][0]["widgets"][0] == {
        "textParagraph": {"text": "&lt;b&gt;hi&lt;/b&gt;"}}
    pushed = response_json(DialogReply(CARD), EventFormat.ADDON, "https://a/")["action"]["navigations"][0]
    updated = response_json(DialogReply(CARD, update=True), EventFormat.ADDON, "https://a/")["action"]["navigations"][0]
    assert "pushCard" in pushed and "updateCard" in updated
    closed = response_json(DialogClose(notice="<users/all> done"), EventFormat.CLASSIC, "https://a/")
    assert closed["actionResponse"]["dialogAction"]["actionStatus"] == {
        "statusCode": "OK", "userFacingMessage": "＜users/all＞ done"}
    ended = response_json(DialogClose(notice="done"), EventFormat.ADDON, "https://a/")["action"]
    assert ended["navigations"] == [{"endNavigation": {"action": "CLOSE_DIALOG"}}] and ended["notification"]
    posted = response_json(DialogClose(Reply(card=CARD)), EventFormat.CLASSIC, "https://a/")
    assert posted["actionResponse"] == {"type": "NEW_MESSAGE"} and posted["cardsV2"] and posted["fallbackText"]
    created = response_json(DialogClose(Reply(text="x")), EventFormat.ADDON, "https://a/")
    assert created["hostAppDataAction"]["chatDataAction"]["createMessageAction"]["message"]["text"] == "x"


# -- forms ------------------------------------------------------------------------------------------
def test_a_form_reads_back_through_the_typed_commands_parsers(runtime):
    newcase = runtime.registry.get("newcase")
    state = formspec.FormState(newcase, {"client": "ＡＣＭＥ", "title": "  金型\u200b A-12 ", "due": "2026-12-01",
                                         "item.1.0": "設計", "item.1.1": "１", "item.1.2": "350000",
                                         "item.2.0": "", "item.2.1": "", "item.2.2": ""}, {"item": 2})
    values = formspec.read(state, EN, dt.date(2026, 11, 20))  # the due date is checked against a fixed today
    assert state.errors == {}
    assert values == {"client": "ACME", "title": "金型 A-12", "due": "2026-12-01", "portal": None,
                      "item": ["設計:1:350000"]}  # NFKC, invisible characters gone, empty lines skipped


def test_form_errors_are_kept_by_field_and_say_what_is_wrong(runtime):
    newcase = runtime.registry.get("newcase")
    state = formspec.FormState(newcase, {"client": "ACME", "due": "2026-02-30", "item.1.0": "設計", "item.1.2": "1",
                                         "item.2.0": "型", "item.2.1": "-1", "item.2.2": "5"}, {"item": 2})
    assert formspec.read(state, JA) is None
    assert state.errors["title"] == "件名を入力してください。"
    assert "2026-02-30" in state.errors["due"]
    assert state.errors["item.1"].startswith("1行目") and "数量" in state.errors["item.1"]
    assert "item.2" not in state.errors  # a part that does not read is said at its own input
    assert state.errors["item.2.1"] == ("数量: 「-1」ではなく、0 より大きく 99,999,999.999 以下"
                                        "（小数は3桁まで）にしてください")


def test_an_error_next_to_an_input_names_it_as_the_form_labels_it(runtime):
    """Typed, ``sleep たくさん`` is told SECONDS must be a whole number (the usage line's word); in
    the form, the error next to the Seconds input says Seconds, and --due is the Due date."""
    state = formspec.FormState(runtime.registry.get("sleep"), {"seconds": "たくさん"}, {})
    assert formspec.read(state, EN) is None
    assert state.errors["seconds"].startswith("Seconds must be a whole number"), state.errors
    state = formspec.FormState(runtime.registry.get("newcase"), {"client": "ACME", "title": "金型",
                                                                 "due": "2026-02-30"}, {})
    formspec.read(state, EN)
    assert "--due" not in state.errors["due"] and "Due" in state.errors["due"], state.errors


def test_a_line_missing_a_part_names_only_the_parts_left_empty(runtime):
    # docs/ja/forms.md: a line with some of 品名・数量・単価 is told the missing ones; the tax rate is
    # left empty on a standard-rate line, so it is never asked for
    newcase = runtime.registry.get("newcase")
    state = formspec.FormState(newcase, {"client": "ACME", "title": "金型", "item.1.0": "設計", "item.1.1": "1",
                                         "item.2.1": "2"}, {"item": 2})
    assert formspec.read(state, JA) is None
    assert state.errors["item.1"] == "1行目: 単価を入力してください。"
    assert state.errors["item.2"] == "2行目: 品名、単価を入力してください。"  # listed as Japanese lists
    state = formspec.FormState(newcase, {"client": "ACME", "title": "金型", "item.1.2": "350000"}, {"item": 1})
    formspec.read(state, EN)
    assert state.errors["item.1"] == "Line 1: fill in Description, Quantity."


PART_ERRORS = {  # (quantity, unit price, rate) typed → input → what the form says under it, in ja and en
    ("abc", "350000", ""): {"item.1.1": ("数量: 「abc」は数として読めません（例: 1、1.5）",
                                         "Quantity: “abc” is not a number I can read (e.g. 1 or 1.5)")},
    # not “（金額ではありません。…）”: a reason that said again what the message says
    ("1", "35万円くらい", ""): {"item.1.2": ("単価: 「35万円くらい」は金額として読めません"
                                       "（例: 350000、¥350,000、35万円）",
                                       "Unit price: “35万円くらい” is not an amount of yen I can read "
                                       "(e.g. 350000, ¥350,000 or 35万円)")},
    ("1", "3万5", ""): {"item.1.2": ("単価: 「3万5」は金額として読めません（万のあとは 4 桁で書いてください: "
                                   "3万0005円（¥30,005）か 3万5000円（¥35,000）。例: 350000、¥350,000、35万円）",
                                   "Unit price: “3万5” is not an amount of yen I can read (write four digits after "
                                   "万: 3万0005円 (¥30,005) or 3万5000円 (¥35,000); e.g. 350000, ¥350,000 or 35万円)")},
    ("1", "0", ""): {"item.1.2": ("単価: 「0」ではなく、1 円以上 9,999,999,999 円以下の整数にしてください",
                                  "Unit price: “0” must be a whole number of yen from 1 to ¥9,999,999,999")},
    ("1", "1000", "5%"): {"item.1.3": ("税率（軽減税率なら 8%）: 「5%」ではなく、"
                                       "10% か 8%（軽減税率）にしてください（空欄なら 10%）",
                                       "Tax rate (8% if reduced): “5%” must be 10% or 8% (reduced rate), or left "
                                       "empty for 10%")},
}


@pytest.mark.parametrize("typed", list(PART_ERRORS), ids=lambda t: "-".join(t))
@pytest.mark.parametrize("speaker", [JA, EN], ids=["ja", "en"])
def test_each_part_of_a_line_is_read_on_its_own_and_its_error_is_under_its_input(runtime, typed, speaker):
    """Not 「品名:数量:単価」の形で書いてください on the line's last input: the form has an input per
    part, so the part that does not read is said under it, in its own words, values in 「」."""
    newcase = runtime.registry.get("newcase")
    quantity, price, rate = typed
    state = formspec.FormState(newcase, {"client": "ACME", "title": "金型", "item.1.0": "金型設計",
                                         "item.1.1": quantity, "item.1.2": price, "item.1.3": rate}, {"item": 1})
    assert formspec.read(state, speaker) is None
    expected = {name: said[0 if speaker is JA else 1] for name, said in PART_ERRORS[typed].items()}
    assert state.errors == expected
    card = card_body(formspec.build(state, speaker, {}, "users/1"), EventFormat.CLASSIC, "https://a/")
    shown = {name: html.unescape(re.sub("<[^>]+>", "", text)) for name, text in errors_after(card).items()}
    assert shown == expected  # right under the input it is about
    assert not any(word in json.dumps(card, ensure_ascii=False) for word in ("品名:数量:単価", "DESC:QTY"))


def test_a_description_too_long_for_a_document_is_said_under_it(runtime):
    state = formspec.FormState(runtime.registry.get("newcase"),
                               {"client": "ACME", "title": "金型", "item.1.0": "設" * 101, "item.1.1": "1",
                                "item.1.2": "1000"}, {"item": 1})
    assert formspec.read(state, JA) is None
    assert state.errors == {"item.1.0": "品名: 101 文字です。見積書・請求書の1行に入るのは 100 文字までです。"
                                        "短くしてください"}


def _in_columns(card: dict) -> list[str]:
    """The texts of the widgets drawn inside a column (half the width, beside another)."""
    return [w.get("textParagraph", {}).get("text", "") for section in card.get("sections", [])
            for row in section.get("widgets", []) for column in row.get("columns", {}).get("columnItems", [])
            for w in column.get("widgets", [])]


def test_two_parts_that_do_not_read_are_said_together_under_both(runtime):
    """数量 and 単価 sit side by side (columns); with both wrong, their one error widget (a dialog holds
    at most 100) was in 数量's column, so 単価's error was said under 数量, squeezed to half the
    width (seen in the browser chat at 390 px). It goes under the row, across it."""
    state = formspec.FormState(runtime.registry.get("newcase"),
                               {"client": "ACME", "title": "金型", "item.1.0": "設計", "item.1.1": "一",
                                "item.1.2": "3万8千5"}, {"item": 1})
    assert formspec.read(state, JA) is None and set(state.errors) == {"item.1.1", "item.1.2"}
    card = card_body(formspec.build(state, JA, {}, "users/1"), EventFormat.CLASSIC, "https://a/")
    [(name, text)] = errors_after(card).items()  # one widget for the line
    assert name == "item.1.2" and "数量: 「一」" in text and "単価: 「3万8千5」" in text
    assert not any("<font color" in t for t in _in_columns(card))
    # one part wrong: under its own input, in its column
    state = formspec.FormState(runtime.registry.get("newcase"),
                               {"client": "ACME", "title": "金型", "item.1.0": "設計", "item.1.1": "1",
                                "item.1.2": "3万8千5"}, {"item": 1})
    assert formspec.read(state, JA) is None
    card = card_body(formspec.build(state, JA, {}, "users/1"), EventFormat.CLASSIC, "https://a/")
    assert list(errors_after(card)) == ["item.1.2"] and any("単価: 「3万8千5」" in t for t in _in_columns(card))
    # 品名 and 税率 (a row each): said once, under 税率, the last of them
    state = formspec.FormState(runtime.registry.get("newcase"),
                               {"client": "ACME", "title": "金型", "item.1.0": "設" * 101, "item.1.1": "1",
                                "item.1.2": "1000", "item.1.3": "5%"}, {"item": 1})
    assert formspec.read(state, JA) is None and set(state.errors) == {"item.1.0", "item.1.3"}
    card = card_body(formspec.build(state, JA, {}, "users/1"), EventFormat.CLASSIC, "https://a/")
    assert list(errors_after(card)) == ["item.1.3"]


def test_a_line_whose_parts_read_is_still_checked_whole(runtime):
    state = formspec.FormState(runtime.registry.get("newcase"),
                               {"client": "ACME", "title": "金型", "item.1.0": "縮尺1:100", "item.1.1": "1",
                                "item.1.2": "50"}, {"item": 1})
    assert formspec.read(state, EN) == {"client": "ACME", "title": "金型", "due": None, "portal": None,
                                        "item": ["縮尺1:100:1:¥50"]}  # joined so that it reads back as typed


def test_lines_are_added_and_removed_keeping_what_was_typed(runtime):
    newcase = runtime.registry.get("newcase")
    state = formspec.FormState(newcase, {f"item.{n}.0": f"line {n}" for n in (1, 2, 3)}, {"item": 3})
    formspec.remove_line(state, "item", "2")
    assert state.lines["item"] == 2 and state.inputs == {"item.1.0": "line 1", "item.2.0": "line 3"}
    for _ in range(40):
        formspec.add_line(state, "item")
    assert state.count(newcase.params[-1]) == formspec.MAX_LINES
    formspec.remove_line(state, "item", "999")
    formspec.remove_line(state, "nosuch", "1")
    assert state.count(newcase.params[-1]) == formspec.MAX_LINES


def test_a_submit_with_inputs_the_form_does_not_have_is_refused(runtime):
    sleep = runtime.registry.get("sleep")
    state = formspec.from_submit(sleep, {"seconds": FormInput(("3",)), "admin": FormInput(("1",))}, {})
    assert state.errors == {formspec.FORM: "forged"}
    lines = formspec.from_submit(runtime.registry.get("newcase"), {}, {"n.item": "99999"})
    assert lines.lines["item"] == 1  # what is not a small number is one line


@pytest.mark.parametrize("form", [
    {"title": FormInput(("金型", "偽の件名"))},  # two values for a text input: never the first taken silently
    {"title": FormInput((), ms=1796083200000)},  # a date picker's value for the title: never "2026-12-01"
    {"due": FormInput((), time=(9, 0))},  # a time where the date is
    {"due": FormInput(("12/1",), ms=1796083200000)},  # both a text and a date
    {"item.1.1": FormInput((), ms=1796083200000)},  # a date for a line's quantity
])
def test_a_submit_with_an_input_of_the_wrong_kind_or_two_values_is_refused(runtime, form):
    newcase = runtime.registry.get("newcase")
    state = formspec.from_submit(newcase, {"client": FormInput(("ACME",)), **form}, {})
    assert state.errors == {formspec.FORM: "forged"}


def test_a_date_from_the_picker_or_typed_is_read(runtime):
    newcase = runtime.registry.get("newcase")
    picked = formspec.from_submit(newcase, {"due": FormInput((), ms=1796083200000)}, {})
    typed = formspec.from_submit(newcase, {"due": FormInput(("2026-12-01",))}, {})
    assert picked.errors == typed.errors == {} and picked.inputs == typed.inputs == {"due": "2026-12-01"}


# -- the webhook --------------------------------------------------------------------------------------
def answer(runtime, body: dict) -> dict:
    webhook = Webhook(runtime)
    event = parse_event(body)
    return response_json(webhook.answer(event), event.format, runtime.settings.webhook_url)


def test_the_webhook_opens_the_form_prefilled_and_makes_nothing(runtime):
    body = answer(runtime, classic_request())
    card = body["actionResponse"]["dialogAction"]["dialog"]["body"]
    assert card["fixedFooter"]["primaryButton"]["text"] == "次へ"
    assert card["sections"][0]["widgets"][0]["textInput"]["value"] == "ACME"
    assert runtime.store.docs.query("confirmations", [], "created_at", True, 10) == []


@pytest.mark.parametrize("title", ["型「A」改", '彼は "OK" と', "型『A』 'B'"])
def test_a_title_with_quotes_inside_opens_the_form_as_typed(runtime, title):
    # what was typed travels to the form as text split again: 「」 inside a quoted title stay text
    event = classic_request()
    event["message"]["text"], event["message"]["argumentText"] = f"/newcase ACME 「{title}」", f" ACME 「{title}」"
    card = answer(runtime, event)["actionResponse"]["dialogAction"]["dialog"]["body"]
    values = [w["textInput"].get("value") for s in card["sections"] for w in s["widgets"] if "textInput" in w]
    assert values[:2] == ["ACME", title]


@pytest.mark.parametrize(("typed", "language", "said"), [
    ("ACME「x", "ja", "コマンドの後に書かれた内容を読み取れなかったため（引用符が閉じていません）、"
                      "空のフォームを開きました。"),
    ("ACME 'x", "en", "What was typed after the command could not be read (a quotation mark is not closed), so "
                      "the form opens empty: fill it in."),
])
def test_a_slash_command_whose_text_does_not_read_opens_the_form_saying_so(runtime, typed, language, said):
    event = classic_request()
    event["message"]["text"], event["message"]["argumentText"] = f"/newcase {typed}", f" {typed}"
    event["common"]["userLocale"] = language
    card = answer(runtime, event)["actionResponse"]["dialogAction"]["dialog"]["body"]
    assert card["header"]["title"] == ("新規案件" if language == "ja" else "newcase")
    assert said in html.unescape(json.dumps(card, ensure_ascii=False))


def test_a_valid_submit_closes_the_form_with_the_confirmation_card(runtime):
    inputs = {"seconds": {"stringInputs": {"value": ["３"]}}}
    params = {"form": "sleep", "by": "users/1102399485", "step": "submit"}
    event = addon_submit(inputs, params)
    event["chat"]["user"]["name"] = "users/1102399485"
    body = answer(runtime, event)
    message = body["hostAppDataAction"]["chatDataAction"]["createMessageAction"]["message"]
    assert "3 秒待ちます" in json.dumps(message, ensure_ascii=False)  # the event says userLocale ja
    [confirmation] = runtime.store.docs.query("confirmations", [], "created_at", True, 10)
    assert confirmation["params"] == {"seconds": 3}


def test_a_failure_while_answering_a_dialog_is_said_in_the_dialog(runtime, monkeypatch):
    def down(*args, **kwargs):
        raise StoreUnavailable("firestore is down")

    monkeypatch.setattr(runtime.store, "create_confirmation", down)
    event = addon_submit({"seconds": {"stringInputs": {"value": ["3"]}}}, {"form": "sleep", "step": "submit"})
    event["commonEventObject"]["parameters"]["by"] = event["chat"]["user"]["name"]
    body = answer(runtime, event)
    assert "updateCard" in body["action"]["navigations"][0]
    assert "ジョブの記録先に接続できなかった" in json.dumps(body, ensure_ascii=False)
    opened = copy.deepcopy(classic_request())
    monkeypatch.setattr(runtime.registry, "get", lambda name: (_ for _ in ()).throw(RuntimeError("bug")))
    failed = answer(runtime, opened)
    assert failed["actionResponse"]["type"] == "DIALOG"  # never a message where Chat waits for a dialog


# -- prefill hooks, values carried in buttons ---------------------------------------------------------
def test_a_value_the_form_shows_no_input_for_travels_in_its_buttons_and_is_read_as_typed(runtime):
    estimate = runtime.registry.get("estimate")
    state = formspec.initial(estimate, {"case": "2026-001", "item": ["設計:1:350000", "資料:2:1000:8%"],
                                        "replace": True, "change": None, "base": 1}, {}, {"mail": "ignored"})
    assert state.carried == {"replace": "true", "base": "1"} and state.bound == {}  # estimate binds nothing
    assert state.inputs["item.2.3"] == "8%" and state.inputs["item.2.0"] == "資料"
    card = formspec.build(state, EN, {}, "users/1")
    names = {w.name for s in card.sections for w in s.widgets if hasattr(w, "name")}
    assert not {"change", "remove", "replace", "base"} & names  # no input for them
    parameters = dict(card.footer.params)
    assert parameters["v.replace"] == "true" and parameters["v.base"] == "1" and "b.mail" not in parameters
    inputs = {name: FormInput((value,)) for name, value in state.inputs.items()}
    inputs["item.2.3"] = FormInput(("８",))  # a rate typed without %, full-width
    back = formspec.from_submit(estimate, inputs, parameters)
    assert formspec.read(back, EN) == {"case": "2026-001", "item": ["設計:1:350000", "資料:2:1000:8%"],
                                       "change": None, "remove": None, "base": 1, "replace": True, "to": None,
                                       "valid_until": None}


def test_a_forged_binding_of_any_length_is_carried_cut_and_the_dialog_stays_within_chats_size(runtime):
    """A submit whose ``b.mail`` was 12,000 characters drew the form again with it in every button:
    a dialog of over 32,000 bytes, which Chat does not show (found by the fuzz of the mail cards)."""
    newcase = runtime.registry.get("newcase")
    forged = "あ" * 12_000
    for state in (formspec.from_submit(newcase, {}, {"form": "newcase", "by": "users/1", "b.mail": forged}),
                  formspec.initial(newcase, {}, {}, {"mail": forged})):
        card = formspec.build(state, EN, {}, "users/1")
        assert card.footer.params["b.mail"] == forged[:formspec.MAX_CARRIED]  # still bound: an unknown mail
        assert len(json.dumps(card_body(card, EventFormat.ADDON, "https://x.example/"), ensure_ascii=False)
                   .encode()) < 32_000


@pytest.mark.parametrize("hostile", ["あ" * 300, "<&" * 150, "\"'" * 150, "\\u0000" * 50],
                         ids=["japanese", "markup", "quotes", "escapes"])
def test_every_form_sent_back_full_of_hostile_text_stays_within_chats_size(runtime, hostile):
    """Every input of every form, twelve lines of every part included, filled with 300 characters
    that are refused, quoted in the errors or escaped: the dialog drawn again stays within Chat's
    32,000 bytes in both formats and languages. Each part of a line was shown up to the whole
    line's length: 12 lines of four 200-character parts in Japanese made a dialog of 38,000 bytes."""
    forms = [job_type for job_type in runtime.registry if any(p.in_form for p in job_type.params)]
    assert {"newcase", "estimate", "invoice"} <= {job_type.name for job_type in forms}
    for job_type in forms:
        inputs, parameters = {}, {"form": job_type.name, "by": "users/1"}
        for param in job_type.params:
            if param.repeated:
                parameters[f"n.{param.name}"] = str(formspec.MAX_LINES)
                names = [f"{param.name}.{n}.{part}" if param.parts else f"{param.name}.{n}"
                         for n in range(1, formspec.MAX_LINES + 1) for part in range(max(1, len(param.parts)))]
            else:
                names = [param.name]
            inputs.update({name: FormInput((hostile,)) for name in names})
        for speaker in (EN, JA):
            state = formspec.from_submit(job_type, inputs, parameters)
            formspec.read(state, speaker)  # what it refuses is drawn with its error (echo takes it all)
            card = formspec.build(state, speaker, {}, "users/1")
            for event_format in EventFormat:
                size = len(json.dumps(card_body(card, event_format, "https://x.example/"), ensure_ascii=False)
                           .encode())
                assert size < 32_000, (job_type.name, speaker.language, event_format, size)


def test_a_part_padded_with_spaces_leaves_the_other_parts_of_its_line_shown(runtime):
    """A line's parts share the line's length when the form is drawn again; a 品名 padded with 300
    spaces took all of it, and the 数量 and 単価 typed beside it came back empty."""
    estimate = runtime.registry.get("estimate")
    inputs = {"case": FormInput(("2026-001",)), "item.1.0": FormInput((" " * 300 + "設計",)),
              "item.1.1": FormInput(("1",)), "item.1.2": FormInput(("abc",))}  # a price that does not read
    state = formspec.from_submit(estimate, inputs, {"form": "estimate", "by": "users/1", "n.item": "1"})
    assert formspec.read(state, EN) is None
    card = card_body(formspec.build(state, EN, {}, "users/1"), EventFormat.CLASSIC, "https://x.example/")
    shown = {name: field.get("value", "") for name, field in inputs_of(card).items()}
    assert (shown["item.1.0"], shown["item.1.1"], shown["item.1.2"]) == ("設計", "1", "abc"), shown


def test_a_form_bound_to_what_opened_it_keeps_it_and_a_prefill_refusal_is_said_in_the_dialog(runtime):
    newcase = runtime.registry.get("newcase")
    state = formspec.initial(newcase, {"client": "ACME"}, {}, {"mail": "mail-abc"})
    assert formspec.build(state, EN, {}, "users/1").footer.params["b.mail"] == "mail-abc"
    event = load("classic/card_clicked.json")
    event["common"] = {"invokedFunction": "mail-open", "parameters": {"mail": "mail-nosuch", "form": "newcase"}}
    event.update(isDialogEvent=True, dialogEventType="REQUEST_DIALOG")
    body = answer(runtime, event)
    card = body["actionResponse"]["dialogAction"]["dialog"]["body"]
    assert "I no longer know the mail of this button." in json.dumps(card) and "fixedFooter" not in card
    assert runtime.store.docs.query("confirmations", [], "created_at", True, 10) == []


@pytest.mark.parametrize(("typed", "example"), [
    ("sleep 三", "例: sleep 5"),
    ("新規案件 ACME", "例: 新規案件 ACME「プレス金型 A-12」 納期：12月1日"),  # the example in the office's own words
])
def test_a_command_that_does_not_read_shows_a_whole_example_in_the_persons_words(runtime, typed, example):
    event = load("classic/message.json")
    event["message"]["text"] = event["message"]["argumentText"] = typed
    event.setdefault("common", {})["userLocale"] = "ja"
    text = answer(runtime, event)["text"]
    assert text.startswith("読み取れませんでした") and text.splitlines()[-1] == example


def test_a_past_due_date_is_said_under_the_date_and_with_the_other_errors(runtime):
    """A 納期 in the past (the job type's rule of the day) was said at the top of the form, and only
    once every other field read: fix the title, press 次へ, and only then hear of the date."""
    newcase = runtime.registry.get("newcase")
    today = dt.date(2026, 11, 30)
    state = formspec.FormState(newcase, {"client": "ACME", "title": "", "due": "2026-11-01"}, {})
    assert formspec.read(state, JA, today) is None
    assert set(state.errors) == {"title", "due"}, state.errors
    assert state.errors["due"].startswith("納期の 2026年11月1日(日) は過去の日付です")
    card = card_body(formspec.build(state, JA, {}, "users/1"), EventFormat.CLASSIC, "https://a/")
    assert set(errors_after(card)) == {"title", "due"}  # each under its input, none at the top
    state = formspec.FormState(newcase, {"client": "ACME", "title": "金型", "due": "2026-11-01"}, {})
    assert formspec.read(state, JA, today) is None and list(state.errors) == ["due"]
    state = formspec.FormState(newcase, {"client": "ACME", "title": "金型", "due": "2026-12-01"}, {})
    assert formspec.read(state, JA, today)["due"] == "2026-12-01"


@pytest.mark.parametrize("speaker", [JA, EN], ids=["ja", "en"])
def test_no_input_of_a_form_has_a_hint_that_only_repeats_its_label(runtime, speaker):
    """入金's form said 入金額 above its input and 入金額 again under it (its help was "the amount
    received"): a hint says something the label does not, or is left out."""
    hints = 0
    for job_type in runtime.registry:
        if not job_type.params or not any(p.in_form for p in job_type.params):
            continue
        card = card_body(formspec.build(formspec.FormState(job_type, {}, {}), speaker, {}, "users/1"),
                         EventFormat.CLASSIC, "https://a/")
        for name, field in inputs_of(card).items():
            hint = field.get("hintText", "")
            assert not hint or hint.strip().rstrip("。.").lower() != field.get("label", "").lower(), \
                (job_type.name, name, hint)
            hints += bool(hint)
    assert hints, "no input with a hint was read: the loop checked nothing"


@pytest.mark.parametrize("text", ["回数：2回", "--times 3", "sleep"])
def test_a_form_opens_prefilled_for_a_job_type_whose_numbers_take_units(text):
    """A parameter with units (fail's 回数, sleep's 秒) is read as written for the form: the fuzz
    found Fill in of ``fail`` answered with the apology (``ValueError: only a number has units``)."""
    from ackflow.app.dialogs import prefill

    registry = build_registry(Settings())
    for name in ("fail", "sleep"):
        values, problem = prefill(registry.get(name), text, Speaker("ja"))
        assert isinstance(values, dict) and isinstance(problem, str)
    values, _ = prefill(registry.get("fail"), "回数：2回", Speaker("ja"))
    assert values.get("times") == 2  # read, as a value that reads is shown
