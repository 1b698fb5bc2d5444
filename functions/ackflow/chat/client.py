"""The ChatClient port: how the worker speaks in a thread after the synchronous answer."""

from __future__ import annotations

from typing import Protocol


class ChatClient(Protocol):
    def put_message(self, space: str, message_id: str, message: dict, thread: str | None, *,
                    timeout: float | None = None) -> None:
        """Create or replace the app's message ``message_id`` (a client-assigned ``client-…`` id).

        Idempotent: the same call twice leaves one message with this content, so a retried step
        never posts twice. One attempt, no retries of its own: the caller (app/notify.py) retries,
        checking before each attempt that the write is still wanted and within the space's budget.
        Raises ChatRateLimited on a 429 (with the wait Chat named, if any), ChatUnavailable when
        Chat cannot be reached or answers 5xx, and ChatRefused when Chat says no for good (no such
        space, the app is not a member).
        """
