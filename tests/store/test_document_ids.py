"""Ids no document can have, on every backend: Firestore names a document by a path, so an id with
a ``/`` (``spaces/AAAA``) is a path of another length (the client raises ValueError) or another
document (``a/b/c``: a subcollection's), and ``.``, ``..``, ``__x__``, an empty id or one over
1,500 bytes are refused (INVALID_ARGUMENT, which read as "the store is unavailable" asked the queue
to try for ever). SQLite takes them all. A pressed button or a typed word that names such an id is
a document that does not exist, the same on both (found by ``benchmarks/fuzz.py --store
firestore``: a press on a mail card whose mail id was ``spaces/AAAA{{7*7}}`` raised in the handler,
answered with the apology); writing one is refused on both, before anything is sent."""

from __future__ import annotations

import pytest

from ackflow.errors import DocumentRefused, StoreUnavailable
from ackflow.store.documents import storable_id
from workers.office.mail.records import MailRecords

NO_DOCUMENT = ("spaces/AAAA{{7*7}}", "a/b", "a/b/c", "/", "x/", ".", "..", "", "__x__", "____", "__name__",
               "é" * 751, "a" * 1501)
FINE = ("a", "_", "__", "___", "__a", "a__", ".a", "a.", "...", "a b", "金型", "é" * 750, "a" * 1500)


def test_what_firestore_names_a_document_by():
    assert not any(storable_id(i) for i in NO_DOCUMENT)
    assert all(storable_id(i) for i in FINE)
    assert not storable_id(None) and not storable_id(7) and not storable_id("\ud800")


def test_an_id_no_document_can_have_is_a_document_that_does_not_exist(store):
    docs = store.docs
    docs.transaction(lambda tx: tx.set("mail", "a", {"n": 1}))
    for doc_id in NO_DOCUMENT:
        assert docs.get("mail", doc_id) is None, doc_id
        assert docs.transaction(lambda tx, i=doc_id: tx.get("mail", i)) is None, doc_id
        docs.transaction(lambda tx, i=doc_id: tx.delete("mail", i))  # not there: nothing to remove
    assert MailRecords(docs).get("spaces/AAAA{{7*7}}") is None
    assert docs.get("mail", "a") == {"n": 1}


@pytest.mark.parametrize("write", ["create", "set"])
def test_writing_an_id_no_document_can_have_is_refused_before_anything_is_sent(store, write):
    for doc_id in NO_DOCUMENT:
        with pytest.raises(ValueError, match="not a document id"):
            store.docs.transaction(lambda tx, i=doc_id: getattr(tx, write)("mail", i, {"n": 1}))
    assert store.docs.query("mail", [], "n", False, 10) == []


def _nested(depth: int):
    value: object = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


REFUSED = {  # what Firestore (the emulator too) refuses in a document, and SQLite took
    "over 1 MiB": {"text": "あ" * 360_000},
    "maps nested past 20": {"params": _nested(21)},
    "an array in an array": {"params": {"rows": [["a", "b"], ["c", "d"]]}},
    "an empty field name": {"params": {"": "x"}},
    "a reserved field name": {"params": {"__x__": "x"}},
    "a field name over 1,500 bytes": {"params": {"é" * 751: "x"}},
    "a field path over 1,500 bytes": {"params": {"a" * 1499: "x"}},  # params.aaa…
    "an integer beyond 64 bits": {"n": 2**63},
}
TAKEN = {"params": {"text": "あ" * 340_000, "rows": [{"a": ["b"]}], "a" * 1400: "x", "_x_": 1, "n": 2**63 - 1},
         "a" * 1498: "x", "deep": _nested(20)}


@pytest.mark.parametrize("what", sorted(REFUSED))
def test_a_document_firestore_refuses_is_refused_for_good_on_every_backend_never_as_the_store_unavailable(
        store, what):
    """Firestore's INVALID_ARGUMENT was read as the store unavailable (a 503: the queue retries for
    ever); what the client library refuses itself (an empty field name, deep nesting) escaped as
    its own ValueError or a protobuf DecodeError. SQLite took it all, so nothing found it there."""
    docs = store.docs
    with pytest.raises(DocumentRefused) as refused:
        docs.transaction(lambda tx: tx.set("jobs", "j1", REFUSED[what]))
    assert not isinstance(refused.value, StoreUnavailable)
    with pytest.raises(DocumentRefused):
        docs.transaction(lambda tx: tx.create("jobs", "j1", REFUSED[what]))
    assert docs.get("jobs", "j1") is None
    docs.transaction(lambda tx: tx.set("jobs", "j1", TAKEN))  # just within every limit: taken
    assert docs.get("jobs", "j1") == TAKEN
