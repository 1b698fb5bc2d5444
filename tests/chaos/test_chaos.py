"""The chaos suite at a small scale (benchmarks/chaos.py runs it at full scale): confirmed jobs
through the real chat flow while the worker is killed, the queue goes down, Run is pressed more
than once, tasks are delivered again and forced, and Chat answers 429 and 503. Every job must end
once, in time, with its final state in its thread."""

from __future__ import annotations

import json

import pytest

from benchmarks.chaos import Plan, run


@pytest.mark.slow
def test_no_job_is_lost_doubled_stuck_or_wrongly_shown_under_faults(tmp_path):
    plan = Plan(jobs=60, seed=7, kill_every=4.0, outage=5.0, faults_after=3.0, forced=0.5, chat_429=0.08,
                chat_5xx=0.05)
    report = run(plan, tmp_path, log=lambda line: None)
    faults = report.faults
    # the faults happened
    assert faults["worker_kills"] >= 1 and faults["queue_down_s"] >= 5 and faults["duplicate_clicks"] >= 1
    assert faults["forced_deliveries"] >= 10 and faults["chat_429"] >= 1
    # and every job came through
    verdicts = report.verdicts
    assert verdicts["jobs"] == 60 and verdicts["succeeded"] == 60, json.dumps(report.to_dict(), indent=1)
    assert report.problems == [], "\n".join(report.problems)
