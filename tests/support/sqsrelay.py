"""A relay on a queue of its own in a moto server, delivering to a recording worker (the SQS
relay's tests, tests/taskqueue)."""

from __future__ import annotations

import threading
import uuid

from ackflow.auth.signing import LocalSigner
from ackflow.queues import QueueDefinition
from ackflow.retry import RetryConfig
from tests.support.recorder import Recorder

REGION = "ap-northeast-1"


class Setup:
    def __init__(self, moto, visibility: int = 60, rate: float = 50, max_attempts: int = 3):
        import boto3

        from ackflow.taskqueue.relay import Relay, RelayQueue
        from ackflow_tools.devtools.queues import sync_sqs_queues

        self.name = f"relay-{uuid.uuid4().hex[:8]}"
        self.definition = QueueDefinition(
            name=self.name, description="relay", max_dispatches_per_second=rate, max_concurrent_dispatches=10,
            max_step_timeout=60,
            retry=RetryConfig(max_attempts=max_attempts, min_backoff=1, max_backoff=2, max_doublings=1))
        self.client = boto3.client("sqs", endpoint_url=moto.url, region_name=REGION)
        self.url = sync_sqs_queues(self.client, [self.definition])[self.name]
        self.client.set_queue_attributes(QueueUrl=self.url, Attributes={"VisibilityTimeout": str(visibility)})
        self.dlq = self.client.get_queue_url(QueueName=f"{self.name}-dlq")["QueueUrl"]
        self.worker = Recorder()
        self.relay_queue = RelayQueue(self.definition, self.url)
        self.relay = Relay(sqs=self.client, queues=[self.relay_queue], worker_url=self.worker.url + "/",
                           signer=LocalSigner.generate("relay"), issuer="https://ackflow.invalid/sqs-relay",
                           identity="relay@test")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.relay.run, args=(self.stop, 1), daemon=True)

    def count(self, url: str, attribute: str = "ApproximateNumberOfMessages") -> int:
        return int(self.client.get_queue_attributes(QueueUrl=url, AttributeNames=[attribute])["Attributes"][attribute])

    def close(self):
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=10)
        self.worker.stop()


def receive_one(s: Setup) -> dict:
    [message] = s.client.receive_message(QueueUrl=s.url, MaxNumberOfMessages=1, WaitTimeSeconds=2,
                                         AttributeNames=["ApproximateReceiveCount", "SentTimestamp"])["Messages"]
    return message
