"""Input as a Japanese IME or a phone keyboard types it: normalised, read into amounts and dates, and
whole commands split and read with their options' Japanese names; every problem said in Japanese
and English."""

from __future__ import annotations

import datetime as dt

import pytest

from ackflow.errors import UsageError
from ackflow.i18n import Speaker
from ackflow.jobs.normalize import has_bidi_or_controls, normalize, normalize_field
from ackflow.jobs.params import Param, join_words, parse_params, split_words
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
    # the minus key in kana mode types ー: between digits it is the hyphen of a case number or a date
    ("案件 2026ー001", "案件 2026-001"), ("２０２６ー００１", "2026-001"), ("2026−12‐01", "2026-12-01"),
    ("2026ｰ001", "2026-001"), ("データー 12ー", "データー 12ー"), ("ー1", "ー1"),
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
    ("１．５万", 15_000), ("12万3000円", 123_000),
    ("12万0300円", 120_300), ("1万2,000", 12_000), ("３５万円", 350_000), ("¥ 1,200", 1_200),
    ("\\4,500", 4_500), ("1,000,000,000,000", MAX_YEN),
    # 千 and 百 with digits, as people write amounts (one reading only)
    ("3万8千円", 38_000), ("８千円", 8_000), ("千円", 1_000), ("1千2百円", 1_200), ("2千500円", 2_500),
    ("12万3千4百円", 123_400), ("3万5千", 35_000), ("百万円", 1_000_000), ("5千万円", 50_000_000),
    ("¥5千", 5_000), ("3万百", 30_100),
])
def test_amounts(typed, yen):
    assert parse_yen(typed) == yen


@pytest.mark.parametrize("typed", ["", "abc", "1,2,,3", ",100", "100,", "1.5", "-100", "1e5", "35万万",
                                   "¥", "円", "0", "10000000000000", "99999999999999999999999", "三十五万",
                                   # never a silently different number: a comma not between groups of three
                                   # (a typo or a decimal comma) is refused, not dropped (1,5 was 15 yen)
                                   "1,5", "350,00", "1,5万", "35,0000", "1,2345", "12万3,00", "3万50000",
                                   "3万5", "12万300",  # 3万5 is said for 35,000: four digits after 万, or refused
                                   # 8千5 is said for 8,500 but reads 8,005: three digits after 千, two after 百
                                   "8千5", "3百5", "3万8千5", "千千", "1.5千", "三万", "万千"])
def test_not_amounts(typed):
    with pytest.raises(ValueError):
        parse_yen(typed)


@pytest.mark.parametrize(("typed", "yen"), [
    # in thousands of yen, as Japanese estimates and budgets write amounts (350千円 = ¥350,000): they
    # were refused as "three digits after 千", which they never meant
    ("350千円", 350_000), ("３５０千円", 350_000), ("1,200千円", 1_200_000), ("¥350千", 350_000), ("12千円", 12_000),
    # 億: not read at all before
    ("1億円", 100_000_000), ("1億2000万円", 120_000_000), ("1億2千万円", 120_000_000),
    ("１億２０００万円", 120_000_000), ("1.5億円", 150_000_000), ("1億2000万5000円", 120_005_000),
    ("¥1億-", 100_000_000), ("10000億円", MAX_YEN),
])
def test_thousands_of_yen_and_oku_as_estimates_write_them(typed, yen):
    assert parse_yen(typed) == yen


@pytest.mark.parametrize(("typed", "reason"), [
    ("8千5", "three digits after 千"), ("350千5", "three digits after 千"),  # still read two ways
    ("1億2", "after 億"), ("1億5000円", "after 億"), ("1億20000万円", "after 億"), ("1.5億2000万円", "after 億"),
    ("10001億円", "too large"), ("1,2億", "misplaced comma"), ("億円", "not an amount"),
])
def test_thousands_and_oku_that_do_not_read_one_way_are_refused(typed, reason):
    with pytest.raises(ValueError, match=reason):
        parse_yen(typed)


@pytest.mark.parametrize(("typed", "yen"), [
    # as an estimate or a receipt prints an amount, and a person copies it: ¥350,000- (the dash closes
    # the figure so nothing is added after it), 金350,000円也
    ("¥350,000-", 350_000), ("￥３５０，０００－", 350_000), ("¥350,000―", 350_000), ("350,000円也", 350_000),
    ("¥350,000ー", 350_000), ("35万円-", 350_000),
])
def test_an_amount_written_as_a_document_prints_it(typed, yen):
    assert parse_yen(typed) == yen


@pytest.mark.parametrize("typed", ["-", "¥-", "350,000--", "-350,000-", "350-000"])
def test_a_closing_dash_alone_or_twice_is_not_an_amount(typed):
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
    ("令和1年5月1日", dt.date(2019, 5, 1)), ("平成元年1月8日", dt.date(1989, 1, 8)),  # each era's first day
    ("昭和64年1月7日", dt.date(1989, 1, 7)),  # 昭和's last
])
def test_dates(typed, date):
    today = dt.date(2026, 3, 1) if typed == "2/29" else TODAY
    assert parse_date(typed, today) == date


@pytest.mark.parametrize(("today", "expected"), [(dt.date(2026, 12, 1), dt.date(2026, 12, 1)),  # today itself
                                                  (dt.date(2026, 12, 31), dt.date(2027, 12, 1))])  # passed: next year
@pytest.mark.parametrize("typed", ["12/1", "12月1日", "１２／１", "１２月１日"])
def test_a_day_without_a_year_is_today_or_the_next_one(typed, today, expected):
    assert parse_date(typed, today) == expected


@pytest.mark.parametrize(("typed", "expected"), [
    ("11/25", dt.date(2026, 11, 25)),  # three days ago: this year's, not next year's
    ("11月28日", dt.date(2026, 11, 28)), ("12/5", dt.date(2026, 12, 5)),  # today; a week ahead
    ("12/6", dt.date(2025, 12, 6)), ("12月25日", dt.date(2025, 12, 25)),  # further ahead: last year's
    ("2/29", dt.date(2024, 2, 29)),  # the last leap year's
    ("2027-01-05", dt.date(2027, 1, 5)),  # a year written is kept (the job type's rules judge it)
])
def test_a_day_that_happened_without_a_year_is_the_latest_such_day(typed, expected):
    """A payment typed 日付：11月25日 on 28 November was read as next year's 25 November."""
    assert parse_date(typed, TODAY, recent=7) == expected


@pytest.mark.parametrize("typed", ["2月30日", "2026-02-30", "13/1", "2026-13-01", "soon", "12月", "元年1月1日",
                                   "", "2026/12", "0/1"])
def test_not_dates(typed):
    with pytest.raises(ValueError):
        parse_date(typed, TODAY)


@pytest.mark.parametrize(("typed", "reason"), [
    ("令和1年4月30日", "令和 began on 2019-05-01"), ("令和元年4月1日", "令和 began on 2019-05-01"),
    ("令和0年12月1日", "令和 began on 2019-05-01"), ("平成31年5月1日", "平成 ran from 1989-01-08 to 2019-04-30"),
    ("平成0年1月1日", "平成 ran from 1989-01-08 to 2019-04-30"), ("昭和64年1月8日", "昭和 ran from"),
])
def test_a_day_outside_its_era_is_refused_with_the_eras_days(typed, reason):
    """An era names the days of its reign only: 平成31年5月1日 and 令和1年4月30日 were never written on
    their day, and 令和0年 never was; read as the Western year they would name the other era's day."""
    with pytest.raises(ValueError, match=reason):
        parse_date(typed, TODAY)
    with pytest.raises(UsageError) as refused:
        read(f"ACME 金型 納期：{typed}")
    assert reason.split(" ")[0] in refused.value.render(JA) and "began" not in refused.value.render(JA) \
        and " ran " not in refused.value.render(JA)


# -- a command as an IME types it: split, options by their Japanese names, typed values ---------------

JA, EN = Speaker("ja", "Asia/Tokyo"), Speaker("en", "UTC")
NEWCASE = (
    Param("client", title="Client"),
    Param("title", title="Title"),
    Param("due", kind="date", positional=False, required=False, aliases=("納期",), title="Due date",
          metavar="YYYY-MM-DD"),
    Param("fee", kind="yen", positional=False, required=False, aliases=("金額",), maximum=10**11),
    Param("item", positional=False, required=False, repeated=True, aliases=("明細",)),
    Param("urgent", kind="flag", positional=False, required=False, aliases=("至急",)),
)


def read(text: str) -> dict:
    return parse_params(NEWCASE, split_words(text), TODAY)


@pytest.mark.parametrize("typed", [
    "ACME「プレス金型 A-12」 ：納期 １２月１日",  # the issue's own example: 「」 against a word, ：, full-width digits
    "ACME 「プレス金型 A-12」 納期：12月1日",
    "ACME『プレス金型 A-12』 :納期12月1日",
    "ACME \"プレス金型 A-12\" --due 2026-12-01",
    "ＡＣＭＥ　“プレス金型 A-12”　—due 2026/12/1",
    "ACME 'プレス金型 A-12' --納期 12/1",
    "ACME 'プレス金型 A-12' 納期： 令和8年12月1日",
])
def test_a_new_case_typed_every_way_reads_the_same(typed):
    assert read(typed) == {"client": "ACME", "title": "プレス金型 A-12", "due": "2026-12-01", "fee": None,
                           "item": [], "urgent": False}


def test_amounts_lines_and_flags_by_their_japanese_names():
    values = read("ACME 金型 金額：35万円 明細：金型設計:1:350000 明細： 試作:２:4万 ：至急")
    assert values["fee"] == 350_000 and values["urgent"] is True
    assert values["item"] == ["金型設計:1:350000", "試作:2:4万"]


def test_a_backslash_is_text_as_the_yen_key_types_it():
    assert read("ACME 金型 金額：\\4,500")["fee"] == 4_500
    assert split_words("newcase C:\\dir") == ["newcase", "C:\\dir"]


@pytest.mark.parametrize(("typed", "english", "japanese"), [
    ("ACME 金型 納期：2月30日", "--due is not a date I can read (that day does not exist): “2月30日”",
     "納期の「2月30日」を日付として読み取れません（その日付は存在しません）"),
    # no reason when it would only say again what the message says (（日付ではありません）)
    ("ACME 金型 --due soon", "--due is not a date I can read: “soon”", "納期の「soon」を日付として読み取れません。"),
    ("ACME 金型 金額：abc", "--fee is not an amount I can read: “abc”", "金額の「abc」を金額として読み取れません。"),
    ("ACME 金型 金額：99999999999999999999円", "--fee is not an amount I can read (too large)", "大きすぎます"),
    ("ACME 金型 金額：1.5円", "(yen has no fractions)", "円に小数はありません"),
    ("ACME 金型 金額：1億2", "(after 億, write the rest in 万", "億のあとは万までを 4 桁以内で"),
    ("ACME", "TITLE is missing", "件名がありません"),  # the parameter's title, from the catalog
    ("ACME 金型 ：至急：はい", "至急 takes no value", "至急 には値を付けません"),
    ("ACME 金型 納期：12/1 納期：12/2", "納期 is given twice", "納期 が 2 回指定されています"),
    ("ACME 金型 --colour red",
     "unknown option --colour (options: --due, --fee, --item, --urgent)",  # as each reader writes them
     "--colour というオプションはありません（使えるオプション: 納期：、金額：、明細：、至急）"),
    ("ACME 金型 余分", "unexpected “余分”", "「余分」は余分です"),
])
def test_every_problem_is_said_in_the_persons_language(typed, english, japanese):
    with pytest.raises(UsageError) as refused:
        read(typed)
    assert english in refused.value.render(EN) and english in str(refused.value)
    assert japanese in refused.value.render(JA)


DATE_EXAMPLE = ("Write it like 2026-12-01, 12/1 or 12月1日.", "2026-12-01、12/1、12月1日 のように書いてください")
AMOUNT_EXAMPLE = ("Write it like 350000, ¥350,000 or 35万円.", "350000、¥350,000、35万円 のように書いてください")


@pytest.mark.parametrize(("typed", "example"), [
    ("ACME 金型 納期：2月30日", DATE_EXAMPLE), ("ACME 金型 --due soon", DATE_EXAMPLE),
    ("ACME 金型 納期：令和1年4月30日", DATE_EXAMPLE), ("ACME 金型 納期：2026/12", DATE_EXAMPLE),
    ("ACME 金型 金額：abc", AMOUNT_EXAMPLE), ("ACME 金型 金額：99999999999999999999円", AMOUNT_EXAMPLE),
    ("ACME 金型 金額：1,5", AMOUNT_EXAMPLE), ("ACME 金型 金額：三十五万円", AMOUNT_EXAMPLE),
])
def test_a_date_or_an_amount_that_does_not_read_is_answered_with_an_example_in_the_persons_language(typed, example):
    """The issue: anything else gets a reply that says what was wrong *and shows an example*, in the
    person's language (the reason alone is checked above)."""
    with pytest.raises(UsageError) as refused:
        read(typed)
    english, japanese = example
    assert refused.value.render(EN).endswith(english) and refused.value.render(JA).endswith(japanese)


@pytest.mark.parametrize("typed", [
    "ＡＣＭＥ１２３ｘｙ　漢字ｶﾀｶﾅ　🚀🎉 ‮evil‬ 「閉じていない",  # mixed-width garbage, emoji, bidi, an open quote
    "ACME " + "金" * 10_000,  # 10 kB in one word
    "ACME 金型 " + "納期：" * 2_000,
])
def test_garbage_is_a_usage_error_never_a_crash(typed):
    with pytest.raises(UsageError) as refused:
        read(typed)
    assert refused.value.render(JA) and refused.value.render(EN)


def test_emoji_and_bidi_marks_are_text_or_gone():
    assert read("🚀商事 \u202eロケット\u202c") == {"client": "🚀商事", "title": "ロケット", "due": None, "fee": None,
                                                 "item": [], "urgent": False}


def test_a_date_without_a_year_is_the_next_one_in_the_persons_time_zone():
    # 23:30 on 30 Nov in London is already 1 Dec in Tokyo: "11/30" is then next year's for the Tokyo person
    moment = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC).timestamp()
    tokyo, london = Speaker("ja", "Asia/Tokyo").today(moment), Speaker("en", "Europe/London").today(moment)
    assert parse_params(NEWCASE, split_words("A B 納期：11/30"), tokyo)["due"] == "2027-11-30"
    assert parse_params(NEWCASE, split_words("A B 納期：11/30"), london)["due"] == "2026-11-30"


def test_usage_lines_in_each_language():
    assert [p.usage(JA) for p in NEWCASE][:3] == ["顧客", "件名", "[納期：日付]"]
    assert [p.usage(EN) for p in NEWCASE][:3] == [p.usage() for p in NEWCASE][:3] == [
        "CLIENT", "TITLE", "[--due YYYY-MM-DD]"]


def test_line_items_as_people_type_them():
    from workers.office.money import parse_line as parse_item

    for typed in ("金型設計:1:350000", "金型設計：１：３５万円", "金型設計:1:¥350,000", "金型設計:1:350,000円"):
        item = parse_item(typed)
        assert (item.description, item.quantity, item.unit_price) == ("金型設計", 1, 350_000), typed
    assert parse_item("図面：A:B:2.5:1.2万").description == "図面:A:B"
    for bad in ("金型設計:一:350000", "金型設計:1:三十五万", ":1:100", "x:0:100", "x:1:99999999999999円"):
        with pytest.raises(UsageError) as refused:
            parse_item(bad)
        assert "明細" in refused.value.render(JA)


@pytest.mark.parametrize(("typed", "words"), [
    ("ACME 「型「A」改」", ["ACME", "型「A」改"]),  # 「」 inside 「」 is text, not two words and a lost bracket
    ("ACME「型『A-12』改」 x", ["ACME", "型『A-12』改", "x"]),
    ("ACME 「彼は \"OK\" と」", ["ACME", '彼は "OK" と']),
    ("ACME 「“見積”」", ["ACME", "“見積”"]),
    ("ACME 「b 「c」 d」 e", ["ACME", "b 「c」 d", "e"]),
    ("A\ue000CME 「x」", ["ACME", "x"]),  # a private-use character typed is dropped, never a quote
])
def test_quotes_nested_in_brackets_are_kept_as_typed(typed, words):
    assert split_words(typed) == words


@pytest.mark.parametrize("typed", ["ACME 「型「A」改", "ACME 「型」」", "ACME 『型「A』"])
def test_a_bracket_left_open_is_said(typed):
    with pytest.raises(UsageError, match="not closed"):
        split_words(typed)


COUNTS = (Param("count", kind="int", minimum=0, maximum=999, title="Count"),
          Param("ratio", kind="float", positional=False, required=False, minimum=0, maximum=10))


@pytest.mark.parametrize("typed", ["三", "十二", "1_000", "1_0", "٣", "nan", "1e1", "0x10"])
def test_a_number_is_digits_only_never_read_another_way(typed):
    with pytest.raises(UsageError) as raised:
        parse_params(COUNTS, split_words(typed))
    assert "like 12" in raised.value.render(EN)
    assert "12 のように数字で" in raised.value.render(JA)


SECONDS = (Param("seconds", kind="int", minimum=1, maximum=300, title="Seconds", units=("秒間", "秒", "sec", "s")),)


@pytest.mark.parametrize("typed", ["30秒", "３０秒", "30 秒", "30秒間", "30s", "30S", "30sec", "30"])
def test_a_number_with_a_unit_its_parameter_declares_is_the_number(typed):
    # sleep 30秒 was refused with “like 12”, an example that fitted nothing the person wrote
    assert parse_params(SECONDS, split_words(f"「{typed}」"))["seconds"] == 30


@pytest.mark.parametrize("typed", ["30 秒", "３０　秒", "30 秒間", "30 s", "30 sec", "30 S"])
def test_a_unit_written_as_a_word_of_its_own_after_the_number_is_the_number(typed):
    # sleep 30 秒 (a space after the number, as a phone's keyboard often puts one) was refused as
    # “unexpected 秒”
    assert parse_params(SECONDS, split_words(typed))["seconds"] == 30


def test_a_unit_word_after_an_option_s_number_is_that_number_s():
    tries = (Param("attempts", kind="int", positional=False, required=False, minimum=1, maximum=9,
                   aliases=("回数",), units=("回",)),)
    assert parse_params(tries, split_words("回数：2 回"))["attempts"] == 2
    assert parse_params(tries, split_words("--attempts 3 回"))["attempts"] == 3


@pytest.mark.parametrize("typed", ["30 分", "30 秒 秒", "秒 30"])
def test_a_word_that_is_not_the_numbers_unit_is_still_refused(typed):
    with pytest.raises(UsageError):
        parse_params(SECONDS, split_words(typed))


@pytest.mark.parametrize(("typed", "word"), [("30分", "分"), ("１２個", "個"), ("5min", "min")])
def test_a_number_with_another_word_is_asked_for_alone_without_that_word(typed, word):
    with pytest.raises(UsageError) as raised:
        parse_params(SECONDS, split_words(typed))
    assert f"digits alone, without “{word}”" in raised.value.render(EN) and "like 12" not in raised.value.render(EN)
    assert f"「{word}」を付けずに数字だけで" in raised.value.render(JA)


@pytest.mark.parametrize("typed", ["nan", "NaN", "inf", "-inf", "infinity", "1_0", "1e1", "٣"])
def test_a_float_that_is_not_digits_is_refused_not_passed_through_the_range_check(typed):
    with pytest.raises(UsageError, match="like 1.5"):
        parse_params(COUNTS, split_words(f"1 --ratio {typed}"))


@pytest.mark.parametrize(("typed", "count"), [("１２", 12), ("+5", 5), ("-0", 0), ("1\u200b2", 12), ("0012", 12)])
def test_numbers_as_a_phone_types_them(typed, count):
    assert parse_params(COUNTS, split_words(typed))["count"] == count


@pytest.mark.parametrize("typed", ["ACME 「型「A」改」 x", "a 「彼は \"OK\" と」", "a \"b c\" 'd'", "a 「」 b",
                                   "x 「b\nc」", "a 「'x'」 --due 12/1", "「a』b」", "ACME「型『A』 'B'」"])
def test_joined_words_split_back_to_the_same_words(typed):
    words = split_words(typed)
    assert split_words(join_words(words)) == words


def test_a_line_break_inside_quotes_is_said_plainly_with_the_value_on_one_line():
    with pytest.raises(UsageError) as raised:
        read("ACME 「プレス金型\nA-12」")
    assert raised.value.render(JA) == "件名に改行かタブが入っています。「プレス金型 A-12」のように1行で書いてください"
    assert "line break" in raised.value.render(EN)


@pytest.mark.parametrize("separator", ["\u2028", "\u2029"])
def test_a_line_or_paragraph_separator_is_a_line_break_too(separator):
    """U+2028/U+2029 are no control characters, so a client or title holding one was taken: the sheet
    and the cards showed it on two lines, the folder's name with a space, the PDF without either."""
    for typed in (f"ACME 「プレス金型{separator}A-12」", f"ACME{separator}Corp 金型"):
        with pytest.raises(UsageError) as raised:
            read(typed)
        assert "line break" in raised.value.render(EN), typed
        assert separator not in raised.value.render(JA)


@pytest.mark.parametrize("typed", ["ACME 金型 --item=「設計 A:1:5万円」", "ACME 金型 --明細=『設計 A:1:5万円』",
                                   "ACME 金型 明細：「設計 A:1:5万円」", 'ACME 金型 --item="設計 A:1:5万円"'])
def test_a_bracketed_value_right_after_the_equals_sign_is_the_options_value(typed):
    assert read(typed)["item"] == ["設計 A:1:5万円"]  # was "--item is empty": 「 was split from --item=


def test_an_option_with_an_equals_sign_and_nothing_after_it_needs_a_value():
    with pytest.raises(UsageError) as raised:
        read("ACME 金型 --due=")
    assert raised.value.render(EN) == "--due needs a value"


def test_a_dialog_field_reads_a_case_number_typed_in_kana_mode():
    assert normalize_field(" ２０２６ー００１ ") == "2026-001"
    assert normalize_field("プレス金型 A-12〜ー") == "プレス金型 A-12〜ー"


# -- dates as the office writes them beyond the ISO and 年月日 forms (found by the office audit) -------

@pytest.mark.parametrize(("typed", "date"), [
    # the era's initial, as forms and stamps abbreviate it: R8.12.1, R8/12/1, Ｒ８．１２．１, H31.4.30
    ("R8.12.1", dt.date(2026, 12, 1)), ("R8/12/1", dt.date(2026, 12, 1)), ("r8-12-01", dt.date(2026, 12, 1)),
    ("Ｒ８．１２．１", dt.date(2026, 12, 1)), ("R08.12.01", dt.date(2026, 12, 1)), ("R元.5.1", dt.date(2019, 5, 1)),
    ("令和8.12.1", dt.date(2026, 12, 1)), ("令和8/12/1", dt.date(2026, 12, 1)), ("R8年12月1日", dt.date(2026, 12, 1)),
    ("H31.4.30", dt.date(2019, 4, 30)), ("S64.1.7", dt.date(1989, 1, 7)),
    # a date copied from a card, which shows it with its day of the week: 2026年12月1日(火)
    ("2026年12月1日(火)", dt.date(2026, 12, 1)), ("12月1日（火）", dt.date(2026, 12, 1)),
    ("2026年12月1日(火曜日)", dt.date(2026, 12, 1)), ("2026/12/1(火)", dt.date(2026, 12, 1)),
    ("12/1 (火)", dt.date(2026, 12, 1)), ("令和8年12月1日（火）", dt.date(2026, 12, 1)),
    ("2026-12-01 (Tue)", dt.date(2026, 12, 1)),
    # today and the days either side, as people say them (in the person's time zone: ``today``)
    ("今日", TODAY), ("本日", TODAY), ("きょう", TODAY), ("today", TODAY), ("Today", TODAY),
    ("明日", TODAY + dt.timedelta(days=1)), ("あした", TODAY + dt.timedelta(days=1)),
    ("あす", TODAY + dt.timedelta(days=1)), ("tomorrow", TODAY + dt.timedelta(days=1)),
    ("明後日", TODAY + dt.timedelta(days=2)), ("あさって", TODAY + dt.timedelta(days=2)),
    ("昨日", TODAY - dt.timedelta(days=1)), ("きのう", TODAY - dt.timedelta(days=1)),
    ("yesterday", TODAY - dt.timedelta(days=1)), ("一昨日", TODAY - dt.timedelta(days=2)),
])
def test_dates_the_office_writes_too(typed, date):
    assert parse_date(typed, TODAY) == date
    assert parse_date(typed, TODAY, recent=7) == date


@pytest.mark.parametrize("typed", ["2026年12月1日(水)", "12/1(月)", "2026-12-01 (Wed)", "12月1日(火曜)x"])
def test_a_day_of_the_week_that_does_not_match_its_date_is_refused(typed):
    """2026年12月1日 is a Tuesday: (水) says one of the two was mistyped, and which one is unknown."""
    with pytest.raises(ValueError):
        parse_date(typed, TODAY)


def test_the_mismatched_day_of_the_week_is_said():
    with pytest.raises(UsageError) as refused:
        read("ACME 金型 納期：2026年12月1日(水)")
    assert "曜日" in refused.value.render(JA) and "day of the week" in refused.value.render(EN)
    # and which day it is, so the person sees which of the two they mistyped
    assert "2026年12月1日(火)は火曜日です" in refused.value.render(JA), refused.value.render(JA)
    assert "1 Dec 2026 is a Tuesday" in refused.value.render(EN), refused.value.render(EN)


@pytest.mark.parametrize("typed", ["26年12月1日", "8年12月1日", "026年12月1日", "R.12.1", "R8.12", "X8.12.1",
                                   "R100.1.1"])
def test_a_year_that_is_not_written_in_full_is_refused_never_read_as_the_year_26(typed):
    """26年12月1日 was read as 1 December of the year 26 (and refused as “past” with the year 26 on
    the card); 8年12月1日 may be 令和8年: neither is guessed."""
    with pytest.raises(ValueError):
        parse_date(typed, TODAY)


def test_a_short_year_is_said_with_how_to_write_it():
    with pytest.raises(UsageError) as refused:
        read("ACME 金型 納期：26年12月1日")
    assert "2026年" in refused.value.render(JA) and "令和8年" in refused.value.render(JA)
    assert "2026年" in refused.value.render(EN)


@pytest.mark.parametrize(("typed", "english", "japanese"), [
    # 納品 (delivered) typed for 納期 (due): the word was “extra”, with no word of the option meant
    ("ACME 金型 納品：12月1日", "unexpected “納品:12月1日”; did you mean “納期：”?",
     "「納品:12月1日」は余分です。「納期：」のことですか？"),
    ("ACME 金型 明記:設計:1:1000", "did you mean “明細：”?", "「明細：」のことですか？"),
    ("ACME 金型 due:12/1", "did you mean “--due”?", "「--due」のことですか？"),
])
def test_an_option_name_mistyped_before_its_colon_is_named(typed, english, japanese):
    with pytest.raises(UsageError) as refused:
        read(typed)
    assert english in refused.value.render(EN) and japanese in refused.value.render(JA)


def test_a_loose_word_with_a_colon_and_nothing_near_is_only_extra():
    with pytest.raises(UsageError) as refused:
        read("ACME 金型 縮尺:1:100")
    assert "did you mean" not in refused.value.render(EN) and "のことですか" not in refused.value.render(JA)


@pytest.mark.parametrize("typed", ["ACME 金型 至急", "ACME 金型 至急：", "ACME 金型 ：至急", "ACME 金型 --urgent"])
def test_a_flag_is_written_by_its_japanese_name_alone(typed):
    """A flag takes no value: 置換 or 追加発行 alone is how a person writes it. It was refused as
    “「置換」は余分です” (the option's own name called extra), and help showed ``[置換：]``, a colon
    with nothing after it, which reads as a value left out."""
    assert read(typed)["urgent"] is True


def test_a_flag_is_shown_to_a_japanese_reader_by_its_name_alone():
    assert NEWCASE[-1].usage(JA) == "[至急]" and NEWCASE[-1].usage(EN) == "[--urgent]"
    with pytest.raises(UsageError) as refused:
        read("ACME 金型 --colour red")
    assert "（使えるオプション: 納期：、金額：、明細：、至急）" in refused.value.render(JA)


@pytest.mark.parametrize(("typed", "english", "japanese"), [
    # the name then a space, as one writes 納期 12月1日 in a note; or = as 案件一覧's filters are written
    ("ACME 金型 納期 12月1日", "did you mean “納期：”?", "「納期 12月1日」は余分です。「納期：」のことですか？"),
    ("ACME 金型 納期=12月1日", "did you mean “納期：”?", "「納期=12月1日」は余分です。「納期：」のことですか？"),
    ("ACME 金型 金額 35万円", "did you mean “金額：”?", "「金額：」のことですか？"),
    ("ACME 金型 due=12/1", "did you mean “--due”?", "「--due」のことですか？"),
])
def test_an_option_name_written_without_its_colon_is_named(typed, english, japanese):
    with pytest.raises(UsageError) as refused:
        read(typed)
    assert english in refused.value.render(EN) and japanese in refused.value.render(JA)
