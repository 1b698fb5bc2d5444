"""The office's working days (weekends, Japan's public holidays, the office's own closed days) and
the shipped periodic jobs' slots: 09:00 in the deployment's time zone, Tokyo for the office."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ackflow.app.sweep import slot_of
from ackflow.errors import ConfigError
from ackflow.jobs.registry import Registry
from ackflow.queues import load_queues
from ackflow.settings import Settings
from workers.office import register
from workers.office.settings import OfficeSettings, load_office_settings
from workers.office.workdays import Workdays, parse_closed_days

TOKYO = ZoneInfo("Asia/Tokyo")
JAPAN = Workdays("JP")


@pytest.mark.parametrize(("due", "reminded"), [
    (dt.date(2026, 12, 7), dt.date(2026, 12, 4)),  # Monday → Friday
    (dt.date(2027, 1, 12), dt.date(2027, 1, 8)),  # Tuesday after 成人の日 (Monday 11 Jan) → Friday
    (dt.date(2026, 5, 7), dt.date(2026, 5, 1)),  # after Golden Week: 3–5 May and 振替休日 6 May
    (dt.date(2026, 9, 24), dt.date(2026, 9, 18)),  # after 敬老の日, 国民の休日 and 秋分の日 (21–23 Sep)
    (dt.date(2026, 12, 2), dt.date(2026, 12, 1)),  # an ordinary Wednesday → Tuesday
])
def test_the_working_day_before_a_due_date_skips_weekends_and_public_holidays(due, reminded):
    assert JAPAN.before(due) == reminded
    assert JAPAN.after(reminded) == due


def test_the_offices_own_closed_days_are_not_working_days():
    year_end = Workdays("JP", parse_closed_days(["12-29", "12-30", "12-31", "01-02", "01-03", "2026-08-14"]))
    assert year_end.before(dt.date(2027, 1, 4)) == dt.date(2026, 12, 28)  # 年末年始, with 1 January a holiday
    assert not year_end.is_working(dt.date(2026, 8, 14)) and year_end.is_working(dt.date(2027, 8, 13))
    assert JAPAN.is_working(dt.date(2026, 12, 29))  # not closed unless the office says so
    weekends_only = Workdays("")
    assert weekends_only.is_working(dt.date(2027, 1, 11)) and not JAPAN.is_working(dt.date(2027, 1, 11))


def test_bad_closed_days_and_countries_are_refused_when_the_settings_are_read(monkeypatch):
    assert OfficeSettings(closed_days="12-29, 2026-08-14").closed_days == ["12-29", "2026-08-14"]
    for name, value, complaint in (("CLOSED_DAYS", "12/29", "neither MM-DD nor YYYY-MM-DD"),
                                   ("CLOSED_DAYS", "02-30", "day is out of range"),
                                   ("HOLIDAYS", "Japan", "two-letter country code")):
        monkeypatch.setenv(f"ACKFLOW_OFFICE_{name}", value)
        with pytest.raises(ConfigError, match=complaint) as raised:
            load_office_settings()
        assert f"ACKFLOW_OFFICE_{name}" in str(raised.value)
        monkeypatch.delenv(f"ACKFLOW_OFFICE_{name}")


def test_the_shipped_digest_and_reminder_come_at_nine_in_tokyo():
    registry = Registry(load_queues(Settings().queues_file))
    register(registry)
    friday_morning = dt.datetime(2026, 12, 4, 9, 0, 30, tzinfo=TOKYO).timestamp()
    reminder = slot_of(registry.get("reminder"), friday_morning, "Asia/Tokyo")
    assert reminder == dt.datetime(2026, 12, 4, 9, 0, tzinfo=TOKYO)
    assert slot_of(registry.get("reminder"), friday_morning - 60, "Asia/Tokyo").date() == dt.date(2026, 12, 3)
    from types import SimpleNamespace

    from ackflow.app.sweep import last_and_next

    office = SimpleNamespace(services=SimpleNamespace(office_settings=SimpleNamespace(
        timezone="Asia/Tokyo", holidays="JP", closed_days="")))
    digest, upcoming = last_and_next(registry.get("digest"), friday_morning, "Asia/Tokyo", office)
    assert digest == dt.datetime(2026, 11, 30, 9, 0, tzinfo=TOKYO)  # Monday of that week, nine o'clock
    assert upcoming == dt.datetime(2026, 12, 7, 9, 0, tzinfo=TOKYO)  # the next Monday
    holiday_week = dt.datetime(2027, 1, 11, 12, 0, tzinfo=TOKYO).timestamp()  # 成人の日, a Monday
    assert last_and_next(registry.get("digest"), holiday_week, "Asia/Tokyo", office)[1] == \
        dt.datetime(2027, 1, 12, 9, 0, tzinfo=TOKYO)  # Tuesday, that week's first working day
