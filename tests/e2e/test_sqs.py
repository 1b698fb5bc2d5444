"""The whole pipeline through SQS on a moto server, with the relay calling the worker."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from ackflow.jobs.model import JobStatus
from tests.e2e.conftest import start_pipeline

pytestmark = pytest.mark.slow  # started first by scripts/test (tests/conftest.py)


@pytest.fixture(scope="module")
def via_sqs(tmp_path_factory):
    pipeline = start_pipeline(tmp_path_factory.mktemp("sqs"), "classic", "project-number", queue_backend="sqs")
    yield pipeline
    pipeline.stack.stop()


def dead_letters(pipeline, queue: str = "ackflow-default") -> list[dict]:
    client = boto3.client("sqs", endpoint_url=pipeline.stack.url("moto"), region_name="ap-northeast-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    url = client.get_queue_url(QueueName=f"{queue}-dlq")["QueueUrl"]
    messages = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_step_longer_than_the_queues_visibility_timeout_runs_once(via_sqs):
    """First in this module: the relay reads a queue's visibility timeout on its first delivery.
    A 6 s step on a queue whose messages become visible again after 2 s: SQS would hand the task
    out again, with a higher receive count, and the worker would let that delivery take the step
    over (a second run alongside the first) unless the relay keeps the message invisible."""
    client = boto3.client("sqs", endpoint_url=via_sqs.stack.url("moto"), region_name="ap-northeast-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    url = client.get_queue_url(QueueName="ackflow-default")["QueueUrl"]
    before = client.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    client.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "2"})
    try:
        job = via_sqs.wait_job(via_sqs.start("sleep 6"), JobStatus.SUCCEEDED, timeout=40)
    finally:
        client.set_queue_attributes(QueueUrl=url, Attributes=before)
    assert job.steps[0].attempts == 1, job.steps[0].runs
    assert job.steps[0].output == {"slept": 6}


def test_a_copy_received_again_while_the_first_delivery_runs_waits_for_it(via_sqs):
    """SQS hands a message out again (its receive count one higher) when its visibility lapses, as
    when a relay stopped extending it, while the worker still runs the first delivery. The copy is
    answered 409 (kept, not run): a second run beside the first would do the step's work twice."""
    import requests

    from ackflow.auth.signing import LocalSigner

    settings = via_sqs.runtime.settings
    signer = LocalSigner.from_private_key((via_sqs.stack.workdir / "relay-key.pem").read_bytes(), "ackflow-sqs-relay")
    token = signer.id_token(issuer=settings.relay_issuer, email=settings.invoker_service_account or "ackflow-sqs-relay",
                            audience=settings.worker_audience or settings.worker_url)
    job_id = via_sqs.start("sleep 4")
    running = via_sqs.wait_job(job_id, JobStatus.RUNNING, timeout=20)
    holder = running.steps[0].holder
    copy = requests.post(via_sqs.stack.worker_url, json={"job_id": job_id, "step": 0, "generation": running.generation},
                         headers={"Authorization": f"Bearer {token}", "X-CloudTasks-TaskName": holder.task,
                                  "X-CloudTasks-TaskRetryCount": str(holder.retry + 1),
                                  "X-CloudTasks-QueueName": "ackflow-default"}, timeout=30)
    assert copy.status_code == 409 and copy.json()["status"] == "busy", copy.text
    # when the holder's lease ends (the relay keeps the copy invisible until then, not its backoff)
    assert 0 < copy.json()["retry_in"] <= running.steps[0].lease_until - running.steps[0].started_at + 1
    done = via_sqs.wait_job(job_id, JobStatus.SUCCEEDED, timeout=30)
    assert done.steps[0].attempts == 1, done.steps[0].runs  # one run, never two at once


def test_a_job_that_fails_twice_then_succeeds_succeeds_once(via_sqs):
    job = via_sqs.wait_job(via_sqs.start("fail --times 2"), JobStatus.SUCCEEDED, timeout=30)
    assert job.steps[0].attempts == 1 and job.steps[1].attempts == 3
    via_sqs.job_message(job)  # the result is written after the job is recorded SUCCEEDED
    mine = [m for m in via_sqs.messages().values() if m.get("clientAssignedMessageId") == job.message_id]
    assert len(mine) == 1 and "Done" in json.dumps(mine[0], ensure_ascii=False)


def test_a_job_that_fails_every_attempt_ends_failed_in_the_dead_letter_queue(via_sqs):
    job = via_sqs.wait_job(via_sqs.start("fail --always"), JobStatus.FAILED, timeout=60)
    assert job.steps[1].attempts == via_sqs.runtime.registry.queues["ackflow-default"].max_attempts
    card = via_sqs.job_message(job)
    assert "Failed" in json.dumps(card, ensure_ascii=False)
    assert job.id in [letter.job_id for letter in via_sqs.store.list_dead_letters()]
    import time

    deadline = time.monotonic() + 20  # SQS moves it on the receive after the last attempt
    while time.monotonic() < deadline:
        letters = dead_letters(via_sqs)
        if any(letter["payload"]["job_id"] == job.id for letter in letters):
            break
        time.sleep(0.5)
    else:
        pytest.fail("the failed task never reached the dead-letter queue")


def test_lambda_handler_reports_partial_batch_failures(via_sqs, monkeypatch):
    """The relay as an AWS Lambda: an SQS event with one good and one bad record."""
    from ackflow.taskqueue import relay as relay_module

    for key, value in via_sqs.stack.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ACKFLOW_RELAY_SIGNING_KEY", (via_sqs.stack.workdir / "relay-key.pem").read_text())
    monkeypatch.setattr(relay_module, "_LAMBDA", {})
    job_id = via_sqs.start("echo through lambda")
    via_sqs.wait_job(job_id, JobStatus.SUCCEEDED)
    # a job whose step another live attempt holds: the worker answers 409, so SQS must keep it
    from ackflow.app.confirm import new_job
    from ackflow.jobs.model import Confirmation, Holder, Requester

    now = time.time()
    confirmation = Confirmation("clambda", "t", "echo", {"text": "held"}, Requester("users/1", "a@example.com"),
                                None, None, now, now + 60)
    held = via_sqs.store.create_job(new_job(via_sqs.runtime, confirmation, via_sqs.runtime.registry.get("echo"), now))
    via_sqs.store.claim_step(held.id, 0, Holder("someone-else", 0), now, 600)
    good = {"task": "lambda-good", "queue": "ackflow-default", "deadline": 30,
            "payload": {"job_id": job_id, "step": 0, "generation": 0}}
    bad = {**good, "task": "lambda-bad", "payload": {"job_id": held.id, "step": 0, "generation": 0}}
    arn = "arn:aws:sqs:ap-northeast-1:123456789012:ackflow-default"
    event = {"Records": [
        {"messageId": "m-good", "receiptHandle": "r1", "body": json.dumps(good), "eventSourceARN": arn,
         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"}},
        {"messageId": "m-bad", "receiptHandle": "r2", "body": json.dumps(bad), "eventSourceARN": arn,
         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"}},
    ]}
    answer = relay_module.lambda_handler(event)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-bad"}]}


def test_redriving_the_message_of_a_job_that_already_succeeded_changes_nothing(via_sqs, monkeypatch):
    """An operator redrives a DLQ that holds a task of a finished job (a duplicate that ran out of
    receives while the first delivery held the step): it is delivered, finds the job finished, and
    neither runs a step again nor posts a second result."""
    job = via_sqs.wait_job(via_sqs.start("echo redriven"), JobStatus.SUCCEEDED, timeout=30)
    via_sqs.job_message(job)
    client = boto3.client("sqs", endpoint_url=via_sqs.stack.url("moto"), region_name="ap-northeast-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    dlq = client.get_queue_url(QueueName="ackflow-default-dlq")["QueueUrl"]
    client.purge_queue(QueueUrl=dlq)
    last = len(job.steps) - 1
    client.send_message(QueueUrl=dlq, MessageBody=json.dumps(
        {"task": "redriven-after-success", "queue": "ackflow-default", "deadline": 30, "headers": {},
         "payload": {"job_id": job.id, "step": last, "generation": job.generation}}))
    from ackflow.taskqueue.sqs import SqsQueue

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # as an operator's machine has them
        monkeypatch.setenv(key, "testing")
    settings = via_sqs.runtime.settings
    operator = SqsQueue(endpoint=via_sqs.stack.url("moto"), region=settings.sqs_region,
                        prefix=settings.sqs_queue_prefix)
    assert operator.redrive("ackflow-default") == 1
    time.sleep(5)  # the relay long-polls with 1 s waits
    again = via_sqs.store.get_job(job.id)
    assert again.status == JobStatus.SUCCEEDED and [s.attempts for s in again.steps] == [s.attempts for s in job.steps]
    mine = [m for m in via_sqs.messages().values() if m.get("clientAssignedMessageId") == job.message_id]
    assert len(mine) == 1
    assert operator.state("ackflow-default").dead == 0


def test_a_relay_killed_and_started_again_delivers_what_was_sent_while_it_was_down(via_sqs):
    """Last in this module: it kills the relay. The functions send to SQS, not to the relay, so a
    job confirmed while the relay is down waits in SQS; the relay started again (on its port, with
    its own key and settings, not this process's environment) delivers it."""
    via_sqs.stack.procs["relay"].kill()  # SIGKILL, as a crash
    # a receive of the dead relay that was waiting (its long poll, 1 s here) still takes a message
    # sent meanwhile, which SQS then keeps invisible for the queue's visibility timeout (as SQS does
    # for a receive whose connection dropped): send after it
    time.sleep(1.5)
    try:
        job_id = via_sqs.start("echo while the relay was down")
        time.sleep(2)  # the relay long-polls every second: it would have delivered it by now
        assert via_sqs.store.get_job(job_id).status == JobStatus.QUEUED
    finally:
        via_sqs.stack.start_part("relay")
    job = via_sqs.wait_job(job_id, JobStatus.SUCCEEDED, timeout=30)
    assert job.steps[0].attempts == 1
