"""The chaos suite at a small scale (benchmarks/chaos.py runs it at full scale): confirmed jobs
through the real chat flow while the worker is killed, the queue goes down, Run is pressed more
than once, tasks are delivered again and forced, and Chat answers 429 and 503. Every job must end
once, in time, with its final state in its thread. On the local Cloud Tasks service, and on SQS (a
moto server) with the relay, whose outage replaces the queue's."""

from __future__ import annotations

import json

import pytest

from benchmarks.chaos import MIX, Plan, run
from tests.conftest import IN_CI


@pytest.mark.slow
def test_no_job_is_lost_doubled_stuck_or_wrongly_shown_under_faults(tmp_path):
    plan = Plan(jobs=60, seed=7, kill_every=4.0, outage=5.0, faults_after=3.0, forced=0.5, chat_429=0.08,
                chat_5xx=0.05, min_forced=10)
    report = run(plan, tmp_path, log=lambda line: None)
    faults = report.faults
    # the faults happened
    assert faults["worker_kills"] >= 1 and faults["queue_down_s"] >= 5 and faults["duplicate_clicks"] >= 1
    assert faults["forced_deliveries"] >= 10 and faults["chat_429"] >= 1
    # and every job came through
    verdicts = report.verdicts
    assert verdicts["jobs"] == 60 and verdicts["succeeded"] == 60, json.dumps(report.to_dict(), indent=1)
    assert report.problems == [], "\n".join(report.problems)


def require_moto() -> None:
    try:
        import boto3  # noqa: F401
        import moto.server  # noqa: F401
    except ImportError as exc:
        message = f"moto[server] and boto3 are needed for SQS ({exc})"
        if IN_CI:
            pytest.fail(message + "; CI=true requires them")
        pytest.skip(message)


@pytest.mark.slow
@pytest.mark.sqs
def test_on_sqs_no_job_is_lost_doubled_stuck_or_wrongly_shown_when_the_relay_dies(tmp_path):
    """The relay is SIGKILLed and started again (SQS keeps what is sent meanwhile; what the relay
    held comes back after its hold); copies of real messages go to SQS again, as its at-least-once
    delivery may hand them out. Without `sleep`: on SQS a killed holder's step waits out its lease
    (no takeover by a higher receive count), five minutes for `sleep`."""
    require_moto()
    plan = Plan(jobs=40, seed=7, kill_every=4.0, outage=5.0, faults_after=3.0, forced=0.5, chat_429=0.08,
                chat_5xx=0.05, min_forced=10, queue="sqs",
                mix=[(text, weight) for text, weight in MIX if text != "sleep 1"])
    report = run(plan, tmp_path, log=lambda line: None)
    faults = report.faults
    assert faults["worker_kills"] >= 1 and faults["relay_down_s"] >= 5 and faults["duplicate_clicks"] >= 1
    assert faults["forced_deliveries"] >= 10 and faults["duplicates"] >= 3 and faults["chat_429"] >= 1
    verdicts = report.verdicts
    assert verdicts["jobs"] == 40 and verdicts["succeeded"] == 40, json.dumps(report.to_dict(), indent=1)
    assert verdicts["sqs"]["relay_running"] and verdicts["sqs"]["relay_failures_logged"] == 0
    assert report.problems == [], "\n".join(report.problems)
