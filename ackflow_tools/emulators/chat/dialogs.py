"""Dialogs in the local Chat service, as the Chat client holds them: which dialog is open for whom,
and what an app's answer to a dialog event does to it.

An app opens a dialog only in answer to ``REQUEST_DIALOG`` (a slash command configured to open one,
or a button with ``interaction: OPEN_DIALOG``). To a ``SUBMIT_DIALOG`` it answers with the dialog
again (classic ``actionResponse.type DIALOG`` + ``dialogAction.dialog``; add-on ``pushCard`` /
``updateCard``), with a status that keeps it open (a non-OK ``actionStatus``; an add-on
``notification`` without navigation), or by closing it: an OK ``actionStatus`` / ``endNavigation``,
or a message, which is posted (classic ``NEW_MESSAGE``; add-on ``createMessageAction``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from google.apps import card_v1
from google.protobuf import json_format

from ..web import GoogleError
from .events import ADDON

CardPb = card_v1.Card.pb()


@dataclass
class OpenDialog:
    card: dict  # the dialog's body (a Cards v2 Card)
    format: str
    origin: dict | None = None  # the message it was opened from (a button's message, or none)
    opened_by: dict = field(default_factory=dict)


class DialogDesk:
    """The open dialog of each person in each space (a Chat client shows one at a time)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open: dict[tuple[str, str], OpenDialog] = {}

    def get(self, space: str, user: str) -> OpenDialog | None:
        with self.lock:
            return self.open.get((space, user))

    def put(self, space: str, user: str, dialog: OpenDialog) -> None:
        with self.lock:
            self.open[(space, user)] = dialog

    def close(self, space: str, user: str) -> OpenDialog | None:
        with self.lock:
            return self.open.pop((space, user), None)


def checked_card(card: object) -> dict:
    """A dialog's card, validated as Chat validates it (the Cards v2 protobuf)."""
    if not isinstance(card, dict):
        raise GoogleError("INVALID_ARGUMENT", "A dialog's body must be a card.")
    try:
        json_format.ParseDict(card, CardPb())
    except json_format.ParseError as exc:
        raise GoogleError("INVALID_ARGUMENT", f"Invalid dialog card. {exc}") from exc
    return card


def dialog_answer(body: dict, fmt: str) -> dict | None:
    """What a dialog answer does: ``{"action": "dialog", "dialog": card}`` (open, or draw it again),
    ``{"action": "dialog-closed", "notice": …}``, ``{"action": "dialog-error", "notice": …}`` (it
    stays open), or None when the answer is a message (the caller posts it; the dialog closes)."""
    if fmt == ADDON:
        action = body.get("action") or (body.get("renderActions") or {}).get("action") or {}
        notice = (action.get("notification") or {}).get("text", "")
        for navigation in action.get("navigations") or []:
            for key in ("pushCard", "updateCard"):
                if key in navigation:
                    return {"action": "dialog", "dialog": checked_card(navigation[key])}
            if "endNavigation" in navigation:
                return {"action": "dialog-closed", "notice": notice}
        if action:
            return {"action": "dialog-error", "notice": notice}
        return None
    response = body.get("actionResponse") or {}
    if response.get("type") != "DIALOG":
        return None
    dialog_action = response.get("dialogAction") or {}
    if "dialog" in dialog_action:
        return {"action": "dialog", "dialog": checked_card((dialog_action["dialog"] or {}).get("body"))}
    status = dialog_action.get("actionStatus")
    if isinstance(status, str):
        status = {"statusCode": status}
    status = status or {}
    code = status.get("statusCode", "OK")
    notice = status.get("userFacingMessage", "")
    if code in ("OK", 0):
        return {"action": "dialog-closed", "notice": notice}
    return {"action": "dialog-error", "notice": notice, "status": code}


def find_dialog_button(card: dict, label: str) -> dict | None:
    """The ``onClick.action`` of the dialog's button whose text is ``label`` (case-insensitive)."""
    from .userside import iter_buttons

    wanted = label.strip().lower()
    for button in iter_buttons({"cardsV2": [{"card": card}]}):
        if button.get("text", "").strip().lower() == wanted:
            return (button.get("onClick") or {}).get("action")
    return None
