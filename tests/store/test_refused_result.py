"""A step whose result the store will not keep (over Firestore's 1 MiB, nested too deeply, …), or
whose own write it refuses, or which finds what was asked unusable (a UsageError), fails for good,
in the requester's words, with its dead letter: the refusal was read as the store unavailable
(Firestore's INVALID_ARGUMENT: a 503, the queue ran the step again and again with the same
result), or escaped the worker (a 500, retried the same). On both backends: SQLite refuses what
Firestore would (``store.documents``)."""

from __future__ import annotations

import time

import pytest

from ackflow.app.runtime import Runtime
from ackflow.app.worker import Worker
from ackflow.i18n import Speaker
from ackflow.jobs.model import Holder, Job, JobStatus, Requester, StepState
from ackflow.settings import Settings

JOB_TYPES = "tests.support.jobtypes:build_registry"
HANAKO = Requester("users/1", "hanako@example.com", "山田 花子", language="ja")


@pytest.fixture(params=["sqlite", "firestore"])
def runtime(request, tmp_path):
    if request.param == "firestore":
        emulator = request.getfixturevalue("firestore_emulator")
        settings = Settings(store="firestore", project=emulator.project, job_types=JOB_TYPES)
        emulator.documents()  # points the client at the emulator
    else:
        settings = Settings(sqlite_path=str(tmp_path / "jobs.db"), job_types=JOB_TYPES)
    runtime = Runtime(settings)
    yield runtime
    runtime.close()


def _first_attempt(runtime, job_id: str, type_name: str, step: str, *, params: dict | None = None,
                   run=None) -> Job:
    """Creates a one-step job (of a job type registered here when ``run`` is given), runs its first
    attempt, checks the worker did not ask the queue to retry (no 5xx), and returns the job as stored."""
    if run is not None:
        from ackflow.jobs.registry import JobType, Step

        runtime.registry.add(JobType(name=type_name, help="A test's step.", steps=(Step(step, run),), timeout=15))
    now = time.time()
    runtime.store.create_job(Job(id=job_id, type=type_name, params=params or {}, requester=HANAKO, space=None,
                                 thread=None, queue="ackflow-default", steps=(StepState(step),),
                                 created_at=now, updated_at=now))
    answer = Worker(runtime).run(job_id, 0, Holder(f"{job_id}-0-0", 0))
    assert answer.status < 500, answer.body
    return runtime.store.get_job(job_id)


def test_a_step_whose_result_the_store_will_not_keep_fails_for_good_and_is_never_retried(runtime):
    text = "図" * 200_000  # 600 kB: the job holds it, and the echo step's result says it again
    job = _first_attempt(runtime, "jtoolarge001", "echo", "echo", params={"text": text})
    assert job.status == JobStatus.FAILED and job.steps[0].output is None
    assert job.last_error == Speaker("ja")._(
        "the step finished, but the job store cannot keep its result (too large or nested too deeply)")
    assert [letter.job_id for letter in runtime.store.list_dead_letters()] == ["jtoolarge001"]


def _records_too_much(ctx) -> dict:
    ctx.services.store.docs.transaction(  # 1.2 MB: over Firestore's 1 MiB
        lambda tx: tx.set("notes", ctx.job.id, {"text": "図" * 400_000}))
    return {"recorded": True}


def test_a_step_whose_own_write_the_store_refuses_fails_for_good_in_the_requesters_words(runtime):
    """A step's own write refused as written (a case record grown past 1 MiB: 2,000 portal files
    listed) was read as any exception: retried on every attempt the queue allows, the card saying
    “DocumentRefused: cases/… would be 1,591,174 bytes: …” in English. Now it fails at once, said in
    the requester's language, with its dead letter."""
    job = _first_attempt(runtime, "jrefused0001", "recorder", "record", run=_records_too_much)
    assert job.status == JobStatus.FAILED, (job.status, job.last_error)
    assert job.last_error == Speaker("ja")._("the job store refused what this step records (too large or nested "
                                             "too deeply); trying again would not change that")
    assert "DocumentRefused" not in job.last_error
    assert [letter.job_id for letter in runtime.store.list_dead_letters()] == ["jrefused0001"]


def _asks_the_impossible(ctx) -> dict:
    from ackflow.errors import UsageError
    from ackflow.i18n import N_

    raise UsageError(N_("{label} is empty"), label="x")  # a check inside a step, its input unusable


def test_a_usage_error_a_step_raises_fails_for_good_in_the_requesters_words(runtime):
    """A step's own check of what was asked (``--portal ..``: no folder can be named so) raised a
    UsageError, read as any exception: 503, retried on every attempt the queue allows, the card
    saying “UsageError: …” in English. Now it fails at once, in the requester's words."""
    job = _first_attempt(runtime, "jusage000001", "asker", "ask", run=_asks_the_impossible)
    assert job.status == JobStatus.FAILED, (job.status, job.last_error)
    assert job.last_error == Speaker("ja")._("{label} is empty", label="x")
    assert "UsageError" not in job.last_error
    assert [letter.job_id for letter in runtime.store.list_dead_letters()] == ["jusage000001"]
