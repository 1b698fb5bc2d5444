"""The ChatClient port: how the worker speaks in a thread after the synchronous answer."""

from __future__ import annotations

from typing import Protocol


class ChatClient(Protocol):
    def put_message(self, space: str, message_id: str, message: dict, thread: str | None) -> None:
        """Create or replace the app's message ``message_id`` (a client-assigned ``client-…`` id).

        Idempotent: the same call twice leaves one message with this content, so a retried step
        never posts twice. Backs off on 429 and 5xx; raises ChatUnavailable when it gives up, and
        ChatRefused when Chat says no for good (no such space, the app is not a member).
        """
