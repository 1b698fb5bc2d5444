"""The Mailbox port: what the office workflow needs from a mailbox, in its own types.

A mailbox has a history: every change has an id that only grows. ``changes(start)`` returns the
mails added after ``start`` and the id to continue from; an id the mailbox no longer knows raises
``HistoryGone`` (the caller then re-scans recent mail). Mails are read as a structure (headers,
text, attachment sizes) without their attachments, which are fetched one by one when a case is
opened. Adapter: Gmail (``gmail.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ackflow.errors import AckflowError, PermanentError, TransientError


class HistoryGone(AckflowError):
    """The stored history id is older than the mailbox remembers (Gmail answers 404)."""


class AccessRefused(PermanentError):
    """The mailbox refuses us (delegation, scopes): a setting to fix, never a reason to skip a mail."""


class MailboxThrottled(TransientError):
    """The mailbox's usage limits (Gmail's 403 ``userRateLimitExceeded``, 429): a wait, never a
    reason to give a mail up as unreadable."""


class MailGone(AckflowError):
    """The mail was deleted from the mailbox."""


@dataclass(frozen=True)
class Part:
    """One leaf of a mail's MIME tree. ``data`` holds the bytes of text parts (decoded from their
    transfer encoding, not from their charset); attachments carry a ``handle`` to fetch them by."""

    part_id: str
    mime_type: str
    filename: str = ""
    size: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    data: bytes | None = None
    handle: str = ""

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")


@dataclass(frozen=True)
class Mail:
    id: str
    history_id: str
    size: int
    received_at: float  # seconds since the epoch
    headers: tuple[tuple[str, str], ...]
    parts: tuple[Part, ...]
    labels: tuple[str, ...] = ()
    truncated: bool = False  # the tree was deeper or wider than we read
    notes: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    def all_headers(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


@dataclass(frozen=True)
class Changes:
    added: tuple[str, ...]  # mail ids, oldest first, each once
    history_id: str  # where to continue from once ``added`` is handled
    complete: bool = True  # False: more changes remain after history_id


@dataclass(frozen=True)
class Watch:
    history_id: str
    expires_at: float


class Mailbox(Protocol):
    address: str

    def watch(self, topic: str) -> Watch:
        """Ask for notifications of new mail on ``topic``; renews an existing watch. Idempotent."""

    def current_history(self) -> str:
        """The mailbox's history id now (a start for ``changes`` that skips everything so far)."""

    def changes(self, start: str, limit: int) -> Changes:
        """Mails added to the inbox after ``start``, at most ``limit``; HistoryGone if ``start`` is
        no longer known."""

    def recent(self, days: int, limit: int, after: float = 0) -> list[str]:
        """Ids of inbox mails of the last ``days`` days (and received at or after ``after``, epoch
        seconds, when given), oldest first, at most ``limit`` (newest kept)."""

    def get(self, mail_id: str) -> Mail:
        """The mail's headers, text and attachment sizes (no attachment data). MailGone if deleted."""

    def raw(self, mail_id: str) -> bytes:
        """The mail as received (RFC 822 bytes, attachments included)."""

    def attachment(self, mail_id: str, handle: str) -> bytes:
        """One attachment's bytes."""

    def add_labels(self, mail_id: str, add: list[str], remove: list[str] = ()) -> None:
        """Put labels (by name; created if missing) on the mail and take others off. Idempotent."""
