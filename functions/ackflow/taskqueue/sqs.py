"""TaskQueue adapter for AWS SQS (boto3, the ``[aws]`` extra), with the relay in ``relay.py``.

A standard queue per queue definition, each with a dead-letter queue (Terraform's
``infra/terraform/aws``). SQS standard queues cannot refuse a message by name, so this adapter
does not de-duplicate (``deduplicates = False``): a task sent twice may be delivered twice, and
the worker's claim makes the second delivery do nothing.

SQS delays a message by at most 900 s. A longer delay (a ``RetryLater`` of an hour, a result owed
to a space with no write budget) is sent with the 900 s and a ``not_before`` in the body; the relay
sends it again with the rest of the delay until that time, so the step never runs early.
"""

from __future__ import annotations

import json
import threading
import time

from ..errors import NotSupported, QueueUnavailable
from .base import QueueState, Task

MAX_DELAY = 900  # SQS's longest DelaySeconds
REDRIVE_HOLD = 300  # seconds a redrive keeps the dead letters it received invisible until it moves them


class SqsQueue:
    deduplicates = False

    def __init__(self, *, endpoint: str | None, region: str, prefix: str = "", client=None):
        self.endpoint = endpoint
        self.region = region
        self.prefix = prefix
        self._client = client
        self._urls: dict[str, str] = {}
        self._lock = threading.Lock()

    def _sqs(self):
        with self._lock:
            if self._client is None:
                import boto3

                self._client = boto3.client("sqs", endpoint_url=self.endpoint, region_name=self.region)
            return self._client

    def warm_up(self) -> None:
        self._sqs()

    def queue_url(self, queue: str) -> str:
        if queue not in self._urls:
            from botocore.exceptions import BotoCoreError, ClientError

            try:
                url = self._sqs().get_queue_url(QueueName=self.prefix + queue)["QueueUrl"]
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if "NonExistentQueue" in code or "QueueDoesNotExist" in code:
                    raise QueueUnavailable(f"SQS queue {self.prefix + queue} does not exist") from exc
                raise QueueUnavailable(f"SQS refused to find {self.prefix + queue}: {exc}") from exc
            except BotoCoreError as exc:
                raise QueueUnavailable(f"SQS unreachable: {exc}") from exc
            self._urls[queue] = url
        return self._urls[queue]

    def enqueue(self, task: Task) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        body = {"task": task.name, "queue": task.queue, "payload": task.payload, "deadline": task.deadline,
                "headers": task.headers}
        if task.delay > MAX_DELAY:  # the relay holds it back the rest of the time
            body["not_before"] = time.time() + task.delay
        try:
            self._sqs().send_message(QueueUrl=self.queue_url(task.queue), MessageBody=json.dumps(body),
                                     DelaySeconds=min(MAX_DELAY, max(0, int(task.delay))))
        except (ClientError, BotoCoreError) as exc:
            raise QueueUnavailable(f"SQS did not take {task.name}: {exc}") from exc
        return True

    # -- what an operator sees and does (the console) ------------------------------------------------
    def _attributes(self, url: str) -> dict:
        return self._sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    def _dlq_url(self, attributes: dict) -> str | None:
        policy = attributes.get("RedrivePolicy")
        if not policy:
            return None
        arn = json.loads(policy)["deadLetterTargetArn"]
        name = arn.rsplit(":", 1)[-1]
        return self._sqs().get_queue_url(QueueName=name)["QueueUrl"]

    def state(self, queue: str) -> QueueState:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            attributes = self._attributes(self.queue_url(queue))
            dlq = self._dlq_url(attributes)
            dead = int(self._attributes(dlq).get("ApproximateNumberOfMessages", 0)) if dlq else None
            policy = json.loads(attributes.get("RedrivePolicy") or "{}")
        except (ClientError, BotoCoreError) as exc:
            raise QueueUnavailable(f"SQS did not describe {self.prefix + queue}: {exc}") from exc
        return QueueState(
            name=queue, state="ACTIVE", waiting=int(attributes.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)), dead=dead,
            max_attempts=int(policy["maxReceiveCount"]) if "maxReceiveCount" in policy else None,
            can_pause=False, can_redrive=dlq is not None)

    def pause(self, queue: str) -> QueueState:
        raise NotSupported("an SQS queue cannot be paused: stop the relay (or the Lambda's event source mapping)")

    resume = pause

    def redrive(self, queue: str, limit: int = 100) -> int:
        """Move up to ``limit`` messages from the dead-letter queue back to the queue: each is sent
        to the queue, then deleted from the DLQ. A crash between the two leaves a copy in both;
        the worker's claim makes the second delivery harmless (as for any duplicate).

        It moves what the DLQ held when it began: it receives those first (kept invisible meanwhile),
        then moves them. Moving each as it was received, a task the worker refuses for good (a 4xx,
        a task that can never run), which the running relay puts back in the DLQ a moment after it
        was moved, was received and moved again, up to ``limit`` deliveries of one refused task.
        Stopped by an error, it makes those it did not move visible again at once."""
        from botocore.exceptions import BotoCoreError, ClientError

        moved = 0  # long polls (a wait of 1 s): a short poll samples some of SQS's servers and may
        # answer empty while the DLQ holds messages (AWS: "false empty responses"), which ended the redrive
        dlq, held = None, []  # held: received from the DLQ, not yet moved (from index ``moved``)
        try:
            url = self.queue_url(queue)
            dlq = self._dlq_url(self._attributes(url))
            if dlq is None:
                raise NotSupported(f"{self.prefix + queue} has no dead-letter queue")
            while len(held) < limit:
                batch = self._sqs().receive_message(QueueUrl=dlq, MaxNumberOfMessages=min(10, limit - len(held)),
                                                    VisibilityTimeout=REDRIVE_HOLD, WaitTimeSeconds=1
                                                    ).get("Messages", [])
                if not batch:
                    break
                held.extend(batch)
            for message in held:
                self._sqs().send_message(QueueUrl=url, MessageBody=message["Body"])
                self._sqs().delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
        except (ClientError, BotoCoreError) as exc:
            self._release(dlq, held[moved:])
            raise QueueUnavailable(f"SQS redrive of {self.prefix + queue} stopped after {moved}: {exc}") from exc
        return moved

    def _release(self, dlq: str | None, messages: list[dict]) -> None:
        """Make the dead letters a stopped redrive received but did not move visible again at once
        (best effort): held for REDRIVE_HOLD, the console counted none and a second redrive found
        none until then."""
        from botocore.exceptions import BotoCoreError, ClientError

        for start in range(0, len(messages), 10):
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                       for n, m in enumerate(messages[start:start + 10])]
            try:
                self._sqs().change_message_visibility_batch(QueueUrl=dlq, Entries=entries)
            except (ClientError, BotoCoreError):  # they come back after REDRIVE_HOLD all the same
                return
