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


def test_per_command_rules_replace_the_default_and_admins_pass():
    p = policy(allow_domains=["example.com"], command_access={"newcase": {"users": ["alice@example.com"]}},
               admins=["boss@example.com"])
    assert p.allows("newcase", "alice@example.com", "spaces/x")
    assert not p.allows("newcase", "bob@example.com", "spaces/x")
    assert p.allows("newcase", "boss@example.com", "spaces/x")
    assert p.may_decide("boss@example.com", "alice@example.com")
    assert not p.may_decide("bob@example.com", "alice@example.com")
    assert not p.may_decide("", "")
