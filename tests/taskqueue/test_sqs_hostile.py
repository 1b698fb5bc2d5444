"""Hostile messages on the queue of a running pipeline on SQS: moto, ``ackflow sqs-relay`` as a
process, the worker under functions-framework. What anyone with send rights on the queue (or a
bug) can put there: bodies that are not tasks, payloads of the wrong shape and types, unknown and
foreign job ids, forged steps of a real job, unpaired surrogates and control characters, a payload
the worker refuses as too large, a seeded corpus of values, and the redrive of them all.

Every one ends in the dead-letter queue on its first delivery (a copy the relay sent, never the
message SQS moves after ``maxReceiveCount``); the worker never answers 5xx; nothing logs a
traceback; jobs started meanwhile succeed; the relay's memory does not grow with what it handled."""

from __future__ import annotations

import json
import random
import re
import time

import boto3
import pytest

from ackflow.jobs.model import JobStatus
from tests.e2e.conftest import start_pipeline
from tests.support.fuzz.corpus import RAW, hostile_value

pytestmark = pytest.mark.slow

QUEUE = "ackflow-default"
SEED = 20261130
RSS_GROWTH_KIB = 16 * 1024


@pytest.fixture(scope="module")
def via_sqs(tmp_path_factory):
    pipeline = start_pipeline(tmp_path_factory.mktemp("sqs-hostile"), "classic", "project-number",
                              queue_backend="sqs", ACKFLOW_LOG_FORMAT="text")
    yield pipeline
    pipeline.stack.stop()


def client_of(pipeline):
    return boto3.client("sqs", endpoint_url=pipeline.stack.url("moto"), region_name="ap-northeast-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def count(client, url: str, attribute: str = "ApproximateNumberOfMessages") -> int:
    return int(client.get_queue_attributes(QueueUrl=url, AttributeNames=[attribute])["Attributes"][attribute])


def drain(client, url: str) -> list[dict]:
    """Every message of a queue, deleted (moto allows one purge a minute)."""
    taken = []
    while messages := client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                             AttributeNames=["All"]).get("Messages"):
        for message in messages:
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        taken += messages
    return taken


def rss_kib(pid: int) -> int:
    status = open(f"/proc/{pid}/status").read()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))


def message(payload, task: str = "t-hostile", **fields) -> str:
    return json.dumps({"task": task, "queue": QUEUE, "deadline": 30, "headers": {}, "payload": payload, **fields},
                      ensure_ascii=False)


def corpus(job) -> dict[str, str]:
    """name → message body; ``job`` a job that has succeeded (forged steps of a real job)."""
    rng = random.Random(SEED)
    real, generation = job.id, job.generation
    cases = {
        "not JSON": "not json",
        "a JSON list": "[1, 2]",
        "no payload": json.dumps({"task": "t", "queue": QUEUE}),
        "a forged Host": message({"job_id": real, "step": 0}, headers={"Host": "attacker.example"}),
        "a header value outside Latin-1": message({"job_id": real, "step": 0}, headers={"X-Note": "日本語"}),
        "a not_before that never comes": message({"job_id": real, "step": 0}, not_before=1e300),
        "an unknown job": message({"job_id": "jnosuchjob00", "step": 0, "generation": 0}),
        "a job of another deployment": message({"job_id": "jother0deploy", "step": 1, "generation": 3},
                                               task="0123456789abcdef0123456789abcdef01234567",
                                               queue="prod-ackflow-default"),
        "a forged step past the last": message({"job_id": real, "step": 99, "generation": generation}),
        "a forged step, negative": message({"job_id": real, "step": -1}),
        "a forged step name": message({"job_id": real, "step": "send"}),
        "a forged step, fractional": message({"job_id": real, "step": 0.5}),
        "a forged step, boolean": message({"job_id": real, "step": True}),
        "a forged step, NaN": '{"task": "t-nan", "deadline": 30, "payload": {"job_id": "' + real + '", "step": NaN}}',
        "a generation of words": message({"job_id": real, "step": 0, "generation": "next"}),
        "a generation past 64 bits": message({"job_id": real, "step": 0, "generation": 10**30}),
        "a job id with a path": message({"job_id": "../../jobs/x", "step": 0}),
        "a reserved job id": message({"job_id": "__x__", "step": 0}),
        "a job id with an unpaired surrogate": '{"task": "t-s", "payload": {"job_id": "j\\ud800", "step": 0}}',
        "a job id with a control character": message({"job_id": "j\u0000\u001b[31m", "step": 0}),
        "a job id of 5000 characters": message({"job_id": "j" * 5000, "step": 0}),
        "a payload that is a list": message([real, 0]),
        "a payload that is null": message(None),
        "a payload that is a string": message("j1/0"),
        "a payload nested 500 deep": message({"job_id": real, "step": 0, "x": json.loads("[" * 500 + "]" * 500)}),
        # 240 kB of UTF-8 in SQS; the relay sends the payload as escaped JSON, 480 kB: the worker's 413
        "a payload too large for the worker": message({"job_id": real, "step": 0, "pad": "日" * 80_000}),
        "a task name with a line break": message({"job_id": real, "step": 0}, task="t\r\nX-Injected: 1"),
    }
    for n, raw in enumerate(RAW):
        if len(raw) < 2000:  # the deep ones: the relay's own parser refuses them (unit tests)
            cases[f"raw JSON {n}"] = '{"task": "t-raw", "payload": {"job_id": ' + raw + ', "step": 0}}'
    for n in range(40):
        payload = {"job_id": rng.choice([real, "jnosuchjob00", hostile_value(rng)]),
                   "step": rng.choice([0, 1, 99, hostile_value(rng)]), "generation": hostile_value(rng)}
        if n % 3 == 0:
            payload[rng.choice(["job_id", "step", "generation"])] = hostile_value(rng)
        if is_task(payload, job):  # a duplicate of a real task: done, not dead-lettered
            continue
        cases[f"corpus {n}"] = json.dumps({"task": f"t-corpus-{n}", "deadline": 30, "payload": payload})
    return cases


def is_task(payload: dict, job) -> bool:
    step, generation = payload["step"], payload["generation"]
    return payload["job_id"] == job.id and type(step) is int and 0 <= step < len(job.steps) \
        and type(generation) is int and 0 <= generation < 10**9


def test_hostile_messages_are_dead_lettered_at_once_and_jobs_go_on(via_sqs):
    client = client_of(via_sqs)
    url = client.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    dlq = client.get_queue_url(QueueName=f"{QUEUE}-dlq")["QueueUrl"]
    drain(client, dlq)
    job = via_sqs.wait_job(via_sqs.start("echo before"), JobStatus.SUCCEEDED, timeout=30)
    via_sqs.job_message(job)
    cases = corpus(job)
    relay = via_sqs.stack.procs["relay"]
    relay_log, worker_log = relay.log_path, via_sqs.stack.procs["worker"].log_path
    relay_from, worker_from = relay_log.stat().st_size, worker_log.stat().st_size
    rss = []
    sent_ids, started = set(), []
    for round_ in range(3):  # the first a warm-up of the relay's memory
        for n, (name, body) in enumerate(cases.items()):
            assert len(body.encode("utf-8", "surrogatepass")) <= 256 * 1024, name
            sent_ids.add(client.send_message(QueueUrl=url, MessageBody=body)["MessageId"])
            if n % 25 == 0:
                started.append(via_sqs.start(f"echo among hostile messages {round_} {n}"))
        deadline = time.monotonic() + 60
        while count(client, dlq) < len(cases) * (round_ + 1) and time.monotonic() < deadline:
            time.sleep(0.5)
        rss.append(rss_kib(relay.proc.pid))
    for job_id in started:
        via_sqs.wait_job(job_id, JobStatus.SUCCEEDED, timeout=30)
    time.sleep(2)
    relay_said = relay_log.read_bytes()[relay_from:].decode("utf-8", "replace")
    worker_said = worker_log.read_bytes()[worker_from:].decode("utf-8", "replace")
    assert "Traceback" not in relay_said and "Traceback" not in worker_said, (relay_said + worker_said)[-3000:]
    answered = re.findall(r"the worker answered HTTP (\d+)", relay_said)
    assert not answered, f"retried answers: {sorted(set(answered))}"  # no 5xx, no 401/429, nothing retried
    assert "relay of a message" not in relay_said, relay_said[-2000:]
    letters = drain(client, dlq)
    assert len(letters) == 3 * len(cases), f"{len(letters)} dead letters of {3 * len(cases)} hostile messages"
    # each a copy the relay sent on its first delivery, none moved by SQS after maxReceiveCount
    assert not sent_ids & {m["MessageId"] for m in letters}
    assert sorted(m["Body"] for m in letters) == sorted(list(cases.values()) * 3)
    assert count(client, url) == 0 and count(client, url, "ApproximateNumberOfMessagesNotVisible") == 0
    again = via_sqs.store.get_job(job.id)  # the forged steps changed nothing of the real job
    assert again.status == JobStatus.SUCCEEDED and [s.attempts for s in again.steps] == [s.attempts for s in job.steps]
    mine = [m for m in via_sqs.messages().values() if m.get("clientAssignedMessageId") == job.message_id]
    assert len(mine) == 1
    growth = rss[-1] - rss[0]
    assert growth < RSS_GROWTH_KIB, f"the relay grew by {growth} KiB over {2 * len(cases)} hostile messages: {rss}"


def test_a_redrive_of_what_the_worker_refuses_puts_each_back_once(via_sqs, monkeypatch):
    """The 4xx (the worker's 413 for a payload too large) and the dropped tasks, redriven from the
    DLQ by the operator while the relay runs: each is delivered once more and is back in the DLQ;
    the redrive moves each once, and none loops between the queue and the DLQ."""
    from ackflow.taskqueue.sqs import SqsQueue

    client = client_of(via_sqs)
    url = client.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    dlq = client.get_queue_url(QueueName=f"{QUEUE}-dlq")["QueueUrl"]
    drain(client, dlq)
    job = via_sqs.wait_job(via_sqs.start("echo before the redrive"), JobStatus.SUCCEEDED, timeout=30)
    bodies = [message({"job_id": job.id, "step": 0, "pad": "日" * 80_000}, task="t-too-large"),
              message({"job_id": "jnosuchjob00", "step": 0}, task="t-unknown"),
              message({"job_id": job.id, "step": 99}, task="t-no-step")]
    for body in bodies:
        client.send_message(QueueUrl=url, MessageBody=body)
    deadline = time.monotonic() + 30
    while count(client, dlq) < len(bodies) and time.monotonic() < deadline:
        time.sleep(0.5)
    relay_log = via_sqs.stack.procs["relay"].log_path
    relay_from = relay_log.stat().st_size
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # as an operator's machine has them
        monkeypatch.setenv(key, "testing")
    settings = via_sqs.runtime.settings
    operator = SqsQueue(endpoint=via_sqs.stack.url("moto"), region=settings.sqs_region,
                        prefix=settings.sqs_queue_prefix)
    assert operator.redrive(QUEUE) == len(bodies)
    deadline = time.monotonic() + 30
    while count(client, dlq) < len(bodies) and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(3)
    relay_said = relay_log.read_bytes()[relay_from:].decode("utf-8", "replace")
    assert relay_said.count("HTTP 413") == 1, relay_said  # delivered once more, refused once more
    assert relay_said.count("the worker dropped") == 2, relay_said
    assert "the worker answered" not in relay_said and "Traceback" not in relay_said, relay_said
    assert sorted(m["Body"] for m in drain(client, dlq)) == sorted(bodies)
    assert count(client, url) == 0 and count(client, url, "ApproximateNumberOfMessagesNotVisible") == 0
