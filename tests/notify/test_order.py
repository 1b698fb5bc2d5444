"""A job's message never goes back to an older state: a write that was still on its way (held by
Chat, or backing off after a 429) when the job finished does not land over the result."""

from __future__ import annotations

import threading
import time

import requests

from ackflow.app.notify import Notifier, ProgressReporter
from ackflow.jobs.model import Holder, Job, Requester, StepState
from ackflow_tools.emulators.chat.service import canonical_message
from tests.notify.conftest import SPACE, message_of

HOLDER = Holder("task-a", 0)


def running_job(runtime, job_id: str) -> Job:
    now = time.time()
    job = Job(id=job_id, type="echo", params={"text": "the result"}, requester=Requester("users/1", "a@example.com"),
              space=SPACE, thread=None, queue="ackflow-default", steps=(StepState("echo"),), created_at=now,
              updated_at=now)
    runtime.store.create_job(job)
    return runtime.store.claim_step(job_id, 0, HOLDER, now, 60)[1]


def shows(runtime, chat, job) -> bool:
    """The thread shows exactly what the store's state of the job renders to."""
    expected = canonical_message(Notifier(runtime).render(job))
    return message_of(chat, job).get("cardsV2") == expected["cardsV2"]


def refused_writes(chat) -> int:
    return requests.get(f"{chat.url}/_emulator/quota").json()["spaces"].get(SPACE, {}).get("refused", 0)


def test_a_progress_write_that_lands_late_never_hides_the_result(runtime, chat):
    """A stale attempt's progress reaches Chat, which applies it late; meanwhile the job finishes
    and its result is written. The final writer waits for the older write and writes again."""
    job = running_job(runtime, "jlate")
    reporter = ProgressReporter(runtime, Notifier(runtime), job, 0, HOLDER, interval=0)
    requests.post(f"{chat.url}/_emulator/{SPACE}:hold", json={"seconds": 1.5}).raise_for_status()
    late = threading.Thread(target=reporter.report, args=("Running · step 3/5",))
    late.start()
    time.sleep(0.4)  # the progress write is at Chat, not yet applied
    done = runtime.store.complete_step(job.id, 0, HOLDER, {"text": "the result"}, time.time())
    Notifier(runtime).show(done)
    late.join()
    assert "step 3/5" not in str(message_of(chat, done))
    assert shows(runtime, chat, done)
    stored = runtime.store.get_job(job.id)
    assert not stored.message_due and stored.message_shown_at  # confirmed: the sweep has nothing to do
    assert stored.chat_writes == 3  # the progress, the result, the result again after the late write


def test_a_progress_write_backing_off_on_429_never_overwrites_the_result(runtime, chat):
    job = running_job(runtime, "jbackoff")
    reporter = ProgressReporter(runtime, Notifier(runtime), job, 0, HOLDER, interval=0)
    requests.post(f"{chat.url}/_emulator/{SPACE}:throttle", json={"count": 1}).raise_for_status()
    backing_off = threading.Thread(target=reporter.report, args=("Running · step 3/5",))
    backing_off.start()
    deadline = time.monotonic() + 5
    while refused_writes(chat) < 1:  # the progress write got its 429
        assert time.monotonic() < deadline
        time.sleep(0.005)
    done = runtime.store.complete_step(job.id, 0, HOLDER, {"text": "the result"}, time.time())
    Notifier(runtime).show(done)
    backing_off.join()
    time.sleep(1.5)  # longer than any first backoff: a retry of the progress would have landed by now
    assert shows(runtime, chat, done)
    assert runtime.store.get_job(job.id).chat_throttled == 1


def test_a_result_written_through_a_429_is_shown_once_and_confirmed(runtime, chat):
    job = running_job(runtime, "jthrottled")
    requests.post(f"{chat.url}/_emulator/{SPACE}:throttle", json={"count": 2}).raise_for_status()
    done = runtime.store.complete_step(job.id, 0, HOLDER, {"text": "the result"}, time.time())
    assert Notifier(runtime).show(done, wait=10)
    assert shows(runtime, chat, done)
    stored = runtime.store.get_job(job.id)
    assert (stored.chat_writes, stored.chat_throttled, stored.message_due) == (3, 2, False)
    assert Notifier(runtime).show(stored)  # a duplicate delivery: already shown, nothing written
    assert runtime.store.message_log(job.id).writes == 3


def test_the_notification_text_never_shows_a_state_the_job_left(runtime, chat):
    """Chat keeps a message's fallbackText from its first write (an update cannot change it, as
    spaces.messages.patch documents its updateMask), so it must not carry the job's state: a
    finished job's message would read "Running" wherever cards are not shown."""
    job = running_job(runtime, "jfallback")
    Notifier(runtime).progress(job, "step 1/1: working")
    first = message_of(chat, job)
    assert "working" in str(first["cardsV2"])
    done = runtime.store.complete_step(job.id, 0, HOLDER, {"text": "the result"}, time.time())
    Notifier(runtime).show(done)
    final = message_of(chat, done)
    assert shows(runtime, chat, done)
    assert final["fallbackText"] == first["fallbackText"]
    assert "echo" in final["fallbackText"] and job.id in final["fallbackText"]
    assert "Running" not in final["fallbackText"] and "working" not in final["fallbackText"]


def test_a_slow_progress_write_never_holds_the_steps_code(runtime, chat):
    """Chat (or the store's message gate) taking its time over a progress write is the reporter's
    wait, not the step's: ``report`` returns at once, the write lands behind it, and ``finish``
    waits for the write on its way (a delivery does not end with one admitted and unsent)."""
    job = running_job(runtime, "jslowprogress")
    reporter = ProgressReporter(runtime, Notifier(runtime), job, 0, HOLDER, interval=0)
    requests.post(f"{chat.url}/_emulator/{SPACE}:hold", json={"seconds": 2.0}).raise_for_status()
    started = time.monotonic()
    reporter.report("step 1/1: working")
    reporter.report("step 1/1: still working")  # waits behind the first write
    assert time.monotonic() - started < 1.5  # the step goes on meanwhile (a held write takes 2 s)
    assert "cardsV2" not in message_of(chat, job)  # the first write is still held at Chat
    reporter.finish(wait=10)
    assert time.monotonic() - started >= 2.0  # finish waited for the write on its way
    assert "working" in str(message_of(chat, job)["cardsV2"])
