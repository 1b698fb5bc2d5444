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
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .cards import Card, render_card
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
    if not message:
        message["text"] = " "
    return message


def response_json(reply: Reply | None, fmt: EventFormat, endpoint_url: str) -> dict:
    """The body of the synchronous HTTP answer to a Chat event; ``{}`` says nothing."""
    if reply is None:
        return {}
    message = message_json(reply, fmt, endpoint_url)
    if fmt == EventFormat.ADDON:
        action = "updateMessageAction" if reply.update else "createMessageAction"
        return {"hostAppDataAction": {"chatDataAction": {action: {"message": message}}}}
    if reply.update:
        message["actionResponse"] = {"type": "UPDATE_MESSAGE"}
    return message
