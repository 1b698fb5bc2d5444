"""End to end, through the real HTTP servers, in both event formats: a command, a confirmation, a
queued job, and the answer in its thread."""

from __future__ import annotations

import html
import json
import threading
import time

import pytest
import requests

from ackflow.jobs.model import JobStatus, StepStatus
from tests.support.pipeline import ALICE, chat_signer_for, post_event
from tests.support.services import tasks_client

pytestmark = pytest.mark.slow  # started first by scripts/test (tests/conftest.py)


def text_of(message: dict) -> str:
    return json.dumps(message, ensure_ascii=False)


def test_command_is_confirmed_run_and_answered_in_its_thread(pipeline):
    sent = pipeline.send("echo hello 世界")
    card = sent["reply"]["message"]
    assert "Run echo?" in text_of(card) and "hello 世界" in text_of(card)
    clicked = pipeline.click(card, "Run")
    assert clicked["reply"]["action"] == "updated"
    queued = clicked["reply"]["message"]
    assert queued["name"] == card["name"] and "Queued · job" in text_of(queued)
    job = pipeline.wait_job(pipeline.job_of(card), JobStatus.SUCCEEDED)
    assert job.result == {"text": "hello 世界"}
    assert job.requester.email == ALICE["email"]
    result = pipeline.job_message(job)
    assert result["thread"]["name"] == card["thread"]["name"]
    assert "Done" in text_of(result) and "hello 世界" in text_of(result)


def test_run_pressed_again_and_again_at_once_makes_one_job(pipeline):
    # A double tap sends the same click twice before the card changes; Chat may also deliver an
    # event twice. Both look like the first click's event arriving again, here three times at once.
    card = pipeline.send("echo once")["reply"]["message"]
    before = pipeline.counts()[0]
    first = pipeline.click(card, "Run")
    signer = chat_signer_for(pipeline)
    answers = []

    def press_again():
        answers.append(post_event(pipeline, first["event"], signer.token(pipeline.fmt)))

    threads = [threading.Thread(target=press_again) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    job_id = pipeline.job_of(card)
    assert all(a.status_code == 200 and f"Queued · job {job_id}" in a.text for a in answers)
    assert pipeline.counts()[0] == before + 1
    pipeline.wait_job(job_id, JobStatus.SUCCEEDED)


def test_a_click_delivered_twice_makes_one_job(pipeline):
    card = pipeline.send("echo delivered twice")["reply"]["message"]
    event = pipeline.click(card, "Run")["event"]
    signer = chat_signer_for(pipeline)
    before = pipeline.counts()[0]
    again = post_event(pipeline, event, signer.token(pipeline.fmt))
    assert again.status_code == 200
    assert pipeline.job_of(card) in again.text
    assert pipeline.counts()[0] == before


def test_a_task_delivered_twice_runs_once(pipeline):
    job = pipeline.wait_job(pipeline.start("echo dup task"), JobStatus.SUCCEEDED)
    payload = {"job_id": job.id, "step": 0, "generation": 0}
    headers = {"Authorization": f"Bearer {pipeline.worker_token()}", "X-CloudTasks-TaskName": "replayed",
               "X-CloudTasks-TaskRetryCount": "0", "Content-Type": "application/json"}
    response = requests.post(pipeline.stack.worker_url, json=payload, headers=headers, timeout=10)
    assert response.status_code == 200 and response.json()["status"] == "duplicate"
    after = pipeline.store.get_job(job.id)
    assert after.steps[0].attempts == 1 and after.result == job.result


def test_concurrent_duplicate_deliveries_run_the_step_once(pipeline):
    job_id = pipeline.start("sleep 1")
    job = pipeline.wait_job(job_id, JobStatus.SUCCEEDED)
    # the real delivery ran it once; now deliver a fresh job's task three times at once
    from ackflow.app.confirm import new_job
    from ackflow.jobs.model import Confirmation, Requester

    now = time.time()
    confirmation = Confirmation("cx", "t", "sleep", {"seconds": 1}, Requester("users/1", "alice@example.com"),
                                None, None, now, now + 60)
    fresh = pipeline.store.create_job(new_job(pipeline.runtime, confirmation,
                                              pipeline.runtime.registry.get("sleep"), now))
    token = pipeline.worker_token()
    answers = []

    def deliver():
        answer = requests.post(pipeline.stack.worker_url, json={"job_id": fresh.id, "step": 0},
                               headers={"Authorization": f"Bearer {token}", "X-CloudTasks-TaskName": "same"},
                               timeout=30)
        answers.append({**answer.json(), "code": answer.status_code})

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # one runs it; a delivery that finds it held is told to come back (the queue keeps its task),
    # one that finds it done is answered done
    ran = [a for a in answers if a["status"] == "SUCCEEDED"]
    assert len(ran) == 1 and ran[0]["code"] == 200
    assert all((a["code"], a["status"]) in ((409, "busy"), (200, "duplicate")) for a in answers if a not in ran)
    assert pipeline.store.get_job(fresh.id).steps[0].attempts == 1
    assert job.steps[0].attempts == 1


def test_killed_worker_the_step_is_retried_and_the_job_succeeds_once(pipeline):
    job_id = pipeline.start("sleep 3")
    job = pipeline.wait_job(job_id, JobStatus.RUNNING, timeout=10)
    assert job.steps[0].status == StepStatus.RUNNING
    time.sleep(0.5)
    pipeline.stack.restart("worker")  # SIGKILL mid-step, then a fresh process
    job = pipeline.wait_job(job_id, JobStatus.SUCCEEDED, timeout=30)
    assert job.steps[0].attempts == 2
    assert job.result == {"slept": 3}
    pipeline.job_message(job)  # the result is written after the job is recorded SUCCEEDED
    mine = [m for m in pipeline.messages().values() if m.get("clientAssignedMessageId") == job.message_id]
    assert len(mine) == 1


def _attempt_times(job, step: str) -> list[float]:
    return [h["at"] for h in job.history if h.get("note", "").startswith(f"step {step} attempt")]


def test_fail_twice_then_succeed_on_attempt_three_with_the_queues_backoff(pipeline):
    job = pipeline.wait_job(pipeline.start("fail --times 2"), JobStatus.SUCCEEDED, timeout=20)
    flaky = job.steps[1]
    assert flaky.attempts == 3 and flaky.output == {"succeeded_on_attempt": 3}
    times = _attempt_times(job, "flaky")
    policy = pipeline.runtime.registry.queues["ackflow-default"].retry
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    for number, gap in enumerate(gaps, start=1):
        assert policy.delay(number) - 0.05 <= gap <= policy.delay(number) + 0.6


def test_fail_always_ends_failed_with_a_dead_letter_and_a_failure_card(pipeline):
    job = pipeline.wait_job(pipeline.start("fail --always"), JobStatus.FAILED, timeout=30)
    queue = pipeline.runtime.registry.queues["ackflow-default"]
    assert job.steps[1].attempts == queue.max_attempts
    assert "failing on purpose" in job.last_error
    assert job.id in [letter.job_id for letter in pipeline.store.list_dead_letters()]
    card = pipeline.job_message(job)
    assert "Failed" in text_of(card) and '"text": "Retry"' in text_of(card)


def test_more_failures_than_allowed_then_retry_resumes_at_the_failed_step(pipeline):
    job = pipeline.wait_job(pipeline.start("fail --times 7"), JobStatus.FAILED, timeout=30)
    prepared = job.steps[0]
    assert prepared.status == StepStatus.SUCCEEDED and prepared.attempts == 1
    card = pipeline.job_message(job)
    pressed = pipeline.click(card, "Retry")
    assert "Retrying job" in text_of(pressed["reply"])
    done = pipeline.wait_job(job.id, JobStatus.SUCCEEDED, timeout=30)
    assert done.steps[0].attempts == 1 and done.steps[0].output == prepared.output
    assert done.steps[1].attempts == 8 and done.generation == 1


def test_retry_command_from_chat(pipeline):
    job = pipeline.wait_job(pipeline.start("fail --times 6"), JobStatus.FAILED, timeout=30)
    reply = pipeline.send(f"retry {job.id}")["reply"]["message"]
    assert f"Retrying job {job.id}" in text_of(reply)
    assert pipeline.wait_job(job.id, JobStatus.SUCCEEDED, timeout=30).steps[1].attempts == 7
    again = pipeline.send(f"retry {job.id}")["reply"]["message"]
    assert "only a FAILED job can be retried" in text_of(again)


def test_bad_tokens_are_refused_and_nothing_is_stored(pipeline):
    from ackflow.auth.signing import LocalSigner

    card_event = pipeline.send("echo token check")["event"]
    before = pipeline.counts()
    stranger = LocalSigner.generate("not-google")
    forged = stranger.id_token(issuer="https://accounts.google.com", audience=pipeline.stack.webhook_url,
                               email="chat@system.gserviceaccount.com")
    for token in (None, "garbage", forged, pipeline.worker_token()):
        response = post_event(pipeline, card_event, token)
        assert response.status_code == 401, token
    assert pipeline.counts() == before


def test_malformed_and_unknown_events_never_get_a_5xx(pipeline):
    token = chat_signer_for(pipeline).token(pipeline.fmt)
    assert post_event(pipeline, "{not json", token).status_code == 400
    assert post_event(pipeline, [1, 2], token).status_code == 400
    assert post_event(pipeline, {"type": "MESSAGE"}, token).status_code == 400
    unknown = post_event(pipeline, {"type": "SOMETHING_NEW", "space": {"name": "spaces/e2e"}}, token)
    assert unknown.status_code == 200 and unknown.json() == {}
    # the app was removed from a space: Chat expects nothing back
    response = requests.post(pipeline.chat_url + "/_emulator/spaces/gone:removeApp",
                             json={"format": pipeline.fmt}).json()
    assert response["status"] == 200 and response["response"] == {}


def test_bad_argument_gets_usage_and_creates_nothing(pipeline):
    before = pipeline.counts()
    reply = pipeline.send("sleep soon")["reply"]["message"]
    assert "SECONDS must be a whole number" in reply["text"]
    assert "Usage: sleep SECONDS" in reply["text"]
    reply = pipeline.send("sleep 9999")["reply"]["message"]
    assert "must be from 1 to 300" in reply["text"]
    assert pipeline.counts() == before


def test_unknown_command_and_help_list_the_commands(pipeline):
    reply = text_of(pipeline.send("frobnicate now")["reply"]["message"])
    assert "I don't know the command “frobnicate”" in html.unescape(reply)  # card text is escaped HTML
    for usage in ("echo TEXT...", "sleep SECONDS", "fail [--times N] [--always]", "status JOB_ID"):
        assert usage in reply
    greeting = requests.post(pipeline.chat_url + "/_emulator/spaces/new-room:addApp",
                             json={"format": pipeline.fmt}).json()
    assert "Hello!" in text_of(greeting["reply"]["message"])


def test_cancel_a_queued_job(pipeline):
    from tests.support.services import tasks_client

    client = tasks_client(pipeline.stack.url("tasks"))
    queue = "projects/local-project/locations/local/queues/ackflow-default"
    client.pause_queue(name=queue)
    try:
        job_id = pipeline.start("echo never")
        assert pipeline.store.get_job(job_id).status == JobStatus.QUEUED
        reply = pipeline.send(f"cancel {job_id}")["reply"]["message"]
        assert f"Job {job_id} is cancelled" in reply["text"]
    finally:
        client.resume_queue(name=queue)
    time.sleep(1)
    job = pipeline.store.get_job(job_id)
    assert job.status == JobStatus.CANCELLED and job.steps[0].attempts == 0
    assert "Cancelled" in text_of(pipeline.job_message(job))
    again = pipeline.send(f"cancel {job_id}")["reply"]["message"]
    assert "nothing to cancel" in again["text"]


def test_cancel_a_running_job_settles_its_step(pipeline):
    job_id = pipeline.start("sleep 20")
    pipeline.wait_job(job_id, JobStatus.RUNNING, timeout=10)
    reply = pipeline.send(f"cancel {job_id}")["reply"]["message"]
    assert f"Job {job_id} is cancelled" in reply["text"]
    cancelled = pipeline.store.get_job(job_id)
    assert cancelled.status == JobStatus.CANCELLED and cancelled.steps[0].status == StepStatus.CANCELLED
    # the worker's sleep notices within a second and finishes; that changes nothing
    deadline = time.monotonic() + 10
    while "Cancelled" not in text_of(pipeline.job_message(cancelled)) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)
    after = pipeline.store.get_job(job_id)
    assert after.status == JobStatus.CANCELLED and after.steps[0].status == StepStatus.CANCELLED
    assert after.steps[0].attempts == 1 and after.result is None
    status = text_of(pipeline.send(f"status {job_id}")["reply"]["message"])
    assert "CANCELLED, 1 attempt" in status and "RUNNING" not in status


def test_status_and_jobs_from_chat(pipeline):
    job = pipeline.wait_job(pipeline.start("echo status please"), JobStatus.SUCCEEDED)
    status = text_of(pipeline.send(f"status {job.id}")["reply"]["message"])
    assert "step 1: saying it back" in status and "SUCCEEDED" in status
    assert "There is no job “jnope”" in text_of(pipeline.send("status jnope")["reply"]["message"])
    mine = text_of(pipeline.send("jobs")["reply"]["message"])
    assert job.id in mine
    assert job.id in text_of(pipeline.send("jobs all")["reply"]["message"])


def test_slash_command_opens_the_form_filled_in_and_runs_like_the_text(pipeline):
    from tests.support.dialogs import form_inputs, inputs_of

    opened = pipeline.send("/echo via slash", locale="en")["reply"]
    assert opened["action"] == "dialog" and inputs_of(opened["dialog"])["text"]["value"] == "via slash"
    card = pipeline.submit_dialog("Next", form_inputs({"text": "via slash"}), locale="en")["reply"]["message"]
    assert "via slash" in text_of(card)
    pipeline.click(card, "Run")
    assert pipeline.wait_job(pipeline.job_of(card), JobStatus.SUCCEEDED).result == {"text": "via slash"}


def test_mention_in_a_space(pipeline):
    card = pipeline.send("echo mentioned", space="spaces/room", mention=True)["reply"]["message"]
    assert "Run echo?" in text_of(card) and "mentioned" in text_of(card)


@pytest.mark.parametrize("kill_queue", [True])
def test_queue_down_at_click_the_job_is_kept_and_sent_by_the_sweep(pipeline, kill_queue):
    card = pipeline.send("echo despite the queue")["reply"]["message"]
    tasks = pipeline.stack.procs["tasks"]
    tasks.kill()
    try:
        started = time.monotonic()
        clicked = pipeline.click(card, "Run")
        assert time.monotonic() - started < 15
        assert "queue did not answer" in text_of(clicked["reply"]["message"])
        job_id = pipeline.job_of(card)
        assert pipeline.store.get_job(job_id).status == JobStatus.QUEUED
    finally:
        pipeline.stack.restart("tasks")
    time.sleep(1.1)
    report = pipeline.stack.sweep_once()
    assert job_id in report["resent"]
    assert pipeline.wait_job(job_id, JobStatus.SUCCEEDED).result == {"text": "despite the queue"}


def test_a_sweep_sends_every_job_a_queue_outage_left_queued_not_a_page_of_them(pipeline):
    """After an outage, every job asked for meanwhile is QUEUED without a task: one sweep sends them
    all (it sent a hundred a sweep, and 1,000 jobs took three minutes to start)."""
    from ackflow.jobs.model import Job, Requester, StepState

    long_ago = time.time() - 120
    ids = [f"j-outage-{n:03d}" for n in range(150)]
    for job_id in ids:
        pipeline.store.create_job(Job(id=job_id, type="echo", params={"text": job_id}, requester=Requester("users/1"),
                                      space=None, thread=None, queue="ackflow-default", steps=(StepState("echo"),),
                                      created_at=long_ago, updated_at=long_ago))
    report = pipeline.stack.sweep_once()
    assert set(ids) <= set(report["resent"])
    for job_id in ids:
        assert pipeline.wait_job(job_id, JobStatus.SUCCEEDED).result == {"text": job_id}


def test_periodic_job_is_created_once_per_slot(pipeline):
    from ackflow.app.sweep import slot_of

    results = []
    threads = [threading.Thread(target=lambda: results.append(pipeline.stack.sweep_once())) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    started = [job_id for r in results for job_id in r["started"]]
    assert len(started) == len(set(started))
    slot = slot_of(pipeline.runtime.registry.get("tick"), time.time()).strftime("%Y%m%d%H%M")
    tick = pipeline.store.get_job(f"tick-{slot}")
    assert pipeline.wait_job(tick.id, JobStatus.SUCCEEDED).result == {"slot": slot}


def test_chat_429_is_backed_off_and_the_result_posted_once(pipeline):
    card = pipeline.send("echo through the quota", space="spaces/busy")["reply"]["message"]
    requests.post(f"{pipeline.chat_url}/_emulator/spaces/busy:throttle", json={"count": 2}).raise_for_status()
    pipeline.click(card, "Run", space="spaces/busy")
    job = pipeline.wait_job(pipeline.job_of(card), JobStatus.SUCCEEDED)
    message = pipeline.job_message(job, timeout=20)
    assert "through the quota" in text_of(message)
    mine = [m for m in pipeline.messages("spaces/busy").values()
            if m.get("clientAssignedMessageId") == job.message_id]
    assert len(mine) == 1


def test_logs_never_contain_tokens(pipeline):
    pipeline.wait_job(pipeline.start("echo log check"), JobStatus.SUCCEEDED)
    for name in ("webhook", "worker"):
        log = (pipeline.stack.workdir / "logs" / f"{name}.log").read_text()
        assert "job_id=" in log or name == "webhook"
        assert "eyJ" not in log and "Bearer" not in log


def test_progress_in_one_space_stays_within_the_spaces_write_budget(pipeline):
    """Two jobs report progress every second in one space: the app's writes there stay within the
    space's budget (a burst, then the rate), each job's record counts its writes, and both results
    are shown as the store has them."""
    from tests.support.messages import expected_cards, quota_stats, shown_cards

    space = "spaces/paced"
    cards = [pipeline.send("sleep 3", space=space)["reply"]["message"] for _ in range(2)]
    threads = [threading.Thread(target=pipeline.click, args=(card, "Run", space)) for card in cards]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    jobs = [pipeline.wait_job(pipeline.job_of(card), JobStatus.SUCCEEDED, timeout=30) for card in cards]
    deadline = time.monotonic() + 20
    while any(pipeline.store.get_job(job.id).message_due for job in jobs):
        assert time.monotonic() < deadline, "a result was not confirmed shown"
        time.sleep(0.05)
    jobs = [pipeline.store.get_job(job.id) for job in jobs]
    for job in jobs:
        assert shown_cards(pipeline.chat_url, job) == expected_cards(pipeline.runtime, job)
    import datetime as dt

    ids = {job.message_id for job in jobs}
    mine = [change["message"] for change in pipeline.messages_feed(space)
            if change.get("message", {}).get("clientAssignedMessageId") in ids]
    writes = sorted(dt.datetime.fromisoformat((m.get("lastUpdateTime") or m["createTime"]).replace("Z", "+00:00"))
                    .timestamp() for m in mine)
    budget = pipeline.runtime.chat_budget
    assert len(writes) <= budget.burst + (writes[-1] - writes[0]) * budget.per_minute / 60 + 1, writes
    assert len(writes) == sum(job.chat_writes for job in jobs)  # every write counted on its job
    assert quota_stats(pipeline.chat_url)["spaces"][space] == {"accepted": len(writes), "refused": 0}


def _deliver(pipeline, payload, task: str = "forced", retry: int = 0, token: str | None = None):
    headers = {"Authorization": f"Bearer {token or pipeline.worker_token()}", "X-CloudTasks-TaskName": task,
               "X-CloudTasks-TaskRetryCount": str(retry)}
    data = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return requests.post(pipeline.stack.worker_url, data=data, headers=headers, timeout=30)


def test_a_task_that_can_never_run_is_answered_2xx_and_dead_lettered_not_retried(pipeline):
    # Given tasks for a job that does not exist, a step it does not have, and bodies that are no task
    known = pipeline.wait_job(pipeline.start("echo has one step"), JobStatus.SUCCEEDED)
    cases = [({"job_id": "jnosuchjob", "step": 0, "generation": 0}, "no job jnosuchjob"),
             ({"job_id": known.id, "step": 7, "generation": 0}, "has no step 7"),
             (b"{not json", "not a task"), ({"job_id": ["a"], "step": "0"}, "not a task"),
             ({"job_id": "j1", "step": 10**30}, "not a task"), ("[" * 100_000, "not a task"),
             ({"job_id": known.id, "step": 0, "generation": "x" * 100_000}, "not a task")]
    for number, (payload, reason) in enumerate(cases):
        # When the worker gets each, twice (a queue retries what is not 2xx)
        for _ in range(2):
            answer = _deliver(pipeline, payload, task=f"never-{number}")
            # Then it says done (so the queue deletes it) and why, without a traceback
            assert answer.status_code == 200, answer.text
            assert answer.json()["status"] == "dropped" and reason in answer.json()["reason"]
            assert "Traceback" not in answer.text
    # and each is kept once as a dead letter for a person to see
    letters = [d for d in pipeline.store.list_dead_letters(100) if d.job_type == "(dropped task)"]
    assert {d.error.rsplit("(task ", 1)[1].rstrip(")") for d in letters} >= {f"never-{n}" for n in range(len(cases))}
    assert len([d for d in letters if d.error.endswith("(task never-0)")]) == 1


def test_the_queue_delivers_a_task_for_an_unknown_job_once(pipeline):
    from ackflow.taskqueue.base import Task

    assert pipeline.stack.config.queue_backend == "cloudtasks"  # every pipeline here (SQS: test_sqs.py)
    client = tasks_client(pipeline.stack.url("tasks"))
    queue = "projects/local-project/locations/local/queues/ackflow-default"
    name = f"unknown-job-{time.time_ns()}"
    pipeline.runtime.queue.enqueue(Task(queue="ackflow-default", name=name,
                                        payload={"job_id": "jgone", "step": 0, "generation": 0}, deadline=30))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not any(t.name.endswith("/" + name) for t in client.list_tasks(parent=queue)):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the task for an unknown job is still in the queue")
    [letter] = [d for d in pipeline.store.list_dead_letters(100) if d.error.endswith(f"(task {name})")]
    assert letter.attempts == 1 and letter.job_id == "jgone"


def test_a_job_type_without_its_modules_is_not_offered_and_says_what_to_install(pipeline):
    before = pipeline.counts()
    help_text = pipeline.card_text(pipeline.send("help")["reply"]["message"])
    assert "plotter" not in help_text and "echo" in help_text
    reply = pipeline.send("plotter")["reply"]["message"]
    text = reply.get("text", "") + pipeline.card_text(reply)
    assert "cannot run in this deployment" in text and "pip install 'ackflow[plot]'" in text
    assert pipeline.counts() == before  # no confirmation, no job


def test_a_module_missing_at_run_time_fails_the_job_at_once_not_after_every_retry(pipeline):
    job = pipeline.wait_job(pipeline.start("importer"), JobStatus.FAILED, timeout=20)
    assert job.steps[0].attempts == 1
    assert "lacks the module ackflow_test_no_such_module" in job.last_error
    card = pipeline.card_text(pipeline.job_message(job))
    assert "ackflow_test_no_such_module" in card
