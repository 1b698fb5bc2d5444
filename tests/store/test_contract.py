"""The JobStore contract: what every backend must do, tested the same way on each."""

from __future__ import annotations

import threading
import time

import pytest

from ackflow.errors import (
    AlreadyExists,
    ConfirmationNotFound,
    Conflict,
    InvalidTransition,
    JobNotFound,
    LeaseLost,
    StoreUnavailable,
)
from ackflow.jobs.lifecycle import Claim
from ackflow.jobs.model import (
    Confirmation,
    ConfirmationStatus,
    Holder,
    Job,
    JobStatus,
    Requester,
    StepState,
    StepStatus,
)
from ackflow.store.jobstore import ConfirmOutcome

ALICE = Requester("users/1", "alice@example.com", "Alice")
BOB = Requester("users/2", "bob@example.com", "Bob")


def make_job(job_id: str, *, requester=ALICE, created: float | None = None, steps=("one", "two")) -> Job:
    now = created or time.time()
    return Job(id=job_id, type="echo", params={"text": "hi"}, requester=requester, space="spaces/s",
               thread="spaces/s/threads/t", queue="ackflow-default", steps=tuple(StepState(s) for s in steps),
               created_at=now, updated_at=now)


def make_confirmation(cid: str, *, expires_in: float = 60) -> Confirmation:
    now = time.time()
    return Confirmation(id=cid, token=f"tok-{cid}", job_type="echo", params={"text": "hi"}, requester=ALICE,
                        space="spaces/s", thread=None, created_at=now, expires_at=now + expires_in)


def test_create_get_and_not_found(store):
    job = store.create_job(make_job("j1"))
    assert store.get_job("j1") == job
    with pytest.raises(JobNotFound):
        store.get_job("nope")
    with pytest.raises(AlreadyExists):
        store.create_job(make_job("j1"))


def test_create_once_keeps_the_first(store):
    first, created = store.create_job_once(make_job("p1"))
    again, created_again = store.create_job_once(make_job("p1", requester=BOB))
    assert created and not created_again
    assert again.requester == ALICE


def test_listings_newest_first_by_status_and_requester(store):
    base = time.time()
    store.create_job(make_job("a", created=base))
    store.create_job(make_job("b", created=base + 1, requester=BOB))
    store.create_job(make_job("c", created=base + 2))
    store.cancel_job("c", base + 3, "alice")
    assert [j.id for j in store.list_jobs()] == ["c", "b", "a"]
    assert [j.id for j in store.list_jobs(limit=2)] == ["c", "b"]
    assert [j.id for j in store.list_jobs(status=JobStatus.QUEUED)] == ["b", "a"]
    assert [j.id for j in store.list_jobs(requester_email="alice@example.com")] == ["c", "a"]
    assert [j.id for j in store.stale_jobs(JobStatus.QUEUED, base + 10)] == ["a", "b"]


def test_claim_complete_and_duplicates(store):
    store.create_job(make_job("j"))
    holder = Holder("t0", 0)
    outcome, job = store.claim_step("j", 0, holder, time.time(), 60)
    assert outcome == Claim.CLAIMED and job.status == JobStatus.RUNNING
    assert store.claim_step("j", 0, Holder("other", 0), time.time(), 60)[0] == Claim.BUSY
    job = store.complete_step("j", 0, holder, {"n": 1}, time.time())
    assert job.current == 1 and job.steps[0].output == {"n": 1}
    assert store.claim_step("j", 0, holder, time.time(), 60)[0] == Claim.DONE
    with pytest.raises(LeaseLost):
        store.complete_step("j", 0, holder, {"n": 2}, time.time())
    assert store.get_job("j").steps[0].output == {"n": 1}


def delivered_again_while_unavailable(call, number: int):
    """``call()``, again while the store is unavailable, as the queue delivers a task again after
    the worker's 503 (or a person clicks Run again after "try again"). The Firestore emulator has
    no deadlock detection: transactions that meet on one document wait out its 2 s lock timeout,
    and on a loaded machine one can run out of attempts ("too busy"). Bounded; the callers'
    pauses differ so that they do not meet again."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return call()
        except StoreUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1 * (number + 1))


def test_concurrent_claims_make_exactly_one_winner(store):
    store.create_job(make_job("race"))
    outcomes = []

    def claim(number):
        outcomes.append(delivered_again_while_unavailable(
            lambda: store.claim_step("race", 0, Holder(f"task-{number}", 0), time.time(), 60)[0], number))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.value for o in outcomes) == ["busy", "busy", "busy", "claimed"]
    assert store.get_job("race").steps[0].attempts == 1


def test_final_failure_writes_a_dead_letter(store):
    store.create_job(make_job("f"))
    holder = Holder("t", 3)
    store.claim_step("f", 0, holder, time.time(), 60)
    job = store.fail_step("f", 0, holder, "it broke", time.time(), final=True)
    assert job.status == JobStatus.FAILED and job.expire_at is not None
    [letter] = store.list_dead_letters()
    assert (letter.job_id, letter.step, letter.error) == ("f", "one", "it broke")


def test_a_dead_letter_counts_the_attempts_of_the_step_that_failed(store):
    # Given a job whose first step took two attempts and whose second failed on its third
    store.create_job(make_job("d"))
    now = time.time()
    store.claim_step("d", 0, Holder("t0", 0), now, 60)
    store.fail_step("d", 0, Holder("t0", 0), "flaky", now, final=False, retry_at=now)
    store.claim_step("d", 0, Holder("t0", 1), now, 60)
    store.complete_step("d", 0, Holder("t0", 1), {}, now)
    for attempt in range(3):
        store.claim_step("d", 1, Holder("t1", attempt), now, 60)
        store.fail_step("d", 1, Holder("t1", attempt), "broken", now, final=attempt == 2, retry_at=now)
    # Then the dead letter names the second step and its three attempts (the job took five)
    assert store.get_job("d").attempts == 5
    [letter] = store.list_dead_letters()
    assert (letter.step, letter.attempts) == ("two", 3)


def test_transient_failure_leaves_the_step_retryable(store):
    store.create_job(make_job("r"))
    store.claim_step("r", 0, Holder("t", 0), time.time(), 60)
    job = store.fail_step("r", 0, Holder("t", 0), "flaky", time.time(), final=False, retry_at=time.time() + 5)
    assert job.status == JobStatus.RUNNING and job.steps[0].status == StepStatus.PENDING
    assert store.list_dead_letters() == []
    assert store.claim_step("r", 0, Holder("t", 1), time.time(), 60)[0] == Claim.CLAIMED


def test_transitions_are_checked(store):
    store.create_job(make_job("x"))
    store.cancel_job("x", time.time(), "alice")
    with pytest.raises(InvalidTransition):
        store.cancel_job("x", time.time(), "alice")
    with pytest.raises(InvalidTransition):
        store.retry_job("x", time.time(), "alice")


def test_a_job_held_by_its_step_is_not_cancelled_and_a_cancelled_one_is_not_held(store):
    """A step's point of no return (an invoice decided, about to be numbered) and a cancel are
    serialized by the store: whichever commits first, the other sees it."""
    from ackflow.errors import NotCancellable
    from ackflow.store.jobstore import hold, not_cancelled

    for job_id in ("held", "free"):
        store.create_job(make_job(job_id))
        store.claim_step(job_id, 0, Holder("t", 0), time.time(), 60)

    def decide(job_id: str) -> bool:
        def apply(tx):
            if not not_cancelled(tx, job_id):
                return False
            hold(tx, job_id, "one", time.time())
            return True

        return store.docs.transaction(apply)

    assert decide("held")
    from ackflow.store.documents import HOLDS
    from ackflow.store.jobstore import HOLD_TTL

    kept = store.docs.get(HOLDS, "held")  # deleted by Firestore's TTL policy long after its job
    assert abs(kept["expire_at"] - (kept["at"] + HOLD_TTL)) < 1 and HOLD_TTL > 365 * 86400
    with pytest.raises(NotCancellable) as refused:
        store.cancel_job("held", time.time(), "alice")
    assert refused.value.step == "one" and store.get_job("held").status == JobStatus.RUNNING
    store.cancel_job("free", time.time(), "alice")
    assert not decide("free")


def test_retry_of_a_failed_job_requeues_it_with_a_new_generation(store):
    store.create_job(make_job("rf"))
    h = Holder("t", 0)
    store.claim_step("rf", 0, h, time.time(), 60)
    store.fail_step("rf", 0, h, "x", time.time(), final=True)
    job = store.retry_job("rf", time.time(), "alice")
    assert job.status == JobStatus.QUEUED and job.generation == 1 and job.current == 0


def test_confirmation_turns_into_exactly_one_job(store):
    store.create_confirmation(make_confirmation("c1"))
    made = []

    def make(confirmation):
        job = make_job(f"job-{len(made)}")
        made.append(job.id)
        return job

    outcome, job = store.confirm("c1", "tok-c1", time.time(), make)
    assert outcome == ConfirmOutcome.CREATED
    again, same = store.confirm("c1", "tok-c1", time.time(), make)
    assert again == ConfirmOutcome.ALREADY and same.id == job.id
    assert store.get_confirmation("c1").status == ConfirmationStatus.CONFIRMED
    assert [j.id for j in store.list_jobs()] == [job.id]


def test_a_confirmation_expires_long_after_its_card(store):
    """One is stored per confirmation card: without a TTL the collection only grows. Its
    ``expire_at`` (a Firestore TTL policy in infra/terraform/firestore.tf) outlives the card, and a
    Run or Cancel keeps it."""
    from ackflow.jobs.model import CONFIRMATION_TTL
    from ackflow.store.documents import CONFIRMATIONS

    made = store.create_confirmation(make_confirmation("ttl1"))
    stored = store.docs.get(CONFIRMATIONS, "ttl1")
    assert abs(stored["expire_at"] - (made.expires_at + CONFIRMATION_TTL)) < 1 and CONFIRMATION_TTL > 365 * 86400
    store.confirm("ttl1", "tok-ttl1", time.time(), lambda c: make_job("job-ttl1"))
    assert abs(store.get_confirmation("ttl1").expire_at - stored["expire_at"]) < 1
    store.create_confirmation(make_confirmation("ttl2"))
    store.cancel_confirmation("ttl2", "tok-ttl2", time.time())
    assert store.docs.get(CONFIRMATIONS, "ttl2")["expire_at"] == pytest.approx(stored["expire_at"], abs=60)


def test_concurrent_confirmations_make_one_job(store):
    store.create_confirmation(make_confirmation("c2"))
    results = []
    counter = iter(range(100))

    def confirm(number):
        # A click that meets an unavailable store is told to try again, and the person clicks Run again.
        results.append(delivered_again_while_unavailable(
            lambda: store.confirm("c2", "tok-c2", time.time(), lambda c: make_job(f"jc-{next(counter)}")), number))

    threads = [threading.Thread(target=confirm, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r[0].value for r in results) == ["already", "already", "created"]
    assert len({r[1].id for r in results}) == 1
    assert len(store.list_jobs()) == 1


def test_expired_and_cancelled_confirmations_make_no_job(store):
    store.create_confirmation(make_confirmation("old", expires_in=-1))
    assert store.confirm("old", "tok-old", time.time(), lambda c: make_job("never"))[0] == ConfirmOutcome.EXPIRED
    store.create_confirmation(make_confirmation("no"))
    assert store.cancel_confirmation("no", "tok-no", time.time()).status == ConfirmationStatus.CANCELLED
    assert store.confirm("no", "tok-no", time.time(), lambda c: make_job("never"))[0] == ConfirmOutcome.CANCELLED
    assert store.list_jobs() == []


def test_confirmation_needs_its_token(store):
    store.create_confirmation(make_confirmation("c3"))
    with pytest.raises(Conflict):
        store.confirm("c3", "forged", time.time(), lambda c: make_job("never"))
    with pytest.raises(ConfirmationNotFound):
        store.confirm("missing", "x", time.time(), lambda c: make_job("never"))


def test_counter_allocates_once_per_key(store):
    assert store.allocate("case-2026", "job-a") == 1
    assert store.allocate("case-2026", "job-b") == 2
    assert store.allocate("case-2026", "job-a") == 1  # a step that runs twice keeps its number
    assert store.allocate("case-2027", "job-c") == 1
    assert store.counter_value("case-2026") == 2


def test_concurrent_allocations_are_distinct_and_consecutive(store):
    values = []

    def allocate(number):
        values.append(delivered_again_while_unavailable(lambda: store.allocate("seq", f"k{number}"), number))

    threads = [threading.Thread(target=allocate, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(values) == [1, 2, 3]


def test_round_trip_keeps_unicode_and_nested_values(store):
    job = make_job("u").replace(params={"title": "金型 A-12 🚀", "items": [{"qty": 2}]})
    store.create_job(job)
    assert store.get_job("u").params == {"title": "金型 A-12 🚀", "items": [{"qty": 2}]}


# -- the console's queries: filters, cursor paging, counts, the attempt log, audit, discard ---------
def _job(job_id: str, created: float, *, status=JobStatus.QUEUED, type_="echo", requester=ALICE,
         space="spaces/s") -> Job:
    return make_job(job_id, requester=requester, created=created).replace(status=status, type=type_, space=space)


def test_pages_follow_each_other_without_gaps_or_repeats_even_on_equal_times(store):
    base = 1_700_000_000.0
    for number in range(7):  # three pairs created in the same instant: ties broken by id
        store.create_job(_job(f"p{number}", base + number // 2))
    seen, after = [], None
    while True:
        page = store.find_jobs(limit=3, after=after)
        seen += [j.id for j in page.jobs]
        if page.next is None:
            break
        after = page.next
    assert seen == ["p6", "p5", "p4", "p3", "p2", "p1", "p0"]


def test_filters_combine_and_the_date_range_is_half_open(store):
    from ackflow.store.jobstore import JobFilter

    base = 1_700_000_000.0
    store.create_job(_job("f1", base, status=JobStatus.FAILED, type_="sleep"))
    store.create_job(_job("f2", base + 10, status=JobStatus.FAILED, type_="echo", requester=BOB))
    store.create_job(_job("f3", base + 20, status=JobStatus.SUCCEEDED, type_="sleep", space="spaces/other"))
    store.create_job(_job("f4", base + 30, status=JobStatus.FAILED, type_="sleep"))

    def ids(**filters):
        return [j.id for j in store.find_jobs(JobFilter(**filters)).jobs]

    assert ids(status=JobStatus.FAILED) == ["f4", "f2", "f1"]
    assert ids(type="sleep") == ["f4", "f3", "f1"]
    assert ids(status=JobStatus.FAILED, type="sleep") == ["f4", "f1"]
    assert ids(requester_email="bob@example.com") == ["f2"]
    assert ids(space="spaces/other") == ["f3"]
    assert ids(created_from=base + 10, created_to=base + 30) == ["f3", "f2"]
    assert ids(status=JobStatus.FAILED, created_from=base + 5) == ["f4", "f2"]


def test_the_requester_filter_finds_an_address_in_any_case_and_old_jobs_by_their_exact_address(store):
    """Each job is stored with its requester's address in lowercase, which the filter reads: typed
    ``alice@example.com`` finds ``Alice@Example.com``'s jobs and the reverse. A job stored before
    that copy existed is found by its address exactly as stored. Paged a job at a time, each job
    once, newest first, with the other filters kept."""
    from ackflow.jobs.model import REQUESTER_LOWER
    from ackflow.store.documents import JOBS
    from ackflow.store.jobstore import JobFilter

    base = 1_700_000_000.0
    mixed = Requester("users/1", "Alice@Example.com", "Alice")
    store.create_job(_job("r1", base, requester=mixed))
    store.create_job(_job("r2", base + 10, requester=ALICE))  # alice@example.com
    store.create_job(_job("r3", base + 20, requester=mixed, status=JobStatus.FAILED))
    store.create_job(_job("r4", base + 30, requester=BOB))
    for job_id, at, requester in (("old-exact", base + 5, ALICE), ("old-mixed", base + 15, mixed)):
        old = {k: v for k, v in _job(job_id, at, requester=requester).to_dict().items() if k != REQUESTER_LOWER}
        store.docs.transaction(lambda tx, old=old: tx.create(JOBS, old["id"], old))

    def ids(limit=50, **filters):
        found, after = [], None
        while True:
            page = store.find_jobs(JobFilter(**filters), limit=limit, after=after)
            found += [j.id for j in page.jobs]
            if page.next is None:
                return found
            after = page.next

    for limit in (1, 2, 50):
        assert ids(limit, requester_email="alice@example.com") == ["r3", "r2", "old-exact", "r1"]
        assert ids(limit, requester_email="Alice@Example.com") == ["r3", "old-mixed", "r2", "r1"]
        assert ids(limit, requester_email="ALICE@EXAMPLE.COM") == ["r3", "r2", "r1"]
    assert ids(requester_email="alice@example.com", status=JobStatus.FAILED) == ["r3"]
    assert ids(requester_email="alice@example.com", created_from=base + 5, created_to=base + 20) == [
        "r2", "old-exact"]
    assert ids(requester_email="bob@example.com") == ["r4"]
    assert store.get_job("r1").requester.email == "Alice@Example.com"  # the address itself kept as Chat sent it


def test_the_requester_filter_finds_an_address_typed_in_full_width_letters(store):
    """A Japanese keyboard in full-width mode types ＡＬＩＣＥ＠ｅｘａｍｐｌｅ．ｃｏｍ, a Mac's an é as e
    and a combining accent: the filter found nothing (the lowercase copy is of the address as Chat
    sends it). It reads the copy by the typed address with widths and accents folded (NFKC) before
    its case."""
    from ackflow.jobs.model import REQUESTER_LOWER
    from ackflow.store.documents import JOBS
    from ackflow.store.jobstore import JobFilter

    base = 1_700_000_000.0
    store.create_job(_job("w1", base, requester=ALICE))
    store.create_job(_job("w2", base + 1, requester=Requester("users/1", "Alice@Example.com")))
    store.create_job(_job("w3", base + 2, requester=BOB))
    for typed in ("ＡＬＩＣＥ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ａｌｉｃｅ@example.com", "Ａlice@Example.com"):
        assert [j.id for j in store.find_jobs(JobFilter(requester_email=typed)).jobs] == ["w2", "w1"], typed
    assert store.docs.get(JOBS, "w2")[REQUESTER_LOWER] == "alice@example.com"  # what a job stores, as before
    # an address of other letters: é typed as e and a combining accent (as a Mac's keyboard sends it)
    store.create_job(_job("w4", base + 3, requester=Requester("users/4", "José@Example.com")))
    for typed in ("JOSÉ@example.com", "jose\u0301@example.com", "JOSE\u0301@EXAMPLE.COM"):
        assert [j.id for j in store.find_jobs(JobFilter(requester_email=typed)).jobs] == ["w4"], ascii(typed)


def test_requester_pages_are_the_jobs_a_plain_reading_finds_on_random_jobs(store):
    """The two reads of a requester filter (the lowercase copy; the address as typed, for jobs
    stored before the copy) merged page by page: on 40 seeded jobs in 7 instants (many ties), with
    and without the copy, in three cases of one address, every page size from 1 gives each job once,
    newest first, as reading all of them and choosing would."""
    import random

    from ackflow.jobs.model import REQUESTER_LOWER
    from ackflow.store.documents import JOBS
    from ackflow.store.jobstore import JobFilter

    rnd, base = random.Random(7), 1_700_000_000.0
    emails = ["alice@example.com", "Alice@Example.com", "ALICE@EXAMPLE.COM", "bob@example.com"]
    stored = {}
    for n in range(40):
        email, at, old = rnd.choice(emails), base + rnd.randint(0, 6), rnd.random() < 0.5
        status, type_ = rnd.choice([JobStatus.FAILED, JobStatus.SUCCEEDED]), rnd.choice(["echo", "other"])
        job = _job(f"j{rnd.randint(0, 10**6):07d}x{n}", at, requester=Requester("users/1", email), status=status,
                   type_=type_)
        if old:  # stored before the lowercase copy
            data = {k: v for k, v in job.to_dict().items() if k != REQUESTER_LOWER}
            store.docs.transaction(lambda tx, data=data: tx.create(JOBS, data["id"], data))
        else:
            store.create_job(job)
        stored[job.id] = (at, email, old, status, type_)
    for typed in [*emails, "alice@EXAMPLE.com"]:
        for status, type_, since in ((None, None, None), (JobStatus.FAILED, None, None), (None, "echo", base + 3)):
            want = [i for _, i in sorted(((at, i) for i, (at, e, old, st, ty) in stored.items()
                                          if (e == typed or (not old and e.lower() == typed.lower()))
                                          and status in (None, st) and type_ in (None, ty)
                                          and (since is None or at >= since)), reverse=True)]
            for limit in (1, 2, 3, 7, 50):
                found, after = [], None
                while True:
                    page = store.find_jobs(JobFilter(requester_email=typed, status=status, type=type_,
                                                     created_from=since), limit=limit, after=after)
                    found += [j.id for j in page.jobs]
                    if page.next is None:
                        break
                    after = page.next
                assert found == want, (typed, status, type_, since, limit)


def test_counts_per_status_read_no_job(store):
    base = 1_700_000_000.0
    for number, status in enumerate([JobStatus.FAILED, JobStatus.FAILED, JobStatus.SUCCEEDED]):
        store.create_job(_job(f"c{number}", base + number, status=status))
    assert store.count_jobs() == 3
    assert store.count_jobs(JobStatus.FAILED) == 2 and store.count_jobs(JobStatus.RUNNING) == 0


def test_counts_follow_every_transition_and_deletion(store):
    store.create_job(make_job("t1", steps=("only",)))
    store.create_job(make_job("t2", steps=("only",)))
    assert store.count_jobs(JobStatus.QUEUED) == 2
    holder = Holder("task-t1", 0)
    store.claim_step("t1", 0, holder, 100.0, 60)
    assert store.count_jobs(JobStatus.QUEUED) == 1 and store.count_jobs(JobStatus.RUNNING) == 1
    store.complete_step("t1", 0, holder, {"ok": True}, 101.0)
    store.cancel_job("t2", 102.0, "ops")
    counts = {status: store.count_jobs(status) for status in JobStatus}
    assert counts[JobStatus.SUCCEEDED] == 1 and counts[JobStatus.CANCELLED] == 1
    assert counts[JobStatus.QUEUED] == counts[JobStatus.RUNNING] == 0 and store.count_jobs() == 2
    store.docs.transaction(lambda tx: tx.delete("jobs", "t1"))
    assert store.count_jobs(JobStatus.SUCCEEDED) == 0 and store.count_jobs() == 1


def test_a_sqlite_store_made_before_counts_were_kept_counts_what_is_there(tmp_path):
    import sqlite3

    from ackflow.store.jobstore import JobStore
    from ackflow.store.sqlite import SqliteDocuments

    path = tmp_path / "old.db"
    JobStore(SqliteDocuments(path)).create_job(_job("old1", 1.0, status=JobStatus.FAILED))
    with sqlite3.connect(path) as db:  # as an older version left it: no kept counts
        db.execute("DROP TABLE counts")
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            db.execute(f"DROP TRIGGER {name}")
    reopened = JobStore(SqliteDocuments(path))
    assert reopened.count_jobs(JobStatus.FAILED) == 1 and reopened.count_jobs() == 1


def test_each_attempt_is_logged_with_its_outcome_and_trace(store):
    store.create_job(make_job("r1", steps=("only",)))
    first, second = Holder("t-0", 0), Holder("t-0", 1)
    store.claim_step("r1", 0, first, 100.0, 60)
    store.fail_step("r1", 0, first, "ValueError: boom", 101.5, final=False, retry_at=110,
                    trace="Traceback (most recent call last):\n  ...\nValueError: boom\n")
    store.claim_step("r1", 0, second, 110.0, 60)
    job = store.complete_step("r1", 0, second, {"ok": True}, 112.0)
    runs = job.steps[0].runs
    assert [(r["n"], r["task"], r["retry"], r["outcome"]) for r in runs] == [
        (1, "t-0", 0, "retrying"), (2, "t-0", 1, "succeeded")]
    assert runs[0]["started_at"] == 100.0 and runs[0]["finished_at"] == 101.5
    assert runs[0]["error"] == "ValueError: boom" and "Traceback" in runs[0]["trace"]
    assert store.get_job("r1").steps[0].runs == runs  # as stored


def test_discarding_a_dead_letter_removes_it_once(store):
    from ackflow.errors import DeadLetterNotFound

    store.create_job(make_job("d1", steps=("only",)))
    holder = Holder("t", 0)
    store.claim_step("d1", 0, holder, 100.0, 60)
    store.fail_step("d1", 0, holder, "no", 101.0, final=True)
    [letter] = store.dead_letters_of("d1")
    assert store.get_dead_letter(letter.id) == letter
    assert store.discard_dead_letter(letter.id) == letter
    assert store.list_dead_letters() == [] and store.get_job("d1").status == JobStatus.FAILED
    with pytest.raises(DeadLetterNotFound):
        store.discard_dead_letter(letter.id)


def test_audit_entries_newest_first_all_or_of_one_job(store):
    from ackflow.jobs.model import AuditEntry

    store.record_audit(AuditEntry("a1", 10.0, "ops@example.com", "retry", "j1", job_id="j1", surface="console"))
    store.record_audit(AuditEntry("a2", 20.0, "ops@example.com", "pause", "ackflow-default"))
    store.record_audit(AuditEntry("a3", 30.0, "me@host", "cancel", "j1", "refused: SUCCEEDED", job_id="j1"))
    assert [e.id for e in store.list_audit()] == ["a3", "a2", "a1"]
    assert [e.id for e in store.list_audit(job_id="j1")] == ["a3", "a1"]
    assert store.list_audit(job_id="j1")[0].outcome == "refused: SUCCEEDED"


def test_what_an_audit_entry_says_is_kept_as_messages_and_values(store):
    """``said`` (app/audit.py): nested maps of a message, its values of every kind kept (numbers,
    texts, a message within, a text per language), as written; an entry without it reads as {}."""
    from ackflow.jobs.model import AuditEntry

    said = {"outcome": "refused", "technical": False,
            "why": {"msgid": "Job {job_id} is {status}; only a FAILED job can be retried.",
                    "values": {"job_id": "j1", "status": {"msgid": "SUCCEEDED", "values": {}}}},
            "detail": {"msgid": "{job_type} step {step}: {error}",
                       "values": {"job_type": {"texts": {"ja": "新規案件", "en": "newcase"}}, "step": "folder",
                                  "error": "図面が見つかりません", "count": 3, "rate": 0.5, "none": None}}}
    store.record_audit(AuditEntry("a1", 10.0, "ops@example.com", "retry", "j1", "refused: j1 is SUCCEEDED",
                                  job_id="j1", said=said))
    store.record_audit(AuditEntry("a0", 5.0, "ops@example.com", "retry", "j1", job_id="j1"))
    assert [(e.id, e.said) for e in store.list_audit(job_id="j1")] == [("a1", said), ("a0", {})]
