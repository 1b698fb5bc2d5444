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


def _wait_as_the_scheduler_sweeps(pipeline, job_id: str, timeout: float = 90.0):
    """The job once finished, with the sweep called every 10 s as Cloud Scheduler calls it (every
    minute). Restarting the worker on its port leaves a window in which the queue's attempts find
    nothing listening (Cloud Functions switches revisions without one); on a loaded machine the new
    worker took longer to start than ackflow-default's five attempts last (1 + 2 + 4 + 8 s), the
    queue gave the task up, and the step waited for the sweep, which sends it again (a CI run of
    2026-11-30 waited 40 s without a sweep, the job still RUNNING)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return pipeline.wait_job(job_id, timeout=10)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            pipeline.stack.sweep_once()


def test_a_job_of_a_type_the_worker_does_not_know_yet_waits_for_the_new_worker(pipeline):
    """Before: the old worker failed the job at once, for good ("the job type is no longer
    available"), and answered 2xx, so the queue dropped a task the new worker would have run."""
    _worker_with(pipeline, OLD_WORKER)
    job_id = pipeline.start("chain 7")
    time.sleep(3)  # the old worker has had the task (and the queue its retries)
    job = pipeline.store.get_job(job_id)
    assert job.status != JobStatus.FAILED, job.last_error
    pipeline.stack.restart("worker")  # the new version is rolled out
    done = _wait_as_the_scheduler_sweeps(pipeline, job_id)
    assert done.status == JobStatus.SUCCEEDED, done.last_error
    assert [s.status.value for s in done.steps] == ["SUCCEEDED"] * 3


def test_the_task_a_worker_without_the_type_sends_keeps_the_dispatch_deadline_the_step_needs(pipeline):
    """The old worker asks for the step again with a task the new worker may get and run. It was
    sent with a 60 s dispatch deadline (the old worker cannot know the type's timeout): Cloud Tasks
    stopped listening after a minute and retried, and the retry, before the deadline the new worker
    counted from its own registry (sleep's 330 s), took the step over while it still ran, and ran it
    a second time at once. It is now sent with the longest a step of its queue may take."""
    from google.api_core.exceptions import NotFound

    from ackflow.taskqueue.base import task_name

    queue = "projects/local-project/locations/local/queues/ackflow-default"
    client = tasks_client(pipeline.stack.url("tasks"))
    _worker_with(pipeline, {"ACKFLOW_JOB_TYPES": "tests.support.jobtypes:without_sleep"})
    try:
        job_id = pipeline.start("sleep 1")
        deadline = time.monotonic() + 20
        task = None
        while task is None:
            assert time.monotonic() < deadline, "the step never waited"
            job = pipeline.store.get_job(job_id)
            if job.generation >= 1:
                try:
                    task = client.get_task(name=f"{queue}/tasks/{task_name(job_id, 0, job.generation)}")
                except NotFound:  # the generation is stored before its task is sent
                    pass
            time.sleep(0.05)
        assert task.dispatch_deadline.total_seconds() >= 330, task.dispatch_deadline  # sleep's timeout
    finally:
        pipeline.stack.restart("worker")
    assert pipeline.wait_job(job_id, timeout=60).status == JobStatus.SUCCEEDED


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
    assert _wait_as_the_scheduler_sweeps(pipeline, job_id).status == JobStatus.SUCCEEDED


def test_a_job_retried_after_a_deploy_changed_its_steps_runs_its_own_steps_by_name(pipeline):
    """Before: the worker ran the registry's step at the job's index. A failed ``fail`` job (steps
    prepare, flaky) retried after a deploy that inserted a step (prepare, notify, flaky) ran
    ``notify`` and recorded it as ``flaky``: the job SUCCEEDED and its failed step never ran."""
    job = pipeline.wait_job(pipeline.start("fail --times 6"), JobStatus.FAILED, timeout=30)
    assert [s.name for s in job.steps] == ["prepare", "flaky"]
    _worker_with(pipeline, {"ACKFLOW_JOB_TYPES": "tests.support.jobtypes:with_fail_reshaped"})
    try:
        assert f"Retrying job {job.id}" in str(pipeline.send(f"retry {job.id}")["reply"])
        done = pipeline.wait_job(job.id, timeout=30)
        assert done.status == JobStatus.SUCCEEDED, done.last_error
        assert done.steps[1].output == {"succeeded_on_attempt": 7}
    finally:
        pipeline.stack.restart("worker")


def test_a_job_whose_step_a_deploy_removed_fails_for_good_saying_so(pipeline):
    """Before: the index past the registry's steps raised IndexError outside the step's own error
    handling: 500 on every delivery, the step left held, and the sweep sent it again for ever."""
    job = pipeline.wait_job(pipeline.start("fail --times 6"), JobStatus.FAILED, timeout=30)
    _worker_with(pipeline, {"ACKFLOW_JOB_TYPES": "tests.support.jobtypes:without_fail_step"})
    try:
        # a job older than a deploy's rollout: no worker that has the step is coming
        pipeline.store.update_job(job.id, lambda j: j.replace(created_at=j.created_at - 3600))
        pipeline.send(f"retry {job.id}")
        failed = pipeline.wait_job(job.id, JobStatus.FAILED, timeout=30)
        assert failed.generation == 1 and "flaky" in failed.last_error, failed.last_error
        assert failed.steps[1].attempts == 7  # one more attempt: no retries of what cannot run
    finally:
        pipeline.stack.restart("worker")


def test_the_old_task_delivered_again_while_a_step_waits_runs_nothing(pipeline):
    """A step that waits (here for the new worker; freee's lockout alike) is brought back by a task
    of a new generation, sent delayed. The queue delivers at least once: a copy of the old
    generation's task came in the wait and ran the step at once (for freee: into the lockout again;
    here: another wait, and another generation). It is now answered 2xx (``early``) and runs nothing."""
    _worker_with(pipeline, OLD_WORKER)
    try:
        job_id = pipeline.start("chain 9")
        deadline = time.monotonic() + 20
        while (job := pipeline.store.get_job(job_id)).generation < 1 or job.next_attempt_at is None:
            assert time.monotonic() < deadline, "the step never waited"
            time.sleep(0.05)
        answer = pipeline.deliver(job_id, 0, generation=job.generation - 1, task="an-old-copy", retry=2)
        assert answer.status_code == 200 and answer.json()["claim"] == "early", answer.text
        after = pipeline.store.get_job(job_id)
        assert (after.generation, after.steps[0].attempts) == (job.generation, job.steps[0].attempts)
    finally:
        pipeline.stack.restart("worker")
    # the newer task, due 5 s after the wait began, may have spent its quick retries on the worker
    # being restarted (a loaded machine): the sweep sends a step whose time has come, as in production
    deadline = time.monotonic() + 60
    while (done := pipeline.store.get_job(job_id)).status == JobStatus.RUNNING:
        assert time.monotonic() < deadline, done.last_error
        if done.next_attempt_at is not None and time.time() > done.next_attempt_at + 10:
            pipeline.stack.sweep_once()
        time.sleep(0.2)
    assert done.status == JobStatus.SUCCEEDED, done.last_error
