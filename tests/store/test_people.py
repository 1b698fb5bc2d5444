"""What is known of each person (their last language and time zone), on every store backend."""

from __future__ import annotations

from ackflow.jobs.model import Confirmation, Requester
from ackflow.store.people import People


def test_a_person_is_remembered_and_a_part_left_out_keeps_its_value(store):
    people, other = People(store.docs), People(store.docs)  # two instances: no cache between them
    assert people.get("users/1").language == ""
    people.remember("users/1", "ja", "Asia/Tokyo", 10.0)
    people.remember("users/1", "ja", "Asia/Tokyo", 11.0)  # twice: the same
    assert (other.get("users/1").language, other.get("users/1").time_zone) == ("ja", "Asia/Tokyo")
    People(store.docs).remember("users/1", "en", "", 12.0)
    assert (People(store.docs).get("users/1").language, People(store.docs).get("users/1").time_zone) == (
        "en", "Asia/Tokyo")
    assert People(store.docs).get("users/2").language == ""


def test_names_that_are_not_chat_users_are_never_kept(store):
    people = People(store.docs)
    for name in ("", "users/", "users/a/b", "spaces/x", "users/" + "9" * 65, "__x__", "users/../../jobs/j1",
                 "users/__x__", "users/____"):  # Firestore refuses the ids __x__ and ____ (reserved)
        assert people.remember(name, "ja", "Asia/Tokyo", 1.0).language == ""
        assert people.get(name).language == ""


def test_a_confirmation_keeps_its_requesters_language(store):
    requester = Requester("users/1", "a@example.com", "A", "ja", "Asia/Tokyo")
    store.create_confirmation(Confirmation("c1", "t", "echo", {}, requester, "spaces/s", None, 1.0, 1000.0))
    assert store.get_confirmation("c1").requester == requester


def test_an_earlier_events_write_never_replaces_a_later_ones(store):
    """Two instances keep the same person's language (or one instance's thread lands late): the
    event of the later moment stands, whichever write lands last."""
    People(store.docs).remember("users/3", "en", "UTC", 30.0)
    People(store.docs).remember("users/3", "ja", "Asia/Tokyo", 20.0)  # an older event, written late
    assert (People(store.docs).get("users/3").language, People(store.docs).get("users/3").time_zone) == (
        "en", "UTC")


def test_two_events_of_one_person_kept_in_the_background_land_in_order(store):
    import threading

    people = People(store.docs)
    transaction, release = store.docs.transaction, threading.Event()

    def slow(fn):  # the first event's write is slow: the second waits for it, then lands
        release.wait(2)
        return transaction(fn)

    store.docs.transaction = slow
    people.remember_soon("users/4", "ja", "Asia/Tokyo", 40.0)
    threading.Timer(0.3, release.set).start()
    people.remember_soon("users/4", "en", "UTC", 41.0)
    people.settle()
    store.docs.transaction = transaction
    assert People(store.docs).get("users/4").language == "en"


def test_threads_that_kept_a_language_leave_no_connection_open(tmp_path):
    from ackflow.store.sqlite import SqliteDocuments

    docs = SqliteDocuments(tmp_path / "people.db")
    people = People(docs)
    for n in range(20):
        people.remember_soon(f"users/{n}", "ja", "Asia/Tokyo", 1.0)
        people.settle()
    assert len(docs._all) <= 1  # each thread's connection closed as it ended (at most this one's)
    assert People(docs).get("users/19").language == "ja"
    docs.close()


def test_a_request_kept_by_a_later_version_is_read(store):
    """A confirmation written by a version with more fields is read by this one (a rollback)."""
    from ackflow.jobs.model import Confirmation

    data = Confirmation("c9", "t", "echo", {}, Requester("users/1"), "spaces/s", None, 1.0, 1000.0).to_dict()
    assert Confirmation.from_dict({**data, "a_later_field": 1}).id == "c9"
