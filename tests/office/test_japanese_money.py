"""The money commands as the office types them: by their Japanese names, with options by theirs
and amounts as written (47万3000円), refused in the person's language."""

from __future__ import annotations

import datetime as dt

import pytest

from ackflow.errors import UsageError
from ackflow.i18n import speaker_for
from ackflow.jobs.params import split_words
from ackflow.jobs.registry import Registry
from ackflow.queues import load_queues
from ackflow.settings import Settings
from workers import office
from workers.office.lifecycle import read_amount

JA, EN = speaker_for("ja"), speaker_for("en")
TODAY = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def registry():
    registry = Registry(load_queues(Settings().queues_file))
    office.register(registry)
    return registry


def parsed(registry, text: str) -> tuple[str, dict]:
    name, *words = split_words(text)
    resolved = registry.resolve(name)
    assert resolved is not None, name
    return resolved, registry.get(resolved).parse(words, TODAY)


@pytest.mark.parametrize(("japanese", "english"), [
    ("受注 2026-001", "ordered 2026-001"),
    ("受注 2026-001 見積版：2", "ordered 2026-001 --estimate 2"),
    ("受注 2026-001 見積版：v2", "ordered 2026-001 --estimate 2"),  # as the cards write it (見積 v2 を受注します)
    ("受注 2026-001 見積版：Ｖ２", "ordered 2026-001 --estimate V2"),
    ("納品 2026-001 日付：12月1日", "delivered 2026-001 --date 2026-12-01"),
    ("請求 2026-001 支払期限：2026/12/31", "invoice 2026-001 --due 2026-12-31"),
    ("見積 ２０２６－００１ 明細：追加設計:1:5万円 宛先：株式会社ACME",
     'estimate 2026-001 --item "追加設計:1:5万円" --to 株式会社ACME'),
    ("入金 2026-001 金額：47万3000円 日付：11月25日", "paid 2026-001 --amount 473000 --date 2026-11-25"),
    ("案件一覧", "cases"),
])
def test_money_commands_by_their_japanese_names(registry, japanese, english, monkeypatch):
    monkeypatch.setenv("ACKFLOW_OFFICE_NAME", "山田金型設計事務所")  # invoices need the office's own details
    monkeypatch.setenv("ACKFLOW_OFFICE_REGISTRATION_NUMBER", "T7000012050002")
    monkeypatch.setenv("ACKFLOW_OFFICE_BANK_ACCOUNT", "みずほ銀行 蒲田支店 普通 1234567")
    if registry.resolve(split_words(english)[0]) in registry.commands:  # answered at once, no parameters to read
        assert registry.resolve(split_words(japanese)[0]) == registry.resolve(split_words(english)[0])
        return
    name, values = parsed(registry, japanese)
    assert (name, values) == parsed(registry, english)
    if name == "paid":
        assert values["amount"] == 473_000


def test_amounts_received_as_people_write_them():
    for typed in ("473000", "473,000", "¥473,000", "47万3000円", "４７万３０００円", "47万3千円", "４７万３千円"):
        assert read_amount(typed) == 473_000, typed
    for bad in ("四十七万", "0", "-5", "1.5", "1,2,,3"):
        with pytest.raises(UsageError) as refused:
            read_amount(bad)
        assert refused.value.render(JA) != refused.value.render(EN)  # said in each language


def test_a_line_priced_as_people_write_it_with_sen():
    from workers.office.money import parse_line

    assert parse_line("試作立会い:3:3万8千円").unit_price == 38_000
    assert parse_line("図面修正：2：8千円").unit_price == 8_000


def test_a_bad_line_is_refused_in_each_language(registry):
    with pytest.raises(UsageError) as refused:
        parsed(registry, "見積 2026-001 明細：追加設計:一:5万円")
    assert "追加設計" in refused.value.render(JA) and refused.value.render(JA) != refused.value.render(EN)


def test_help_names_the_money_commands_in_japanese(registry):
    names = {registry.get(n).native_name for n in ("ordered", "delivered", "invoice", "paid", "correct")}
    assert names == {"受注", "納品", "請求", "入金", "訂正"}
    assert registry.commands["cases"].native_name == "案件一覧"


OVER = [("total", "設計:9999999:9999999999", "999,999,999,999"),  # a line of ¥99,999,989,990,000,001
        ("total", "設計:99999:9999999999;設計B:99999:9999999999", "999,999,999,999"),  # lines that only add up to it
        ("lines", ";".join(["設計:1:1000"] * 51), "50")]


@pytest.mark.parametrize("fmt", ["classic", "addon"])
@pytest.mark.parametrize(("kind", "lines", "said"), OVER, ids=["one-line", "two-lines", "51-lines"])
@pytest.mark.parametrize("command", ["newcase ACME 金型", "estimate 2026-001 --replace", "estimate 2026-001",
                                     "invoice 2026-001"])
def test_lines_that_overflow_a_document_are_refused_at_the_command_and_nothing_is_made(tmp_path, monkeypatch, fmt,
                                                                                      command, kind, lines, said):
    """Typed lines whose total passes ¥999,999,999,999, or more lines than a document holds: no
    confirmation (newcase would otherwise take a number, make the folder and the sheet row, and
    only then fail at its estimate), refused in the person's language in both event formats."""
    import json
    from pathlib import Path

    from ackflow.app.runtime import Runtime
    from ackflow.app.webhook import Webhook
    from ackflow.chat.events import parse_event
    from ackflow.chat.replies import response_json
    from workers.job_types import build_registry

    monkeypatch.setenv("ACKFLOW_OFFICE_NAME", "山田金型設計事務所")
    monkeypatch.setenv("ACKFLOW_OFFICE_REGISTRATION_NUMBER", "T7000012050002")
    monkeypatch.setenv("ACKFLOW_OFFICE_BANK_ACCOUNT", "みずほ銀行 蒲田支店 普通 1234567")
    settings = Settings(sqlite_path=str(tmp_path / "a.db"))
    runtime = Runtime(settings, registry=build_registry(settings))
    text = command + "".join(f' --item "{line}"' for line in lines.split(";"))
    events = Path(__file__).parent.parent / "data" / "events"
    for language, expected in (("ja", "明細" if kind == "lines" else "合計"), ("en", "lines" if kind == "lines"
                                                                              else "total")):
        event = json.loads((events / fmt / "message.json").read_text())
        if fmt == "classic":
            event["message"]["text"] = event["message"]["argumentText"] = text
            event.setdefault("common", {})["userLocale"] = language
        else:
            event["chat"]["messagePayload"]["message"]["text"] = text
            event["chat"]["messagePayload"]["message"]["argumentText"] = text
            event["commonEventObject"]["userLocale"] = language
        parsed_event = parse_event(event)
        body = json.dumps(response_json(Webhook(runtime).answer(parsed_event), parsed_event.format, "https://a/"),
                          ensure_ascii=False)
        assert said in body and expected in body, (language, body[:600])
    assert runtime.store.docs.query("confirmations", [], "created_at", True, 10) == []


def test_a_description_too_long_for_a_document_is_refused_in_japanese(registry):
    """Said before the job exists, in the person's language, with the limit and the fix."""
    long = "プレス金型設計" * 15  # 105 characters
    with pytest.raises(UsageError) as refused:
        parsed(registry, f"見積 2026-001 明細：{long}:1:5万円")
    said = refused.value.render(JA)
    assert "105" in said and "100" in said and "短く" in said, said


def test_the_progress_of_an_issue_names_the_service_as_a_person_reads_it():
    """見積 v2 を発行しています（embedded）: the progress line showed the service's id, an English word
    the office does not know; the embedded service is said as what it makes, freee by its name."""
    from workers.office import estimating, invoicing
    from workers.office.accounting import service_name

    shown = [estimating._say("issuing", version=2, service=service_name("embedded")).render(JA),
             invoicing._say("issuing", number="INV-2026-0001", service=service_name("embedded")).render(JA)]
    assert shown == ["見積 v2 を発行しています（案件フォルダに PDF で）",
                     "INV-2026-0001 を発行しています（案件フォルダに PDF で）"]
    assert "freee" in estimating._say("issuing", version=2, service=service_name("freee")).render(JA)
    assert "PDF in the case folder" in str(service_name("embedded"))


@pytest.mark.parametrize(("typed", "japanese", "english"), [
    # the paid command's own example is 47万3000円; 51万400円 (510,400) was refused as "not an amount"
    ("入金 2026-001 金額：51万400円",
     "万のあとは 4 桁で書いてください: 51万0400円（¥510,400）か 51万4000円（¥514,000）",
     "write four digits after 万: 51万0400円 (¥510,400) or 51万4000円 (¥514,000)"),
    # the person's own number, both ways it may be meant: the fixed example (51万0400円 か 510400)
    # answered 3万5 with a number that had nothing to do with it
    ("入金 2026-001 金額：3万5", "万のあとは 4 桁で書いてください: 3万0005円（¥30,005）か 3万5000円（¥35,000）",
     "write four digits after 万: 3万0005円 (¥30,005) or 3万5000円 (¥35,000)"),
    ("見積 2026-001 明細：試作立会い:3:3万5", "3万0005円（¥30,005）か 3万5000円（¥35,000）",
     "3万0005円 (¥30,005) or 3万5000円 (¥35,000)"),
    ("入金 2026-001 金額：3万50000", "万のあとは 4 桁で書いてください", "write four digits after 万"),
    ("入金 2026-001 金額：三万八千円", "数字で書いてください: 三十五万円 は 35万円",
     "write the number in digits: 35万円, not 三十五万円"),
    # 3万8千円 reads one way (38,000); 3万8千5 two (38,005 as written, 38,500 as said)
    ("入金 2026-001 金額：3万8千5", "千のあとは 3 桁、百のあとは 2 桁で書いてください: 8千5 ではなく 8千500円 か 8500",
     "write three digits after 千 and two after 百: 8千500円 or 8500, not 8千5"),
    ("見積 2026-001 明細：試作立会い:3:8千5円", "千のあとは 3 桁、百のあとは 2 桁で書いてください",
     "write three digits after 千 and two after 百"),
    ("見積 2026-001 明細：試作立会い:3:3万800円", "万のあとは 4 桁で書いてください",
     "write four digits after 万"),
])
def test_an_amount_refused_says_how_to_write_it(registry, typed, japanese, english):
    """An amount as people say it but the parser does not take says what to write instead; the
    reason was "（金額ではありません）" ("not an amount"), which told nothing."""
    with pytest.raises(UsageError) as refused:
        parsed(registry, typed)
    assert japanese in refused.value.render(JA) and "金額ではありません" not in refused.value.render(JA)
    assert english in refused.value.render(EN)


@pytest.mark.parametrize("typed", ["入金 2026-001 金額：-5000", "paid 2026-001 --amount -5000",
                                   "入金 2026-001 金額：−5,000", "入金 2026-001 金額：▲5000",
                                   "入金 2026-001 金額：ー5000円", "paid 2026-001 --amount ¥-5000"])
def test_a_negative_amount_received_is_said_to_be_negative(registry, typed):
    """-5000 was refused as an amount not read (金額の「-5000」を金額として読み取れません), never saying that
    it is negative nor what an amount received must be."""
    with pytest.raises(UsageError) as refused:
        parsed(registry, typed)
    japanese, english = refused.value.render(JA), refused.value.render(EN)
    assert "マイナス" in japanese and "0 円より大きい" in japanese and "読み取れません" not in japanese, japanese
    assert "is negative" in english and "more than ¥0" in english, english


def test_a_negative_amount_in_an_older_job_is_said_to_be_negative():
    for typed in ("-5", "▲5,000", -5):
        with pytest.raises(UsageError) as refused:
            read_amount(typed)
        assert "マイナス" in refused.value.render(JA) and "more than ¥0" in refused.value.render(EN)


@pytest.mark.parametrize("typed, japanese, english", [
    ("paid 2026-001 --amount 0", "（0 円です）", "(zero)"),
    ("入金 2026-001 金額：0円", "（0 円です）", "(zero)"),
    ("paid 2026-001 --amount 99999999999999", "（大きすぎます）", "(too large)"),
    ("入金 2026-001 金額：99999999999999円", "（大きすぎます）", "(too large)"),
])
def test_a_zero_or_astronomical_amount_received_is_refused_saying_which(registry, typed, japanese, english):
    """The issue's bad input for money: a payment of nothing, or of more yen than any invoice holds,
    is refused at the command with the reason, in each language (no job, nothing recorded)."""
    with pytest.raises(UsageError) as refused:
        parsed(registry, typed)
    assert japanese in refused.value.render(JA), refused.value.render(JA)
    assert english in refused.value.render(EN), refused.value.render(EN)
