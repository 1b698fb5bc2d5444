"""The SQS relay against what SQS can hand it: messages that are not tasks, steps longer than the
queue's visibility timeout, delays beyond SQS's 900 s. A moto server and a recording worker."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from ackflow.auth.signing import LocalSigner
from ackflow.taskqueue.base import Task
from tests.support.sqsrelay import REGION, receive_one


def test_a_step_longer_than_the_visibility_timeout_is_delivered_once(setup):
    # Given a queue whose visibility timeout (2 s) is shorter than the step (5 s)
    s = setup(visibility=2)
    s.worker.behaviour = lambda n, r: (time.sleep(5), 200)[1]
    s.client.send_message(QueueUrl=s.url, MessageBody=json.dumps(
        {"task": "t1", "deadline": 30, "payload": {"job_id": "j1", "step": 0}}))
    # When the relay delivers it
    s.thread.start()
    s.worker.wait_for(1, timeout=10)
    time.sleep(6)
    # Then the message never came back while the step ran (its visibility was extended), and it is gone
    assert len(s.worker.received) == 1
    assert s.count(s.url) == 0 and s.count(s.url, "ApproximateNumberOfMessagesNotVisible") == 0


NOT_TASKS = [
    "not json at all",
    "[1, 2]",
    json.dumps({"payload": {"job_id": "j1", "step": 0}}),  # no task name
    json.dumps({"task": "t\r\nX-Injected: 1", "payload": {}}),  # a task name a header cannot carry
    json.dumps({"task": "t", "payload": {}, "headers": ["not", "a", "dict"]}),
    json.dumps({"task": "t", "payload": {}, "headers": {"X-A": "line\r\nbreak"}}),
    json.dumps({"task": "t", "payload": {}, "deadline": "soon"}),
    json.dumps({"task": "t", "payload": {}, "not_before": "tomorrow"}),
    "x" * (256 * 1024 - 10),  # near SQS's largest message, not JSON
]


def test_messages_that_are_not_tasks_go_to_the_dead_letter_queue_on_their_first_receive(setup):
    s = setup()
    for text in NOT_TASKS:
        s.client.send_message(QueueUrl=s.url, MessageBody=text)
    s.thread.start()
    deadline = time.monotonic() + 20
    while s.count(s.dlq) < len(NOT_TASKS) and time.monotonic() < deadline:
        time.sleep(0.5)
    # each is kept for a person at once (not received again until maxReceiveCount), none reached the worker
    assert s.count(s.dlq) == len(NOT_TASKS)
    assert s.count(s.url) == 0 and s.count(s.url, "ApproximateNumberOfMessagesNotVisible") == 0
    assert s.worker.received == []


def test_a_delay_beyond_900_seconds_is_carried_in_the_message(setup):
    from ackflow.taskqueue.sqs import SqsQueue

    s = setup()
    sent = []

    class Recording:
        def __getattr__(self, name):
            return getattr(s.client, name)

        def send_message(self, **kwargs):
            sent.append(kwargs)
            return s.client.send_message(**kwargs)

    queue = SqsQueue(endpoint=None, region=REGION, client=Recording())
    before = time.time()
    queue.enqueue(Task(queue=s.name, name="t-late", payload={"job_id": "j1", "step": 0}, delay=3600))
    [call] = sent
    assert call["DelaySeconds"] == 900
    assert before + 3600 <= json.loads(call["MessageBody"])["not_before"] <= time.time() + 3600


def test_a_message_received_before_its_not_before_is_sent_again_with_the_rest_of_its_delay(setup):
    s = setup()
    body = json.dumps({"task": "t-late", "deadline": 30, "payload": {"job_id": "j1", "step": 0},
                       "not_before": time.time() + 2000})
    s.client.send_message(QueueUrl=s.url, MessageBody=body)
    message = receive_one(s)
    # When the relay receives it 900 s after it was sent (SQS's longest delay), 1100 s early
    assert s.relay.handle(s.relay_queue, message) == "postponed"
    # Then the worker was not called, and a delayed copy is in the queue, the received one gone
    assert s.worker.received == []
    assert s.count(s.url, "ApproximateNumberOfMessagesDelayed") == 1
    assert s.count(s.url, "ApproximateNumberOfMessagesNotVisible") == 0
    # and once its time has come it is delivered
    due = json.dumps({**json.loads(body), "not_before": time.time() - 1})
    s.client.send_message(QueueUrl=s.url, MessageBody=due)
    assert s.relay.handle(s.relay_queue, receive_one(s)) == "done"
    assert len(s.worker.received) == 1


def test_the_worker_accepts_the_relays_token_and_nothing_near_it():
    """The relay's policy as the worker builds it (runtime.worker_verifier): only the relay's key,
    issuer, audience and identity, within the token's life."""
    from ackflow.auth import verify
    from ackflow.errors import VerificationError
    from ackflow.taskqueue.relay import Relay
    from ackflow_tools.emulators.web import Router, ServerThread, json_response

    signer, stranger = LocalSigner.generate("relay"), LocalSigner.generate("relay")
    app = Router()
    app.add("GET", "/certs", lambda request: json_response(signer.x509_document()))
    certs = ServerThread(app).start()
    try:
        worker, issuer, identity = "https://worker.invalid/", "https://ackflow.invalid/sqs-relay", "relay@test"
        verifier = verify.Verifier([verify.TokenPolicy("SQS relay", (worker,), (issuer,), f"{certs.url}/certs",
                                                       (identity,), require_email_verified=True)])
        relay = Relay(sqs=None, queues=[], worker_url=worker, signer=signer, issuer=issuer, identity=identity)
        assert verifier.verify(f"Bearer {relay.token()}")["email"] == identity
        assert relay.token() == relay.token()  # reused, not signed per message
        now = int(time.time())
        refused = {
            "expired": signer.id_token(issuer=issuer, audience=worker, email=identity,
                                       extra={"iat": now - 7200, "exp": now - 3600}),
            "wrong audience": signer.id_token(issuer=issuer, audience="https://other.invalid/", email=identity),
            "wrong issuer": signer.id_token(issuer="https://accounts.google.com", audience=worker, email=identity),
            "wrong identity": signer.id_token(issuer=issuer, audience=worker, email="someone@else"),
            "another key": stranger.id_token(issuer=issuer, audience=worker, email=identity),
        }
        for what, token in refused.items():
            with pytest.raises(VerificationError):
                verifier.verify(f"Bearer {token}")
                pytest.fail(what)
    finally:
        certs.stop()


@pytest.mark.parametrize("answer", ["500", "503", "401", "403", "429", "timeout", "refused", "failed"])
def test_what_the_worker_answers_decides_the_message(setup, answer):
    s = setup()
    s.worker.behaviour = {"timeout": lambda n, r: (time.sleep(3), 200)[1],
                          "failed": lambda n, r: (200, json.dumps({"status": "FAILED"}))}.get(
        answer, lambda n, r: int(answer))
    if answer == "refused":
        s.relay.worker_url = "http://127.0.0.1:9/"
    s.client.send_message(QueueUrl=s.url, MessageBody=json.dumps(
        {"task": "t-answer", "deadline": 1, "payload": {"job_id": "j1", "step": 0}}))
    outcome = s.relay.handle(s.relay_queue, receive_one(s))
    if answer == "failed":  # the job failed for good: kept in the dead-letter queue, gone from the queue
        assert outcome == "failed" and s.count(s.dlq) == 1
        assert s.count(s.url, "ApproximateNumberOfMessagesNotVisible") == 0
    else:  # anything but a 2xx: the message stays, to come back after the queue's backoff (1 s here)
        assert outcome == "retry" and s.count(s.dlq) == 0
        time.sleep(1.5)
        again = receive_one(s)
        assert again["Attributes"]["ApproximateReceiveCount"] == "2"


@pytest.mark.parametrize("status", [400, 404, 405, 410, 413, 422])
def test_an_answer_that_no_retry_can_change_dead_letters_the_message_at_once(setup, status):
    """A 4xx that says the request itself is wrong (malformed, no such path, too large, gone) is
    answered the same on every retry: the relay keeps the message for a person in the dead-letter
    queue on its first answer, instead of retrying it until ``maxReceiveCount`` (5 receives over
    half a minute on the default queue, each one more request the worker refuses)."""
    s = setup()
    s.worker.behaviour = lambda n, r: status
    s.client.send_message(QueueUrl=s.url, MessageBody=json.dumps(
        {"task": "t-never", "deadline": 5, "payload": {"job_id": "j1", "step": 0}}))
    outcome = s.relay.handle(s.relay_queue, receive_one(s))
    assert outcome == "failed"
    assert s.count(s.dlq) == 1
    assert s.count(s.url) == 0 and s.count(s.url, "ApproximateNumberOfMessagesNotVisible") == 0
    assert len(s.worker.received) == 1


def test_a_busy_answer_parks_the_message_until_the_holders_lease_ends_not_the_backoff(setup):
    """On SQS a copy of a running step is answered 409 until the holder's lease ends (no takeover
    by receive count). Retried on the queue's backoff (1, 2, 4, 8, 16 s on the default queue), each
    answer cost a receive: a copy met a step of a few minutes, or one whose holder was killed, and
    SQS moved it to the dead-letter queue long before the lease ended (the chaos suite on SQS: 37
    receives in 81 s, dead letters of jobs that all succeeded). The worker says when the lease
    ends (``retry_in``), and the relay keeps the message invisible until then: one receive."""
    s = setup()
    s.worker.behaviour = lambda n, r: (409, json.dumps({"status": "busy", "retry_in": 4}))
    s.client.send_message(QueueUrl=s.url, MessageBody=json.dumps(
        {"task": "t-busy", "deadline": 5, "payload": {"job_id": "j1", "step": 0}}))
    outcome = s.relay.handle(s.relay_queue, receive_one(s))
    assert outcome == "retry" and s.count(s.dlq) == 0
    # not back after the queue's backoff (1 s here) ...
    assert s.client.receive_message(QueueUrl=s.url, WaitTimeSeconds=2).get("Messages", []) == []
    time.sleep(2.5)
    # ... but once the lease has ended, with one receive more
    again = receive_one(s)
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_a_busy_answer_without_a_time_is_retried_on_the_queues_backoff(setup):
    s = setup()
    s.worker.behaviour = lambda n, r: (409, json.dumps({"status": "busy", "retry_in": "soon"}))
    s.client.send_message(QueueUrl=s.url, MessageBody=json.dumps(
        {"task": "t-busy", "deadline": 5, "payload": {"job_id": "j1", "step": 0}}))
    assert s.relay.handle(s.relay_queue, receive_one(s)) == "retry"
    time.sleep(1.5)
    assert receive_one(s)["Attributes"]["ApproximateReceiveCount"] == "2"


def test_deliveries_keep_to_the_queues_dispatch_rate(setup):
    """A queue's ``max_dispatches_per_second`` (the office queue's 5/s spares client portals and
    Google's APIs) holds on SQS as on Cloud Tasks: a token bucket of that rate, with a burst of
    ``ceil(rate)`` as Cloud Tasks derives ``max_burst_size``. The relay used to honour only the
    concurrency: eight quick tasks on a 2/s queue all went within a fraction of a second."""
    s = setup(rate=2)
    for n in range(8):
        s.client.send_message(QueueUrl=s.url, MessageBody=json.dumps(
            {"task": f"t-rate-{n}", "deadline": 5, "payload": {"job_id": f"j{n}", "step": 0}}))
    s.thread.start()
    received = s.worker.wait_for(8, timeout=30)
    times = sorted(r.at for r in received)
    # a burst of 2, then 2 a second: the 8th 3 s after the first, and any 5 over 1.5 s, at the relay;
    # the worker sees them up to a few tenths later each (a thread's start, the HTTP request, a
    # loaded CI), so the margins: without the rate all 8 came within 0.1 s
    shown = [round(t - times[0], 2) for t in times]
    assert times[-1] - times[0] >= 2.5, shown
    assert all(times[i + 4] - times[i] >= 1.0 for i in range(len(times) - 4)), shown  # never 5 within 1 s


def test_tokens_earned_during_a_slow_receive_do_not_stretch_the_burst():
    """The bucket is taken from when a receive starts; a receive that took 0.4 s (moto under load
    in CI) earned 0.8 token that used to count on top of the burst just delivered: a 2/s queue
    delivered three within 0.12 s. After a receive the bucket is what it would be had the
    messages left when they did."""
    from ackflow.taskqueue.relay import _Rate

    now = [100.0]
    rate = _Rate(2, clock=lambda: now[0])
    stop = threading.Event()
    assert rate.take(10, stop) == 2          # the burst
    now[0] += 0.4                            # a slow receive
    rate.settle(2, 2)                        # both came
    now[0] += 0.12

    class Clockwork:
        """A stop event whose waits move the fake clock on."""
        def is_set(self):
            return False

        def wait(self, seconds):
            now[0] += seconds
    assert rate.take(10, Clockwork()) == 1
    assert now[0] - 100.4 >= 0.5 - 1e-9, "the third left sooner than 1/rate after the burst"


def test_tokens_a_receive_did_not_use_go_back():
    from ackflow.taskqueue.relay import _Rate

    now = [0.0]
    rate = _Rate(3, clock=lambda: now[0])
    assert rate.take(10, threading.Event()) == 3
    rate.settle(3, 1)                        # one message came: two tokens go back
    assert rate.take(10, threading.Event()) == 2


def test_a_changed_visibility_timeout_is_read_again_without_a_restart(setup, monkeypatch):
    """An operator lengthens the queue's visibility timeout (for a longer step): the relay extends
    messages by the new one after at most VISIBILITY_READ_EVERY seconds, not only after a restart."""
    from ackflow.taskqueue import relay as relay_module

    s = setup(visibility=30)
    assert s.relay.visibility(s.relay_queue) == 30
    s.client.set_queue_attributes(QueueUrl=s.url, Attributes={"VisibilityTimeout": "120"})
    assert s.relay.visibility(s.relay_queue) == 30  # within the interval: the value read
    monkeypatch.setattr(relay_module, "VISIBILITY_READ_EVERY", 0.0)
    assert s.relay.visibility(s.relay_queue) == 120
    # a read that fails keeps the last value known, never stops the relay
    s.relay_queue.url = s.url + "-gone"
    assert s.relay.visibility(s.relay_queue) == 120


def test_a_relay_without_a_key_names_the_command_that_makes_one(tmp_path):
    """The refusal's advice works as written: the command it names makes a key the relay starts with."""
    import re
    import shlex
    import subprocess
    import sys

    from ackflow.errors import ConfigError
    from ackflow.settings import Settings
    from ackflow.taskqueue.relay import relay_from_settings

    with pytest.raises(ConfigError) as refused:
        relay_from_settings(Settings(), sqs=object())
    command = re.search(r"\((ackflow sqs-relay [^)]*?) makes one\)", str(refused.value))
    assert command, str(refused.value)
    args = shlex.split(command.group(1))[1:]
    assert args[-1].endswith(".pem")
    code = "import sys; from ackflow_tools.cli.main import cli; sys.argv = ['ackflow', *sys.argv[1:]]; cli()"
    subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, check=True, capture_output=True, timeout=60)
    key = (tmp_path / args[-1]).read_text()
    relay = relay_from_settings(Settings(relay_signing_key=key), sqs=object(), queue_urls={
        name: f"https://sqs.invalid/{name}" for name in json.loads(Path(Settings().queues_file).read_text())["queues"]})
    assert relay.queues


def test_a_relay_whose_queues_do_not_exist_says_which_and_why(moto, monkeypatch, tmp_path):
    """A prefix that names no queue (Terraform not applied, a typo in ACKFLOW_SQS_QUEUE_PREFIX) or
    an endpoint that does not answer stopped ``ackflow sqs-relay`` with botocore's traceback; it
    says which queue it looked for and what to check, as the relay's other refusals do."""
    import boto3

    from ackflow.errors import ConfigError
    from ackflow.settings import Settings
    from ackflow.taskqueue.relay import relay_from_settings

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    key = LocalSigner.generate("relay").key_pem.decode()
    settings = Settings(relay_signing_key=key, sqs_queue_prefix="nosuch-", sqs_endpoint=moto.url)
    client = boto3.client("sqs", endpoint_url=moto.url, region_name=REGION)
    with pytest.raises(ConfigError) as refused:
        relay_from_settings(settings, sqs=client)
    assert "nosuch-ackflow-" in str(refused.value) and "ACKFLOW_SQS_QUEUE_PREFIX" in str(refused.value)
    from botocore.config import Config

    settings = settings.model_copy(update={"sqs_endpoint": "http://127.0.0.1:9"})
    unreachable = boto3.client("sqs", endpoint_url=settings.sqs_endpoint, region_name=REGION,
                               config=Config(retries={"max_attempts": 1}))
    with pytest.raises(ConfigError) as unanswered:
        relay_from_settings(settings, sqs=unreachable)
    assert "http://127.0.0.1:9" in str(unanswered.value) and "ACKFLOW_SQS_ENDPOINT" in str(unanswered.value)


def test_the_messages_of_a_relay_that_died_come_back_after_its_hold_not_the_queues_visibility_timeout(
        setup, monkeypatch):
    """A relay killed while it holds messages (delivering them, or just taken by its last long poll)
    never settles them. SQS hands them out again when their visibility ends: received with the
    queue's visibility timeout (a step's timeout plus a minute: 11 minutes on the default queue),
    their jobs waited that long, or for the sweep (the chaos suite on SQS: a relay outage left
    jobs waiting for their next step's task)."""
    from ackflow.taskqueue import relay as relay_module

    monkeypatch.setattr(relay_module, "RECEIVE_HOLD", 2)
    s = setup(visibility=60)
    s.client.send_message(QueueUrl=s.url, MessageBody=json.dumps(
        {"task": "t-held", "deadline": 30, "payload": {"job_id": "j1", "step": 0}}))
    [message] = s.relay.receive(s.relay_queue, 1, 2)  # and the relay dies before settling it
    assert json.loads(message["Body"])["task"] == "t-held"
    time.sleep(3)
    again = receive_one(s)  # back after the hold
    assert json.loads(again["Body"])["task"] == "t-held" and again["Attributes"]["ApproximateReceiveCount"] == "2"


def test_a_delivery_longer_than_the_hold_is_kept_invisible_until_it_ends(setup, monkeypatch):
    from ackflow.taskqueue import relay as relay_module

    monkeypatch.setattr(relay_module, "RECEIVE_HOLD", 2)
    s = setup(visibility=60)
    s.worker.behaviour = lambda n, r: (time.sleep(5), 200)[1]
    s.client.send_message(QueueUrl=s.url, MessageBody=json.dumps(
        {"task": "t-long", "deadline": 30, "payload": {"job_id": "j1", "step": 0}}))
    s.thread.start()
    s.worker.wait_for(1, timeout=10)
    time.sleep(6)
    assert len(s.worker.received) == 1  # the hold was extended while the worker ran (5 s > 2 s)
    assert s.count(s.url) == 0 and s.count(s.url, "ApproximateNumberOfMessagesNotVisible") == 0
