"""The SQS relay: takes tasks off SQS and POSTs them to the worker as Cloud Tasks would.

Each message becomes an HTTP request to the worker URL with the same headers the worker expects
from Cloud Tasks (retry count from SQS's receive count) and a bearer token signed with the relay's
key, which the worker verifies with its usual code against the relay's certificates. The message
is deleted only after a 2xx; otherwise it becomes visible again after the queue's retry backoff,
and after ``maxReceiveCount`` receives SQS moves it to the dead-letter queue.

When the worker answers 2xx but says the job failed for good (``{"status": "FAILED"}``: its last
attempt, or a permanent error), the relay moves the message to the queue's dead-letter queue
itself, so every failed job's task ends there, not only the ones the worker never answered.

Messages are delivered concurrently, as Cloud Tasks dispatches them: up to the queue's
``max_concurrent_dispatches`` at a time (at most ``max_in_flight``), no faster than its
``max_dispatches_per_second`` (a token bucket with Cloud Tasks' burst, ``ceil(rate)``; each relay
process keeps its own, as it keeps its own concurrency: two relays on one queue may dispatch up to
twice each), each settled on its own as its answer comes. The long-poll loop receives only as
many messages as it has free slots (and tokens), so a received message never waits behind a slow
one while its visibility timeout runs.

While a delivery is under way the relay keeps extending the message's visibility (every third
of its hold, below), so a step longer than the visibility timeout is not received again by a
second delivery (which would find the step held and be answered 409 until the first ends: on SQS
the worker takes no step over by a higher receive count). Only if the relay itself dies does the
message come back, as a Cloud Tasks task does when its connection breaks.

It holds a message for at most ``RECEIVE_HOLD`` seconds at a time (or the queue's visibility
timeout, if shorter): it receives with that visibility and extends by it (a Lambda's event source
receives with the queue's; the first extension brings it to the hold). So the messages of a relay
that dies (those it was delivering, and those its last long poll took as it died) come back within
that time, not after the queue's visibility timeout (a step's timeout plus a minute: 11 minutes on
the default queue), which a job whose task it held used to wait out, or the sweep.

A 4xx that says the request itself is wrong (400, 404, 405, 410, 413, 422 …: ``PERMANENT_ANSWERS``)
would be answered the same on every retry: the message goes to the dead-letter queue at once. A 409
(the step is held by another delivery) keeps the message invisible until the holder's lease ends,
as the worker's answer says (``retry_in``), not on the queue's backoff: on SQS only the lease's end
frees a step, and each early receive brought the copy nearer ``maxReceiveCount`` and the DLQ.

A message is checked before it is delivered: one that is not an Ackflow task (not JSON, no task
name or payload, header names or values that cannot be sent, headers only the relay may set, a
``not_before`` more than 14 days ahead) goes to the dead-letter queue at once; so does a task the
worker answers ``dropped`` (it can never run).
A message whose ``not_before`` (set by ``SqsQueue.enqueue`` for a delay beyond SQS's 900 s) is
still ahead is sent again with the rest of its delay, and the received copy deleted.

The same ``deliver`` runs in ``ackflow sqs-relay`` (a long-poll loop) and in ``lambda_handler``
(an SQS event source, reporting partial batch failures).
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from ..auth.signing import LocalSigner
from ..queues import QueueDefinition

log = logging.getLogger(__name__)

TOKEN_LIFETIME = 3600
MAX_IN_FLIGHT = 32  # deliveries at once per queue, whatever the queue allows (one thread each)
MAX_DELAY = 900  # SQS's longest DelaySeconds
MAX_DEADLINE = 3600.0  # the longest wait for a worker's answer a message may ask for
VISIBILITY_READ_EVERY = 300.0  # seconds between reads of a queue's visibility timeout
RECEIVE_HOLD = 30  # seconds a received message is kept invisible at a time (extended while delivered)
MAX_AHEAD = 14 * 86400  # the furthest not_before a message may carry (SQS's longest retention)
MAX_HEADERS = 30  # headers a message may ask for (an app sends none; gunicorn takes 100 in all)
_TASK_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,500}")
_HEADER_NAME = re.compile(r"[A-Za-z0-9-]{1,100}")
# Headers a message may not set (stricter than Cloud Tasks, which replaces Host, Content-Length,
# User-Agent, X-CloudTasks-*, X-Google-* and X-AppEngine-* but lets a task set Content-Type, Cookie
# and the others; the app sets none): those the relay sets, those that route the request (a forged
# Host sent the relay's bearer token to whatever service that host names behind the same front end)
# and those that frame it (Transfer-Encoding beside the relay's Content-Length: a second request
# smuggled in the body).
_RESERVED_HEADERS = frozenset({
    "host", "authorization", "proxy-authorization", "content-length", "content-type", "content-encoding",
    "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade", "expect", "user-agent",
    "cookie", "forwarded"})
_RESERVED_PREFIXES = ("x-cloudtasks-", "x-google-", "x-appengine-", "x-forwarded-", "proxy-")


@dataclass
class RelayQueue:
    definition: QueueDefinition
    url: str
    dead_letter_url: str | None = None
    visibility_timeout: int | None = None  # seconds, from the queue's attributes (looked up again
    visibility_read_at: float = 0.0  # every VISIBILITY_READ_EVERY seconds: a change applies without a restart)


class NotATask(ValueError):
    """A message that no delivery can ever make into a worker request."""


def parse_message(text: str) -> dict:
    """The task a message carries, checked so that building its request cannot fail; NotATask if not."""
    try:
        body = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        raise NotATask("not JSON") from None
    if not isinstance(body, dict):
        raise NotATask("not a JSON object")
    if not isinstance(body.get("task"), str) or not _TASK_NAME.fullmatch(body["task"]):
        raise NotATask("no task name, or one with characters a header cannot carry")
    if "payload" not in body:
        raise NotATask("no payload")
    headers = body.get("headers") or {}
    # a value must also not start with white space: requests refuses it (InvalidHeader, which the
    # relay took for an unreachable worker, retrying the message until maxReceiveCount)
    if not isinstance(headers, dict) or len(headers) > MAX_HEADERS or not all(
            isinstance(k, str) and _HEADER_NAME.fullmatch(k) and isinstance(v, str) and len(v) <= 8000
            and v.isprintable() and not v[:1].isspace() and _latin1(v) for k, v in headers.items()):
        raise NotATask("headers that cannot be sent")
    if any(k.lower() in _RESERVED_HEADERS or k.lower().startswith(_RESERVED_PREFIXES) for k in headers):
        raise NotATask("headers only the relay may set (Host, Authorization, Content-*, X-CloudTasks-* …)")
    deadline = body.get("deadline", 60)
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)) or not 0 < deadline <= MAX_DEADLINE:
        raise NotATask("a deadline that is not a number of seconds")
    not_before = body.get("not_before")
    if not_before is not None and (isinstance(not_before, bool) or not isinstance(not_before, (int, float))
                                   or not math.isfinite(not_before)):
        raise NotATask("a not_before that is not a time")
    if not_before is not None and not_before > time.time() + MAX_AHEAD:
        # sent again every 900 s until then: a time that never comes kept it out of the DLQ for ever
        raise NotATask("a not_before more than 14 days ahead")
    return {**body, "headers": headers, "deadline": float(deadline)}


def _latin1(value: str) -> bool:
    """Whether http.client can send ``value`` in a header (it encodes them as Latin-1; anything else
    raised UnicodeEncodeError inside the delivery, which retried the message until maxReceiveCount)."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _count(value, default: int) -> int:
    """A system attribute that should hold a whole number (SQS sets them; a Lambda test event, a
    bug may not): ``default`` when it is not one, else within 0 … 10**6."""
    try:
        return max(0, min(int(value), 10**6))
    except (TypeError, ValueError):
        return default


class _Heartbeat:
    """Keeps a received message invisible while its delivery runs (``with``), by extending its
    visibility by ``visibility`` seconds (the relay's hold) every third of it."""

    def __init__(self, sqs, url: str, receipt: str, visibility: int):
        self.sqs, self.url, self.receipt = sqs, url, receipt
        self.visibility = max(1, visibility)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="relay-heartbeat")

    def _beat(self) -> None:
        while not self._stop.wait(max(0.5, self.visibility / 3)):
            try:
                self.sqs.change_message_visibility(QueueUrl=self.url, ReceiptHandle=self.receipt,
                                                   VisibilityTimeout=self.visibility)
            except Exception as exc:  # the message may come back; the worker's claim stays in charge
                log.warning("could not extend a message's visibility: %s", exc)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


class Outcome:
    DONE = "done"  # 2xx: delete
    POSTPONED = "postponed"  # its not_before is ahead: sent again with the rest of its delay, delete
    FAILED_FOR_GOOD = "failed"  # 2xx, but the job failed; or a 4xx no retry changes: dead-letter, then delete
    RETRY = "retry"  # anything else: let it come back after the backoff


class Retry(str):
    """``Outcome.RETRY`` with the seconds the worker asked the message to wait (a busy step: until
    its holder's lease ends), or None for the queue's backoff."""

    after: float | None

    def __new__(cls, after: float | None = None):
        retry = super().__new__(cls, Outcome.RETRY)
        retry.after = after
        return retry


# 4xx answers that say the request itself is wrong (malformed, no such path, not a POST, gone, too
# large, headers too large, unprocessable): every retry gets the same answer, so the message goes to the dead-letter
# queue at once. Others are retried: 401/403 (the relay's key or identity, which a person fixes and
# the next attempt then passes), 408, 409 (the step is held), 425, 429.
PERMANENT_ANSWERS = frozenset({400, 404, 405, 406, 410, 411, 413, 414, 415, 422, 431, 501})
MAX_VISIBILITY = 43200  # SQS's longest visibility timeout (12 hours)


class _Slots:
    """A count of free delivery slots that a receive loop can wait on."""

    def __init__(self, size: int):
        self.free = size
        self._changed = threading.Condition()

    def wait_free(self, stop: threading.Event) -> int:
        """How many slots are free, once at least one is (0 if ``stop`` is set first)."""
        with self._changed:
            while self.free == 0 and not stop.is_set():
                self._changed.wait(0.5)
            return 0 if stop.is_set() else self.free

    def take(self) -> None:
        with self._changed:
            self.free -= 1

    def give(self) -> None:
        with self._changed:
            self.free += 1
            self._changed.notify_all()


class _Rate:
    """A token bucket of a queue's ``max_dispatches_per_second``, with a burst of ``ceil(rate)``
    (as Cloud Tasks derives ``max_burst_size``), full at the start."""

    def __init__(self, rate: float, clock=time.monotonic):
        self.rate = rate if math.isfinite(rate) and rate > 0 else math.inf  # none given: no limit
        self.burst = max(1, math.ceil(rate)) if math.isfinite(self.rate) else 10**9
        self.tokens = float(self.burst)
        self.clock = clock
        self.at = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now

    def take(self, most: int, stop: threading.Event) -> int:
        """Wait for a token, then take as many as are there, up to ``most`` (0 if ``stop`` is set)."""
        if math.isinf(self.rate):
            return 0 if stop.is_set() else most
        while not stop.is_set():
            with self._lock:
                self._refill()
                if self.tokens >= 1:
                    taken = min(most, int(self.tokens))
                    self.tokens -= taken
                    return taken
                wait = (1 - self.tokens) / self.rate
            stop.wait(min(wait, 0.5))
        return 0

    def settle(self, taken: int, received: int) -> None:
        """After a receive: tokens taken for messages it did not bring go back, and the bucket is
        what it would be had the ``received`` messages left now. Tokens are taken when the receive
        starts; without this, tokens earned while a slow receive was under way (moto or SQS under
        load: 0.4 s) counted on top of a full burst, and a third delivery followed a burst of two
        0.1 s later on a 2/s queue."""
        if math.isinf(self.rate):
            return
        with self._lock:
            self._refill()
            self.tokens = min(self.tokens + max(0, taken - received), self.burst - received)


class Relay:
    def __init__(self, *, sqs, queues: list[RelayQueue], worker_url: str, signer: LocalSigner,
                 issuer: str, identity: str, audience: str | None = None, max_in_flight: int = MAX_IN_FLIGHT):
        self.sqs = sqs
        self.queues = queues
        self.worker_url = worker_url
        self.signer = signer
        self.issuer = issuer
        self.identity = identity
        self.audience = audience or worker_url
        self.max_in_flight = max(1, max_in_flight)
        self.http = requests.Session()  # one pool for every delivery thread, as large as they are many
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=self.max_in_flight)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def concurrency(self, queue: QueueDefinition) -> int:
        """Deliveries of one queue at once: its ``max_concurrent_dispatches``, within ``max_in_flight``."""
        return max(1, min(self.max_in_flight, queue.max_concurrent_dispatches))

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
        received = max(1, _count(attributes.get("ApproximateReceiveCount"), 1))
        now = time.time()
        try:
            sent = float(attributes.get("SentTimestamp")) / 1000
        except (TypeError, ValueError):
            sent = now
        if not (0 < sent <= now):  # the worker reads it as the dispatch time: never one in the future
            sent = now
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
            body = parse_message(message_body)
        except NotATask as exc:
            log.error("not an Ackflow task (%s): %.200r", exc, message_body)
            return Outcome.FAILED_FOR_GOOD  # nothing can ever handle it: keep it for a person
        return self.post(queue, body, attributes)

    def post(self, queue: QueueDefinition, body: dict, attributes: dict) -> str:
        try:
            response = self.http.post(self.worker_url, data=json.dumps(body["payload"]), timeout=body["deadline"],
                                      headers=self.headers(queue, body, attributes))
        except requests.RequestException as exc:
            log.warning("worker unreachable for %s: %s", body.get("task"), exc)
            return Retry()
        if response.status_code in PERMANENT_ANSWERS:
            log.error("the worker refused %s for good (HTTP %s): kept in the dead-letter queue",
                      body.get("task"), response.status_code)
            return Outcome.FAILED_FOR_GOOD
        if response.status_code == 409:
            return Retry(_busy_for(response))
        if not 200 <= response.status_code < 300:
            # the worker's own log says why; this says that the queue will bring it back
            log.warning("the worker answered HTTP %s to %s: it is delivered again after the queue's backoff",
                        response.status_code, body.get("task"))
            return Retry()
        try:
            answer = response.json()
        except ValueError:
            answer = None
        status = answer.get("status") if isinstance(answer, dict) else None
        if status == "dropped":  # a task that can never run (no such job or step, a payload that is
            # not a task), answered 2xx so that Cloud Tasks stops retrying it: kept for a person here
            log.warning("the worker dropped %s (%.200s): kept in the dead-letter queue", body.get("task"),
                        answer.get("reason"))
            return Outcome.FAILED_FOR_GOOD
        return Outcome.FAILED_FOR_GOOD if status == "FAILED" else Outcome.DONE

    def postpone(self, relay_queue: RelayQueue, body: dict, text: str) -> bool:
        """Send a message whose ``not_before`` is ahead again, delayed by the rest (at most 900 s a
        hop); True if it was (the received copy is then deleted: a copy in both is harmless)."""
        remaining = body.get("not_before", 0) - time.time()
        if remaining <= 1:
            return False
        self.sqs.send_message(QueueUrl=relay_queue.url, MessageBody=text,
                              DelaySeconds=min(MAX_DELAY, math.ceil(remaining)))
        return True

    def visibility(self, relay_queue: RelayQueue) -> int:
        """The queue's visibility timeout, read again every VISIBILITY_READ_EVERY seconds (an
        operator may change it, e.g. for a longer step; a failed read keeps the last one known)."""
        now = time.monotonic()
        if relay_queue.visibility_timeout is None or now - relay_queue.visibility_read_at >= VISIBILITY_READ_EVERY:
            try:
                attributes = self.sqs.get_queue_attributes(QueueUrl=relay_queue.url,
                                                           AttributeNames=["VisibilityTimeout"])
                relay_queue.visibility_timeout = int(attributes.get("Attributes", {}).get("VisibilityTimeout", 30))
            except Exception as exc:
                if relay_queue.visibility_timeout is None:
                    raise
                log.warning("could not read the visibility timeout of %s (keeping %s s): %s",
                            relay_queue.definition.name, relay_queue.visibility_timeout, exc)
            relay_queue.visibility_read_at = now
        return relay_queue.visibility_timeout

    def attempt(self, relay_queue: RelayQueue, text: str, receipt: str, attributes: dict) -> str:
        """Check, postpone or deliver one received message (its visibility extended meanwhile)."""
        try:
            body = parse_message(text)
        except NotATask as exc:
            log.error("not an Ackflow task (%s): %.200r", exc, text)
            return Outcome.FAILED_FOR_GOOD
        if self.postpone(relay_queue, body, text):
            return Outcome.POSTPONED
        with _Heartbeat(self.sqs, relay_queue.url, receipt, self.hold(relay_queue)):
            return self.post(relay_queue.definition, body, attributes)

    def hold(self, relay_queue: RelayQueue) -> int:
        """Seconds a received message is kept invisible at a time: RECEIVE_HOLD, or the queue's
        visibility timeout if shorter. A message whose relay died comes back after it."""
        return max(1, min(RECEIVE_HOLD, self.visibility(relay_queue)))

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
            self.sqs.change_message_visibility(
                QueueUrl=relay_queue.url, ReceiptHandle=receipt,
                VisibilityTimeout=self.retry_delay(relay_queue.definition, attributes, getattr(outcome, "after", None)))
            return
        if outcome == Outcome.FAILED_FOR_GOOD:
            dead_letters = self.dead_letter_url(relay_queue)
            if dead_letters:
                self.sqs.send_message(QueueUrl=dead_letters, MessageBody=body)
        self.sqs.delete_message(QueueUrl=relay_queue.url, ReceiptHandle=receipt)

    def retry_delay(self, queue: QueueDefinition, attributes: dict, after: float | None = None) -> int:
        """Seconds until the next attempt: the queue's backoff, as Cloud Tasks would apply it, or
        what the worker asked for (``after``: a busy step's copy waits for the holder's lease to
        end; on the backoff each 409 cost a receive, and the copy reached ``maxReceiveCount`` and
        the dead-letter queue while the step still ran, or before a killed holder's lease ended)."""
        if after is not None:
            return max(1, min(MAX_VISIBILITY, math.ceil(after)))
        received = max(1, _count(attributes.get("ApproximateReceiveCount"), 1))
        return max(0, min(MAX_VISIBILITY, round(queue.retry.delay(received))))

    def handle(self, relay_queue: RelayQueue, message: dict) -> str:
        """Deliver one received message and settle it by its outcome (delete only after a 2xx)."""
        attributes = message.get("Attributes", {})
        try:
            outcome = self.attempt(relay_queue, message["Body"], message["ReceiptHandle"], attributes)
            self.settle(relay_queue, outcome, message["Body"], message["ReceiptHandle"], attributes)
        except Exception as exc:  # SQS keeps the message: it comes back when its visibility timeout ends
            log.error("relay of a message of %s failed: %s", relay_queue.definition.name, exc)
            return Outcome.RETRY
        return outcome

    def receive(self, relay_queue: RelayQueue, count: int, wait: int) -> list[dict]:
        answer = self.sqs.receive_message(QueueUrl=relay_queue.url, MaxNumberOfMessages=max(1, min(10, count)),
                                          WaitTimeSeconds=wait, VisibilityTimeout=self.hold(relay_queue),
                                          AttributeNames=["ApproximateReceiveCount", "SentTimestamp"])
        return answer.get("Messages", [])

    def run(self, stop: threading.Event, wait: int = 20) -> None:
        """Long-poll every queue (a thread each) until ``stop`` is set, delivering each queue's
        messages concurrently; deliveries under way are finished before it returns."""

        def loop(relay_queue: RelayQueue) -> None:
            limit = self.concurrency(relay_queue.definition)
            slots = _Slots(limit)
            rate = _Rate(relay_queue.definition.max_dispatches_per_second)

            def deliver(message: dict) -> None:
                try:
                    self.handle(relay_queue, message)
                finally:
                    slots.give()

            with ThreadPoolExecutor(limit, thread_name_prefix=f"relay-{relay_queue.definition.name}") as pool:
                while True:
                    free = slots.wait_free(stop)
                    # no more than the queue's rate allows now: a message received is delivered at once
                    # (one received to wait for a token would wait out its hold, then come back)
                    allowed = rate.take(min(free, 10), stop) if free else 0
                    if not allowed:
                        return
                    try:
                        messages = self.receive(relay_queue, allowed, wait)
                    except Exception as exc:  # keep relaying; SQS keeps the messages
                        log.error("relay of %s failed: %s", relay_queue.definition.name, exc)
                        rate.settle(allowed, 0)
                        stop.wait(1)
                        continue
                    rate.settle(allowed, len(messages))
                    for message in messages:
                        slots.take()
                        pool.submit(deliver, message)

        threads = [threading.Thread(target=loop, args=(q,), daemon=True, name=f"relay-{q.definition.name}")
                   for q in self.queues]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def handle_batch(self, records: list[dict]) -> list[dict]:
        """An SQS event of the Lambda event source: every record delivered concurrently; the
        ``batchItemFailures`` of those to be received again (the others Lambda deletes)."""
        by_name = {q.url.rsplit("/", 1)[-1]: q for q in self.queues}

        def one(record: dict) -> bool:
            queue = by_name.get(record.get("eventSourceARN", "").rsplit(":", 1)[-1])
            if queue is None:
                return False
            attributes = record.get("attributes", {})
            outcome = self.attempt(queue, record["body"], record["receiptHandle"], attributes)
            if outcome == Outcome.RETRY:
                try:
                    delay = self.retry_delay(queue.definition, attributes, getattr(outcome, "after", None))
                    self.sqs.change_message_visibility(QueueUrl=queue.url, ReceiptHandle=record["receiptHandle"],
                                                       VisibilityTimeout=delay)
                except Exception as exc:  # the visibility timeout still brings it back
                    log.warning("could not shorten the visibility of %s: %s", record["messageId"], exc)
                return False
            if outcome == Outcome.FAILED_FOR_GOOD:
                dead_letters = self.dead_letter_url(queue)
                if dead_letters:
                    self.sqs.send_message(QueueUrl=dead_letters, MessageBody=record["body"])
            return True  # DONE and dead-lettered records are successes: Lambda deletes them

        def safe(record: dict) -> bool:
            try:
                return one(record)
            except Exception as exc:
                log.error("relay of %s failed: %s", record.get("messageId"), exc)
                return False

        if not records:
            return []
        with ThreadPoolExecutor(min(len(records), self.max_in_flight)) as pool:
            done = list(pool.map(safe, records))
        return [{"itemIdentifier": record["messageId"]} for record, ok in zip(records, done, strict=True) if not ok]


def _busy_for(response) -> float | None:
    """The seconds a 409 ("busy": the step is held) says its holder's lease still runs, if it says."""
    try:
        after = response.json().get("retry_in")
    except (ValueError, AttributeError):
        return None
    if isinstance(after, bool) or not isinstance(after, (int, float)) or not math.isfinite(after) or after <= 0:
        return None
    return float(after)


def relay_from_settings(settings, *, sqs=None, queue_urls: dict[str, str] | None = None) -> Relay:
    """A Relay for every queue of the definitions, configured from ACKFLOW_* settings."""
    from ..queues import load_queues

    if sqs is None:
        import boto3
        from botocore.config import Config

        sqs = boto3.client("sqs", endpoint_url=settings.sqs_endpoint or None, region_name=settings.sqs_region,
                           config=Config(max_pool_connections=MAX_IN_FLIGHT))
    key = settings.relay_signing_key.get_secret_value()
    if not key:
        from ..errors import ConfigError

        raise ConfigError("ACKFLOW_RELAY_SIGNING_KEY is required: the PEM RSA key the relay signs worker "
                          "tokens with (ackflow sqs-relay --new-key relay-key.pem makes one)")
    queues = []
    for name, definition in load_queues(settings.queues_file).items():
        url = (queue_urls or {}).get(name) or _queue_url(sqs, settings, settings.sqs_queue_prefix + name)
        queues.append(RelayQueue(definition, url))
    return Relay(sqs=sqs, queues=queues, worker_url=settings.worker_url,
                 signer=LocalSigner.from_private_key(key, "ackflow-sqs-relay"), issuer=settings.relay_issuer,
                 identity=settings.invoker_service_account or "ackflow-sqs-relay",
                 audience=settings.worker_audience or settings.worker_url)


def _queue_url(sqs, settings, name: str) -> str:
    """The queue's URL, or a ConfigError that says which queue and what to check."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..errors import ConfigError

    try:
        return sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if "NonExistentQueue" in code or "QueueDoesNotExist" in code:
            raise ConfigError(f"no SQS queue {name} in {settings.sqs_region}: check ACKFLOW_SQS_QUEUE_PREFIX "
                              f"({settings.sqs_queue_prefix!r}) and ACKFLOW_SQS_REGION, and that "
                              "infra/terraform/aws was applied with the same queue_prefix") from None
        raise ConfigError(f"SQS refused to look up the queue {name}: {code or exc}") from None
    except BotoCoreError as exc:
        raise ConfigError(f"SQS did not answer at {settings.sqs_endpoint or 'its AWS endpoint'} "
                          f"(ACKFLOW_SQS_ENDPOINT, ACKFLOW_SQS_REGION): {exc}") from None


def lambda_handler(event: dict, context=None) -> dict:
    """AWS Lambda entry point for an SQS event source (ReportBatchItemFailures enabled)."""
    from ..settings import load_settings

    relay = _lambda_relay(load_settings())
    return {"batchItemFailures": relay.handle_batch(event.get("Records", []))}


_LAMBDA: dict = {}


def _lambda_relay(settings) -> Relay:
    # a Lambda instance keeps its globals between invocations: build the relay once
    if "relay" not in _LAMBDA:
        _LAMBDA["relay"] = relay_from_settings(settings)
    return _LAMBDA["relay"]
