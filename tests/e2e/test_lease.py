"""A worker killed while it holds a step: after the step's lease, the sweep sends it again and the
job finishes once. Runs on both stores (one event format is enough for store-level behaviour)."""

from __future__ import annotations

import time

import pytest

from ackflow.jobs.model import JobStatus
from tests.e2e.conftest import start_pipeline
from tests.support.services import tasks_client

pytestmark = pytest.mark.slow  # started first by scripts/test (tests/conftest.py)


@pytest.fixture(scope="module", params=["sqlite", "firestore"])
def pipeline(request, tmp_path_factory):
    if request.param == "firestore":
        from tests.conftest import require_tool

        require_tool("java", "the Firestore emulator runs on Java")
    running = start_pipeline(tmp_path_factory.mktemp(f"lease-{request.param}"), "classic", "project-number",
                             request.param)
    yield running
    running.stack.stop()


def test_a_step_held_by_a_dead_worker_is_sent_again_after_its_lease(pipeline):
    """The queue's own retry is held back (paused queue): the sweep finds the step whose lease
    ran out, sends it under a new task name, and the job still finishes exactly once."""

    job_id = pipeline.start("nap 8")
    job = pipeline.wait_job(job_id, JobStatus.RUNNING, timeout=10)
    client = tasks_client(pipeline.stack.url("tasks"))
    queue = "projects/local-project/locations/local/queues/ackflow-default"
    client.pause_queue(name=queue)
    try:
        pipeline.stack.restart("worker")  # SIGKILL while it holds the step
        lease_until = job.steps[0].lease_until
        assert lease_until - job.steps[0].started_at == 16  # timeout 15 s + margin 1 s
        assert pipeline.stack.sweep_once()["released"] == []  # the lease is still live
        time.sleep(max(0.0, lease_until + 1.5 - time.time()))
        report = pipeline.stack.sweep_once()
        assert report["released"] == [job_id]
    finally:
        client.resume_queue(name=queue)
    done = pipeline.wait_job(job_id, JobStatus.SUCCEEDED, timeout=30)
    assert done.steps[0].attempts == 2 and done.generation == 1
    assert done.result == {"napped": 8}
    pipeline.job_message(done)  # the result is written after the job is recorded SUCCEEDED
    mine = [m for m in pipeline.messages().values() if m.get("clientAssignedMessageId") == done.message_id]
    assert len(mine) == 1


def test_a_duplicate_that_finds_the_step_held_keeps_its_task_until_the_holder_is_gone(pipeline):
    """The stranded job of the hostile review: the holder dies, the queue delivers the task again
    with the same retry count. Answered 2xx, the task would be deleted with nobody holding the
    step; answered 409 it stays, and once the lease has ended a later delivery runs the step. (Not
    503: Cloud Tasks slows the whole queue down for a worker that answers 503 or 429.)"""
    import threading

    import requests

    from ackflow.app.confirm import new_job
    from ackflow.jobs.model import Confirmation, Requester

    now = time.time()
    confirmation = Confirmation("cstranded", "t", "nap", {"seconds": 10}, Requester("users/1", "alice@example.com"),
                                None, None, now, now + 60)
    job = pipeline.store.create_job(new_job(pipeline.runtime, confirmation, pipeline.runtime.registry.get("nap"), now))
    token = pipeline.worker_token()

    def deliver():
        return requests.post(pipeline.stack.worker_url, json={"job_id": job.id, "step": 0, "generation": 0},
                             headers={"Authorization": f"Bearer {token}", "X-CloudTasks-TaskName": "stranded",
                                      "X-CloudTasks-TaskRetryCount": "0"}, timeout=60)

    holder = threading.Thread(target=lambda: _ignore_errors(deliver), daemon=True)
    holder.start()
    held = pipeline.wait_job(job.id, JobStatus.RUNNING, timeout=10)
    pipeline.stack.restart("worker")  # the holder dies with the step held
    # the same task again, same retry count (the queue never learnt of the attempt): not done
    again = deliver()
    assert again.status_code == 409 and again.json()["status"] == "busy"
    assert pipeline.store.get_job(job.id).steps[0].attempts == 1
    # once the lease has ended, any later delivery takes the step over and runs it
    time.sleep(max(0.0, held.steps[0].lease_until + 0.2 - time.time()))
    taken = deliver()
    assert taken.status_code == 200 and taken.json()["status"] == "SUCCEEDED", taken.text
    done = pipeline.store.get_job(job.id)
    assert done.steps[0].attempts == 2 and done.result == {"napped": 10}


def test_a_retry_after_the_queues_deadline_does_not_take_over_a_claim_read_late(pipeline):
    """The queue sent the first attempt at its ETA; the worker got to it 12 s later (its threads
    busy). The queue's deadline counts from the send, so its retry 14 s after the ETA with the 10 s
    deadline passed finds the holder maybe still running: busy (409), not a takeover."""
    import threading

    import requests

    from ackflow.app.confirm import new_job
    from ackflow.jobs.model import Confirmation, Requester

    now = time.time()
    confirmation = Confirmation("clateread", "t", "nap", {"seconds": 6}, Requester("users/1", "alice@example.com"),
                                None, None, now, now + 60)
    job = pipeline.store.create_job(new_job(pipeline.runtime, confirmation, pipeline.runtime.registry.get("nap"), now))
    token = pipeline.worker_token()
    deadline = pipeline.runtime.registry.get("nap").timeout
    eta = time.time() - deadline - 2  # sent that long ago: the queue's deadline has passed

    def deliver(retry: int):
        return requests.post(pipeline.stack.worker_url, json={"job_id": job.id, "step": 0, "generation": 0},
                             headers={"Authorization": f"Bearer {token}", "X-CloudTasks-TaskName": "lateread",
                                      "X-CloudTasks-TaskRetryCount": str(retry), "X-CloudTasks-TaskETA": f"{eta:.6f}"},
                             timeout=60)

    first = threading.Thread(target=lambda: _ignore_errors(lambda: deliver(0)), daemon=True)
    first.start()
    held = pipeline.wait_job(job.id, JobStatus.RUNNING, timeout=10)
    assert held.steps[0].deadline_at == pytest.approx(eta + deadline, abs=0.01)  # from the send, not the claim
    retried = deliver(1)  # the queue's retry after its deadline: the first may still run
    assert retried.status_code == 409 and retried.json()["status"] == "busy", retried.text
    first.join(30)
    done = pipeline.wait_job(job.id, JobStatus.SUCCEEDED, timeout=30)
    assert done.steps[0].attempts == 1  # run once


def _ignore_errors(fn):
    try:
        fn()
    except Exception:  # the connection breaks when the worker is killed
        pass
