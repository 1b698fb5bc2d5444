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
    for name in ("", "users/", "users/a/b", "spaces/x", "users/" + "9" * 65, "__x__", "users/../../jobs/j1"):
        assert people.remember(name, "ja", "Asia/Tokyo", 1.0).language == ""
        assert people.get(name).language == ""


def test_a_confirmation_keeps_its_requesters_language(store):
    requester = Requester("users/1", "a@example.com", "A", "ja", "Asia/Tokyo")
    store.create_confirmation(Confirmation("c1", "t", "echo", {}, requester, "spaces/s", None, 1.0, 1000.0))
    assert store.get_confirmation("c1").requester == requester
