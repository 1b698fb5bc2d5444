"""The dates a person gives the office's commands, checked against today in the office's time zone
(ACKFLOW_OFFICE_TIMEZONE) at the command, before a card, never first inside a job:

- a deadline (a case's due date ``newcase --due``, an invoice's payment due date ``invoice --due``,
  an estimate's validity ``--valid-until``) is today or later, and at most ``AHEAD_DAYS`` ahead
  (2062 typed for 2026 is a typo, not terms; a case due in the past was mistyped, or its mail is
  old: the form says so, to correct or clear);
- the day something happened (a delivery ``delivered --date``, a payment ``paid --date``, an
  order ``ordered --date``, an invoice's transaction date ``invoice --date``) is at most
  ``FUTURE_DAYS`` ahead (a delivery due on Monday recorded on Friday; a payment is recorded when
  it arrived, so further ahead is a typo), and not before the year of the case's number (a case
  numbered 2026-… was opened in 2026: nothing of it happened before; a correction invoice of an
  old case keeps that case's dates, however old).

``now`` is the runtime's clock (``JobType.validate_at``), so tests set the day. The reply says
what was wrong, today's date and an example, in the person's language.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ackflow.errors import UsageError
from ackflow.i18n import N_, Speaker
from ackflow.jobs.params import Param

AHEAD_DAYS = 366  # a payment due date or an estimate's validity: at most a year ahead
FUTURE_DAYS = 7  # a delivery, payment, order or transaction date: at most a week ahead

TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "past": N_("{param} {date} is in the past (today is {today}): give today or a later date, e.g. {example}"),
    "far": N_("{param} {date} is more than a year ahead (today is {today}); check the year, e.g. {example}"),
    "future": N_("{param} {date} is more than {days} days ahead (today is {today}): give the day it happened, "
                 "e.g. {example}"),
    "before_case": N_("{param} {date} is before case {case} was opened (its number is of {year}); check the "
                      "year, e.g. {example}"),
}


class Day:
    """A date as the person reads it: 2026年12月1日(火) / 1 Dec 2026."""

    def __init__(self, day: dt.date):
        self.day = day

    def render(self, speaker: Speaker) -> str:
        return speaker.date(self.day)


class Typed:
    """How the person writes ``param`` with ``day``: ``--due 2026-12-31``; ``支払期限：2026-12-31`` in
    Japanese; in a form, the date alone (its field is labelled)."""

    def __init__(self, param: Param, day: dt.date):
        self.param = param
        self.day = day

    def render(self, speaker: Speaker) -> str:
        if speaker.in_form:
            return self.day.isoformat()
        if speaker.language == "ja" and self.param.native_alias:
            return f"{self.param.native_alias}：{self.day.isoformat()}"
        return f"{self.param.option} {self.day.isoformat()}"


def office_today(now: float, time_zone: str) -> dt.date:
    return dt.datetime.fromtimestamp(now, ZoneInfo(time_zone)).date()


def _given(values: dict, param: Param) -> dt.date | None:
    value = values.get(param.name)
    if not value:
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def check_deadline(values: dict, param: Param, today: dt.date, example_days: int = 30) -> None:
    """A due or validity date: from today to ``AHEAD_DAYS`` ahead."""
    day = _given(values, param)
    if day is None:
        return
    example = Typed(param, today + dt.timedelta(days=example_days))
    if day < today:
        raise UsageError(TEXTS["past"], param=param, date=Day(day), today=Day(today), example=example)
    if day > today + dt.timedelta(days=AHEAD_DAYS):
        raise UsageError(TEXTS["far"], param=param, date=Day(day), today=Day(today), example=example)


def check_happened(values: dict, param: Param, today: dt.date) -> None:
    """The day something of the case happened: at most ``FUTURE_DAYS`` ahead, not before the year of
    the case's number."""
    day = _given(values, param)
    if day is None:
        return
    example = Typed(param, today)
    if day > today + dt.timedelta(days=FUTURE_DAYS):
        raise UsageError(TEXTS["future"], param=param, date=Day(day), today=Day(today), days=FUTURE_DAYS,
                         example=example)
    case = str(values.get("case") or "")
    year = int(case[:4]) if case[:4].isdigit() else None
    if year is not None and day.year < year:
        raise UsageError(TEXTS["before_case"], param=param, date=Day(day), case=case, year=year, example=example)
