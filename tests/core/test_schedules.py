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


def test_a_slot_rule_skips_slots_in_the_sweep_and_in_the_last_and_next_it_shows():
    """``runs_on`` (e.g. the digest: the week's first working day) decides which slots of the cron
    schedule start a job; the console's last and next slots are those; a rule that fails starts it."""
    from types import SimpleNamespace

    from ackflow.app.sweep import runs_on

    tokyo = ZoneInfo("Asia/Tokyo")
    odd_days = JobType(name="odd", help="", steps=(Step("s", lambda ctx: None),), schedule="0 9 * * *",
                       runs_on=lambda runtime, slot: slot.astimezone(tokyo).day % 2 == 1)
    runtime = SimpleNamespace()
    now = dt.datetime(2026, 12, 2, 12, 0, tzinfo=tokyo).timestamp()  # the 2nd, after 09:00
    assert slot_of(odd_days, now, "Asia/Tokyo").day == 2  # the cron's slot …
    assert not runs_on(runtime, odd_days, slot_of(odd_days, now, "Asia/Tokyo"))  # … starts nothing
    last, upcoming = last_and_next(odd_days, now, "Asia/Tokyo", runtime)
    assert (last.day, upcoming.day) == (1, 3)
    every = last_and_next(odd_days, now, "Asia/Tokyo")  # without a runtime: the cron's own slots
    assert (every[0].day, every[1].day) == (2, 3)

    def broken(runtime, slot):
        raise KeyError("office settings")

    failing = JobType(name="failing", help="", steps=(Step("s", lambda ctx: None),), schedule="0 9 * * *",
                      runs_on=broken)
    assert runs_on(runtime, failing, slot_of(failing, now, "Asia/Tokyo"))
