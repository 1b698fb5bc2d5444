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


def test_a_queue_the_service_does_not_describe_is_said_in_the_readers_words_its_answer_the_detail(tasks):
    """The service's own answer (English, naming the project) was the queue's whole message."""
    from ackflow.i18n import ENGLISH, speaker_for

    missing = next(name for name in tasks.registry.queues if name != QUEUE)  # the service does not have it
    client = create_app(ConsoleConfig(runtime=tasks, operator="ops@example.com", language="ja")).test_client()
    for speaker in (speaker_for("ja", "Asia/Tokyo"), ENGLISH):
        client.set_cookie("ackflow_lang", speaker.language)
        page = client.get("/queues").get_data(as_text=True)
        section = re.search(rf'data-queue="{missing}">(.*?)</section>', page, re.S).group(1)
        problem = re.search(r'data-test="queue-problem">(.*?)</p>', section, re.S).group(1)
        said = speaker._("The queue service did not say how this queue is: its state and tasks are unknown for now.")
        assert problem.startswith(f"<span>{html.escape(said)}</span> ")
        answer = re.search(r'<span class="technical-label">(.*?):</span> <code>(.*?)</code>', problem, re.S)
        assert answer.group(1) == speaker._("Technical detail")
        assert html.unescape(answer.group(2)) == f"queue {missing} does not exist in {PROJECT}/{LOCATION}"
        assert 'data-test="queue-problem"' not in re.search(rf'data-queue="{QUEUE}">(.*?)</section>', page,
                                                             re.S).group(1)


def test_pausing_a_paused_queue_again_is_audited_as_nothing_changed(tasks):
    """Two tabs, or a form sent twice: the queue is paused once, and the audit log said "pause,
    done" for each as though each had paused it. The second says the queue was paused already,
    in the reader's language; so does a resume of a running queue."""
    client = create_app(ConsoleConfig(runtime=tasks, operator="ops@example.com", language="en")).test_client()
    client.get("/queues")
    form = {"csrf_token": client.get_cookie("ackflow_csrf").value, "confirmed": "1"}
    for verb in ("pause", "pause", "resume", "resume"):
        assert client.post(f"/queues/{QUEUE}/{verb}", data=form).status_code == 302
    assert tasks.queue.state(QUEUE).state == "RUNNING"
    entries = sorted(tasks.store.list_audit(), key=lambda e: e.at)
    assert [(e.action, e.outcome, bool(e.detail)) for e in entries] == [
        ("pause", "done", False), ("pause", "done", True), ("resume", "done", False), ("resume", "done", True)]
    for language, words in (("en", ("already paused", "already running")), ("ja", ("一時停止中", "実行中"))):
        client.set_cookie("ackflow_lang", language)
        page = client.get("/audit").get_data(as_text=True)
        assert all(page.count(w) == 1 for w in words), (language, words)
