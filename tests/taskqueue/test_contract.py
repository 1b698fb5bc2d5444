"""The TaskQueue contract, run over every adapter: Cloud Tasks (official client against the local
service) and SQS (boto3 against a moto server, with the relay). The worker here is a recorder
that checks nothing; the tests verify what it received the way the worker would."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass

import pytest

from ackflow.auth import verify
from ackflow.auth.signing import LocalSigner
from ackflow.errors import QueueUnavailable
from ackflow.queues import QueueDefinition
from ackflow.retry import RetryConfig
from ackflow.taskqueue.base import Task
from ackflow_tools.emulators.web import Router, ServerThread, json_response
from tests.support.recorder import Recorder

PROJECT, LOCATION = "contract", "local"
INVOKER = "invoker@contract.iam.gserviceaccount.com"
RELAY_ISSUER = "https://ackflow.invalid/sqs-relay"


def definition(name: str) -> QueueDefinition:
    return QueueDefinition(name=name, description="contract", max_dispatches_per_second=50,
                           max_concurrent_dispatches=10, max_step_timeout=60,
                           retry=RetryConfig(max_attempts=3, min_backoff=1, max_backoff=2, max_doublings=1))


@dataclass
class Backend:
    name: str
    queue: object  # the TaskQueue adapter
    queue_name: str
    verifier: verify.Verifier
    worker: Recorder
    extra: dict

    def dead_letters(self) -> int:
        if self.name != "sqs":
            return 0
        sqs = self.extra["client"]
        attributes = sqs.get_queue_attributes(QueueUrl=self.extra["dlq"],
                                              AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


@pytest.fixture(scope="module")
def tasks_service(tmp_path_factory):
    from tests.support.services import start_tasks_emulator

    proc = start_tasks_emulator(tmp_path_factory.mktemp("contract-tasks"))
    yield proc
    proc.stop()


@pytest.fixture(params=["cloudtasks", "sqs"])
def backend(request, monkeypatch):
    worker = Recorder()
    name = f"contract-{uuid.uuid4().hex[:8]}"
    try:
        if request.param == "cloudtasks":
            yield _cloud_tasks(request.getfixturevalue("tasks_service"), worker, name)
        else:
            monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
            backend = _sqs(request.getfixturevalue("moto"), worker, name)
            yield backend
            backend.extra["stop"].set()
            backend.extra["thread"].join(timeout=5)
            backend.extra["certs"].stop()
    finally:
        worker.stop()


def _cloud_tasks(service, worker: Recorder, name: str) -> Backend:
    from ackflow.taskqueue.cloudtasks import CloudTasksQueue
    from ackflow_tools.devtools.queues import sync_cloud_tasks_queues

    sync_cloud_tasks_queues(service.url, PROJECT, LOCATION, [definition(name)])
    queue = CloudTasksQueue(project=PROJECT, location=LOCATION, worker_url=worker.url + "/", service_account=INVOKER,
                            endpoint=service.url, anonymous=True)
    verifier = verify.Verifier(
        [verify.oidc_invoker_policy(worker.url + "/", (INVOKER,), f"{service.url}/oauth2/v1/certs")])
    return Backend("cloudtasks", queue, name, verifier, worker, {})


def _sqs(moto, worker: Recorder, name: str) -> Backend:
    import boto3

    from ackflow.taskqueue.relay import Relay, RelayQueue
    from ackflow.taskqueue.sqs import SqsQueue
    from ackflow_tools.devtools.queues import sync_sqs_queues

    client = boto3.client("sqs", endpoint_url=moto.url, region_name="ap-northeast-1")
    urls = sync_sqs_queues(client, [definition(name)])
    signer = LocalSigner.generate("relay")
    certs_app = Router()
    certs_app.add("GET", "/certs", lambda request: json_response(signer.x509_document()))
    certs = ServerThread(certs_app).start()
    relay = Relay(sqs=client, queues=[RelayQueue(definition(name), urls[name])], worker_url=worker.url + "/",
                  signer=signer, issuer=RELAY_ISSUER, identity=INVOKER)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop, 1), daemon=True)
    thread.start()
    queue = SqsQueue(endpoint=moto.url, region="ap-northeast-1")
    verifier = verify.Verifier([verify.TokenPolicy("SQS relay", (worker.url + "/",), (RELAY_ISSUER,),
                                                   f"{certs.url}/certs", (INVOKER,), require_email_verified=True)])
    dlq = client.get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"]
    return Backend("sqs", queue, name, verifier, worker,
                   {"client": client, "stop": stop, "thread": thread, "certs": certs, "dlq": dlq, "relay": relay,
                    "url": urls[name]})


def task(backend: Backend, **fields) -> Task:
    values = dict(queue=backend.queue_name, name=uuid.uuid4().hex, payload={"job_id": "j1", "step": 0},
                  deadline=30)
    values.update(fields)
    return Task(**values)


def test_a_task_reaches_the_worker_with_cloud_tasks_headers_and_a_token_it_verifies(backend):
    sent = task(backend, payload={"job_id": "j42", "step": 1, "generation": 0})
    assert backend.queue.enqueue(sent) is True
    [got] = backend.worker.wait_for(1, timeout=15)
    assert json.loads(got.body) == sent.payload
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-Cloudtasks-Queuename"] == backend.queue_name
    assert got.headers["X-Cloudtasks-Taskname"] == sent.name
    assert got.headers["X-Cloudtasks-Taskretrycount"] == "0"
    claims = backend.verifier.verify(got.headers["Authorization"])
    assert claims["email"] == INVOKER


def test_failures_are_retried_then_given_up_after_max_attempts(backend):
    backend.worker.behaviour = lambda n, r: 503
    backend.queue.enqueue(task(backend))
    received = backend.worker.wait_for(3, timeout=30)
    assert [r.headers["X-Cloudtasks-Taskretrycount"] for r in received] == ["0", "1", "2"]
    assert received[1].at - received[0].at >= 0.9  # the queue's min backoff (1 s)
    time.sleep(3)
    assert len(backend.worker.received) == 3
    if backend.name == "sqs":
        # SQS moves the message to the dead-letter queue on its next receive
        deadline = time.monotonic() + 10
        while backend.dead_letters() == 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert backend.dead_letters() == 1


def test_a_delay_holds_the_task(backend):
    started = time.time()
    backend.queue.enqueue(task(backend, delay=2))
    [got] = backend.worker.wait_for(1, timeout=15)
    assert got.at - started >= 1.8


def test_sending_a_name_twice_is_harmless(backend):
    sent = task(backend)
    assert backend.queue.enqueue(sent) is True
    again = backend.queue.enqueue(sent)
    time.sleep(2)
    if backend.queue.deduplicates:
        assert again is False and len(backend.worker.received) == 1
    else:
        # no refusal by name: both arrive, both named the same, and the worker's claim keeps one
        assert again is True and {r.headers["X-Cloudtasks-Taskname"] for r in backend.worker.received} == {sent.name}


def test_an_unknown_queue_is_reported(backend):
    with pytest.raises(QueueUnavailable):
        backend.queue.enqueue(task(backend, queue="no-such-queue"))


def test_an_unreachable_queue_service_is_reported(backend):
    from ackflow.taskqueue.cloudtasks import CloudTasksQueue
    from ackflow.taskqueue.sqs import SqsQueue

    dead = "http://127.0.0.1:9"
    queue = (CloudTasksQueue(project=PROJECT, location=LOCATION, worker_url="http://x/", service_account=None,
                             endpoint=dead, anonymous=True, timeout=1)
             if backend.name == "cloudtasks" else SqsQueue(endpoint=dead, region="ap-northeast-1"))
    with pytest.raises(QueueUnavailable):
        queue.enqueue(task(backend))


def slow(seconds: float):
    def behaviour(number, received):
        time.sleep(seconds)
        return 200
    return behaviour


def test_tasks_are_delivered_concurrently_up_to_the_queues_limit(backend):
    # Given a worker that takes 1.5 s per task, and more tasks than the queue's 10 concurrent dispatches
    backend.worker.behaviour = slow(1.5)
    started = time.monotonic()
    for _ in range(12):
        backend.queue.enqueue(task(backend))
    received = backend.worker.wait_for(12, timeout=30)
    # Then the first three were all under way together, never more than ten at once, all done in ~2 rounds
    first = sorted(r.at for r in received)[:3]
    assert first[-1] - first[0] < 1.0, first
    assert 3 <= backend.worker.max_concurrent <= 10
    assert time.monotonic() - started < 8


@pytest.mark.parametrize("backend", ["sqs"], indirect=True)  # the Lambda event source is SQS's
def test_a_lambda_batch_is_delivered_concurrently_and_reports_only_its_failures(backend, monkeypatch):
    from ackflow.taskqueue import relay as relay_module

    monkeypatch.setattr(relay_module, "_LAMBDA", {"relay": backend.extra["relay"]})  # a warm Lambda instance
    backend.worker.behaviour = lambda n, r: (time.sleep(1.0), 503 if b"bad" in r.body else 200)[1]
    arn = f"arn:aws:sqs:ap-northeast-1:123456789012:{backend.queue_name}"
    records = [{"messageId": f"m{i}", "receiptHandle": "r", "eventSourceARN": arn,
                "body": json.dumps({"task": f"t{i}", "deadline": 30, "payload": {"job": "bad" if i == 2 else "ok"}}),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"}}
               for i in range(4)]
    started = time.monotonic()
    answer = relay_module.lambda_handler({"Records": records})
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert time.monotonic() - started < 2.5  # four 1 s deliveries at once, not one after another
    assert backend.worker.max_concurrent == 4


# -- queue control (the console): state, pause/resume where the backend can, redrive where it can --
def test_a_queue_reports_its_state_limits_and_waiting_tasks(backend):
    state = backend.queue.state(backend.queue_name)
    assert state.name == backend.queue_name and state.max_attempts == 3
    assert state.waiting == 0
    if backend.name == "cloudtasks":
        assert state.state == "RUNNING" and state.can_pause and not state.can_redrive
        assert (state.max_dispatches_per_second, state.max_concurrent_dispatches) == (50, 10)
        assert (state.min_backoff, state.max_backoff, state.max_doublings) == (1, 2, 1)
    else:
        assert state.state == "ACTIVE" and state.dead == 0 and state.can_redrive and not state.can_pause


def test_a_paused_queue_holds_its_tasks_until_resumed(backend):
    from ackflow.errors import NotSupported

    if backend.name == "sqs":
        with pytest.raises(NotSupported):
            backend.queue.pause(backend.queue_name)
        return
    assert backend.queue.pause(backend.queue_name).state == "PAUSED"
    backend.queue.enqueue(task(backend))
    backend.queue.enqueue(task(backend))
    time.sleep(1.5)
    assert backend.worker.received == [] and backend.queue.state(backend.queue_name).waiting == 2
    assert backend.queue.resume(backend.queue_name).state == "RUNNING"
    backend.worker.wait_for(2, timeout=15)
    assert backend.queue.state(backend.queue_name).waiting == 0


def test_dead_letters_are_counted_and_redriven_where_the_backend_has_them(backend):
    from ackflow.errors import NotSupported

    if backend.name == "cloudtasks":
        with pytest.raises(NotSupported):
            backend.queue.redrive(backend.queue_name)
        return
    # Given a task that failed three times and landed in the DLQ
    backend.worker.behaviour = lambda n, r: 503
    backend.queue.enqueue(task(backend, payload={"job_id": "jdead", "step": 0}))
    backend.worker.wait_for(3, timeout=30)
    deadline = time.monotonic() + 10
    while backend.queue.state(backend.queue_name).dead != 1 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert backend.queue.state(backend.queue_name).dead == 1
    # When the operator redrives it, with the worker healthy again
    backend.worker.behaviour = lambda n, r: 200
    assert backend.queue.redrive(backend.queue_name) == 1
    # Then it is delivered once more, and the DLQ is empty
    received = backend.worker.wait_for(4, timeout=15)
    assert json.loads(received[-1].body)["job_id"] == "jdead"
    assert backend.queue.state(backend.queue_name).dead == 0 and backend.queue.redrive(backend.queue_name) == 0
