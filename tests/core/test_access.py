"""Allow-lists by user, domain and space, per command, with admins."""

from __future__ import annotations

from ackflow.app.access import AccessPolicy
from ackflow.settings import Settings


def policy(**settings) -> AccessPolicy:
    return AccessPolicy.from_settings(Settings(**settings))


def test_everyone_when_nothing_is_configured():
    assert policy().allows("echo", "anyone@anywhere.test", "spaces/x")


def test_domains_users_and_spaces():
    p = policy(allow_domains=["example.com"], allow_users=["guest@partner.test"], allow_spaces=["spaces/office"])
    assert p.allows("echo", "Alice@Example.com", "spaces/office")
    assert p.allows("echo", "guest@partner.test", "spaces/office")
    assert not p.allows("echo", "alice@example.com", "spaces/other")
    assert not p.allows("echo", "eve@example.com.evil.test", "spaces/office")


def test_a_command_rule_narrows_the_default_and_admins_pass():
    p = policy(allow_domains=["example.com"], allow_spaces=["spaces/office", "spaces/other"],
               command_access={"newcase": {"users": ["alice@example.com", "guest@partner.test"],
                                           "spaces": ["spaces/office", "spaces/lobby"]}},
               admins=["boss@example.com"])
    assert p.allows("newcase", "alice@example.com", "spaces/office")
    assert not p.allows("newcase", "bob@example.com", "spaces/office")  # the command's rule narrows
    assert p.allows("echo", "bob@example.com", "spaces/office")  # other commands keep the default
    # a command's rule never widens the default: not a person outside it, nor a space outside it
    assert not p.allows("newcase", "guest@partner.test", "spaces/office")
    assert not p.allows("newcase", "alice@example.com", "spaces/lobby")
    assert not p.allows("newcase", "alice@example.com", "spaces/other")  # in the default, not the command's
    assert p.allows("newcase", "boss@example.com", "spaces/anywhere")
    assert p.refused_by("newcase", "bob@example.com", "spaces/office") == "command"
    assert p.refused_by("newcase", "guest@partner.test", "spaces/office") == "default"
    assert p.refused_by("newcase", "alice@example.com", "spaces/office") is None


def test_only_the_requester_or_an_admin_decides():
    p = policy(admins=["boss@example.com"])
    assert p.may_decide("boss@example.com", "alice@example.com")
    assert p.may_decide("Alice@example.com", "alice@example.com")
    assert not p.may_decide("bob@example.com", "alice@example.com")
    assert not p.may_decide("", "")


def test_a_command_for_admins_only_is_refused_to_everyone_else_and_not_offered():
    from ackflow.app.runtime import Runtime

    runtime = Runtime(Settings(admins=["boss@example.com"], store="sqlite",
                               job_types="workers.job_types:build_registry"))
    assert runtime.registry.get("correct").admins_only
    access = runtime.access
    assert access.refused_by("correct", "alice@example.com", "spaces/office") == "admins"
    assert access.refused_by("correct", "Boss@Example.com", "spaces/office") is None
    assert access.refused_by("cases", "alice@example.com", "spaces/office") is None


def test_run_asks_again_whether_the_person_may_use_the_command(tmp_path):
    """The card waited while access was narrowed (or Run came from a space the command is not
    for): Run refuses, says why, and runs nothing; a person still allowed runs it."""
    import time

    from ackflow.app.confirm import on_run
    from ackflow.app.runtime import Runtime
    from ackflow.chat.events import ChatEvent, ChatUser, EventFormat, EventKind
    from ackflow.jobs.model import Confirmation, Requester

    db = str(tmp_path / "jobs.db")
    now = time.time()
    alice = Requester("users/1", "alice@example.com", "Alice")
    Runtime(Settings(store="sqlite", sqlite_path=db)).store.create_confirmation(Confirmation(
        id="cnarrowed1", token="t0k3n", job_type="fail", params={"times": 1}, requester=alice,
        space="spaces/office", thread=None, created_at=now, expires_at=now + 600))
    narrowed = Runtime(Settings(store="sqlite", sqlite_path=db, admins=["boss@example.com"],
                                command_access={"fail": {"users": ["bob@example.com"]}}))

    def run(email: str):
        event = ChatEvent(kind=EventKind.CLICK, format=EventFormat.CLASSIC,
                          user=ChatUser("users/1", "Alice", email), space="spaces/office",
                          parameters={"confirmation": "cnarrowed1", "token": "t0k3n"}, action="run")
        return on_run(narrowed, event)

    refused = run("alice@example.com")
    assert "limited to certain people or spaces" in (refused.text or "")
    assert narrowed.store.list_jobs() == []  # nothing ran
    assert narrowed.store.get_confirmation("cnarrowed1").status.value == "PENDING"
    run("boss@example.com")  # an admin may still decide (and run) it
    assert [job.type for job in narrowed.store.list_jobs()] == ["fail"]
