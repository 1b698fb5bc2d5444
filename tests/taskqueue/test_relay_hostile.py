"""The SQS relay against what anyone with send rights on a queue (or a bug) can put there: bodies of
the wrong shape, headers that would steer or break the worker's request, times that never come,
system attributes it cannot read, answers no retry changes, a worker that answers 5xx forever, and
the redrive of such messages. A moto server and a recording worker (tests/support/sqsrelay.py);
``test_sqs_hostile.py`` sends a corpus through the real worker.

What must hold: the relay never stops taking other messages, a message that no delivery can ever
change goes to the dead-letter queue on its first receive (not after ``maxReceiveCount``), good
messages behind a poison one still flow, nothing expected is logged with a traceback, and the
relay's time and memory per message stay bounded by the message's size."""

from __future__ import annotations

import json
import logging
import time
import tracemalloc

import pytest

from tests.support.sqsrelay import receive_one


def good(n: int) -> str:
    return json.dumps({"task": f"t-good-{n}", "deadline": 5, "payload": {"job_id": f"jgood{n}", "step": 0}})


def task(**fields) -> str:
    return json.dumps({"task": "t-hostile", "deadline": 5, "payload": {"job_id": "j1", "step": 0}, **fields})


# Each of these is a JSON object with a task name and a payload, yet no delivery can ever make it a
# request the worker should get: it must go to the dead-letter queue on its first receive, without
# reaching the worker.
NEVER_TASKS = {
    # http.client encodes header values as Latin-1: a UnicodeEncodeError, not a RequestException,
    # which the relay retried (its visibility ran out, 30 s a time) until maxReceiveCount
    "a header value outside Latin-1": task(headers={"X-Note": "日本語"}),
    # requests refuses a value that starts with white space (InvalidHeader, a RequestException):
    # the relay logged "worker unreachable" and retried it until maxReceiveCount
    "a header value with leading white space": task(headers={"X-Note": " padded"}),
    # headers the relay sets, or that route or frame the request: a forged Host sends the relay's
    # bearer token (valid for the worker an hour) to whatever service that host names behind the
    # same front end; Transfer-Encoding beside Content-Length is a smuggled request
    "a forged Host": task(headers={"Host": "attacker.example"}),
    "a forged Authorization": task(headers={"authorization": "Bearer forged"}),
    "a forged Transfer-Encoding": task(headers={"Transfer-Encoding": "chunked"}),
    "a forged Content-Length": task(headers={"Content-Length": "0"}),
    "a forged Connection": task(headers={"Connection": "close, Authorization"}),
    "a forged retry count": task(headers={"x-cloudtasks-taskretrycount": "99"}),
    "a forged Google header": task(headers={"X-Google-Internal": "1"}),
    "two hundred headers": task(headers={f"X-H{n}": "v" for n in range(200)}),
    # a time that never comes: sent again every 900 s for ever, never dead-lettered
    "a not_before that never comes": task(not_before=1e300),
    "a not_before a year ahead": task(not_before=time.time() + 366 * 86400),
}


def wait_until(check, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


def no_traceback(caplog) -> None:
    shown = [r for r in caplog.records if r.exc_info or r.stack_info]
    assert not shown, [r.getMessage() for r in shown]


def test_messages_no_delivery_can_change_are_dead_lettered_at_once_and_good_ones_flow_around_them(setup, caplog):
    caplog.set_level(logging.INFO, logger="ackflow")
    s = setup()
    hostile_ids = set()
    for n, text in enumerate(NEVER_TASKS.values()):
        s.client.send_message(QueueUrl=s.url, MessageBody=good(n))
        hostile_ids.add(s.client.send_message(QueueUrl=s.url, MessageBody=text)["MessageId"])
    s.thread.start()
    # all within one receive each: the queue's backoff (1–2 s) and the relay's hold (30 s) would
    # bring a retried one back later, and SQS would move it only after its third receive
    assert wait_until(lambda: s.count(s.dlq) >= len(NEVER_TASKS) and len(s.worker.received) >= len(NEVER_TASKS))
    time.sleep(1)
    delivered = sorted(json.loads(r.body)["job_id"] for r in s.worker.received)
    assert delivered == sorted(f"jgood{n}" for n in range(len(NEVER_TASKS))), "a hostile message reached the worker"
    assert s.count(s.dlq) == len(NEVER_TASKS)
    assert s.count(s.url) == 0 and s.count(s.url, "ApproximateNumberOfMessagesNotVisible") == 0
    assert s.count(s.url, "ApproximateNumberOfMessagesDelayed") == 0  # none sent again to wait
    assert not [r for r in caplog.records if r.getMessage().startswith("relay of a message")], \
        "a message broke its delivery instead of being judged"
    # each judged on its first receive: the DLQ holds copies the relay sent, not the messages SQS
    # moves after maxReceiveCount (the backoff of 1–2 s brings a retried one there within the wait)
    assert not [r.getMessage() for r in caplog.records if r.getMessage().startswith("worker unreachable")]
    letters = []
    while batch := s.client.receive_message(QueueUrl=s.dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                            VisibilityTimeout=60).get("Messages"):
        letters += batch
    assert len(letters) == len(NEVER_TASKS) and not hostile_ids & {m["MessageId"] for m in letters}
    no_traceback(caplog)


def test_the_headers_a_task_may_carry_still_reach_the_worker(setup):
    s = setup()
    s.client.send_message(QueueUrl=s.url, MessageBody=task(headers={
        "X-Cloud-Trace-Context": "0" * 32 + "/1;o=1", "X-Note": "café"}))
    assert s.relay.handle(s.relay_queue, receive_one(s)) == "done"
    [received] = s.worker.received
    assert received.headers["X-Cloud-Trace-Context"] == "0" * 32 + "/1;o=1"
    assert received.headers["X-Note"].encode("latin-1") == "café".encode("latin-1")
    assert received.headers["X-Cloudtasks-Taskretrycount"] == "0"


@pytest.mark.parametrize("attributes", [
    {"ApproximateReceiveCount": "many", "SentTimestamp": "yesterday"},
    {"ApproximateReceiveCount": "-3", "SentTimestamp": "1e999"},
    {"ApproximateReceiveCount": "9" * 40, "SentTimestamp": "-1"},
    {},
], ids=["words", "negative-and-infinite", "huge", "none"])
def test_system_attributes_the_relay_cannot_read_do_not_stop_the_delivery(setup, attributes, caplog):
    """SQS sets ``ApproximateReceiveCount`` and ``SentTimestamp``; a Lambda test event, another
    event source or a bug may not. ``int("many")`` raised inside the delivery: the message was
    retried until ``maxReceiveCount`` and the DLQ (in Lambda, the whole record failed each time)."""
    s = setup()
    s.client.send_message(QueueUrl=s.url, MessageBody=task(), MessageAttributes={
        "odd": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
        "Authorization": {"DataType": "String", "StringValue": "Bearer forged"}})
    message = receive_one(s)
    assert s.relay.handle(s.relay_queue, {**message, "Attributes": attributes}) == "done"
    [received] = s.worker.received
    retry = int(received.headers["X-Cloudtasks-Taskretrycount"])
    assert 0 <= retry <= 10**6
    assert float(received.headers["X-Cloudtasks-Tasketa"]) > 0
    assert received.headers["Authorization"] != "Bearer forged"  # message attributes are never headers
    # and through the Lambda handler, which reads the event's attributes the same way
    arn = f"arn:aws:sqs:ap-northeast-1:123456789012:{s.name}"
    s.client.send_message(QueueUrl=s.url, MessageBody=task())
    message = receive_one(s)
    record = {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
              "eventSourceARN": arn, "attributes": attributes}
    assert s.relay.handle_batch([record]) == []
    assert len(s.worker.received) == 2
    no_traceback(caplog)


def test_a_task_the_worker_dropped_is_kept_in_the_dead_letter_queue(setup):
    """The worker answers 2xx ``dropped`` for a task that can never run (no such job, no such step,
    a payload that is not a task) so that Cloud Tasks stops retrying it. The relay deleted it: a
    forged or stray message vanished from SQS, where the operator of an SQS deployment looks
    (the queue's DLQ depth on the console, its redrive). It is kept there, as a failed job's is."""
    s = setup()
    s.worker.behaviour = lambda n, r: (200, json.dumps({"status": "dropped", "reason": "no job j1 in the store"}))
    s.client.send_message(QueueUrl=s.url, MessageBody=task())
    assert s.relay.handle(s.relay_queue, receive_one(s)) == "failed"
    assert s.count(s.dlq) == 1
    assert s.count(s.url) == 0 and s.count(s.url, "ApproximateNumberOfMessagesNotVisible") == 0


def test_an_answer_saying_the_headers_are_too_large_dead_letters_at_once(setup):
    """431 (Request Header Fields Too Large: gunicorn's, a front end's) is the request's own, as
    413 is: every retry would get it again."""
    s = setup()
    s.worker.behaviour = lambda n, r: 431
    s.client.send_message(QueueUrl=s.url, MessageBody=task())
    assert s.relay.handle(s.relay_queue, receive_one(s)) == "failed"
    assert s.count(s.dlq) == 1 and len(s.worker.received) == 1


def test_a_poison_message_answered_5xx_for_ever_does_not_hold_up_the_others(setup, caplog):
    """A message the worker answers 503 every time is retried on the queue's backoff until SQS
    moves it to the DLQ after ``maxReceiveCount`` receives; meanwhile every other message, sent
    before and after it, is delivered once, at once."""
    caplog.set_level(logging.INFO, logger="ackflow")
    s = setup()
    s.worker.behaviour = lambda n, r: 503 if json.loads(r.body)["job_id"] == "jpoison" else 200
    s.client.send_message(QueueUrl=s.url, MessageBody=json.dumps(
        {"task": "t-poison", "deadline": 5, "payload": {"job_id": "jpoison", "step": 0}}))
    for n in range(5):
        s.client.send_message(QueueUrl=s.url, MessageBody=good(n))
    s.thread.start()
    assert wait_until(lambda: len([r for r in s.worker.received if b"jgood" in r.body]) >= 5, timeout=10)
    for n in range(5, 10):
        s.client.send_message(QueueUrl=s.url, MessageBody=good(n))
    assert wait_until(lambda: len([r for r in s.worker.received if b"jgood" in r.body]) >= 10, timeout=10)
    assert wait_until(lambda: s.count(s.dlq) == 1, timeout=30), "the poison message never reached the DLQ"
    poison = [r for r in s.worker.received if b"jpoison" in r.body]
    assert len(poison) == 3  # maxReceiveCount (the queue's max_attempts)
    goods = [json.loads(r.body)["job_id"] for r in s.worker.received if b"jgood" in r.body]
    assert sorted(goods) == sorted(f"jgood{n}" for n in range(10))  # each once
    assert s.count(s.url) == 0 and s.count(s.url, "ApproximateNumberOfMessagesNotVisible") == 0
    no_traceback(caplog)


@pytest.mark.parametrize("status", [400, 413])
def test_a_redriven_message_the_worker_refuses_for_good_goes_back_to_the_dlq_at_once(setup, status):
    """An operator redrives the DLQ (the console's Redrive: ``SqsQueue.redrive``) while a message
    in it is one the worker refuses for good: it is delivered once more, refused, and kept in the
    DLQ again on that receive; it does not loop, nor wait out ``maxReceiveCount`` in the queue."""
    from ackflow.taskqueue.sqs import SqsQueue

    s = setup()
    s.worker.behaviour = lambda n, r: status
    s.client.send_message(QueueUrl=s.url, MessageBody=task())
    s.thread.start()
    assert wait_until(lambda: s.count(s.dlq) == 1)
    operator = SqsQueue(endpoint=None, region=s.client.meta.region_name, client=s.client)
    assert operator.redrive(s.name) == 1
    assert wait_until(lambda: len(s.worker.received) == 2 and s.count(s.dlq) == 1)
    time.sleep(3)  # the queue's backoff (1–2 s) would have brought a retried copy back by now
    assert len(s.worker.received) == 2
    assert s.count(s.dlq) == 1
    assert s.count(s.url) == 0 and s.count(s.url, "ApproximateNumberOfMessagesNotVisible") == 0
    assert operator.state(s.name).dead == 1


SQS_LARGEST = 256 * 1024


def _largest(shape: str) -> str:
    """A body of about SQS's largest message, of a shape costly to read."""
    room = SQS_LARGEST - 200
    if shape == "deep":
        return "[" * (room // 2) + "]" * (room // 2)
    if shape == "numbers":
        return json.dumps({"task": "t", "payload": [1] * (room // 3)})
    if shape == "keys":
        return json.dumps({"task": "t", "payload": {f"k{n}": 0 for n in range(room // 14)}})
    if shape == "headers":
        return json.dumps({"task": "t", "payload": {}, "headers": {f"X-H{n}": "v" * 7990 for n in range(room // 8010)}})
    if shape == "escapes":
        return json.dumps({"task": "t", "payload": {"x": "\u65e5" * (room // 6)}})
    if shape == "digits":
        return json.dumps({"task": "t", "payload": {"x": 0}}).replace("0", "1" * (room - 60))
    raise AssertionError(shape)


@pytest.mark.parametrize("shape", ["deep", "numbers", "keys", "headers", "escapes", "digits"])
def test_the_relays_time_and_memory_for_one_message_are_bounded_by_its_size(setup, shape):
    """The relay judges and builds the request of a 256 KiB message of the costliest shapes in a
    fraction of a second and a few megabytes (tracemalloc's peak), whatever the worker makes of it."""
    s = setup()
    text = _largest(shape)
    assert len(text.encode()) <= SQS_LARGEST
    s.client.send_message(QueueUrl=s.url, MessageBody=text)
    message = receive_one(s)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        s.relay.attempt(s.relay_queue, message["Body"], message["ReceiptHandle"], message["Attributes"])
        took = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert took < 2.0, f"{shape}: {took:.2f} s"
    assert peak < 24 * 1024 * 1024, f"{shape}: {peak / 1e6:.1f} MB"


def test_a_record_the_lambda_handler_cannot_read_fails_alone(setup, caplog):
    """A batch with a record that has no body or an unknown source: the others are delivered and
    only the unreadable one is reported (it comes back, and SQS moves it after ``maxReceiveCount``)."""
    s = setup()
    arn = f"arn:aws:sqs:ap-northeast-1:123456789012:{s.name}"
    s.client.send_message(QueueUrl=s.url, MessageBody=good(1))
    message = receive_one(s)
    records = [
        {"messageId": "m-good", "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
         "eventSourceARN": arn, "attributes": {"ApproximateReceiveCount": "1"}},
        {"messageId": "m-nobody", "receiptHandle": "r", "eventSourceARN": arn, "attributes": {}},
        {"messageId": "m-stranger", "receiptHandle": "r", "body": good(2),
         "eventSourceARN": "arn:aws:sqs:ap-northeast-1:123456789012:someone-elses", "attributes": {}},
    ]
    assert s.relay.handle_batch(records) == [{"itemIdentifier": "m-nobody"}, {"itemIdentifier": "m-stranger"}]
    assert [json.loads(r.body)["job_id"] for r in s.worker.received] == ["jgood1"]
    no_traceback(caplog)


def test_a_redrive_stopped_by_an_error_leaves_the_dead_letters_it_did_not_move_where_they_can_be_seen(setup):
    """The redrive receives up to 100 dead letters (each kept invisible 5 minutes) before it moves
    them. SQS refusing a send halfway (an operator's role without sqs:SendMessage on the queue, a
    throttle) ended it with those still invisible: the console counted an empty DLQ, and a second
    Redrive found nothing, for 5 minutes. What it did not move is visible again at once."""
    from botocore.exceptions import ClientError

    from ackflow.errors import QueueUnavailable
    from ackflow.taskqueue.sqs import SqsQueue

    s = setup()
    for n in range(15):
        s.client.send_message(QueueUrl=s.dlq, MessageBody=good(n))

    class Refusing:  # SQS, refusing the third send to the queue
        sends = 0

        def __getattr__(self, name):
            return getattr(s.client, name)

        def send_message(self, **kwargs):
            Refusing.sends += 1
            if Refusing.sends == 3:
                raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "SendMessage")
            return s.client.send_message(**kwargs)

    operator = SqsQueue(endpoint=None, region=s.client.meta.region_name, client=Refusing())
    with pytest.raises(QueueUnavailable, match="stopped after 2"):
        operator.redrive(s.name)
    assert s.count(s.url) == 2  # moved before the refusal
    assert s.count(s.dlq) == 13 and s.count(s.dlq, "ApproximateNumberOfMessagesNotVisible") == 0
    assert operator.state(s.name).dead == 13
