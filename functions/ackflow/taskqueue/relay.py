"""The SQS relay: takes tasks off SQS and POSTs them to the worker as Cloud Tasks would.

Each message becomes an HTTP request to the worker URL with the same headers the worker expects
from Cloud Tasks (retry count from SQS's receive count) and a bearer token signed with the relay's
key, which the worker verifies with its usual code against the relay's certificates. The message
is deleted only after a 2xx; otherwise it becomes visible again after the queue's retry backoff,
and after ``maxReceiveCount`` receives SQS moves it to the dead-letter queue.

When the worker answers 2xx but says the job failed for good (``{"status": "FAILED"}``: its last
attempt, or a permanent error), the relay moves the message to the queue's dead-letter queue
itself, so every failed job's task ends there, not only the ones the worker never answered.

The same ``deliver`` runs in ``ackflow sqs-relay`` (a long-poll loop) and in ``lambda_handler``
(an SQS event source, reporting partial batch failures).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass

import requests

from ..auth.signing import LocalSigner
from ..queues import QueueDefinition

log = logging.getLogger(__name__)

TOKEN_LIFETIME = 3600


@dataclass
class RelayQueue:
    definition: QueueDefinition
    url: str
    dead_letter_url: str | None = None


class Outcome:
    DONE = "done"  # 2xx: delete
    FAILED_FOR_GOOD = "failed"  # 2xx, but the job failed: dead-letter, then delete
    RETRY = "retry"  # anything else: let it come back after the backoff


class Relay:
    def __init__(self, *, sqs, queues: list[RelayQueue], worker_url: str, signer: LocalSigner,
                 issuer: str, identity: str, audience: str | None = None):
        self.sqs = sqs
        self.queues = queues
        self.worker_url = worker_url
        self.signer = signer
        self.issuer = issuer
        self.identity = identity
        self.audience = audience or worker_url
        self.http = requests.Session()
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def token(self) -> str:
        """One token per audience, reused until shortly before it expires (as Cloud Tasks does)."""
        with self._lock:
            now = time.time()
            if self._token is None or self._token[1] - 300 < now:
                token = self.signer.id_token(issuer=self.issuer, audience=self.audience, email=self.identity,
                                             lifetime=TOKEN_LIFETIME)
                self._token = (token, now + TOKEN_LIFETIME)
            return self._token[0]

    def headers(self, queue: QueueDefinition, body: dict, attributes: dict) -> dict[str, str]:
        received = int(attributes.get("ApproximateReceiveCount", "1"))
        sent = int(attributes.get("SentTimestamp", str(int(time.time() * 1000)))) / 1000
        return {
            **body.get("headers", {}),
            "Content-Type": "application/json",
            "User-Agent": "ackflow-sqs-relay",
            "Authorization": f"Bearer {self.token()}",
            "X-CloudTasks-QueueName": queue.name,
            "X-CloudTasks-TaskName": body["task"],
            "X-CloudTasks-TaskRetryCount": str(received - 1),
            "X-CloudTasks-TaskExecutionCount": str(received - 1),
            "X-CloudTasks-TaskETA": f"{sent:.6f}",
        }

    def deliver(self, queue: QueueDefinition, message_body: str, attributes: dict) -> str:
        """POST one message to the worker; an Outcome."""
        try:
            body = json.loads(message_body)
            payload = body["payload"]
        except (ValueError, KeyError, TypeError):
            log.error("not an Ackflow task: %.200s", message_body)
            return Outcome.FAILED_FOR_GOOD  # nothing can ever handle it: keep it for a person
        deadline = float(body.get("deadline", 60))
        try:
            response = self.http.post(self.worker_url, data=json.dumps(payload), timeout=deadline,
                                      headers=self.headers(queue, body, attributes))
        except requests.RequestException as exc:
            log.warning("worker unreachable for %s: %s", body.get("task"), exc)
            return Outcome.RETRY
        if not 200 <= response.status_code < 300:
            return Outcome.RETRY
        try:
            failed = response.json().get("status") == "FAILED"
        except ValueError:
            failed = False
        return Outcome.FAILED_FOR_GOOD if failed else Outcome.DONE

    def dead_letter_url(self, relay_queue: RelayQueue) -> str | None:
        """The queue's dead-letter queue, from its redrive policy (looked up once)."""
        if relay_queue.dead_letter_url is None:
            attributes = self.sqs.get_queue_attributes(QueueUrl=relay_queue.url, AttributeNames=["RedrivePolicy"])
            policy = attributes.get("Attributes", {}).get("RedrivePolicy")
            if not policy:
                return None
            name = json.loads(policy)["deadLetterTargetArn"].rsplit(":", 1)[-1]
            relay_queue.dead_letter_url = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return relay_queue.dead_letter_url

    def settle(self, relay_queue: RelayQueue, outcome: str, body: str, receipt: str, attributes: dict) -> None:
        if outcome == Outcome.RETRY:
            self.sqs.change_message_visibility(QueueUrl=relay_queue.url, ReceiptHandle=receipt,
                                               VisibilityTimeout=self.retry_delay(relay_queue.definition, attributes))
            return
        if outcome == Outcome.FAILED_FOR_GOOD:
            dead_letters = self.dead_letter_url(relay_queue)
            if dead_letters:
                self.sqs.send_message(QueueUrl=dead_letters, MessageBody=body)
        self.sqs.delete_message(QueueUrl=relay_queue.url, ReceiptHandle=receipt)

    def retry_delay(self, queue: QueueDefinition, attributes: dict) -> int:
        """Seconds until the next attempt: the queue's backoff, as Cloud Tasks would apply it."""
        received = int(attributes.get("ApproximateReceiveCount", "1"))
        return max(0, min(43200, round(queue.retry.delay(received))))

    def handle(self, relay_queue: RelayQueue, message: dict) -> str:
        attributes = message.get("Attributes", {})
        outcome = self.deliver(relay_queue.definition, message["Body"], attributes)
        self.settle(relay_queue, outcome, message["Body"], message["ReceiptHandle"], attributes)
        return outcome

    def poll(self, relay_queue: RelayQueue, wait: int = 20) -> int:
        """One long poll of one queue; returns how many messages were handled."""
        answer = self.sqs.receive_message(QueueUrl=relay_queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=wait,
                                          AttributeNames=["ApproximateReceiveCount", "SentTimestamp"])
        messages = answer.get("Messages", [])
        for message in messages:
            self.handle(relay_queue, message)
        return len(messages)

    def run(self, stop: threading.Event, wait: int = 20) -> None:
        """Long-poll every queue (a thread each) until ``stop`` is set."""

        def loop(relay_queue: RelayQueue) -> None:
            while not stop.is_set():
                try:
                    self.poll(relay_queue, wait)
                except Exception as exc:  # keep relaying; SQS keeps the messages
                    log.error("relay of %s failed: %s", relay_queue.definition.name, exc)
                    stop.wait(1)

        threads = [threading.Thread(target=loop, args=(q,), daemon=True, name=f"relay-{q.definition.name}")
                   for q in self.queues]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def relay_from_settings(settings, *, sqs=None, queue_urls: dict[str, str] | None = None) -> Relay:
    """A Relay for every queue of the definitions, configured from ACKFLOW_* settings."""
    from ..queues import load_queues

    if sqs is None:
        import boto3

        sqs = boto3.client("sqs", endpoint_url=settings.sqs_endpoint or None, region_name=settings.sqs_region)
    key = settings.relay_signing_key.get_secret_value()
    if not key:
        from ..errors import ConfigError

        raise ConfigError("ACKFLOW_RELAY_SIGNING_KEY is required: the PEM RSA key the relay signs worker "
                          "tokens with (ackflow sqs-relay new-key makes one)")
    queues = []
    for name, definition in load_queues(settings.queues_file).items():
        url = (queue_urls or {}).get(name) or sqs.get_queue_url(QueueName=settings.sqs_queue_prefix + name)["QueueUrl"]
        queues.append(RelayQueue(definition, url))
    return Relay(sqs=sqs, queues=queues, worker_url=settings.worker_url,
                 signer=LocalSigner.from_private_key(key, "ackflow-sqs-relay"), issuer=settings.relay_issuer,
                 identity=settings.invoker_service_account or "ackflow-sqs-relay",
                 audience=settings.worker_audience or settings.worker_url)


def lambda_handler(event: dict, context=None) -> dict:
    """AWS Lambda entry point for an SQS event source (ReportBatchItemFailures enabled)."""
    from ..settings import load_settings

    relay = _lambda_relay(load_settings())
    by_arn = {q.url.rsplit("/", 1)[-1]: q for q in relay.queues}
    failures = []
    for record in event.get("Records", []):
        queue = by_arn.get(record.get("eventSourceARN", "").rsplit(":", 1)[-1])
        if queue is None:
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        attributes = record.get("attributes", {})
        outcome = relay.deliver(queue.definition, record["body"], attributes)
        if outcome == Outcome.RETRY:
            failures.append({"itemIdentifier": record["messageId"]})
            try:
                relay.sqs.change_message_visibility(QueueUrl=queue.url, ReceiptHandle=record["receiptHandle"],
                                                    VisibilityTimeout=relay.retry_delay(queue.definition, attributes))
            except Exception as exc:  # the visibility timeout still brings it back
                log.warning("could not shorten the visibility of %s: %s", record["messageId"], exc)
        elif outcome == Outcome.FAILED_FOR_GOOD:
            dead_letters = relay.dead_letter_url(queue)
            if dead_letters:
                relay.sqs.send_message(QueueUrl=dead_letters, MessageBody=record["body"])
        # DONE and dead-lettered records are reported as successes: Lambda deletes them
    return {"batchItemFailures": failures}


_LAMBDA: dict = {}


def _lambda_relay(settings) -> Relay:
    # a Lambda instance keeps its globals between invocations: build the relay once
    if "relay" not in _LAMBDA:
        _LAMBDA["relay"] = relay_from_settings(settings)
    return _LAMBDA["relay"]
