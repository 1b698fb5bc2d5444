"""Input as a Japanese IME or a phone keyboard types it: normalised, and read into amounts and dates."""

from __future__ import annotations

import datetime as dt

import pytest

from ackflow.jobs.normalize import has_bidi_or_controls, normalize
from ackflow.jobs.typed import MAX_YEN, parse_date, parse_yen


@pytest.mark.parametrize(("typed", "plain"), [
    ("ＡＣＭＥ　１２３", "ACME 123"),  # full-width letters, digits, ideographic space
    ("新規案件 ACME「プレス金型 A-12」", '新規案件 ACME"プレス金型 A-12"'),
    ("『見積』", "'見積'"),
    ("“smart” ‘quotes’", "\"smart\" 'quotes'"),
    ("：納期 １２月１日", ":納期 12月1日"),
    ("item —due 2026-12-01", "item --due 2026-12-01"),
    ("item –due 2026-12-01", "item --due 2026-12-01"),
    ("item ーー納期 12/1", "item --納期 12/1"),
    ("ｶﾀｶﾅ", "カタカナ"),  # half-width katakana
    ("A\u200bC\u202eME\u200f", "ACME"),  # zero-width and bidi characters removed
    ("コーヒー〜ケーキ", "コーヒー〜ケーキ"),  # long vowel marks and the wave dash are text
    ("A – B", "A – B"),  # a dash between words is text
])
def test_normalize(typed, plain):
    assert normalize(typed) == plain
    assert normalize(plain) == plain  # idempotent


def test_controls_and_bidi_are_seen():
    assert has_bidi_or_controls("abc\u202edef") and has_bidi_or_controls("a\x07b")
    assert not has_bidi_or_controls("普通の\tテキスト\n")


@pytest.mark.parametrize(("typed", "yen"), [
    ("350000", 350_000), ("350,000", 350_000), ("¥350,000", 350_000), ("￥350,000", 350_000),
    ("350000円", 350_000), ("350,000円", 350_000), ("35万", 350_000), ("35万円", 350_000),
    ("１．５万", 15_000), ("12万3000円", 123_000), ("３５万円", 350_000), ("¥ 1,200", 1_200),
    ("\\4,500", 4_500), ("1,000,000,000,000", MAX_YEN),
])
def test_amounts(typed, yen):
    assert parse_yen(typed) == yen


@pytest.mark.parametrize("typed", ["", "abc", "1,2,,3", ",100", "100,", "1.5", "-100", "1e5", "35万万",
                                   "¥", "円", "0", "10000000000000", "99999999999999999999999", "三十五万"])
def test_not_amounts(typed):
    with pytest.raises(ValueError):
        parse_yen(typed)


def test_zero_when_allowed():
    assert parse_yen("0円", allow_zero=True) == 0


TODAY = dt.date(2026, 11, 28)


@pytest.mark.parametrize(("typed", "date"), [
    ("2026-12-01", dt.date(2026, 12, 1)), ("2026/12/1", dt.date(2026, 12, 1)),
    ("２０２６／１２／１", dt.date(2026, 12, 1)), ("12/1", dt.date(2026, 12, 1)),
    ("11/28", dt.date(2026, 11, 28)),  # today is still ahead
    ("11/27", dt.date(2027, 11, 27)),  # passed: the next one
    ("12月1日", dt.date(2026, 12, 1)), ("１２月１日", dt.date(2026, 12, 1)),
    ("2027年1月5日", dt.date(2027, 1, 5)), ("令和8年12月1日", dt.date(2026, 12, 1)),
    ("令和元年5月1日", dt.date(2019, 5, 1)), ("平成31年4月30日", dt.date(2019, 4, 30)),
    ("2/29", dt.date(2028, 2, 29)),  # no 29 Feb in 2027: the next leap year's
])
def test_dates(typed, date):
    today = dt.date(2026, 3, 1) if typed == "2/29" else TODAY
    assert parse_date(typed, today) == date


@pytest.mark.parametrize("typed", ["2月30日", "2026-02-30", "13/1", "2026-13-01", "tomorrow", "12月", "元年1月1日",
                                   "", "2026/12", "0/1"])
def test_not_dates(typed):
    with pytest.raises(ValueError):
        parse_date(typed, TODAY)
