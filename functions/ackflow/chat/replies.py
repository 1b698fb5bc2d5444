"""Replies: what the app says, rendered for the format the event came in.

A synchronous answer is a new message or an update of the clicked message. Classic apps answer
with a Message (plus ``actionResponse`` to update); add-on apps wrap it in
``hostAppDataAction.chatDataAction.createMessageAction`` / ``updateMessageAction``. Messages sent
later through the Chat API are plain Messages.

A message's ``text`` is plain text too, but Chat reads its own markup there: ``<url|label>`` links,
``<users/…>`` mentions (``<users/all>`` notifies everyone) and, for apps set to Markdown,
``[label](url)`` links (and ``[label][ref]``, ``[ref]: url``). Chat has no escape for them, so
``<`` and ``>`` become their full-width twins (＜ ＞), and so does a ``]`` that would close a link
label (before ``(``, ``[`` or ``:``); these read the same to a person and mean nothing to Chat.
Brackets elsewhere (``[--times N]`` in a usage line) are kept. Bare URLs are still turned into
links by Chat, showing the address itself.

A message with a card also carries ``fallbackText``, a plain-text description of the card that
Chat shows where cards are not (phone notifications, screen readers) without repeating it above
the card as ``text`` would.

Dialogs (Chat's documented contract, both formats): ``DialogReply`` opens a dialog (classic
``actionResponse.type DIALOG`` with ``dialogAction.dialog.body``; add-on ``action.navigations``
``pushCard``) or draws it again, e.g. with errors next to its fields (``updateCard``);
``DialogClose`` closes it, posting a message if it has one (classic ``NEW_MESSAGE``; add-on
``createMessageAction``), else with a notification (``actionStatus`` / ``endNavigation``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .cards import Card, card_body, fallback_text, for_phone, render_card
from .events import EventFormat

_ANGLES = str.maketrans({"<": "＜", ">": "＞"})
_LINK_LABEL_END = re.compile(r"\](?=[(\[:])")


def plain_text(text: str) -> str:
    """``text`` as a message's text that Chat shows as written: no links, no mentions."""
    return _LINK_LABEL_END.sub("］", text.translate(_ANGLES))


@dataclass(frozen=True)
class Reply:
    text: str = ""
    card: Card | None = None
    update: bool = False  # replace the clicked message instead of posting a new one


def message_json(reply: Reply, fmt: EventFormat, endpoint_url: str) -> dict:
    message: dict = {}
    if reply.text:
        message["text"] = plain_text(reply.text)
    if reply.card is not None:
        message["cardsV2"] = [render_card(reply.card, fmt, endpoint_url)]
        message["fallbackText"] = plain_text(fallback_text(reply.card))
    if not message:
        message["text"] = " "
    return message


@dataclass(frozen=True)
class DialogReply:
    """Open a dialog with ``card`` (or, ``update``, draw the open dialog again)."""

    card: Card
    update: bool = False


@dataclass(frozen=True)
class DialogClose:
    """Close the dialog; post ``message`` (a new message in the space), or show ``notice``."""

    message: Reply | None = None
    notice: str = ""


Answer = Reply | DialogReply | DialogClose
PHONES = ("IOS", "ANDROID")


def for_platform(answer: Answer | None, platform: str) -> Answer | None:
    """``answer`` shortened for a phone (``common.platform`` IOS or ANDROID; see ``cards.for_phone``)."""
    if platform not in PHONES or answer is None:
        return answer
    if isinstance(answer, Reply) and answer.card is not None:
        return Reply(answer.text, for_phone(answer.card), answer.update)
    if isinstance(answer, DialogClose) and answer.message is not None:
        return DialogClose(for_platform(answer.message, platform), answer.notice)
    return answer


def _dialog_json(answer: DialogReply | DialogClose, fmt: EventFormat, endpoint_url: str) -> dict:
    addon = fmt == EventFormat.ADDON
    if isinstance(answer, DialogReply):
        body = card_body(answer.card, fmt, endpoint_url)
        if addon:
            return {"action": {"navigations": [{"updateCard" if answer.update else "pushCard": body}]}}
        return {"actionResponse": {"type": "DIALOG", "dialogAction": {"dialog": {"body": body}}}}
    if answer.message is not None:
        message = message_json(answer.message, fmt, endpoint_url)
        if addon:
            return {"hostAppDataAction": {"chatDataAction": {"createMessageAction": {"message": message}}}}
        return {**message, "actionResponse": {"type": "NEW_MESSAGE"}}
    notice = plain_text(answer.notice)
    if addon:
        action: dict = {"navigations": [{"endNavigation": {"action": "CLOSE_DIALOG"}}]}
        if notice:
            action["notification"] = {"text": notice}
        return {"action": action}
    status = {"statusCode": "OK", **({"userFacingMessage": notice} if notice else {})}
    return {"actionResponse": {"type": "DIALOG", "dialogAction": {"actionStatus": status}}}


def response_json(reply: Answer | None, fmt: EventFormat, endpoint_url: str) -> dict:
    """The body of the synchronous HTTP answer to a Chat event; ``{}`` says nothing."""
    if reply is None:
        return {}
    if isinstance(reply, (DialogReply, DialogClose)):
        return _dialog_json(reply, fmt, endpoint_url)
    message = message_json(reply, fmt, endpoint_url)
    if fmt == EventFormat.ADDON:
        action = "updateMessageAction" if reply.update else "createMessageAction"
        return {"hostAppDataAction": {"chatDataAction": {action: {"message": message}}}}
    if reply.update:
        message["actionResponse"] = {"type": "UPDATE_MESSAGE"}
    return message
