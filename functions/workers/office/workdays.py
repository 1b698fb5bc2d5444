"""The office's working days: not Saturday or Sunday, not a public holiday of the office's country
(the ``holidays`` library's calendar, JP by default: 祝日 and 振替休日), not one of the office's own
closed days (年末年始, お盆, …: ``ACKFLOW_OFFICE_CLOSED_DAYS``). The reminder comes on the working
day before a due date, so a case due on the Tuesday after a Monday holiday is reminded on Friday."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

SEARCH_LIMIT = 60  # no office closes for two months; a bad setting must not loop for ever
CLOSED_DAY = re.compile(r"(?:(\d{4})-)?(\d{2})-(\d{2})")


def parse_closed_days(values: list[str]) -> tuple[tuple[int | None, int, int], ...]:
    """``12-29`` (every year) or ``2026-08-14`` (that year only), as (year or None, month, day);
    a ValueError names the entry that is neither."""
    days = []
    for value in values:
        found = CLOSED_DAY.fullmatch(value.strip())
        if not found:
            raise ValueError(f"{value!r} is neither MM-DD nor YYYY-MM-DD")
        year, month, day = (int(part) if part else None for part in found.groups())
        dt.date(year or 2024, month, day)  # a leap year, so 02-29 may be closed; 02-30 may not
        days.append((year, month, day))
    return tuple(days)


@lru_cache(maxsize=8)
def _public_holidays(country: str, year: int) -> frozenset[dt.date]:
    if not country:
        return frozenset()
    import holidays  # the worker's only user of it: loaded when a reminder first asks

    return frozenset(holidays.country_holidays(country, years=year))


class Workdays:
    def __init__(self, country: str = "JP", closed: tuple[tuple[int | None, int, int], ...] = ()):
        self.country = country
        self.closed = closed

    def is_working(self, day: dt.date) -> bool:
        if day.weekday() >= 5 or day in _public_holidays(self.country, day.year):
            return False
        return not any((year in (None, day.year)) and (month, mday) == (day.month, day.day)
                       for year, month, mday in self.closed)

    def before(self, day: dt.date) -> dt.date:
        """The last working day before ``day``."""
        return self._step(day, -1)

    def after(self, day: dt.date) -> dt.date:
        """The first working day after ``day``."""
        return self._step(day, 1)

    def _step(self, day: dt.date, direction: int) -> dt.date:
        for _ in range(SEARCH_LIMIT):
            day += dt.timedelta(days=direction)
            if self.is_working(day):
                return day
        raise ValueError(f"no working day within {SEARCH_LIMIT} days of {day}: check ACKFLOW_OFFICE_CLOSED_DAYS")


def office_workdays(settings) -> Workdays:
    return Workdays(settings.holidays, parse_closed_days(settings.closed_days))
