"""A case command's "run this?" card says what the job will do with the case as it stands: the
estimate version an order accepts and its amount, the version and total a new estimate makes, an
invoice's total and where its lines come from, what a payment leaves outstanding, the stage a held
case goes back to. In the person's language. Run refuses, with no job made, when that is no longer
so (another version was issued, a payment recorded while the card waited), and runs when it is.

Through the webhook's real handler over a real SQLite store and the deployment's job types; the
estimates are real ledger documents, their totals worked out by the office's tax rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ackflow.app.runtime import Runtime
from ackflow.settings import Settings
from tests.office.test_precheck import NOW, answer, card_asked, cases_unreadable, run_pressed, shown, stored, typed
from workers.job_types import build_registry
from workers.office.accounting import Document
from workers.office.cases import CaseRecords
from workers.office.issuer import Issuer, valid_registration
from workers.office.ledger import LEDGER, estimate_number, ledger_id
from workers.office.money import Line, TaxRules

ESTIMATED, ORDERED, INVOICED, HELD = "2026-002", "2026-003", "2026-004", "2026-005"
DESIGN, VISIT = Line("金型設計", Decimal(1), 100000), Line("立会い", Decimal(2), 25000)


def estimate(case: str, version: int, *lines: Line) -> Document:
    return Document(kind="quotation", number=estimate_number(case, version), case=case, folder=f"{case}_ACME",
                    recipient="ACME", title="金型", issued="2026-11-10", lines=lines, rules=TaxRules(),
                    issuer=Issuer("山田金型設計事務所", "東京都大田区", "03-0000-0000"), version=version)


def put(runtime: Runtime, collection: str, doc_id: str, doc: dict) -> None:
    runtime.store.docs.transaction(lambda tx: tx.set(collection, doc_id, doc))


def issue(runtime: Runtime, cases: CaseRecords, document: Document) -> None:
    """An estimate version as ``new_estimate_version`` leaves it: in the ledger, and on its case."""
    put(runtime, LEDGER, ledger_id("quotation", document.number), {**document.to_dict(), "job": "j"})
    cases.update(document.case, "j", estimates=[{"key": f"v{document.version:03d}", "version": document.version,
                                                 "number": document.number, "total": document.totals.total}])


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    monkeypatch.setenv("ACKFLOW_OFFICE_NAME", "山田金型設計事務所")
    monkeypatch.setenv("ACKFLOW_OFFICE_REGISTRATION_NUMBER", valid_registration("123456789012"))
    monkeypatch.setenv("ACKFLOW_OFFICE_BANK_ACCOUNT", "サンプル銀行 本店 普通 1234567 ヤマダ")
    settings = Settings(sqlite_path=str(tmp_path / "jobs.db"))
    runtime = Runtime(settings, registry=build_registry(settings), clock=lambda: NOW)
    cases = CaseRecords(runtime.store.docs, clock=lambda: NOW)
    for case in (ESTIMATED, ORDERED, INVOICED, HELD):
        cases.update(case, "jnew", client="ACME", title="金型", folder=f"{case}_ACME_金型", status="見積提出",
                     by="Alice")
        issue(runtime, cases, estimate(case, 1, DESIGN))  # ¥110,000 including tax
    for case in (ORDERED, INVOICED, HELD):
        issue(runtime, cases, estimate(case, 2, DESIGN, VISIT))  # ¥165,000
        cases.transition(case, "受注", by="Alice", job_id="jordered",
                         accepted={"version": 1, "number": estimate_number(case, 1), "total": 110000})
    cases.transition(HELD, "保留", by="Alice", job_id="jhold")
    cases.update(INVOICED, "jinvoice", invoices=[{"key": "INV-2026-0001", "number": "INV-2026-0001",
                                                  "total": 110000}])
    cases.update(INVOICED, "jpaid", payments=[{"key": "jpaid", "amount": 10000, "on": "2026-11-15"}])
    runtime.cases = cases
    yield runtime
    runtime.close()


def card_text(runtime: Runtime, text: str, language: str) -> str:
    reply = answer(runtime, typed(text, language))
    assert "cardsV2" in reply, reply  # a card to run, not a refusal
    return shown(reply)


@pytest.mark.parametrize(("text", "said"), [
    (f"ordered {ESTIMATED}", {"en": ["Accepts estimate v1: ¥110,000 including tax."],
                              "ja": ["見積 v1 を受注します：¥110,000（税込）。"]}),
    (f"ordered {ORDERED} --estimate 2", {"en": ["Accepts estimate v2: ¥165,000 including tax.",
                                               "It takes the place of v1, accepted before."],
                                        "ja": ["見積 v2 を受注します：¥165,000（税込）。",
                                               "先に受注した v1 に代わります。"]}),
    (f'estimate {ORDERED} --change "1=::120000" --remove 2',
     {"en": ["Makes estimate v3: ¥132,000 including tax (v2: ¥165,000)."],
      "ja": ["見積 v3 を作ります：¥132,000（税込）（v2：¥165,000）。"]}),
    (f'estimate {ORDERED} --item "図面修正:1:10000"',  # added to v2's lines; valid for the office's 30 days
     {"en": ["Makes estimate v3: ¥176,000 including tax (v2: ¥165,000).", "Valid until 20 Dec 2026."],
      "ja": ["見積 v3 を作ります：¥176,000", "有効期限 2026年12月20日(日)。"]}),
    (f"invoice {ORDERED}", {"en": ["Invoice total ¥110,000 including tax, from the accepted estimate v1.",
                                   # today (20 Nov, in Tokyo), due at the next month's end (the default terms)
                                   "Transaction date 20 Nov 2026, payment due 31 Dec 2026."],
                            "ja": ["請求金額 ¥110,000（税込）。受注した見積 v1 の明細から作ります。",
                                   "取引年月日 2026年11月20日(金)、支払期限 2026年12月31日(木)。"]}),
    (f"invoice {ORDERED} --date 2026-11-18 --due 2026-12-10",
     {"en": ["Transaction date 18 Nov 2026, payment due 10 Dec 2026."],
      "ja": ["取引年月日 2026年11月18日(水)、支払期限 2026年12月10日(木)。"]}),
    (f'estimate {ORDERED} --item "図面修正:1:10000" --valid-until 2026-12-05',
     {"en": ["Valid until 5 Dec 2026."], "ja": ["有効期限 2026年12月5日(土)。"]}),
    (f'invoice {ORDERED} --item "設計:1:200000"',
     {"en": ["Invoice total ¥220,000 including tax, from the lines given."],
      "ja": ["請求金額 ¥220,000（税込）。入力した明細から作ります。"]}),
    (f"invoice {INVOICED} --replaces INV-2026-0001",
     {"en": ["Corrects invoice INV-2026-0001 (¥110,000); it stays on record as corrected."],
      "ja": ["請求書 INV-2026-0001（¥110,000）を訂正します。"]}),
    (f"invoice {INVOICED} --again", {"en": ["Issued before for this case: INV-2026-0001."],
                                     "ja": ["この案件で発行済みの請求書：INV-2026-0001。"]}),
    (f"paid {INVOICED} --amount 50000",
     {"en": ["Invoiced ¥110,000, received so far ¥10,000: ¥50,000 still to come"],
      "ja": ["請求額 ¥110,000、入金済み ¥10,000：この入金のあと、残り ¥50,000 です。"]}),
    (f"paid {INVOICED} --amount 100000", {"en": ["this settles it, the case becomes 入金."],
                                          "ja": ["この入金で全額となり、案件は「入金」になります。"]}),
    (f"paid {INVOICED} --amount 120000", {"en": ["this is ¥20,000 more than what is owed"],
                                          "ja": ["この入金は残額より ¥20,000 多く"]}),
    (f"resume {HELD}", {"en": ["The case goes back to 受注."], "ja": ["案件は「受注」に戻ります。"]}),
    # a held case that a later stage's command moves on is no longer held; its accepted v1 is replaced
    (f"started {HELD}", {"en": ["The case comes off hold (保留)."], "ja": ["案件の保留は終わります。"]}),
    (f"ordered {HELD} --estimate 2", {"en": ["It takes the place of v1, accepted before.",
                                            "The case comes off hold (保留)."],
                                     "ja": ["先に受注した v1 に代わります。", "案件の保留は終わります。"]}),
])
@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_card_says_what_the_job_will_do_with_the_case(runtime, text, said, language):
    card = card_text(runtime, text, language)
    for expected in said[language]:
        assert expected in card, (expected, card)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_new_version_with_the_previous_versions_lines_says_so(runtime, language):
    """The estimate form sends every line again (``--replace``): sent as it came, the card says the
    lines are v2's, so a version that changes nothing is not issued unnoticed. Changed, it says nothing."""
    same = {"en": "Its lines are the same as v2's.", "ja": "明細は v2 と同じです。"}[language]
    unchanged = card_text(runtime, f'estimate {ORDERED} --replace --item "金型設計:1:100000" --item "立会い:2:25000" '
                                   "--base 2", language)
    assert same in unchanged, unchanged
    edited_from = {"en": "Edited from version", "ja": "元の版"}[language]  # as cards write versions
    assert f'"topLabel": "{edited_from}", "text": "v2"' in unchanged, unchanged
    changed = card_text(runtime, f'estimate {ORDERED} --replace --item "金型設計:1:100000" --item "立会い:1:25000"',
                        language)
    assert same not in changed and "v3" in changed, changed
    assert same not in card_text(runtime, f'estimate {ORDERED} --item "図面修正:1:10000"', language)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_an_invoice_of_a_delivered_case_is_dated_the_delivery(runtime, language):
    runtime.cases.update(ORDERED, "jdelivered", delivered_on="2026-11-18")
    card = card_text(runtime, f"invoice {ORDERED}", language)
    said = {"ja": "取引年月日 2026年11月18日(水)（納品日）、支払期限 2026年12月31日(木)。",
            "en": "Transaction date 18 Nov 2026 (the delivery), payment due 31 Dec 2026."}[language]
    assert said in card, card


@pytest.mark.parametrize("language", ["ja", "en"])
def test_invoices_issued_before_are_listed_as_each_reader_lists(runtime, language):
    runtime.cases.update(INVOICED, "jinvoice2", invoices=[{"key": "INV-2026-0002", "number": "INV-2026-0002",
                                                          "total": 5000}])
    card = card_text(runtime, f"invoice {INVOICED} --again", language)
    said = {"ja": "この案件で発行済みの請求書：INV-2026-0001、INV-2026-0002。",
            "en": "Issued before for this case: INV-2026-0001, INV-2026-0002."}[language]
    assert said in card, card


def test_a_first_estimate_of_a_client_without_usual_lines_is_refused_before_the_card(runtime):
    """The card said "makes v1 from the client's usual lines" for a client that has none, and the
    job then failed: refused at once now, in the step's words (give the lines)."""
    runtime.cases.update("2026-009", "jnew", client="NODEFAULTS", title="金型", folder="2026-009_x", status="受付",
                         by="Alice")
    reply = answer(runtime, typed("estimate 2026-009", "en"))
    assert set(reply) == {"text"} and "NODEFAULTS has no default lines" in reply["text"], reply
    assert stored(runtime, "confirmations") == []


def test_a_first_estimate_from_the_clients_usual_lines_shows_their_total(runtime, monkeypatch):
    monkeypatch.setenv("ACKFLOW_OFFICE_CLIENT_ITEMS", '{"USUAL": [["設計一式", 1, 200000]]}')
    runtime.cases.update("2026-010", "jnew", client="USUAL", title="金型", folder="2026-010_x", status="受付",
                         by="Alice")
    assert "Makes estimate v1: ¥220,000 including tax." in card_text(runtime, "estimate 2026-010", "en")


def test_a_line_the_previous_version_does_not_have_is_refused_before_the_card(runtime):
    reply = answer(runtime, typed(f'estimate {ORDERED} --change "5=::1"', "en"))
    assert set(reply) == {"text"} and "v2" in reply["text"] and "5" in reply["text"], reply
    assert stored(runtime, "confirmations") == []


def test_commands_with_nothing_to_work_out_have_no_notes(runtime):
    card = card_text(runtime, f"started {ORDERED}", "en")
    assert "including tax" not in card and "goes back" not in card


@pytest.mark.parametrize("language", ["ja", "en"])
def test_run_after_another_version_was_issued_is_refused_saying_what_it_is_now(runtime, language):
    """The card said "accepts v1, ¥110,000"; v2 was issued while it waited: an order of the latest
    version now means v2, which the person never saw. No job; the card says what it would be now."""
    confirmation = card_asked(runtime, f"ordered {ESTIMATED}", language)
    assert confirmation["notes"] == ["Accepts estimate v1: ¥110,000 including tax."]
    issue(runtime, runtime.cases, estimate(ESTIMATED, 2, DESIGN, VISIT))
    body = answer(runtime, run_pressed(confirmation, language))
    text = shown(body)
    assert body["actionResponse"]["type"] == "UPDATE_MESSAGE" and '"buttonList"' not in text
    if language == "ja":
        assert "確認カードの内容が変わりました（現在：見積 v2 を受注します：¥165,000（税込）。）" in text, text
        assert "。;" not in text
    else:
        assert "no longer so (now: Accepts estimate v2: ¥165,000 including tax.)" in text, text
    assert stored(runtime, "jobs") == []
    [closed] = stored(runtime, "confirmations")
    assert closed["status"] == "CANCELLED"


def test_run_after_a_payment_was_recorded_is_refused(runtime):
    """Two people record the same transfer from two cards: the second Run sees what it would leave."""
    confirmation = card_asked(runtime, f"paid {INVOICED} --amount 100000", "en")
    runtime.cases.update(INVOICED, "jother", payments=[{"key": "jother", "amount": 100000, "on": "2026-11-20"}])
    text = shown(answer(runtime, run_pressed(confirmation, "en")))
    assert "this is ¥100,000 more than what is owed" in text, text
    assert stored(runtime, "jobs") == []


@pytest.mark.parametrize("language", ["ja", "en"])
def test_run_as_the_card_said_makes_the_job(runtime, language):
    confirmation = card_asked(runtime, f"ordered {ORDERED} --estimate 2", language)
    body = answer(runtime, run_pressed(confirmation, language))
    [job] = stored(runtime, "jobs")
    assert job["type"] == "ordered" and job["params"]["estimate"] == 2
    assert job["id"] in shown(body)


def test_a_request_kept_before_cards_had_notes_is_run_on_its_refusals_alone(runtime):
    """A card shown by the version before this one (its request has no notes) is not refused for
    notes it never showed."""
    confirmation = card_asked(runtime, f"ordered {ESTIMATED}", "en")
    put(runtime, "confirmations", confirmation["id"], {**confirmation, "notes": None})
    issue(runtime, runtime.cases, estimate(ESTIMATED, 2, DESIGN, VISIT))
    answer(runtime, run_pressed({**confirmation, "notes": None}, "en"))
    [job] = stored(runtime, "jobs")
    assert job["type"] == "ordered"


def test_the_notes_read_at_most_two_documents(runtime, monkeypatch):
    from ackflow.app import precheck

    docs = runtime.store.docs
    read, seen = docs.get, []
    monkeypatch.setattr(docs, "get", lambda collection, doc_id: seen.append(collection) or read(collection, doc_id))
    checked = precheck.check(runtime, runtime.registry.get("estimate"),
                             {"case": ORDERED, "item": [], "change": "1=::120000", "remove": None, "base": None,
                              "replace": False, "to": None, "valid_until": None})
    assert checked.refused is None and [str(n) for n in checked.notes] == [
        "Makes estimate v3: ¥187,000 including tax (v2: ¥165,000).",  # v2 with line 1 at ¥120,000
        "Valid until 20 Dec 2026."]
    assert seen == ["cases", LEDGER]


def test_a_card_shown_without_its_notes_when_the_store_did_not_answer(runtime, monkeypatch):
    """The check could not read: the card is shown as it is (no notes), and Run checks again."""
    answering = cases_unreadable(runtime, monkeypatch)
    confirmation = card_asked(runtime, f"ordered {ESTIMATED}", "en")
    assert confirmation["notes"] is None
    answering()
    answer(runtime, run_pressed(confirmation, "en"))
    assert [job["type"] for job in stored(runtime, "jobs")] == ["ordered"]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_payment_on_a_case_paid_in_full_says_so_not_that_it_becomes_paid(runtime, language):
    """A second payment after the case was settled said “this is ¥5,000 more than what is owed; the
    case becomes 入金” of a case 入金 already: the card says it is paid in full and what this adds."""
    cases = runtime.cases
    cases.update(INVOICED, "jpaid2", payments=[{"key": "jpaid2", "amount": 100000, "on": "2026-11-18"}])
    cases.transition(INVOICED, "入金", by="Alice", job_id="jpaid2")
    card = card_text(runtime, f"paid {INVOICED} --amount 5000", language)
    said = {"en": "the case is paid in full already (入金); this records ¥5,000 more, beyond what was owed.",
            "ja": "案件はすでに全額入金済み（入金）です。この入金は、残額を超えて ¥5,000 を記録します。"}[language]
    assert said in card, card
    assert ("becomes 入金" if language == "en" else "「入金」になります") not in card
