"""The chaos suite's own verdicts, on run logs made up to hold each case (the suite is only as good
as what it can tell apart)."""

from __future__ import annotations

from benchmarks.chaos import ran_at_once


def test_a_run_cut_short_by_a_kill_overlaps_a_run_that_started_before_the_kill():
    # the first run never logged its end: its process was killed at 5, after the second had started
    runs = [{"pid": 1, "start": 0.0}, {"pid": 2, "start": 1.0, "end": 2.0}]
    assert ran_at_once(runs, kills=[5.0])


def test_a_run_cut_short_by_a_kill_and_run_again_after_it_ran_once_at_a_time():
    runs = [{"pid": 1, "start": 0.0}, {"pid": 2, "start": 2.0, "end": 3.0}]
    assert not ran_at_once(runs, kills=[1.0, 10.0])


def test_a_run_no_kill_explains_never_ended_and_overlaps_what_came_after():
    runs = [{"pid": 1, "start": 0.0}, {"pid": 1, "start": 2.0, "end": 3.0}]
    assert ran_at_once(runs, kills=[])


def test_runs_that_ended_are_compared_with_every_earlier_one_not_only_the_last():
    # the second ended early; the third still started while the first ran
    runs = [{"pid": 1, "start": 0.0, "end": 10.0}, {"pid": 1, "start": 1.0, "end": 2.0},
            {"pid": 2, "start": 3.0, "end": 4.0}]
    assert ran_at_once(runs, kills=[])
    assert not ran_at_once([{"pid": 1, "start": 0.0, "end": 1.0}, {"pid": 2, "start": 1.5, "end": 2.0}], kills=[])
