"""Firestore may abort a transaction during its reads, not only at its commit: the emulator
answers a read with ABORTED "Transaction lock timeout." when another transaction holds the
document too long (seen in CI on the Chat write budget of a busy space), and production aborts
reads under contention. The client library runs a transaction again only when its commit aborts.

ABORTED is a ``Conflict`` in google-api-core, so it was reported as AlreadyExists, which the
worker reads as "another delivery holds this step" and acknowledges: the task was deleted while
nobody ran the step. The abort is injected into a real emulator transaction here, because the
emulator's lock timeout cannot be produced on demand."""

from __future__ import annotations

import pytest
from google.api_core import exceptions

from ackflow.errors import AlreadyExists, StoreUnavailable
from ackflow.store import firestore as firestore_backend

LOCK_TIMEOUT = "Transaction lock timeout."


def _add(amount: int, aborts: list[int]):
    """A transaction body adding ``amount``; its read is aborted as long as ``aborts[0] > 0``."""

    def body(tx):
        doc = tx.get("counters", "c")
        if aborts[0] > 0:
            aborts[0] -= 1
            raise exceptions.Aborted(LOCK_TIMEOUT)
        tx.set("counters", "c", {"n": doc["n"] + amount})

    return body


@pytest.fixture
def docs(firestore_emulator, monkeypatch):
    monkeypatch.setattr(firestore_backend, "READ_ABORT_PAUSE", (0, 0.01))
    docs = firestore_emulator.documents()
    docs.transaction(lambda tx: tx.set("counters", "c", {"n": 0}))
    return docs


def test_a_transaction_aborted_while_reading_runs_again_and_commits_once(docs):
    aborts = [firestore_backend.READ_ABORT_ATTEMPTS - 1]
    docs.transaction(_add(10, aborts))
    assert aborts == [0] and docs.get("counters", "c") == {"n": 10}


def test_lasting_contention_is_a_busy_store_never_an_existing_document(docs):
    aborts = [firestore_backend.READ_ABORT_ATTEMPTS]
    with pytest.raises(StoreUnavailable, match="too busy") as raised:
        docs.transaction(_add(10, aborts))
    assert not isinstance(raised.value, AlreadyExists)
    assert docs.get("counters", "c") == {"n": 0}  # nothing half-written


def test_a_document_that_exists_is_still_reported_as_existing(docs):
    with pytest.raises(AlreadyExists):
        docs.transaction(lambda tx: tx.create("counters", "c", {"n": 5}))
    assert docs.get("counters", "c") == {"n": 0}
