"""A deploy that adds a job type: Terraform updates the webhook and the worker side by side, and for a
minute or two the webhook (new) offers a type the worker (old) does not know yet. A job of it must
wait for the new worker, not fail for good; and a job of a type no worker knows must not stop the
sweep from recovering every other job."""

from __future__ import annotations

import time

import pytest

from ackflow.jobs.model import JobStatus
from tests.e2e.conftest import start_pipeline
from tests.support.services import tasks_client

pytestmark = pytest.mark.slow  # started first by scripts/test (tests/conftest.py)

OLD_WORKER = {"ACKFLOW_JOB_TYPES": "workers.job_types:build_registry"}  # no `chain`: the version before it


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    running = start_pipeline(tmp_path_factory.mktemp("deploy-order"), "classic", "project-number", "sqlite")
    yield running
    running.stack.stop()


def _worker_with(pipeline, env: dict[str, str]) -> None:
    """The worker replaced by one of another version (another registry), on the same port."""
    saved = dict(pipeline.stack.config.extra_env)
    pipeline.stack.config.extra_env.update(env)
    try:
        pipeline.stack.restart("worker")
    finally:
        pipeline.stack.config.extra_env.clear()
        pipeline.stack.config.extra_env.update(saved)


def test_a_job_of_a_type_the_worker_does_not_know_yet_waits_for_the_new_worker(pipeline):
    """Before: the old worker failed the job at once, for good ("the job type is no longer
    available"), and answered 2xx, so the queue dropped a task the new worker would have run."""
    _worker_with(pipeline, OLD_WORKER)
    job_id = pipeline.start("chain 7")
    time.sleep(3)  # the old worker has had the task (and the queue its retries)
    job = pipeline.store.get_job(job_id)
    assert job.status != JobStatus.FAILED, job.last_error
    pipeline.stack.restart("worker")  # the new version is rolled out
    done = pipeline.wait_job(job_id, timeout=40)
    assert done.status == JobStatus.SUCCEEDED, done.last_error
    assert [s.status.value for s in done.steps] == ["SUCCEEDED"] * 3


def test_a_queued_job_of_an_unknown_type_does_not_stop_the_sweep(pipeline):
    """Before: the sweep's resend raised UnknownJobType for it, the worker answered /sweep 500, and
    the phases after it (stalled leases, unshown results, periodic jobs) never ran, on every sweep."""
    queue = "projects/local-project/locations/local/queues/ackflow-default"
    client = tasks_client(pipeline.stack.url("tasks"))
    _worker_with(pipeline, OLD_WORKER)
    pipeline.stack.procs["tasks"].kill()  # a queue outage: Run records the job, the sweep sends it
    try:
        job_id = pipeline.start("chain 8")
    finally:
        pipeline.stack.restart("tasks")
    client.pause_queue(name=queue)  # what the sweep sends stays in the queue
    try:
        time.sleep(1.5)  # past ACKFLOW_SWEEP_QUEUED_AFTER
        report = pipeline.stack.sweep_once()
        assert "error" not in report, report
        assert job_id in report["resent"], report
    finally:
        client.resume_queue(name=queue)
    pipeline.stack.restart("worker")
    assert pipeline.wait_job(job_id, timeout=40).status == JobStatus.SUCCEEDED
