"""Who may run what, where: allow-lists by user, email domain and space, per command and by default.

A command's own rule narrows the default, never widens it: a person must pass the default rule
and, for a command that has one, that command's rule too. Admins pass every rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..settings import Settings


@dataclass(frozen=True)
class Rule:
    users: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    spaces: frozenset[str] = frozenset()

    @classmethod
    def of(cls, users=(), domains=(), spaces=()) -> Rule:
        return cls(frozenset(u.lower() for u in users), frozenset(d.lower().lstrip("@") for d in domains),
                   frozenset(spaces))

    def allows(self, email: str, space: str) -> bool:
        email = email.lower()
        who = not (self.users or self.domains) or email in self.users or (
            "@" in email and email.rsplit("@", 1)[1] in self.domains)
        where = not self.spaces or space in self.spaces
        return who and where


class AccessPolicy:
    def __init__(self, default: Rule, per_command: dict[str, Rule], admins: frozenset[str], contact: str,
                 admins_only: frozenset[str] = frozenset()):
        self.default = default
        self.per_command = per_command
        self.admins = admins
        self.contact = contact
        self.admins_only = admins_only  # commands only admins may use (a job type's ``admins_only``)

    @classmethod
    def from_settings(cls, settings: Settings, admins_only: Iterable[str] = ()) -> AccessPolicy:
        default = Rule.of(settings.allow_users, settings.allow_domains, settings.allow_spaces)
        per_command = {name: Rule.of(rule.get("users", ()), rule.get("domains", ()), rule.get("spaces", ()))
                       for name, rule in settings.command_access.items()}
        admins = frozenset(a.lower() for a in settings.admins)
        contact = settings.access_contact or ", ".join(settings.admins)
        return cls(default, per_command, admins, contact, frozenset(admins_only))

    def is_admin(self, email: str) -> bool:
        return email.lower() in self.admins

    def allows(self, command: str, email: str, space: str) -> bool:
        return self.refused_by(command, email, space) is None

    def refused_by(self, command: str, email: str, space: str) -> str | None:
        """Which rule refuses: ``"default"`` (the app's allow-lists), ``"command"`` (the command's
        own, narrower rule), ``"admins"`` (a command for admins only), or None when the person may
        use the command there."""
        if self.is_admin(email):
            return None
        if command in self.admins_only:
            return "admins"
        if not self.default.allows(email, space):
            return "default"
        rule = self.per_command.get(command)
        if rule is not None and not rule.allows(email, space):
            return "command"
        return None

    def may_decide(self, email: str, requester_email: str) -> bool:
        """Run and Cancel on a card: the person who asked, or an admin."""
        return bool(email) and (email.lower() == requester_email.lower() or self.is_admin(email))
