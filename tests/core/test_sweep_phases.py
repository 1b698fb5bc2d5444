"""The sweep's phases stand on their own: a busy store in one never skips the next, and a periodic
job that a sweep stored but could not send is sent by the next sweep of its slot (not left QUEUED
until the resend rule minutes later). On a real SQLite store and the local Cloud Tasks service,
its queue paused so the tasks stay where the test can count them."""

from __future__ import annotations

import datetime as dt

import pytest

from ackflow.app.runtime import Runtime
from ackflow.app.sweep import periodic_job, slot_of, slot_stamp, sweep
from ackflow.errors import StoreUnavailable
from ackflow.jobs.registry import JobType, Registry, Step
from ackflow.queues import load_queues
from ackflow.settings import Settings
from ackflow.store.jobstore import JobStore
from ackflow.store.sqlite import SqliteDocuments
from ackflow_tools.emulators.cloudtasks import start_server

PROJECT, LOCATION, QUEUE = "local-project", "asia-northeast1", "ackflow-default"
NOW = dt.datetime(2026, 12, 4, 0, 0, 30, tzinfo=dt.UTC).timestamp()  # 09:00:30 in Tokyo


class BusyWhenLookingForQueuedJobs(JobStore):
    """Firestore answering Aborted past every retry, as it does under contention, in one query."""

    def stale_jobs(self, *args, **kwargs):
        raise StoreUnavailable("Firestore is too busy: contention")


@pytest.fixture
def tasks(tmp_path):
    service, server = start_server(tmp_path / "tasks.db")
    parent = f"projects/{PROJECT}/locations/{LOCATION}"
    service.create_queue(parent, {"name": f"{parent}/queues/{QUEUE}"})
    service.set_queue_state(f"{parent}/queues/{QUEUE}", 2)  # PAUSED: nothing is delivered
    yield service, server, f"{parent}/queues/{QUEUE}"
    server.stop()
    service.stop()


def runtime_on(tmp_path, tasks, store_class=JobStore) -> Runtime:
    _, server, _ = tasks
    settings = Settings(store="sqlite", sqlite_path=str(tmp_path / "jobs.db"), project=PROJECT, location=LOCATION,
                        cloudtasks_endpoint=server.url, local_services=True, time_zone="Asia/Tokyo",
                        worker_url="http://127.0.0.1:9/")
    registry = Registry(load_queues(settings.queues_file))
    registry.add(JobType("morning", "h", (Step("s", lambda ctx: None),), schedule="0 9 * * *"))
    return Runtime(settings, registry=registry, store=store_class(SqliteDocuments(settings.sqlite_path)))


def waiting(tasks) -> int:
    service, _, queue = tasks
    return len(service.list_tasks(queue))


def test_a_busy_store_in_the_resend_phase_still_starts_the_periodic_job(tmp_path, tasks):
    runtime = runtime_on(tmp_path, tasks, BusyWhenLookingForQueuedJobs)
    report = sweep(runtime, now=NOW)
    assert report.started == ["morning-202612040000"]
    assert any(error.startswith("store (resend)") for error in report.errors), report.errors
    assert waiting(tasks) == 1
    runtime.close()


def test_a_periodic_job_stored_but_never_sent_is_sent_by_the_next_sweep_once(tmp_path, tasks):
    runtime = runtime_on(tmp_path, tasks)
    job_type = runtime.registry.get("morning")
    stamp = slot_stamp(slot_of(job_type, NOW, "Asia/Tokyo"))
    # a sweep stored the slot's job and died before sending it (or its commit was retried)
    runtime.store.create_job_once(periodic_job(job_type, f"morning-{stamp}", None, NOW, stamp, "schedule"))
    assert waiting(tasks) == 0
    assert sweep(runtime, now=NOW + 5).started == ["morning-202612040000"]
    assert waiting(tasks) == 1
    # another sweep of the same slot: the job is still QUEUED, its task exists: nothing new
    assert sweep(runtime, now=NOW + 10).started == []
    assert waiting(tasks) == 1
    runtime.close()


class BusyForOneJob(JobStore):
    """Contention on one job (a worker holds it) past every retry of the store."""

    def update_job(self, job_id, change):
        if job_id == "held":
            raise StoreUnavailable("Firestore is too busy: contention")
        return super().update_job(job_id, change)


def test_a_job_too_busy_to_update_never_stops_the_others_being_sent_again(tmp_path, tasks):
    runtime = runtime_on(tmp_path, tasks, BusyForOneJob)
    job_type = runtime.registry.get("morning")
    long_ago = NOW - 7200  # past the task names' reservation: each gets a new generation first
    for job_id in ("held", "free"):
        runtime.store.create_job(periodic_job(job_type, job_id, None, long_ago, "x", "test"))
    report = sweep(runtime, now=NOW)
    assert report.resent == ["free"]
    assert [error for error in report.errors if error.startswith("held")], report.errors
    assert runtime.store.get_job("free").generation == 1
    runtime.close()


def test_a_job_no_worker_has_taken_long_after_run_is_noted_once_and_still_sent(tmp_path, tasks, caplog):
    """The queue cannot reach the worker (a wrong target or audience, the relay's key): the job
    stays QUEUED while the sweep keeps sending it. After UNDELIVERED_AFTER it says so, once, on the
    job and as an error line, and the sweep's own times are left as they were."""
    from ackflow.app.sweep import UNDELIVERED_AFTER

    runtime = runtime_on(tmp_path, tasks)
    job_type = runtime.registry.get("morning")
    runtime.store.create_job(periodic_job(job_type, "young", None, NOW - 120, "x", "test"))
    runtime.store.create_job(periodic_job(job_type, "stuck", None, NOW - UNDELIVERED_AFTER - 60, "y", "test"))
    with caplog.at_level("ERROR", logger="ackflow.app.sweep"):
        report = sweep(runtime, now=NOW)
    assert sorted(report.resent) == ["stuck", "young"]
    stuck, young = runtime.store.get_job("stuck"), runtime.store.get_job("young")
    assert stuck.last_error.startswith("not delivered: queued 16 min ago") and "ackflow-default" in stuck.last_error
    assert young.last_error is None
    assert stuck.updated_at == NOW - UNDELIVERED_AFTER - 60  # the resend rules read it: untouched
    assert [r.message for r in caplog.records if "stuck" in r.message and "not delivered" in r.message]
    caplog.clear()
    with caplog.at_level("ERROR", logger="ackflow.app.sweep"):
        sweep(runtime, now=NOW + 120)
    assert not [r for r in caplog.records if "not delivered" in r.message]  # said once
    assert runtime.store.get_job("stuck").last_error == stuck.last_error
    runtime.close()
