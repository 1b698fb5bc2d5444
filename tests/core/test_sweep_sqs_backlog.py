"""The sweep on SQS, which cannot refuse a second task of a name: every send is one more message.

While the relay is down or behind, the queue holds messages nobody has received; a job waiting
there is not lost, and a copy of its task only waits behind it. Sent again at every sweep (every
2 s in the chaos suite, whose SQS run found it), the copies outgrew what the relay could deliver:
200 jobs and a 30 s relay outage left 1,149 messages waiting and 95 jobs finished late, two not at
all, 400 s after the faults. On a real SQLite store and SQS on a moto server, no relay running.
"""

from __future__ import annotations

import datetime as dt
import itertools

import boto3
import pytest

from ackflow.app.dispatch import send_step
from ackflow.app.runtime import Runtime
from ackflow.app.sweep import BACKLOG_PATIENCE, periodic_job, sweep
from ackflow.jobs.model import Holder, JobStatus, StepStatus
from ackflow.jobs.registry import JobType, Registry, Step
from ackflow.queues import load_queues
from ackflow.settings import Settings
from ackflow.store.jobstore import JobStore
from ackflow.store.sqlite import SqliteDocuments
from ackflow_tools.devtools.queues import sync_sqs_queues

NOW = dt.datetime(2026, 12, 4, 0, 0, 30, tzinfo=dt.UTC).timestamp()
REGION = "ap-northeast-1"
_prefixes = itertools.count()  # one set of queues per test on the module's moto server


@pytest.fixture
def on_sqs(tmp_path, moto, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    prefix = f"sweep{next(_prefixes)}-"
    settings = Settings(store="sqlite", sqlite_path=str(tmp_path / "jobs.db"), queue_backend="sqs",
                        sqs_endpoint=moto.url, sqs_region=REGION, sqs_queue_prefix=prefix, local_services=True,
                        worker_url="http://127.0.0.1:9/")
    registry = Registry(load_queues(settings.queues_file))
    registry.add(JobType("two", "h", (Step("one", lambda ctx: None), Step("two", lambda ctx: None)), timeout=30))
    client = boto3.client("sqs", endpoint_url=moto.url, region_name=REGION)
    urls = sync_sqs_queues(client, registry.queues.values(), prefix)
    runtime = Runtime(settings, registry=registry, store=JobStore(SqliteDocuments(settings.sqlite_path)))
    yield runtime, client, urls["ackflow-default"]
    runtime.close()


def counts(client, url: str) -> tuple[int, int]:
    """(visible, received and not deleted) messages of the queue."""
    attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_a_queued_job_whose_task_waits_in_the_queue_is_not_sent_again_until_the_queue_is_drained(on_sqs):
    runtime, client, url = on_sqs
    job = runtime.store.create_job(periodic_job(runtime.registry.get("two"), "waiting", None, NOW - 120, "x", "t"))
    send_step(runtime, job)  # sent at Run; the relay is down
    report = sweep(runtime, now=NOW)
    assert report.resent == [] and report.backlogged == ["ackflow-default"]
    assert counts(client, url) == (1, 0)  # no copy behind it
    # a relay received it and died before delivering it: SQS hides it for its visibility timeout,
    # and nothing is waiting any more, so the sweep sends it again
    client.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
    report = sweep(runtime, now=NOW + 60)
    assert report.resent == ["waiting"] and report.backlogged == []
    assert counts(client, url) == (1, 1)


def test_a_step_whose_task_waits_in_the_queue_is_not_released_again_and_again(on_sqs):
    runtime, client, url = on_sqs
    store = runtime.store
    job = store.create_job(periodic_job(runtime.registry.get("two"), "chained", None, NOW - 420, "x", "t"))
    holder = Holder("first", 0)
    store.claim_step(job.id, 0, holder, NOW - 410, 32)
    job = store.complete_step(job.id, 0, holder, {}, NOW - 400)  # past the sweep's 300 s for a stalled step
    assert job.status == JobStatus.RUNNING and job.steps[1].status == StepStatus.PENDING
    send_step(runtime, job)  # the next step's task, behind a backlog the relay has not reached
    for moment in (NOW, NOW + 60, NOW + 120):
        report = sweep(runtime, now=moment)
        assert report.released == [] and report.backlogged == ["ackflow-default"]
    assert store.get_job(job.id).generation == job.generation
    assert counts(client, url) == (1, 0)
    # however long the backlog lasts, a job is sent again once it has waited BACKLOG_PATIENCE (its
    # task may never have been sent: SQS was unreachable when it was)
    report = sweep(runtime, now=NOW - 400 + BACKLOG_PATIENCE + 1)
    assert report.released == ["chained"]
    assert counts(client, url) == (2, 0)
