"""Cron schedules of periodic jobs are read on the wall clock of the deployment's time zone
(ACKFLOW_TIME_ZONE), daylight saving included: nine in the morning stays nine in the morning."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ackflow.app.sweep import last_and_next, slot_of, slot_stamp
from ackflow.jobs.registry import JobType, Step

NEW_YORK, TOKYO = ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")


def nightly(schedule: str) -> JobType:
    return JobType("nightly", "h", (Step("s", lambda ctx: None),), schedule=schedule)


def at(zone, *fields) -> float:
    return dt.datetime(*fields, tzinfo=zone).timestamp()


@pytest.mark.parametrize("day", [(2026, 1, 15), (2026, 7, 15)], ids=["winter", "summer"])
def test_nine_in_the_morning_in_new_york_winter_and_summer(day):
    slot = slot_of(nightly("0 9 * * *"), at(NEW_YORK, *day, 9, 0, 30), "America/New_York")
    assert (slot.hour, slot.minute, slot.tzinfo) == (9, 0, NEW_YORK)
    assert slot.timestamp() == at(NEW_YORK, *day, 9, 0)
    # in UTC that is 14:00 in winter and 13:00 in summer: the old UTC reading would be an hour off half the year
    assert slot.astimezone(dt.UTC).hour == (14 if day[1] == 1 else 13)


def test_a_slot_in_the_hour_that_is_skipped_runs_when_the_clock_jumps():
    # 8 March 2026: New York's clocks go from 2:00 to 3:00; a 2:30 job runs at 3:00 that day, once
    job = nightly("30 2 * * *")
    slot = slot_of(job, at(NEW_YORK, 2026, 3, 8, 3, 10), "America/New_York")
    assert slot.timestamp() == at(NEW_YORK, 2026, 3, 8, 3, 0)
    assert slot_of(job, at(NEW_YORK, 2026, 3, 9, 2, 45), "America/New_York").timestamp() == \
        at(NEW_YORK, 2026, 3, 9, 2, 30)


def test_a_slot_in_the_hour_that_repeats_runs_once():
    # 1 November 2026: 1:00-2:00 happens twice in New York; a 1:30 job runs at the first 1:30 only
    job = nightly("30 1 * * *")
    first = dt.datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK, fold=0).timestamp()
    second = dt.datetime(2026, 11, 1, 1, 45, tzinfo=NEW_YORK, fold=1).timestamp()
    assert slot_of(job, first + 60, "America/New_York").timestamp() == first
    assert slot_of(job, second, "America/New_York").timestamp() == first  # not a second slot that day
    assert slot_stamp(slot_of(job, second, "America/New_York")) == "202611010530"  # its UTC minute, in job ids


def test_tokyo_has_no_daylight_saving_and_weekdays_are_tokyos():
    job = nightly("0 9 * * MON-FRI")
    # Monday 9:00 in Tokyo is still Sunday in UTC: read in UTC, this slot would be missed
    slot = slot_of(job, at(TOKYO, 2026, 12, 7, 9, 5), "Asia/Tokyo")
    assert slot.timestamp() == at(TOKYO, 2026, 12, 7, 9, 0) and slot.weekday() == 0
    last, upcoming = last_and_next(job, at(TOKYO, 2026, 12, 5, 12, 0), "Asia/Tokyo")  # a Saturday
    assert last.timestamp() == at(TOKYO, 2026, 12, 4, 9, 0) and upcoming.timestamp() == at(TOKYO, 2026, 12, 7, 9, 0)


def test_utc_is_the_default_as_before():
    slot = slot_of(nightly("0 0 * * *"), at(dt.UTC, 2026, 12, 1, 0, 0, 30))
    assert slot_stamp(slot) == "202612010000"
