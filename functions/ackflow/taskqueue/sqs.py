"""TaskQueue adapter for AWS SQS (boto3, the ``[aws]`` extra), with the relay in ``relay.py``.

A standard queue per queue definition, each with a dead-letter queue (Terraform's
``infra/terraform/aws``). SQS standard queues cannot refuse a message by name, so this adapter
does not de-duplicate (``deduplicates = False``): a task sent twice may be delivered twice, and
the worker's claim makes the second delivery do nothing.
"""

from __future__ import annotations

import json
import threading

from ..errors import QueueUnavailable
from .base import Task

MAX_DELAY = 900  # SQS's longest DelaySeconds


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
        try:
            self._sqs().send_message(QueueUrl=self.queue_url(task.queue), MessageBody=json.dumps(body),
                                     DelaySeconds=min(MAX_DELAY, max(0, int(task.delay))))
        except (ClientError, BotoCoreError) as exc:
            raise QueueUnavailable(f"SQS did not take {task.name}: {exc}") from exc
        return True
