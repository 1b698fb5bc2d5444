"""Create (or bring up to date) the queues of the queue definitions in a Cloud Tasks endpoint.

In the cloud Terraform does this from the same definitions; locally ``ackflow dev`` does it.
"""

from __future__ import annotations

from collections.abc import Iterable

from ackflow.queues import QueueDefinition


def queue_message(definition: QueueDefinition, parent: str):
    from google.cloud import tasks_v2
    from google.protobuf import duration_pb2

    def seconds(value: float) -> duration_pb2.Duration:
        duration = duration_pb2.Duration()
        duration.FromNanoseconds(int(value * 1e9))
        return duration

    retry = definition.retry
    return tasks_v2.Queue(
        name=f"{parent}/queues/{definition.name}",
        rate_limits=tasks_v2.RateLimits(max_dispatches_per_second=definition.max_dispatches_per_second,
                                        max_concurrent_dispatches=definition.max_concurrent_dispatches),
        retry_config=tasks_v2.RetryConfig(max_attempts=retry.max_attempts, min_backoff=seconds(retry.min_backoff),
                                          max_backoff=seconds(retry.max_backoff), max_doublings=retry.max_doublings,
                                          max_retry_duration=seconds(retry.max_retry_duration)),
    )


def sync_cloud_tasks_queues(endpoint: str, project: str, location: str,
                            definitions: Iterable[QueueDefinition]) -> list[str]:
    from google.api_core import exceptions
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import tasks_v2

    client = tasks_v2.CloudTasksClient(transport="rest", credentials=AnonymousCredentials(),
                                       client_options=ClientOptions(api_endpoint=endpoint))
    parent = f"projects/{project}/locations/{location}"
    names = []
    for definition in definitions:
        message = queue_message(definition, parent)
        try:
            client.create_queue(parent=parent, queue=message)
        except exceptions.Conflict:
            client.update_queue(queue=message, update_mask={"paths": ["rate_limits", "retry_config"]})
        names.append(message.name)
    return names


def sync_sqs_queues(client, definitions: Iterable[QueueDefinition], prefix: str = "") -> dict[str, str]:
    """Create each queue with its dead-letter queue and redrive policy, as Terraform's AWS module
    does; return the queue URLs by definition name."""
    import json

    urls = {}
    for definition in definitions:
        dlq = client.create_queue(QueueName=f"{prefix}{definition.name}-dlq")["QueueUrl"]
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes = {
            "VisibilityTimeout": str(int(definition.max_step_timeout) + 60),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                         "maxReceiveCount": str(definition.retry.max_attempts)}),
        }
        urls[definition.name] = client.create_queue(QueueName=f"{prefix}{definition.name}",
                                                    Attributes=attributes)["QueueUrl"]
    return urls
