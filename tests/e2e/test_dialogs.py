"""Forms instead of options, end to end on the local stack in both event formats: a slash command
opens the job type's dialog, a submit with an error comes back with the error next to its field,
the fixed submit closes it with the confirmation card, Run makes the job, and its result has link
buttons that open in a browser. In Japanese (userLocale ja, Asia/Tokyo, on a phone) and English."""

from __future__ import annotations

import datetime as dt
import html
import time
from decimal import Decimal

import pytest
import requests

from ackflow.jobs.model import JobStatus
from ackflow_tools.emulators.chat.userside import find_button, iter_buttons
from tests.support.dialogs import errors_after, filled_in, form_inputs, inputs_of, text, value_of
from tests.support.mail import request_due
from tests.support.office import running_office
from tests.support.pipeline import ALICE, BOB
from workers.office import ledger
from workers.office.money import Line

JA = {"locale": "ja", "timeZone": "Asia/Tokyo", "platform": "IOS"}
EN = {"locale": "en-US", "timeZone": "America/New_York", "platform": "WEB"}
WORDS = {  # what each language's dialog says
    "ja": {"title": "件名", "next": "次へ", "add": "行を追加", "missing": "件名を入力してください。", "run": "実行",
           "quantity": "数量: 「abc」は数として読めません（例: 1、1.5）",
           "items": "金型設計 × 1 @ ¥350,000<br>試作立会い × 2 @ ¥40,000 = ¥80,000<br>小計（税抜）: ¥430,000"},
    "en": {"title": "Title", "next": "Next", "add": "Add a line", "missing": "Fill in Title.", "run": "Run",
           "quantity": "Quantity: “abc” is not a number I can read (e.g. 1 or 1.5)",
           "items": "金型設計 × 1 @ ¥350,000<br>試作立会い × 2 @ ¥40,000 = ¥80,000<br>Subtotal before tax: ¥430,000"},
}


@pytest.fixture(scope="module", params=["classic", "addon"])
def office(request, tmp_path_factory):
    with running_office(tmp_path_factory.mktemp(f"dialogs-{request.param}"), "embedded", request.param) as pipeline:
        yield pipeline


def counts(office) -> tuple[int, int]:
    return office.counts()


def result_links(office, job, timeout: float = 10.0) -> dict[str, str]:
    """The link buttons of the job's message once it shows the result (a progress edit sent just
    before the job ended may still land after it: the result's edit follows)."""
    deadline = time.monotonic() + timeout
    while True:
        message = office.job_message(job)
        links = {b["text"]: b["onClick"]["openLink"]["url"] for b in iter_buttons(message)
                 if "openLink" in b["onClick"]}
        if links or time.monotonic() > deadline:
            return links
        time.sleep(0.1)


@pytest.mark.parametrize("client", [JA, EN], ids=["ja", "en"])
def test_a_form_with_an_error_then_fixed_makes_one_job_whose_result_links_open(office, client):
    words = WORDS["ja" if client is JA else "en"]
    space = f"spaces/form{client['locale'][:2]}"
    before = counts(office)
    opened = office.send("/newcase ACME", space=space, **client)
    assert opened["reply"]["action"] == "dialog", opened
    dialog = opened["reply"]["dialog"]
    fields = inputs_of(dialog)
    assert value_of(fields, "client") == "ACME"  # what was typed after the command fills the form in
    assert fields["title"]["label"] == words["title"]
    assert fields["due"]["kind"] == "dateTimePicker" and fields["due"]["type"] == "DATE_ONLY"
    assert {"item.1.0", "item.1.1", "item.1.2"} <= set(fields)

    # a submit with the title missing and a quantity that is not a number: errors next to them
    due = request_due()  # a month ahead: a case's due date is never in the past
    bad = {"client": "ACME", "title": "", "due": due,
           "item.1.0": "金型設計", "item.1.1": "abc", "item.1.2": "350000"}
    answer = office.submit_dialog(words["next"], form_inputs(bad), space=space, **client)
    assert answer["reply"]["action"] == "dialog", answer
    errors = errors_after(answer["reply"]["dialog"])
    assert words["missing"] in errors["title"]
    # the quantity's error is under the quantity's input, in its own words: not the colon syntax of a
    # typed line after the line's last input
    assert html.unescape(errors["item.1.1"]).endswith(words["quantity"] + "</font>"), errors
    assert set(errors) == {"title", "item.1.1"} and "品名:数量:単価" not in errors["item.1.1"]
    assert counts(office) == before  # nothing made yet

    # add a line: the dialog comes back with two lines and what was typed kept
    more = office.submit_dialog(words["add"], form_inputs(bad), space=space, **client)
    again = inputs_of(more["reply"]["dialog"])
    assert {"item.2.0", "item.2.1", "item.2.2"} <= set(again)
    assert again["item.1.0"]["value"] == "金型設計" and value_of(again, "client") == "ACME"

    fixed = {**bad, "title": "プレス金型 A-12", "item.1.1": "1",
             "item.2.0": "試作立会い", "item.2.1": "２", "item.2.2": "40,000"}  # full-width 2, as an IME types
    closed = office.submit_dialog(words["next"], form_inputs(fixed), space=space, **client)
    reply = closed["reply"]
    assert reply["action"] == "created" and reply["dialogClosed"], closed
    card = reply["message"]
    assert "プレス金型 A-12" in text(card) and reply["message"].get("fallbackText")
    assert words["items"] in text(card)  # the lines as money, checked before Run
    assert office.open_dialog(space) is None
    assert counts(office) == (before[0], before[1] + 1)  # one confirmation, no job yet

    clicked = office.click(card, words["run"] if find_button(card, words["run"]) else "Run", space=space)
    assert "error" not in clicked, clicked
    job = office.wait_job(office.job_of(card), JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=60)
    assert job.status == JobStatus.SUCCEEDED, job.last_error
    assert job.params["title"] == "プレス金型 A-12" and job.params["due"] == due.isoformat()
    assert job.params["item"] == ["金型設計:1:350000", "試作立会い:2:40,000"]
    assert job.thread  # the job reports in the thread of its card

    links = result_links(office, job)
    assert len(links) == 3, links  # the folder, the sheet row, the estimate
    pages = {label: requests.get(url, timeout=10) for label, url in links.items()}
    assert all(page.status_code == 200 for page in pages.values()), {k: v.status_code for k, v in pages.items()}
    kinds = sorted(page.headers["Content-Type"].split(";")[0] for page in pages.values())
    assert kinds == ["application/pdf", "text/html", "text/html"]
    assert any(job.result["case"] in page.text for page in pages.values() if "html" in page.headers["Content-Type"])
    assert counts(office) == (before[0] + 1, before[1] + 1)


def test_known_clients_are_offered_in_a_dropdown(office):
    office.wait_job(office.start('newcase ACME "earlier case"', space="spaces/known"), JobStatus.SUCCEEDED,
                    timeout=60)
    dialog = office.send("/newcase", space="spaces/known", **EN)["reply"]["dialog"]
    client = inputs_of(dialog)["client"]
    assert client["kind"] == "selectionInput" and "ACME" in [i["value"] for i in client["items"]]
    assert "client.new" in inputs_of(dialog)  # a client not in the list is typed beside it


def test_closing_the_dialog_starts_nothing(office):
    before = counts(office)
    office.send("/newcase", space="spaces/cancel", **EN)
    closed = office.cancel_dialog(space="spaces/cancel")
    assert closed["reply"]["action"] == "dialog-closed"
    assert office.open_dialog("spaces/cancel") is None and counts(office) == before


REFUSALS = {  # what the dialog says when a submit is refused, in each language
    "ja": {"someone": "このフォームは別の方が開いたものなので、何も実行していません。",
           "forged": "フォームにない項目が送られてきたため、何も実行していません。フォームを開き直してください。"},
    "en": {"someone": "This form was opened by someone else; nothing was started.",
           "forged": "The form sent fields it does not have; nothing was started."},
}


@pytest.mark.parametrize("client", [JA, EN], ids=["ja", "en"])
def test_a_submit_by_someone_else_or_with_forged_fields_is_refused_in_the_dialog(office, client):
    language = "ja" if client is JA else "en"
    words, next_ = REFUSALS[language], WORDS[language]["next"]
    space = f"spaces/forged{language}"
    before = counts(office)
    dialog = office.send("/newcase ACME", space=space, **client)["reply"]["dialog"]
    submit = dialog["fixedFooter"]["primaryButton"]["onClick"]["action"]
    good = form_inputs({"client": "ACME", "title": "ok"})
    # Bob replays Alice's form: refused, nothing made
    response = office.http.post(f"{office.chat_url}/_emulator/{space}:submitDialog", timeout=60,
                                json={"action": submit, "formInputs": good, "user": BOB, **client})
    refused = response.json()["reply"]
    assert response.status_code == 200 and refused["action"] == "dialog"
    assert words["someone"] in text(refused["dialog"]), text(refused["dialog"])
    # an input the dialog does not have
    forged = office.submit_dialog(next_, {**good, **form_inputs({"owner": "admin"})}, space=space, **client)
    assert words["forged"] in text(forged["reply"]["dialog"]), text(forged["reply"]["dialog"])
    # an input of the wrong kind (a date picker's value as the title) or with two values: never read as one
    for wrong in ({"title": {"dateInput": {"msSinceEpoch": "1796083200000"}}},
                  {"title": {"stringInputs": {"value": ["ok", "偽"]}}}):
        forged = office.submit_dialog(next_, {**good, **wrong}, space=space, **client)
        assert words["forged"] in text(forged["reply"]["dialog"]), text(forged["reply"]["dialog"])
    # nothing sent at all: every required field is missing, said in the dialog
    empty = office.submit_dialog(next_, {}, space=space, **client)
    assert set(errors_after(empty["reply"]["dialog"])) >= {"client.new", "title"} or \
        set(errors_after(empty["reply"]["dialog"])) >= {"client", "title"}
    # a job type that is not offered as a form (scheduled), and one that does not exist
    for name in ("tick", "nosuch"):
        action = {**submit, "parameters": [p if p["key"] != "form" else {"key": "form", "value": name}
                                           for p in submit["parameters"]]}
        response = office.http.post(f"{office.chat_url}/_emulator/{space}:submitDialog", timeout=60,
                                    json={"action": action, "formInputs": good, "user": ALICE, **client})
        assert response.status_code == 200 and response.json()["reply"]["action"] == "dialog"
    assert counts(office) == before


HOSTILE_FORMS = {  # input → (what is typed in it, what the dialog says next to it in ja, in en)
    "title": ("金" * 10_000, "件名が長すぎます（10,000 文字。最大 200 文字）",
              "Title is too long (10,000 characters; at most 200)"),
    "client": ("\u202e\u200b\u202c", "顧客を入力してください。", "Fill in Client."),  # bidi and zero-width marks only
    "due": ("令和1年4月30日", "令和は 2019年5月1日", "令和 began on 2019-05-01"),  # typed into the date's text
    "item.1.2": ("99999999999999999円", "9,999,999,999 円以下", "¥9,999,999,999"),
}


@pytest.mark.parametrize("client", [JA, EN], ids=["ja", "en"])
def test_hostile_text_in_a_form_is_said_next_to_its_field_in_the_persons_language_and_makes_nothing(office, client):
    """10 kB of text, a client of nothing but bidi and zero-width marks, a day outside its era and an
    amount that overflows, with mixed-width garbage and emoji in the other inputs: each error next to
    its input, in the person's language; never a 5xx, nothing stored."""
    language = "ja" if client is JA else "en"
    space = f"spaces/hostile-form-{language}"
    before = counts(office)
    assert office.send("/newcase", space=space, **client)["reply"]["action"] == "dialog"
    typed = {"item.1.0": "ＡＣＭＥ１２３ｘｙ　漢字ｶﾀｶﾅ　🚀🎉", "item.1.1": "１",
             **{name: value for name, (value, _, _) in HOSTILE_FORMS.items()}}
    answer = office.submit_dialog(WORDS[language]["next"], form_inputs(typed), space=space, **client)
    assert answer["reply"]["action"] == "dialog", answer
    errors = {name: html.unescape(said) for name, said in errors_after(answer["reply"]["dialog"]).items()}
    for name, (_, japanese, english) in HOSTILE_FORMS.items():
        shown = next((said for key, said in errors.items() if key.startswith(name.rpartition(".")[0] or name)), "")
        assert (japanese if client is JA else english) in shown, (name, errors)
    assert counts(office) == before


def test_a_typed_command_with_a_problem_offers_the_form_filled_in(office):
    answer = office.send('newcase ACME --due 2026-13-40', space="spaces/typed", **EN)
    message = answer["reply"]["message"]
    assert "could not read" in message["text"]
    button = find_button(message, "Fill in")
    assert button["interaction"] == "OPEN_DIALOG"
    opened = office.click(message, "Fill in", space="spaces/typed")
    assert opened["reply"]["action"] == "dialog"
    fields = inputs_of(opened["reply"]["dialog"])
    assert value_of(fields, "client") == "ACME"
    assert "2026-13-40" in text(opened["reply"]["dialog"])  # the problem, at the top of the form
    # typed commands keep working as they did
    card = office.send('newcase ACME "typed case"', space="spaces/typed", **EN)["reply"]["message"]
    assert find_button(card, "Run")


def test_the_estimate_form_opens_with_the_latest_version_and_issues_exactly_the_lines_as_edited(office):
    space = "spaces/estimateform"
    first = office.wait_job(office.start('newcase ACME "フォームの見積" --item "金型設計:1:350000" '
                                         '--item "資料:2:1000:8%"', space=space), JobStatus.SUCCEEDED, timeout=60)
    case = first.result["case"]
    v1 = ledger.get(office.store.docs, "quotation", f"{case}-v1")

    opened = office.send(f"/estimate {case}", space=space, **EN)
    dialog = opened["reply"]["dialog"]
    fields = inputs_of(dialog)
    rows = [[value_of(fields, f"item.{n}.{part}") for part in range(4)] for n in (1, 2)]
    assert rows == [["金型設計", "1", "350000", ""], ["資料", "2", "1000", "8%"]]  # v1's lines, its reduced rate
    assert "item.3.0" not in fields and "change" not in fields and "remove" not in fields
    assert value_of(fields, "to") == "ACME"
    shown_until = dt.datetime.fromtimestamp(int(fields["valid_until"]["valueMsEpoch"]) / 1000, dt.UTC).date()
    assert shown_until.isoformat() == v1.valid_until

    # remove line 1, then change line 2 (now line 1)'s price
    removed = office.submit_dialog("Remove line 1", filled_in(dialog), space=space, **EN)["reply"]["dialog"]
    left = inputs_of(removed)
    assert value_of(left, "item.1.0") == "資料" and "item.2.0" not in left
    before = counts(office)
    closed = office.submit_dialog("Next", filled_in(removed, {"item.1.2": "1,200"}), space=space, **EN)
    card = closed["reply"]["message"]
    assert closed["reply"]["action"] == "created" and find_button(card, "Run"), closed
    assert counts(office) == (before[0], before[1] + 1)  # a confirmation, no job before Run
    assert "error" not in office.click(card, "Run", space=space)
    job = office.wait_job(office.job_of(card), JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=60)
    assert job.status == JobStatus.SUCCEEDED, job.last_error
    assert job.result["estimate_version"] == 2
    v2 = ledger.get(office.store.docs, "quotation", f"{case}-v2")
    assert v2.lines == (Line("資料", Decimal(2), 1200, reduced=True),)  # exactly the lines as edited
    assert v2.recipient == "ACME" and v2.valid_until == v1.valid_until
    assert ledger.get(office.store.docs, "quotation", f"{case}-v1").lines == v1.lines  # v1 kept as it was


@pytest.mark.parametrize("client", [JA, EN], ids=["ja", "en"])
def test_the_estimate_forms_card_shows_what_the_person_chose_not_the_forms_own_replace_flag(office, client):
    """The estimate form always sends the whole new version (``replace``, set by the form, never
    shown in it): its card lists the lines and the version they were edited from, not a
    “Replace the lines: yes” nobody chose; typed, ``--replace`` is the person's and is shown."""
    ja = client is JA
    space = f"spaces/estimate-flag-{client['locale'][:2]}"
    first = office.wait_job(office.start('newcase ACME "置換の表示" --item "金型設計:1:350000"', space=space),
                            JobStatus.SUCCEEDED, timeout=60)
    case = first.result["case"]
    flag, yes = ("明細を置き換える", "はい") if ja else ("Replace the lines", "Yes")
    dialog = office.send(f"/estimate {case}", space=space, **client)["reply"]["dialog"]
    closed = office.submit_dialog("次へ" if ja else "Next", filled_in(dialog), space=space, **client)
    card = closed["reply"]["message"]
    assert closed["reply"]["action"] == "created" and find_button(card, "実行" if ja else "Run"), closed
    shown = text(card)
    assert "金型設計 × 1 @ ¥350,000" in shown  # the lines as they stand
    assert ("元の版" if ja else "Edited from version") in shown  # the version they were edited from
    assert ("明細は v1 と同じです。" if ja else "Its lines are the same as v1's.") in shown
    assert flag not in shown, shown  # neither a field nor in the fallback text

    typed = office.send(f'estimate {case} --replace --item "金型設計:1:360000"', space=space, **client)
    assert f"{flag}: {yes}" in text(typed["reply"]["message"])  # typed: the person's choice, shown


def test_an_estimate_of_more_lines_than_a_form_holds_opens_the_form_to_add_and_drops_none(office):
    """v1 has 13 lines, one more than a form shows: the form opens with none of them (not the first
    twelve, which as a whole new version would drop the thirteenth), and what it adds is added."""
    space = "spaces/estimate-long"
    typed = " ".join(f'--item "設計{n}:1:{1000 + n}"' for n in range(1, 14))
    first = office.wait_job(office.start(f'newcase ACME "長い見積" {typed}', space=space), JobStatus.SUCCEEDED,
                            timeout=60)
    case = first.result["case"]
    assert len(ledger.get(office.store.docs, "quotation", f"{case}-v1").lines) == 13
    dialog = office.send(f"/estimate {case}", space=space, **EN)["reply"]["dialog"]
    fields = inputs_of(dialog)
    assert value_of(fields, "item.1.0") == "" and "item.2.0" not in fields
    closed = office.submit_dialog("Next", filled_in(dialog, {"item.1.0": "追加", "item.1.1": "1",
                                                             "item.1.2": "500"}), space=space, **EN)
    card = closed["reply"]["message"]
    assert closed["reply"]["action"] == "created" and find_button(card, "Run"), closed
    office.click(card, "Run", space=space)
    job = office.wait_job(office.job_of(card), JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=60)
    assert job.status == JobStatus.SUCCEEDED, job.last_error
    v2 = ledger.get(office.store.docs, "quotation", f"{case}-v2")
    assert [line.description for line in v2.lines] == [f"設計{n}" for n in range(1, 14)] + ["追加"]
