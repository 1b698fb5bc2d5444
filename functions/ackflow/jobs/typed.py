"""Amounts and dates as people type them, in Japanese or English, read into plain values.

Amounts: ``350000``, ``350,000``, ``¥350,000``, ``350000円``, ``35万``, ``35万円``, ``1.5万``,
``12万3000円``, in thousands of yen as estimates write them (``350千円``, ``1,200千円``), with 億
(``1億円``, ``1.5億円``, ``1億2000万円``, ``1億2千万円``), and as documents print them, ``¥350,000-``
and ``350,000円也`` → integer yen.
Dates: ``2026-12-01``, ``2026/12/1``, ``12/1`` (the next such date),
``12月1日``, ``2026年12月1日``, ``令和8年12月1日`` (and 平成, 昭和, 元年; a day outside its era's
reign, such as 平成31年5月1日, is refused), the era by its initial as forms abbreviate it
(``R8.12.1``, ``R8/12/1``, ``H31.4.30``), a date copied from a card with its day of the week
(``2026年12月1日(火)``: the day must match), and 今日, 明日, 明後日, 昨日, 一昨日 (today, tomorrow,
yesterday) → ``datetime.date``. A year written short without its era (``26年12月1日``, ``8年…``:
2026, or 令和8年?) is refused, never read as the year 26.

Text is normalised first (:func:`ackflow.jobs.normalize.normalize`), so full-width digits and ``／``
work too. Anything else raises ``ValueError`` with a short reason (English, marked for the catalog);
callers turn it into a message in the person's language with an example.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from ..i18n import N_, Day, Msg, Yen
from .normalize import normalize

MAX_YEN = 10**12  # a trillion yen: more than any estimate, less than any overflow downstream

# after the figure, as documents print it: ¥350,000- (a dash that closes it), 350,000円也
_AMOUNT = re.compile(r"^(?:[¥￥]\s*)?(?P<body>[0-9][0-9,]*(?:\.[0-9]+)?(?:万(?:[0-9][0-9,]*)?)?)\s*(?:円)?"
                     r"(?:[-−‐―ー]|(?<=円)也)?$")
_KANJI_NUMERALS = re.compile(r"[〇一二三四五六七八九十]")  # 三十五万: a number written in kanji numerals
_KANJI_DIGITS = re.compile(r"[〇一二三四五六七八九十百千]")  # …or with 千 and 百 too (8千5)
# digits with 千 and 百 as people write amounts: 3万8千円, 5千円, 千円, 1千2百円, 2千500円; after
# 千 a 百 or three digits, after 百 two digits (8千5 is said 8,500 but reads 8,005: refused, as 3万5 is)
_UNITS = re.compile(r"(?:(?P<k>[1-9]?)千)?(?:(?P<h>[1-9]?)百)?(?P<rest>[0-9]*)")
# an amount in thousands of yen, as estimates and budgets write it: 350千円 (¥350,000), 1,200千円; the
# number is the whole amount (nothing after 千 but 円: 350千5 is refused as 8千5 is)
_THOUSANDS = re.compile(r"^(?P<head>[¥￥]?)(?P<k>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)千(?P<tail>円?)$")
# 億 (a hundred million): 1億円, 1.5億円, 1億2000万円, 1億2千万円; after 億 the 万 part of the amount
_OKU = re.compile(r"^(?P<head>[¥￥]?)(?P<oku>[0-9][0-9,]*(?:\.[0-9]+)?)億(?P<rest>.*)$")
_MAN_AFTER_OKU = re.compile(r"^(?P<man>[0-9千百]+)万")
# a negative amount as people type one: -5000, −5,000 (the IME's minus), ▲5000 and △5000 (as Japanese
# accounts write one), ¥-5000; said as negative, not as "not an amount"
_NEGATIVE = re.compile(r"^(?:[¥￥]\s*)?[-−‐ー▲△]\s*(?:[¥￥]\s*)?[0-9]")
_GROUPED = re.compile(r"^[0-9]{1,3}(?:,[0-9]{3})+$")  # commas only between groups of three digits
_ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925}  # era year 1 = base + 1
# the days of each era's reign, and what is said of a day outside them (平成31年5月1日 was 令和元年5月1日)
_REIGNS = {"令和": (dt.date(2019, 5, 1), dt.date.max, N_("令和 began on 2019-05-01")),
           "平成": (dt.date(1989, 1, 8), dt.date(2019, 4, 30), N_("平成 ran from 1989-01-08 to 2019-04-30")),
           "昭和": (dt.date(1926, 12, 25), dt.date(1989, 1, 7), N_("昭和 ran from 1926-12-25 to 1989-01-07"))}
_ISO = re.compile(r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})$")
_MONTH_DAY = re.compile(r"^(?P<m>\d{1,2})/(?P<d>\d{1,2})$")
_JAPANESE = re.compile(r"^(?:(?P<era>令和|平成|昭和)?(?P<y>\d{1,4}|元)年)?(?P<m>\d{1,2})月(?P<d>\d{1,2})日$")
# R8.12.1, R8/12/1, 令和8.12.1: an era (its initial made its name first) and its year, then month and day
_ERA_DOTTED = re.compile(r"^(?P<era>令和|平成|昭和)(?P<y>\d{1,2}|元)(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)"
                         r"(?P<d>\d{1,2})$")
_INITIAL = re.compile(r"^[RHS](?=\d|元)", re.IGNORECASE)  # R8.12.1, H31年4月30日: the era's initial
_INITIALS = {"R": "令和", "H": "平成", "S": "昭和"}
# the day of the week a card writes after a date (2026年12月1日(火)), in either language
_WEEKDAY = re.compile(r"\((?P<day>[月火水木金土日](?:曜日?)?|mon|tue|wed|thu|fri|sat|sun)\)$", re.IGNORECASE)
_WEEKDAYS = {**{d: i for i, d in enumerate("月火水木金土日")},
             **{d: i for i, d in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}}
WEEKDAY_NAMES = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"),
                 N_("Sunday"))
# today and the days either side, as people say them: days from today
_RELATIVE = {"今日": 0, "本日": 0, "きょう": 0, "today": 0, "明日": 1, "あした": 1, "あす": 1, "tomorrow": 1,
             "明後日": 2, "あさって": 2, "昨日": -1, "きのう": -1, "yesterday": -1, "一昨日": -2, "おととい": -2}


class Unreadable(ValueError):
    """A parser's reason that names values (the date's real day of the week), said later in the
    reader's language (``values`` as a Msg's)."""

    def __init__(self, text: str, **values):
        super().__init__(text)
        self.values = values


def parse_yen(text: str, *, allow_zero: bool = False) -> int:
    """Integer yen from how people write amounts; ValueError if it is not one."""
    raw = normalize(text).replace(" ", "")
    raw = raw.replace("\\", "¥")  # a Japanese keyboard's yen key often types a backslash
    if _NEGATIVE.match(raw):
        raise ValueError(N_("negative"))
    raw = _with_units_in_digits(_oku_in_man(raw))
    match = _AMOUNT.match(raw)
    if not match:
        if _KANJI_NUMERALS.search(raw):  # 三十五万: said how to write it in digits
            raise ValueError(N_("write the number in digits: 35万円, not 三十五万円"))
        if _KANJI_DIGITS.search(raw):  # 8千5: read two ways, or 千 where it cannot be
            raise ValueError(N_("write three digits after 千 and two after 百: 8千500円 or 8500, not 8千5"))
        raise ValueError(N_("not an amount"))
    body = match.group("body")
    if "," in body and not all(_GROUPED.match(part) for part in _commas_in(body)):
        raise ValueError(N_("misplaced comma"))  # 1,5 or 350,00: a typo or a decimal comma, never 15
    body = body.replace(",", "")
    try:
        if "万" in body:
            man, _, rest = body.partition("万")
            if rest and len(rest) != 4:  # 3万50000 is more than a 万 after it; 3万5 is said 35,000 but is 30,005
                raise _four_digits_after_man(man, rest)
            value = Decimal(man) * 10_000 + (Decimal(rest) if rest else 0)
        else:
            value = Decimal(body)
    except InvalidOperation as exc:
        raise ValueError(N_("not an amount")) from exc
    if value != value.to_integral_value():
        raise ValueError(N_("yen has no fractions"))
    yen = int(value)
    if yen > MAX_YEN:
        raise ValueError(N_("too large"))
    if yen == 0 and not allow_zero:
        raise ValueError(N_("zero"))
    return yen


def _oku_in_man(raw: str) -> str:
    """``raw`` with its 億 counted in 万 (1億2000万円 → 12000万円, 1億2千万円 → 12000万円, 1億円 →
    10000万円, 1.5億 → 15000.0万), read on as any amount in 万; as it was when it has no 億 (or
    does not read one way: then refused as any other)."""
    match = _OKU.match(raw)
    if match is None:
        return raw
    oku, rest = match["oku"], match["rest"]
    if "," in oku and not _GROUPED.match(oku.partition(".")[0]):
        raise ValueError(N_("misplaced comma"))
    oku = oku.replace(",", "")
    after_oku = N_("after 億, write the rest in 万 (at most four digits before 万): 1億2000万円 or 120000000")
    man_match = _MAN_AFTER_OKU.match(rest)
    man = 0
    if man_match:
        digits = _section_digits(man_match["man"])
        if digits is None or not digits.isdigit() or len(digits) > 4 or "." in oku:
            # 1億20000万 or 1.5億2000万: not a 万 part of a 億
            raise ValueError(after_oku)
        man, rest = int(digits), rest[man_match.end():]
    elif rest[:1].isdigit() or rest[:1] in ("千", "百"):
        # 1億2 (said 120,000,000, written 100,000,002) or 1億5000円: written with 万 only
        raise ValueError(after_oku)
    try:
        in_man = Decimal(oku) * 10_000 + man
    except InvalidOperation:
        return raw
    return match["head"] + format(in_man, "f") + "万" + rest


def _with_units_in_digits(raw: str) -> str:
    """``raw`` with 千 and 百 written out in digits (3万8千円 → 3万8000円, 千円 → 1000円, and an amount
    in thousands of yen: 350千円 → 350000円), when they read one way only; anything else as it was
    (then refused, saying to write digits)."""
    if "千" not in raw and "百" not in raw:
        return raw
    thousands = _THOUSANDS.match(raw)
    if thousands and len(thousands["k"].replace(",", "")) > 1:  # 8千 is read below, as 3万8千 is
        return thousands["head"] + str(int(thousands["k"].replace(",", "")) * 1000) + thousands["tail"]
    head, yen, tail = re.match(r"^([¥￥]?)(.*?)(円?)$", raw).groups()
    sections = yen.split("万")
    if len(sections) > 2:
        return raw
    written = []
    for index, section in enumerate(sections):
        digits = _section_digits(section)
        if digits is None:
            return raw
        written.append(digits.zfill(4) if index == 1 and digits != section else digits)
    return head + "万".join(written) + tail


def _section_digits(section: str) -> str | None:
    """A section of an amount (before or after 万) in digits: 8千 → 8000, 1千2百 → 1200, 2千500 →
    2500, 百 → 100; digits alone as they are; None when it does not read one way."""
    if "千" not in section and "百" not in section:
        return section
    match = _UNITS.fullmatch(section)
    if match is None:
        return None
    k, h, rest = match["k"], match["h"], match["rest"]
    if (match["h"] is not None and rest and len(rest) != 2) or \
            (match["h"] is None and match["k"] is not None and rest and len(rest) != 3):
        return None  # 8千5, 3百5: said 8,500 and 350, written 8,005 and 305
    value = (int(k or 1) * 1000 if k is not None else 0) + (int(h or 1) * 100 if h is not None else 0) + \
        int(rest or 0)
    return str(value)


def _four_digits_after_man(man: str, rest: str) -> ValueError:
    """The refusal of 3万5 or 51万400: both amounts it may have meant, in the person's own number
    (3万0005円, ¥30,005, as written; 3万5000円, ¥35,000, as said), not a fixed example."""
    if len(rest) > 4 or not man.isdigit():
        return ValueError(N_("write four digits after 万: 51万0400円 or 510400"))
    written, said = rest.zfill(4), rest.ljust(4, "0")
    return Unreadable(N_("write four digits after 万: {written} ({written_yen}) or {said} ({said_yen})"),
                      written=f"{man}万{written}円", written_yen=Yen(int(man + written)),
                      said=f"{man}万{said}円", said_yen=Yen(int(man + said)))


def _commas_in(body: str) -> list[str]:
    """The whole-number parts of ``body`` that hold a comma (before a decimal point, either side of 万)."""
    return [part.partition(".")[0] for part in body.split("万") if "," in part]


def parse_date(text: str, today: dt.date, recent: int | None = None) -> dt.date:
    """A date from how people write it; ``today`` (in the person's time zone) resolves 12/1 and
    12月1日 to the next such date, or with ``recent`` (a day that happened) to the latest such date
    at most ``recent`` days after today. ValueError if it is not a date or does not exist (2月30日)."""
    raw = normalize(text).replace(" ", "")
    if raw.lower() in _RELATIVE:
        return today + dt.timedelta(days=_RELATIVE[raw.lower()])
    weekday = _WEEKDAY.search(raw)
    if weekday is None:
        return _day(raw, today, recent)
    day_of = _day(raw[:weekday.start()], today, recent)
    said = weekday["day"]
    if day_of.weekday() != _WEEKDAYS[said[:3].lower() if said.isascii() else said[0]]:
        raise Unreadable(N_("the day of the week does not match: {day} is a {weekday}"), day=Day(day_of),
                         weekday=Msg(WEEKDAY_NAMES[day_of.weekday()]))
    return day_of


def _day(raw: str, today: dt.date, recent: int | None) -> dt.date:
    """``parse_date`` of a normalised text without its day of the week."""
    if _INITIAL.match(raw):
        raw = _INITIALS[raw[0].upper()] + raw[1:]
    match = _ISO.match(raw)
    if match:
        return _date(int(match["y"]), int(match["m"]), int(match["d"]))
    match = _ERA_DOTTED.match(raw) or _MONTH_DAY.match(raw) or _JAPANESE.match(raw)
    if not match:
        raise ValueError(N_("not a date"))
    month, day = int(match["m"]), int(match["d"])
    year_text = match.groupdict().get("y")
    if year_text is None and recent is not None:
        until = today + dt.timedelta(days=recent)
        for year in range(until.year, until.year - 9, -1):  # 2/29 may be up to eight years back
            candidate = _date(year, month, day, leap_ok=True)
            if candidate is not None and candidate <= until:
                return candidate
        raise ValueError(N_("that day does not exist"))
    if year_text is None:
        for year in range(today.year, today.year + 9):  # 2/29 may be up to eight years away
            candidate = _date(year, month, day, leap_ok=True)
            if candidate is not None and candidate >= today:
                return candidate
        raise ValueError(N_("that day does not exist"))
    era = match.groupdict().get("era")
    year = 1 if year_text == "元" else int(year_text)
    if era:
        day_of = _date(_ERAS[era] + year, month, day) if year else None
        first, last, reign = _REIGNS[era]
        if day_of is None or not first <= day_of <= last:
            raise ValueError(reign)
        return day_of
    if year_text == "元":
        raise ValueError(N_("元年 needs an era (令和元年)"))
    if len(year_text) < 4:  # 26年: 2026, or 令和26年? 8年: 令和8年? never the year 26
        raise ValueError(N_("write the year in full (2026年) or with its era (令和8年)"))
    return _date(year, month, day)


def _date(year: int, month: int, day: int, *, leap_ok: bool = False) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        if leap_ok and month == 2 and day == 29:
            return None
        raise ValueError(N_("that day does not exist")) from exc
