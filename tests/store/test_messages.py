"""The job's Chat message in the store, over every backend: revisions in order, the space's shared
write budget, and the final message owed until it is confirmed written."""

from __future__ import annotations

import time

import pytest

from ackflow.jobs.messages import Budget, Outcome, Verdict
from ackflow.jobs.model import Holder, JobStatus
from tests.store.test_contract import make_job

BUDGET = Budget(per_minute=60, burst=3)
HOLDER = Holder("task-1", 0)


def admit(store, job_id, now, *, progress_of=None, previous=None, budget=BUDGET):
    return store.admit_message_write(job_id, budget, progress_of=progress_of, previous=previous, now=now,
                                     deadline=now + 15)


def settle(store, admission, outcome, now, **kwargs):
    return store.settle_message_write(admission.job.id, admission.rev, outcome, admission.job, now, **kwargs)


def running(store, job_id, now):
    store.create_job(make_job(job_id, steps=("one",)))
    _, job = store.claim_step(job_id, 0, HOLDER, now, 60)
    return job


def test_every_change_of_a_job_bumps_its_version(store):
    now = time.time()
    assert store.create_job(make_job("v1", steps=("one",))).version == 0
    claimed = store.claim_step("v1", 0, HOLDER, now, 60)[1]
    assert claimed.version == 1 == store.get_job("v1").version
    assert store.claim_step("v1", 0, Holder("task-2", 0), now, 60)[1].version == 1  # busy: no change
    assert store.complete_step("v1", 0, HOLDER, {}, now).version == 2


def test_each_attempt_takes_the_next_revision_and_an_overtaken_one_is_dropped(store):
    now = time.time()
    job = running(store, "m1", now)
    first = admit(store, "m1", now)
    second = admit(store, "m1", now)
    assert (first.verdict, first.rev, second.rev) == (Verdict.WRITE, 1, 2)
    retry = admit(store, "m1", now + 1, previous=first.rev)  # the first write's next attempt
    assert retry.verdict == Verdict.SKIP and "newer" in retry.reason
    assert store.message_log("m1").writes == 2
    progress = admit(store, "m1", now + 5, progress_of=job.version)
    assert progress.verdict == Verdict.WRITE
    store.complete_step("m1", 0, HOLDER, {"ok": True}, now + 6)
    late = admit(store, "m1", now + 9, progress_of=job.version)  # progress of a state that is gone
    assert late.verdict == Verdict.SKIP


def test_the_space_budget_is_shared_and_progress_leaves_a_reserve(store):
    now = time.time()
    jobs = [running(store, f"b{n}", now) for n in range(3)]
    assert admit(store, "b0", now, progress_of=jobs[0].version).verdict == Verdict.WRITE  # 3 → 2 tokens
    starved = admit(store, "b1", now, progress_of=jobs[1].version)  # progress needs 1 + a reserve of 2
    assert starved.verdict == Verdict.WAIT and starved.wait == pytest.approx(1.0)
    assert store.chat_budget_wait("spaces/s", BUDGET, progress=True, now=now) == pytest.approx(1.0)
    assert admit(store, "b1", now).verdict == Verdict.WRITE  # a state write still finds budget
    assert admit(store, "b2", now).verdict == Verdict.WRITE
    spent = admit(store, "b2", now)
    assert spent.verdict == Verdict.WAIT and spent.wait == pytest.approx(1.0)  # one token a second
    assert admit(store, "b2", now + 1.01).verdict == Verdict.WRITE
    assert store.message_log("b1").writes == 1  # a write that waited was not counted


def test_a_429_empties_the_space_budget_until_its_backoff_ends(store):
    now = time.time()
    running(store, "t1", now)
    running(store, "t2", now)
    first = admit(store, "t1", now)
    settle(store, first, Outcome.THROTTLED, now, budget=BUDGET, blocked_until=now + 4)
    blocked = admit(store, "t2", now + 1)
    assert blocked.verdict == Verdict.WAIT and blocked.wait == pytest.approx(3.0)
    assert admit(store, "t2", now + 4.01).verdict == Verdict.WAIT  # and then the bucket refills from empty
    assert admit(store, "t2", now + 5.01).verdict == Verdict.WRITE
    assert store.message_log("t1").throttled == 1


def test_a_finished_job_owes_its_final_message_until_it_is_confirmed(store):
    now = time.time()
    running(store, "f1", now)
    running(store, "f2", now)
    store.create_job(make_job("quiet", steps=("one",)).replace(space=None))
    store.claim_step("quiet", 0, HOLDER, now, 60)
    for job_id in ("f1", "f2", "quiet"):
        done = store.complete_step(job_id, 0, HOLDER, {}, now + 1)
    assert done.message_due is False  # no space: nothing to show
    assert store.get_job("f1").message_due and store.get_job("f1").status == JobStatus.SUCCEEDED
    assert [j.id for j in store.unshown_jobs(now + 2)] == ["f1", "f2"]
    assert store.unshown_jobs(now + 0.5) == []  # not before they finished
    gate = admit(store, "f1", now + 2)
    assert settle(store, gate, Outcome.WRITTEN, now + 2).confirm
    shown = store.get_job("f1")
    assert not shown.message_due and shown.message_shown_at == now + 2 and shown.chat_writes == 1
    assert store.message_log("f1").inflight == {}
    assert [j.id for j in store.unshown_jobs(now + 3)] == ["f2"]
    assert admit(store, "f1", now + 3).verdict == Verdict.SKIP  # shown: a duplicate writes nothing


def test_the_final_write_waits_for_an_older_write_still_in_flight(store):
    now = time.time()
    job = running(store, "o1", now)
    progress = admit(store, "o1", now, progress_of=job.version)  # sent, no answer yet
    store.complete_step("o1", 0, HOLDER, {}, now + 1)
    final = admit(store, "o1", now + 1)
    settled = settle(store, final, Outcome.WRITTEN, now + 1.5)
    assert not settled.confirm and settled.older_until == now + 15  # the progress may still land
    assert store.get_job("o1").message_due
    settle(store, progress, Outcome.WRITTEN, now + 2)
    again = admit(store, "o1", now + 2, previous=final.rev)  # the final state, once more, last
    assert settle(store, again, Outcome.WRITTEN, now + 2).confirm
    assert store.get_job("o1").chat_writes == 3


def test_an_older_write_answered_after_the_final_write_landed_is_written_over(store):
    """The other order across two workers: Chat applied the final write, then a progress write it
    had held; the progress's writer settles before the final one's. Its entry is gone by then, so
    the final writer must learn from the log that an older state may lie over its own."""
    now = time.time()
    job = running(store, "o2", now)
    progress = admit(store, "o2", now, progress_of=job.version)
    store.complete_step("o2", 0, HOLDER, {}, now + 1)
    final = admit(store, "o2", now + 1)
    settle(store, progress, Outcome.WRITTEN, now + 1.5)  # answered after the final write was sent
    settled = settle(store, final, Outcome.WRITTEN, now + 1.6)
    assert not settled.confirm and settled.older_until  # write the final state again, last
    assert store.get_job("o2").message_due
    again = admit(store, "o2", now + 2, previous=final.rev)
    assert again.verdict == Verdict.WRITE
    assert settle(store, again, Outcome.WRITTEN, now + 2).confirm
    assert not store.get_job("o2").message_due and store.get_job("o2").chat_writes == 3


def test_an_older_write_answered_before_the_final_one_was_sent_costs_no_second_write(store):
    now = time.time()
    job = running(store, "o3", now)
    progress = admit(store, "o3", now, progress_of=job.version)
    settle(store, progress, Outcome.WRITTEN, now + 0.5)
    store.complete_step("o3", 0, HOLDER, {}, now + 1)
    final = admit(store, "o3", now + 1)
    assert settle(store, final, Outcome.WRITTEN, now + 1.5).confirm


def test_a_write_that_read_the_job_before_the_state_shown_is_read_again(store):
    now = time.time()
    job = running(store, "s1", now)
    done = store.complete_step("s1", 0, HOLDER, {}, now + 1)
    assert admit(store, "s1", now + 1).job.version == done.version  # the gate reads the job itself
    assert job.version < done.version


def test_a_retry_owes_nothing_until_the_job_ends_again(store):
    now = time.time()
    running(store, "r1", now)
    failed = store.fail_step("r1", 0, HOLDER, "boom", now + 1, final=True)
    assert failed.message_due
    retried = store.retry_job("r1", now + 2, "alice")
    assert not retried.message_due and store.unshown_jobs(now + 3) == []


def test_a_writer_with_a_copy_of_the_job_from_before_it_was_shown_writes_nothing(store):
    """The sweep (or a duplicate delivery) read the job while its result was still due; the worker
    then showed it. The late writer must not write it again."""
    now = time.time()
    running(store, "c1", now)
    done = store.complete_step("c1", 0, HOLDER, {}, now + 1)  # the copy the late writer holds
    gate = store.admit_message_write("c1", BUDGET, progress_of=None, previous=None, now=now + 1,
                                     deadline=now + 16, job=done)
    assert settle(store, gate, Outcome.WRITTEN, now + 1).confirm
    late = store.admit_message_write("c1", BUDGET, progress_of=None, previous=None, now=now + 2,
                                     deadline=now + 17, job=done)
    assert late.verdict == Verdict.SKIP and "already shown" in late.reason
    assert store.message_log("c1").writes == store.get_job("c1").chat_writes == 1


def finished(store, job_id, now):
    running(store, job_id, now)
    return store.complete_step(job_id, 0, HOLDER, {}, now)


def test_results_beyond_the_budget_reserve_slots_in_turn_and_ask_once(store):
    """A crowd of results in one space: those past the burst are each given a slot, the moment the
    refill brings a token for it, one per second here (60 a minute), in the order they asked.
    Asking again before the slot neither writes nor takes another slot; at its slot the result
    finds its token (nobody else takes it while slots are ahead). Without slots, every result came
    back again and again to race for the next token."""
    now = time.time()
    for n in range(6):
        finished(store, f"crowd{n}", now)
    gates = [admit(store, f"crowd{n}", now) for n in range(6)]
    assert [g.verdict for g in gates[:3]] == [Verdict.WRITE] * 3  # the burst
    waits = [g for g in gates[3:]]
    assert all(g.verdict == Verdict.WAIT and g.reserved for g in waits)
    assert [round(g.wait, 3) for g in waits] == [1.0, 2.0, 3.0]
    early = admit(store, "crowd4", now + 1.0)  # before its slot: wait for it, reserve nothing more
    assert early.verdict == Verdict.WAIT and not early.reserved and early.wait == pytest.approx(1.0)
    assert admit(store, "crowd3", now + 1.0).verdict == Verdict.WRITE  # its slot
    assert admit(store, "crowd4", now + 2.0).verdict == Verdict.WRITE
    # every token is accounted for: at the last slot the bucket is empty, a newcomer waits a second
    finished(store, "late", now + 3.0)
    assert admit(store, "crowd5", now + 3.0).verdict == Verdict.WRITE
    late = admit(store, "late", now + 3.0)
    assert late.verdict == Verdict.WAIT and late.reserved and late.wait == pytest.approx(1.0)
    assert store.message_log("crowd4").writes == 1 and store.message_log("crowd4").reserved is None
    progress_job = running(store, "busy", now + 3.0)  # progress and running states never take a slot
    assert admit(store, "busy", now + 3.5, progress_of=progress_job.version).verdict == Verdict.WAIT
    assert admit(store, "busy", now + 3.5).reserved is False


def test_a_429_voids_the_slots_reserved_before_it(store):
    now = time.time()
    for n in range(5):
        finished(store, f"void{n}", now)
    gates = [admit(store, f"void{n}", now) for n in range(5)]
    assert [g.verdict for g in gates] == [Verdict.WRITE] * 3 + [Verdict.WAIT] * 2
    settle(store, gates[0], Outcome.THROTTLED, now + 0.5, budget=BUDGET, blocked_until=now + 10)
    again = admit(store, "void3", now + 1.0)  # its slot was at +1 s, before Chat's 429
    assert again.verdict == Verdict.WAIT and again.reserved  # a new slot, after the backoff
    assert again.wait == pytest.approx(10.0)  # 429 until +10 s, then the first token a second later
    later = admit(store, "void4", now + 2.0)
    assert later.verdict == Verdict.WAIT and later.reserved and later.wait == pytest.approx(10.0)
    assert admit(store, "void3", now + 11.0).verdict == Verdict.WRITE
    assert admit(store, "void4", now + 11.0).verdict == Verdict.WAIT
    assert admit(store, "void4", now + 12.0).verdict == Verdict.WRITE



def test_holders_that_come_late_together_write_no_more_than_the_bucket_holds(store):
    """Slots are only an order: a write still takes a real token. Five holders whose slots all
    passed while the queue was slow, coming back at once, write as far as the bucket's burst (3)
    allows, which bounds any window as Chat's quota needs; the other two get new slots behind."""
    now = time.time()
    for n in range(8):
        finished(store, f"slow{n}", now)
    gates = [admit(store, f"slow{n}", now) for n in range(8)]
    assert [round(g.wait, 3) for g in gates[3:]] == [1.0, 2.0, 3.0, 4.0, 5.0]
    late = [admit(store, f"slow{n}", now + 5.5) for n in range(3, 8)]
    assert [g.verdict for g in late] == [Verdict.WRITE] * 3 + [Verdict.WAIT] * 2
    assert [g.reserved for g in late[3:]] == [True, True]
    assert [round(g.wait, 3) for g in late[3:]] == [1.0, 2.0]  # the bucket is empty: one a second again
