"""The mail bookkeeping in the job store, the same on every backend: the history id only moves
forward, one claim per mail, one confirmation (so one job) per mail."""

from __future__ import annotations

import time

from ackflow.jobs.model import Confirmation, Requester
from workers.office.mail.records import Binding, Claim, MailRecords, MailStatus, record_id

BOX = "irai@office.example"
ALICE = Requester("users/1", "alice@example.com", "Alice")


def confirmation(cid: str, now: float, ttl: float = 60) -> Confirmation:
    return Confirmation(id=cid, token=f"tok-{cid}", job_type="newcase", params={"mail": "x"}, requester=ALICE,
                        space="spaces/office", thread=None, created_at=now, expires_at=now + ttl)


def test_the_history_id_only_moves_forward_unless_replaced(store):
    records = MailRecords(store.docs)
    now = time.time()
    assert records.mailbox(BOX) == {}
    assert records.advance(BOX, "1200", now) == "1200"
    assert records.advance(BOX, "1100", now) == "1200"  # an older notification handled late
    assert records.advance(BOX, "12000", now) == "12000"  # compared as numbers, not text
    assert records.advance(BOX, "900", now, replace=True) == "900"  # after a re-scan
    records.note_watch(BOX, "projects/p/topics/gmail", now + 7 * 86400, "5000", now)
    box = records.mailbox(BOX)
    assert box["history_id"] == "900" and box["watch_expires_at"] == now + 7 * 86400


def test_a_watch_gives_the_first_history_id(store):
    records = MailRecords(store.docs)
    records.note_watch(BOX, "projects/p/topics/gmail", time.time() + 60, "5000", time.time())
    assert records.mailbox(BOX)["history_id"] == "5000"


def test_one_claim_per_mail_and_a_dead_holder_is_taken_over_after_its_lease(store):
    records = MailRecords(store.docs)
    now = time.time()
    outcome, doc = records.claim(BOX, "abc", "push-1", now, 30)
    assert outcome == Claim.CLAIMED and doc["status"] == "PROPOSING"
    assert records.claim(BOX, "abc", "push-2", now + 1, 30)[0] == Claim.BUSY
    assert records.claim(BOX, "abc", "push-1", now + 1, 30)[0] == Claim.CLAIMED  # the same delivery again
    assert [r["id"] for r in records.stalled(now + 40)] == [doc["id"]]
    outcome, doc = records.claim(BOX, "abc", "push-3", now + 40, 30)
    assert outcome == Claim.CLAIMED and doc["attempts"] == 3
    assert records.settle(doc["id"], "push-1", MailStatus.PROPOSED, now + 41)["status"] == "PROPOSING"  # not its
    records.settle(doc["id"], "push-3", MailStatus.PROPOSED, now + 41, subject="見積依頼")
    assert records.claim(BOX, "abc", "push-4", now + 100, 30)[0] == Claim.DONE
    assert records.get(record_id(BOX, "abc"))["subject"] == "見積依頼"
    assert records.stalled(now + 200) == []


def test_open_a_case_binds_one_confirmation_until_it_is_decided(store):
    records = MailRecords(store.docs)
    now = time.time()
    _, doc = records.claim(BOX, "m1", "h", now, 30)
    records.settle(doc["id"], "h", MailStatus.PROPOSED, now)
    binding, _, first = records.bind(doc["id"], now, lambda d: confirmation("c1", now))
    assert binding == Binding.NEW and first["id"] == "c1"
    binding, _, again = records.bind(doc["id"], now + 1, lambda d: confirmation("c2", now))
    assert binding == Binding.PENDING and again["id"] == "c1"  # the second click gets the same one
    store.cancel_confirmation("c1", "tok-c1", now + 2)
    binding, _, fresh = records.bind(doc["id"], now + 3, lambda d: confirmation("c3", now + 3))
    assert binding == Binding.NEW and fresh["id"] == "c3"  # cancelled: a new click may ask again
    from ackflow.jobs.model import Job, StepState

    def job(c):
        return Job(id="j1", type="newcase", params=c.params, requester=ALICE, space=c.space, thread=None,
                   queue="ackflow-office", steps=(StepState("number"),), created_at=now, updated_at=now)

    store.confirm("c3", "tok-c3", now + 4, job)
    binding, _, made = records.bind(doc["id"], now + 5, lambda d: confirmation("c4", now + 5))
    assert binding == Binding.OPENED and made["id"] == "j1"
    expired_doc = records.claim(BOX, "m2", "h", now, 30)[1]
    records.bind(expired_doc["id"], now, lambda d: confirmation("c5", now, ttl=10))
    assert records.bind(expired_doc["id"], now + 20, lambda d: confirmation("c6", now + 20))[0] == Binding.NEW


def test_labels_due_and_clients_learnt_by_domain(store):
    records = MailRecords(store.docs)
    now = time.time()
    _, doc = records.claim(BOX, "m1", "h", now, 30)
    records.update(doc["id"], lambda d: {**d, "label_due": True, "updated_at": now})
    assert [r["id"] for r in records.label_due()] == [doc["id"]]
    records.update(doc["id"], lambda d: {**d, "label_due": False})
    assert records.label_due() == []
    assert records.client_for("acme.co.jp") is None
    records.learn_client("acme.co.jp", "ACME", now)
    assert records.client_for("ACME.co.jp") == "ACME"


def test_what_the_card_shows_is_written_by_its_holder_only_before_the_card_is_posted(store):
    records = MailRecords(store.docs)
    now = time.time()
    _, claimed = records.claim(BOX, "m-describe", "push-1", now, 4)
    described = records.describe(claimed["id"], "push-1", now, {"title": "見積依頼", "client_guess": "ACME"})
    assert described["status"] == MailStatus.PROPOSING.value and described["title"] == "見積依頼"
    assert records.get(claimed["id"])["client_guess"] == "ACME"
    # the lease ran out and another delivery took the mail: the first may not write, nor post
    records.claim(BOX, "m-describe", "sweep-2", now + 10, 4)
    assert records.describe(claimed["id"], "push-1", now + 11, {"title": "古い"}) is None
    assert records.get(claimed["id"])["title"] == "見積依頼"
