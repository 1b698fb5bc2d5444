"""The queues page on Cloud Tasks shows each queue as the service reports it: a queue whose rate
limits or retry config were changed in the cloud (gcloud, the console) shows what it does now,
not what functions/workers/queues.json says. Through the official client against the local
Cloud Tasks service."""

from __future__ import annotations

import html
import re

import pytest

from ackflow.app.runtime import Runtime
from ackflow.settings import Settings
from ackflow_tools.console.app import ConsoleConfig, create_app
from ackflow_tools.emulators.cloudtasks import start_server

PROJECT, LOCATION, QUEUE = "local-project", "asia-northeast1", "ackflow-default"


@pytest.fixture
def tasks(tmp_path):
    service, server = start_server(tmp_path / "tasks.db")
    parent = f"projects/{PROJECT}/locations/{LOCATION}"
    service.create_queue(parent, {"name": f"{parent}/queues/{QUEUE}",
                                  "rateLimits": {"maxDispatchesPerSecond": 7, "maxConcurrentDispatches": 3},
                                  "retryConfig": {"maxAttempts": 9, "minBackoff": "2s", "maxBackoff": "90s",
                                                  "maxDoublings": 4}})
    runtime = Runtime(Settings(sqlite_path=str(tmp_path / "jobs.db"), project=PROJECT, location=LOCATION,
                               cloudtasks_endpoint=server.url, local_services=True, worker_url="http://127.0.0.1:9/",
                               job_types="tests.support.jobtypes:build_registry"))
    yield runtime
    runtime.close()
    server.stop()
    service.stop()


def fact(page: str, queue: str, test: str) -> str:
    section = re.search(rf'data-queue="{queue}">(.*?)</section>', page, re.S).group(1)
    return html.unescape(re.search(rf'data-test="{test}">(.*?)</dd>', section, re.S).group(1))


def test_the_queues_rate_limits_and_retry_config_are_the_services_not_the_definitions(tasks):
    defined = tasks.registry.queues[QUEUE]
    assert (defined.retry.max_attempts, defined.max_concurrent_dispatches) != (9, 3)  # the test shows a change
    client = create_app(ConsoleConfig(runtime=tasks, operator="ops@example.com", language="en")).test_client()
    page = client.get("/queues").get_data(as_text=True)
    assert fact(page, QUEUE, "rates") == "7.0/s, 3 at once"
    assert fact(page, QUEUE, "retries") == "9 attempts, backoff 2.0–90.0 s, doubling 4 times"
