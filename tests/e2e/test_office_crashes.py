"""The office workflow under stress, on the embedded default: 20 cases opened at once, and a
worker killed inside each step of ``newcase``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ackflow.jobs.model import JobStatus
from tests.support.office import run_newcase, running_office, sheet_of, snapshot


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    with running_office(tmp_path_factory.mktemp("office-crashes"), "embedded") as pipeline:
        yield pipeline


def test_twenty_concurrent_newcase_jobs_get_consecutive_numbers(office):
    jobs = [office.start(f'newcase B社 "同時 {n}"') for n in range(20)]
    done = [office.wait_job(job_id, JobStatus.SUCCEEDED, timeout=120) for job_id in jobs]
    numbers = sorted(int(job.result["case"].split("-")[1]) for job in done)
    assert numbers == list(range(numbers[0], numbers[0] + 20))
    rows = office.runtime.store.docs.query("cases", [], "created_at", False, 1000)
    assert len({r["case"] for r in rows}) == len(rows)


STEPS = ["number", "folder", "sheet", "estimate", "portal"]


@pytest.mark.parametrize("step", STEPS)
def test_a_worker_killed_inside_a_step_leaves_the_same_case_as_an_undisturbed_run(office, step):
    control = Path(office.stack.env()["ACKFLOW_TEST_PAUSE_FILE"])
    reached = control.with_suffix(".reached")
    reached.unlink(missing_ok=True)
    calm = run_newcase(office, 'newcase ACME "Kill test" --portal PO-1042')
    control.write_text(step)
    try:
        job_id = office.start('newcase ACME "Kill test" --portal PO-1042')
        deadline = time.monotonic() + 30
        while not reached.exists():
            assert time.monotonic() < deadline, f"the worker never reached the end of {step}"
            time.sleep(0.05)
        office.stack.restart("worker")  # SIGKILL after the step's work, before its record
    finally:
        control.unlink(missing_ok=True)
    killed = office.wait_job(job_id, JobStatus.SUCCEEDED, timeout=60)
    assert killed.steps[STEPS.index(step)].attempts == 2
    calm_case, killed_case = calm.result["case"], killed.result["case"]
    assert int(killed_case.split("-")[1]) == int(calm_case.split("-")[1]) + 1  # no gap, no second number
    assert snapshot(office, killed_case)["files"] == snapshot(office, calm_case)["files"]
    assert snapshot(office, killed_case)["sheet"] == snapshot(office, calm_case)["sheet"]
    assert snapshot(office, killed_case)["estimates"] == 1
    assert snapshot(office, killed_case)["documents"] == snapshot(office, calm_case)["documents"]
    cases = [r["case"] for r in office.runtime.store.docs.query("cases", [], "created_at", False, 1000)]
    assert cases.count(killed_case) == 1
    sheet_cases = [v for v in sheet_of(office).worksheet().col_values(1) if v == killed_case]
    assert sheet_cases == [killed_case]
    office.job_message(killed)  # the result is written after the job is recorded SUCCEEDED
    messages = [m for m in office.messages().values() if m.get("clientAssignedMessageId") == killed.message_id]
    assert len(messages) == 1


