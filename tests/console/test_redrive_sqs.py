"""Redrive from the console, over HTTP, against SQS in a moto server: the messages of a queue's
dead-letter queue go back to the queue, once asked and confirmed, and the audit log says so."""

from __future__ import annotations

import json
import re

import pytest
import requests

from ackflow.app.runtime import Runtime
from ackflow.settings import Settings
from ackflow_tools.console.app import ConsoleConfig, create_app
from ackflow_tools.devtools.queues import sync_sqs_queues
from ackflow_tools.emulators.web import ServerThread
from tests.support.console import console_process

QUEUE = "ackflow-default"


@pytest.fixture
def sqs(moto, tmp_path, monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    runtime = Runtime(Settings(sqlite_path=str(tmp_path / "jobs.db"), queue_backend="sqs", sqs_endpoint=moto.url,
                               job_types="tests.support.jobtypes:build_registry"))
    client = boto3.client("sqs", endpoint_url=moto.url, region_name="ap-northeast-1")
    urls = sync_sqs_queues(client, runtime.registry.queues.values())
    dlq = client.get_queue_url(QueueName=f"{QUEUE}-dlq")["QueueUrl"]
    for url in (urls[QUEUE], dlq):
        _drain(client, url)
    server = ServerThread(create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language="en"))).start()
    yield server.url, client, urls[QUEUE], dlq, runtime
    server.stop()
    runtime.close()


def _drain(client, url: str) -> None:
    """Empty a queue by hand: moto allows one purge of a queue a minute (a second test failed)."""
    while messages := client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _shown(page: str, test: str) -> str:
    """A fact of the queue's section on the queues page (data-test=waiting, dlq)."""
    section = re.search(rf'data-queue="{QUEUE}">(.*?)</section>', page, re.S).group(1)
    return re.search(rf'data-test="{test}">([^<]*)<', section).group(1).strip()


def _depth(client, url: str) -> int:
    attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_redrive_moves_the_dead_letters_back_once_confirmed_and_is_audited(sqs):
    console, client, queue_url, dlq, runtime = sqs
    for n in range(2):
        client.send_message(QueueUrl=dlq, MessageBody=f'{{"job_id": "jdead{n}", "step": 0}}')
    browser = requests.Session()
    page = browser.get(console + "/queues", timeout=10)
    assert page.status_code == 200 and f'action="/queues/{QUEUE}/redrive"' in page.text
    assert _shown(page.text, "dlq") == "2" and _shown(page.text, "waiting") == "0"  # the DLQ's depth, as SQS says
    token = browser.cookies["ackflow_csrf"]
    asked = browser.post(f"{console}/queues/{QUEUE}/redrive", data={"csrf_token": token}, timeout=10)
    assert asked.status_code == 200 and 'name="confirmed" value="1"' in asked.text  # asks first
    assert _depth(client, dlq) == 2 and runtime.store.list_audit() == []
    done = browser.post(f"{console}/queues/{QUEUE}/redrive", data={"csrf_token": token, "confirmed": "1"},
                        timeout=30)
    assert done.status_code == 200 and done.url.endswith("/queues")  # back on the queues page
    assert "2 message(s) moved back to ackflow-default." in done.text
    assert _depth(client, dlq) == 0 and _depth(client, queue_url) == 2
    page = browser.get(console + "/queues", timeout=10).text
    assert _shown(page, "dlq") == "0" and _shown(page, "waiting") == "2"
    bodies = sorted(m["Body"] for m in client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                                                 WaitTimeSeconds=1)["Messages"])
    assert bodies == ['{"job_id": "jdead0", "step": 0}', '{"job_id": "jdead1", "step": 0}']
    [entry] = runtime.store.list_audit()
    assert (entry.actor, entry.action, entry.target, entry.surface, entry.outcome, entry.detail) == (
        "ops@example.com", "redrive", QUEUE, "console", "done", "2 message(s) moved")
    again = browser.post(f"{console}/queues/{QUEUE}/redrive", data={"csrf_token": token, "confirmed": "1"},
                         timeout=30)
    assert re.search(r"0 message\(s\) moved back", again.text)  # twice is safe: nothing left to move


class ReadOnlyAws:
    """In front of the moto server: everything passes but receiving a message, which is answered as
    AWS answers a principal without sqs:ReceiveMessage (AccessDenied)."""

    def __init__(self, upstream: str):
        from ackflow_tools.emulators.web import ServerThread

        self.upstream = upstream
        self.refused = 0
        self.server = ServerThread(self._app).start()

    def _app(self, environ, start_response):
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        body = request.get_data()
        if request.headers.get("X-Amz-Target", "").endswith(".ReceiveMessage") or b"Action=ReceiveMessage" in body:
            self.refused += 1
            denied = {"__type": "com.amazon.coral.service#AccessDeniedException",
                      "message": "User: arn:aws:iam::123456789012:user/viewer is not authorized to perform: "
                                 "sqs:receivemessage on resource: ackflow-default-dlq"}
            return Response(json.dumps(denied), 400, content_type="application/x-amz-json-1.0",
                            headers={"x-amzn-query-error": "AccessDenied;Sender"})(environ, start_response)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        answer = requests.request(request.method, self.upstream + request.full_path.rstrip("?"), data=body,
                                  headers=headers, timeout=10)
        passed = {k: v for k, v in answer.headers.items()
                  if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding")}
        return Response(answer.content, answer.status_code, headers=passed)(environ, start_response)


def test_a_redrive_aws_refuses_to_the_operator_is_a_403_that_says_so_and_moves_nothing(moto, tmp_path,
                                                                                      monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("sqs", endpoint_url=moto.url, region_name="ap-northeast-1")
    aws = ReadOnlyAws(moto.url)
    runtime = Runtime(Settings(sqlite_path=str(tmp_path / "jobs.db"), queue_backend="sqs", sqs_endpoint=aws.server.url,
                               job_types="tests.support.jobtypes:build_registry"))
    try:
        urls = sync_sqs_queues(client, runtime.registry.queues.values())
        dlq = client.get_queue_url(QueueName=f"{QUEUE}-dlq")["QueueUrl"]
        for url in (urls[QUEUE], dlq):
            _drain(client, url)
        client.send_message(QueueUrl=dlq, MessageBody='{"job_id": "jdead0", "step": 0}')
        browser = create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language="en")).test_client()
        assert browser.get("/queues").status_code == 200  # reading is allowed
        token = browser.get_cookie("ackflow_csrf").value
        refused = browser.post(f"/queues/{QUEUE}/redrive", data={"csrf_token": token, "confirmed": "1"})
        assert aws.refused and refused.status_code == 403, refused.status_code  # not 503: trying again won't help
        assert "refused this to your account" in refused.get_data(as_text=True)
        assert _depth(client, dlq) == 1 and _depth(client, urls[QUEUE]) == 0
        [entry] = runtime.store.list_audit()
        assert (entry.action, entry.outcome.split(":")[0]) == ("redrive", "refused")
    finally:
        runtime.close()
        aws.server.stop()


class ShortPollSampling:
    """An SQS client that answers as AWS may answer a short poll of a queue holding few messages.

    AWS samples a subset of its servers for a ``ReceiveMessage`` with ``WaitTimeSeconds`` 0 and
    documents "false empty responses (when messages are available but aren't included in a
    response)"; long polling (a wait of 1 s or more) queries all of them. moto always answers from
    every message, so this stands in for the sampling: a short poll finds nothing."""

    def __init__(self, client):
        self.client = client
        self.short_polls = 0

    def receive_message(self, **kwargs):
        if not kwargs.get("WaitTimeSeconds"):
            self.short_polls += 1
            return {}
        return self.client.receive_message(**kwargs)

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_redrive_moves_every_dead_letter_even_where_a_short_poll_finds_none(sqs):
    """A redrive that stops at the first empty answer of a short poll moved nothing from a DLQ
    holding three messages ("moved 0" to the operator): it long-polls, as AWS advises."""
    from ackflow.taskqueue.sqs import SqsQueue

    _console, client, queue_url, dlq, runtime = sqs
    for n in range(3):
        client.send_message(QueueUrl=dlq, MessageBody=f'{{"job_id": "jdead{n}", "step": 0}}')
    sampling = ShortPollSampling(client)
    queue = SqsQueue(endpoint=None, region="ap-northeast-1", client=sampling)
    assert queue.redrive(QUEUE) == 3
    assert _depth(client, dlq) == 0 and _depth(client, queue_url) == 3


def _counts(client, queue_url: str, dlq: str) -> dict[str, int]:
    names = {"waiting": "ApproximateNumberOfMessages", "in-flight": "ApproximateNumberOfMessagesNotVisible",
             "delayed": "ApproximateNumberOfMessagesDelayed"}
    attributes = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=list(names.values()))["Attributes"]
    return {**{test: int(attributes[name]) for test, name in names.items()}, "dlq": _depth(client, dlq)}


def test_the_queues_page_shows_sqss_approximate_counts_visible_in_flight_delayed_and_the_dlq(sqs):
    """SQS's own counts, each where it is: a message waiting, one received and not yet deleted (in
    flight), one sent with a delay (not yet visible), and the DLQ's depth. (Messages an earlier
    test of the module left in flight stay so for their visibility timeout: counted from there.)"""
    console, client, queue_url, dlq, _runtime = sqs
    before = _counts(client, queue_url, dlq)
    client.send_message(QueueUrl=queue_url, MessageBody='{"job_id": "jflight", "step": 0}')
    [received] = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, VisibilityTimeout=300,
                                        WaitTimeSeconds=1)["Messages"]
    assert received["Body"] == '{"job_id": "jflight", "step": 0}'
    client.send_message(QueueUrl=queue_url, MessageBody='{"job_id": "jdelay", "step": 0}', DelaySeconds=300)
    for n in range(2):
        client.send_message(QueueUrl=queue_url, MessageBody=f'{{"job_id": "jwait{n}", "step": 0}}')
    for n in range(3):
        client.send_message(QueueUrl=dlq, MessageBody=f'{{"job_id": "jdead{n}", "step": 0}}')
    added = {"waiting": 2, "in-flight": 1, "delayed": 1, "dlq": 3}
    assert _counts(client, queue_url, dlq) == {test: before[test] + added[test] for test in added}
    page = requests.get(console + "/queues", timeout=10).text
    shown = {test: int(_shown(page, test)) for test in added}
    assert shown == {test: before[test] + added[test] for test in added}, (before, shown)


def test_the_console_in_cloud_mode_on_sqs_reads_firestore_and_redrives_the_dlq(moto, firestore_emulator, tmp_path,
                                                                              monkeypatch):
    """`ackflow console --project P --queue-backend sqs` (docs/console.md): the deployment's jobs
    from Firestore (its emulator), the queues as SQS counts them with the operator's AWS
    credentials (a moto server), a Retry that sends the step's message, a Redrive, both confirmed
    and audited; on loopback."""
    import os
    import time

    import boto3

    from ackflow.jobs.model import Job, JobStatus, Requester, StepState

    aws = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    for name, value in {**aws, **firestore_emulator.env()}.items():
        monkeypatch.setenv(name, value)
    project = firestore_emulator.project
    runtime = Runtime(Settings(store="firestore", project=project, queue_backend="sqs", sqs_endpoint=moto.url,
                               job_types="tests.support.jobtypes:build_registry"))
    try:
        client = boto3.client("sqs", endpoint_url=moto.url, region_name="ap-northeast-1")
        urls = sync_sqs_queues(client, runtime.registry.queues.values())
        dlq = client.get_queue_url(QueueName=f"{QUEUE}-dlq")["QueueUrl"]
        for url in (urls[QUEUE], dlq):
            _drain(client, url)
        now = time.time()
        runtime.store.create_job(Job(id="jsqscloud01", type="echo", params={"text": "x"},
                                     requester=Requester("users/1"), space=None, thread=None, queue=QUEUE,
                                     steps=(StepState("echo"),), created_at=now, updated_at=now,
                                     status=JobStatus.FAILED))
        for n in range(2):
            client.send_message(QueueUrl=dlq, MessageBody=f'{{"job_id": "jdead{n}", "step": 0}}')
        before = _counts(client, urls[QUEUE], dlq)
        env = {**aws, **firestore_emulator.env(), "ACKFLOW_PROJECT": project, "ACKFLOW_SQS_ENDPOINT": moto.url,
               "ACKFLOW_JOB_TYPES": "tests.support.jobtypes:build_registry", "ACKFLOW_LOG_FORMAT": "text",
               "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "ACKFLOW_DEV_DIR": str(tmp_path / "nodev"),
               "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
        with console_process(["--project", project, "--queue-backend", "sqs", "--language", "en",
                              "--operator", "ops@example.com"], env) as url:
            assert url.startswith("http://127.0.0.1:"), url
            browser = requests.Session()
            jobs = browser.get(url + "/jobs?status=FAILED", timeout=30).text
            assert '<tr data-job="jsqscloud01">' in jobs and "· firestore · sqs ·" in jobs
            page = browser.get(url + "/queues", timeout=30).text
            assert int(_shown(page, "dlq")) == before["dlq"] == 2 and int(_shown(page, "waiting")) == before["waiting"]
            token = browser.cookies["ackflow_csrf"]
            retried = browser.post(f"{url}/jobs/jsqscloud01/retry", data={"csrf_token": token, "confirmed": "1"},
                                   timeout=30)
            assert retried.status_code == 200 and runtime.store.get_job("jsqscloud01").status == JobStatus.QUEUED
            done = browser.post(f"{url}/queues/{QUEUE}/redrive", data={"csrf_token": token, "confirmed": "1"},
                                timeout=30)
            assert "2 message(s) moved back to ackflow-default." in done.text
            after = _counts(client, urls[QUEUE], dlq)
            assert (after["dlq"], after["waiting"]) == (0, before["waiting"] + 3)  # the retried step and the two
            entries = sorted(runtime.store.list_audit(), key=lambda e: e.at)
            assert [(e.actor, e.action, e.surface, e.outcome) for e in entries] == [
                ("ops@example.com", "retry", "console", "done"), ("ops@example.com", "redrive", "console", "done")]
    finally:
        runtime.close()
