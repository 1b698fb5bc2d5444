"""The rules of a job's life, applied to plain Job values."""

from __future__ import annotations

import pytest

from ackflow.errors import InvalidTransition, LeaseLost
from ackflow.jobs import lifecycle
from ackflow.jobs.lifecycle import Claim
from ackflow.jobs.model import Holder, Job, JobStatus, Requester, StepState, StepStatus

T0 = 1_000_000.0
A = Holder("task-a", 0)


def job(steps=("one", "two")) -> Job:
    return Job(id="j1", type="t", params={}, requester=Requester("users/1", "a@example.com"), space="spaces/s",
               thread=None, queue="q", steps=tuple(StepState(s) for s in steps), created_at=T0, updated_at=T0)


def test_claim_starts_the_job_and_leases_the_step():
    outcome, claimed = lifecycle.claim(job(), 0, A, T0 + 1, 60)
    assert outcome == Claim.CLAIMED
    assert claimed.status == JobStatus.RUNNING
    step = claimed.steps[0]
    assert (step.status, step.attempts, step.holder, step.lease_until) == (StepStatus.RUNNING, 1, A, T0 + 61)


def test_a_duplicate_delivery_finds_the_step_busy():
    _, claimed = lifecycle.claim(job(), 0, A, T0, 60)
    assert lifecycle.claim(claimed, 0, Holder("task-a", 0), T0 + 1, 60)[0] == Claim.BUSY
    assert lifecycle.claim(claimed, 0, Holder("task-b", 5), T0 + 1, 60)[0] == Claim.BUSY


def test_a_later_retry_of_the_same_task_takes_over_a_live_lease():
    _, claimed = lifecycle.claim(job(), 0, A, T0, 60)
    outcome, taken = lifecycle.claim(claimed, 0, Holder("task-a", 1), T0 + 2, 60)
    assert outcome == Claim.CLAIMED
    assert taken.steps[0].attempts == 2 and taken.steps[0].holder == Holder("task-a", 1)


def test_a_later_retry_of_the_same_task_takes_over_only_before_the_attempts_dispatch_deadline():
    """Cloud Tasks retries a task before the dispatch deadline only when its attempt ended (an
    answer, or a connection that broke: the worker died). At the deadline it stops listening and
    retries, but "whether the worker stops processing depends on the worker" (the API reference,
    dispatchDeadline): a step that overran is still running, and its task's retry must wait for
    the lease, which outlives the deadline by the margin for that."""
    _, claimed = lifecycle.claim(job(), 0, A, T0, 45, deadline_seconds=15)
    assert claimed.steps[0].deadline_at == T0 + 15
    assert lifecycle.claim(claimed, 0, Holder("task-a", 1), T0 + 10, 45, deadline_seconds=15)[0] == Claim.CLAIMED
    assert lifecycle.claim(claimed, 0, Holder("task-a", 1), T0 + 16, 45, deadline_seconds=15)[0] == Claim.BUSY
    assert lifecycle.claim(claimed, 0, Holder("task-a", 2), T0 + 44, 45, deadline_seconds=15)[0] == Claim.BUSY
    assert lifecycle.claim(claimed, 0, Holder("task-a", 2), T0 + 46, 45, deadline_seconds=15)[0] == Claim.CLAIMED


def test_without_takeover_a_later_receive_of_the_same_message_waits_for_the_lease():
    """SQS: a message comes back (a higher receive count) whenever its visibility lapses, whether or
    not the first delivery still runs; only the lease's end frees the step."""
    _, claimed = lifecycle.claim(job(), 0, A, T0, 45, deadline_seconds=15, takeover=False)
    assert lifecycle.claim(claimed, 0, Holder("task-a", 1), T0 + 2, 45, deadline_seconds=15,
                           takeover=False)[0] == Claim.BUSY
    assert lifecycle.claim(claimed, 0, Holder("task-a", 3), T0 + 46, 45, deadline_seconds=15,
                           takeover=False)[0] == Claim.CLAIMED


def test_an_expired_lease_can_be_claimed_by_anyone():
    _, claimed = lifecycle.claim(job(), 0, A, T0, 60)
    assert lifecycle.claim(claimed, 0, Holder("other", 0), T0 + 61, 60)[0] == Claim.CLAIMED


def test_complete_moves_on_then_finishes():
    _, claimed = lifecycle.claim(job(), 0, A, T0, 60)
    moved = lifecycle.complete(claimed, 0, A, {"x": 1}, T0 + 1, ttl=100)
    assert moved.current == 1 and moved.status == JobStatus.RUNNING
    assert lifecycle.claim(moved, 0, A, T0 + 2, 60)[0] == Claim.DONE
    _, second = lifecycle.claim(moved, 1, Holder("task-b", 0), T0 + 2, 60)
    done = lifecycle.complete(second, 1, Holder("task-b", 0), {"y": 2}, T0 + 3, ttl=100)
    assert done.status == JobStatus.SUCCEEDED
    assert done.result == {"y": 2} and done.expire_at == T0 + 103
    assert lifecycle.claim(done, 1, Holder("late", 0), T0 + 4, 60)[0] == Claim.DONE


def test_only_the_holder_may_complete():
    _, claimed = lifecycle.claim(job(), 0, A, T0, 60)
    with pytest.raises(LeaseLost):
        lifecycle.complete(claimed, 0, Holder("task-b", 0), {}, T0 + 1, ttl=100)


def test_transient_failure_keeps_the_job_running_and_the_step_claimable():
    _, claimed = lifecycle.claim(job(), 0, A, T0, 60)
    retrying = lifecycle.fail(claimed, 0, A, "boom", T0 + 1, final=False, retry_at=T0 + 5, ttl=100)
    assert retrying.status == JobStatus.RUNNING
    assert retrying.steps[0].status == StepStatus.PENDING and retrying.next_attempt_at == T0 + 5
    assert lifecycle.claim(retrying, 0, Holder("task-a", 1), T0 + 5, 60)[0] == Claim.CLAIMED


def test_a_step_that_must_wait_is_sent_again_under_a_new_task_name():
    """RetryLater: the step waits for a task of its own (a new generation), sent delayed, so the
    queue's quick retries of the old task are not what brings it back."""
    _, claimed = lifecycle.claim(job(), 0, A, T0, 60)
    waiting = lifecycle.fail(claimed, 0, A, "limited", T0 + 1, final=False, retry_at=T0 + 661, ttl=100,
                             new_task=True)
    assert waiting.status == JobStatus.RUNNING and waiting.generation == claimed.generation + 1
    assert waiting.steps[0].status == StepStatus.PENDING and waiting.next_attempt_at == T0 + 661
    assert lifecycle.claim(waiting, 0, Holder("task-b", 0), T0 + 661, 60)[0] == Claim.CLAIMED


def test_the_old_tasks_copy_delivered_while_the_step_waits_runs_nothing():
    """At least once: the queue may deliver the old generation's task again while the step waits
    for its newer one (freee's ten-minute lockout): it ran the step at once, into the lockout again.
    The newer task may come early (a forced run), and after the wait the old one runs it as before
    (the newer task was never made: the sweep's case)."""
    _, claimed = lifecycle.claim(job(), 0, A, T0, 60)
    waiting = lifecycle.fail(claimed, 0, A, "limited", T0 + 1, final=False, retry_at=T0 + 661, ttl=100,
                             new_task=True)
    old, new = waiting.generation - 1, waiting.generation
    assert lifecycle.claim(waiting, 0, Holder("task-a", 1), T0 + 5, 60, generation=old) == (Claim.EARLY, waiting)
    assert lifecycle.claim(waiting, 0, Holder("task-b", 0), T0 + 5, 60, generation=new)[0] == Claim.CLAIMED
    assert lifecycle.claim(waiting, 0, Holder("task-a", 2), T0 + 661, 60, generation=old)[0] == Claim.CLAIMED
    assert lifecycle.claim(waiting, 0, Holder("task-a", 1), T0 + 5, 60)[0] == Claim.CLAIMED  # generation unknown


def test_final_failure_then_retry_resumes_at_the_failed_step():
    _, claimed = lifecycle.claim(job(), 0, A, T0, 60)
    moved = lifecycle.complete(claimed, 0, A, {"x": 1}, T0 + 1, ttl=100)
    _, second = lifecycle.claim(moved, 1, A, T0 + 2, 60)
    failed = lifecycle.fail(second, 1, A, "nope", T0 + 3, final=True, retry_at=None, ttl=100)
    assert failed.status == JobStatus.FAILED and failed.last_error == "nope"
    again = lifecycle.retry(failed, T0 + 10, "a@example.com")
    assert again.status == JobStatus.QUEUED
    assert again.current == 1 and again.generation == 1
    assert again.steps[0].status == StepStatus.SUCCEEDED and again.steps[0].output == {"x": 1}


@pytest.mark.parametrize("status", [JobStatus.SUCCEEDED, JobStatus.CANCELLED])
def test_final_states_never_go_back(status):
    finished = job().replace(status=status)
    for target in JobStatus:
        if target != status:
            with pytest.raises(InvalidTransition):
                lifecycle.transition(finished, target, T0)
    with pytest.raises(InvalidTransition):
        lifecycle.retry(finished, T0, "x")


def test_cancelled_job_is_not_claimed_and_its_holder_cannot_complete():
    _, claimed = lifecycle.claim(job(), 0, A, T0, 60)
    cancelled = lifecycle.cancel(claimed, T0 + 1, ttl=100, by="a@example.com")
    assert lifecycle.claim(cancelled, 0, Holder("task-a", 1), T0 + 2, 60)[0] == Claim.FINISHED
    with pytest.raises(LeaseLost):
        lifecycle.complete(cancelled, 0, A, {}, T0 + 2, ttl=100)


def test_sweep_releases_only_long_expired_leases():
    _, claimed = lifecycle.claim(job(), 0, A, T0, 60)
    assert lifecycle.release_expired_lease(claimed, T0 + 100, grace=300) is None
    released = lifecycle.release_expired_lease(claimed, T0 + 400, grace=300)
    assert released.steps[0].status == StepStatus.PENDING and released.generation == 1


def test_cancel_settles_the_running_step_and_the_holder_still_loses_its_lease():
    # Given a job whose first step is running under a lease
    _, running = lifecycle.claim(job(), 0, A, T0, 60)
    # When it is cancelled
    cancelled = lifecycle.cancel(running, T0 + 5, 100, "alice")
    # Then the step no longer shows RUNNING, nor holds a lease; the step never started stays PENDING
    step = cancelled.steps[0]
    assert cancelled.status == JobStatus.CANCELLED
    assert (step.status, step.holder, step.lease_until, step.finished_at) == (StepStatus.CANCELLED, None, None, T0 + 5)
    assert step.attempts == 1 and cancelled.steps[1].status == StepStatus.PENDING
    # and the holder finishing later is told it lost the step, whatever its outcome
    with pytest.raises(LeaseLost):
        lifecycle.complete(cancelled, 0, A, {"slept": 3}, T0 + 6, 100)
    with pytest.raises(LeaseLost):
        lifecycle.fail(cancelled, 0, A, "boom", T0 + 6, final=True, retry_at=None, ttl=100)
    assert lifecycle.claim(cancelled, 0, Holder("task-a", 1), T0 + 7, 60)[0] == Claim.FINISHED


def test_cancel_of_a_queued_job_leaves_its_steps_pending():
    cancelled = lifecycle.cancel(job(), T0, 100, "alice")
    assert [s.status for s in cancelled.steps] == [StepStatus.PENDING, StepStatus.PENDING]


def test_a_job_past_its_no_cancel_after_step_is_not_cancelled():
    """An invoice job holds its number once the number step is done: it is issued, never dropped."""
    from ackflow.errors import NotCancellable

    _, claimed = lifecycle.claim(job(("number", "issue")), 0, A, T0, 60)
    assert lifecycle.cancel(claimed, T0 + 1, 100, "alice", "number").status == JobStatus.CANCELLED  # not yet
    numbered = lifecycle.complete(claimed, 0, A, {"number": "INV-1"}, T0 + 2, ttl=100)
    with pytest.raises(NotCancellable) as refused:
        lifecycle.cancel(numbered, T0 + 3, 100, "alice", "number")
    assert refused.value.step == "number"
    assert lifecycle.cancel(numbered, T0 + 3, 100, "alice").status == JobStatus.CANCELLED  # a type without the rule


def test_the_dispatch_deadline_counts_from_when_the_queue_sent_the_delivery_not_from_the_claim():
    """A claim read late (the worker's threads all busy: the request waited in the server's queue)
    must not push the deadline past the queue's: counted from the claim, the queue's retry after
    its deadline found the holder "before its deadline" and took over a live attempt."""
    _, claimed = lifecycle.claim(job(), 0, A, T0 + 12, 45, deadline_seconds=15, dispatched_at=T0)
    assert claimed.steps[0].deadline_at == T0 + 15  # the queue's deadline, not T0 + 12 + 15
    # the queue's retry after its deadline (T0 + 15): the holder may still run
    assert lifecycle.claim(claimed, 0, Holder("task-a", 1), T0 + 15.2, 45, deadline_seconds=15)[0] == Claim.BUSY
    # a time after the claim is not taken for the dispatch
    _, claimed = lifecycle.claim(job(), 0, A, T0, 45, deadline_seconds=15, dispatched_at=T0 + 5)
    assert claimed.steps[0].deadline_at == T0 + 15
