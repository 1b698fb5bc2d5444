"""A card message as plain text: what is written instead when Chat refuses the card itself.

Chat answers 400 to a message it does not take as written (a field it does not know, a limit the
app's own checks missed, a change on Chat's side). The job's result must still reach the person,
so the same content goes out once more as ``text`` only: the card's title, its text and fields,
and its link buttons as "label: URL" (Chat turns a bare URL into a link). Action buttons are left
out: text cannot carry them, and what they do is also a command. Read from the Cards v2 JSON (not
from the card model) so that every card the app sends, a job's or a mail's, has the same way out.
"""

from __future__ import annotations

import json
import logging
import re

from markupsafe import Markup

from ..errors import ChatRefused
from .client import ChatClient
from .replies import plain_text

log = logging.getLogger(__name__)

_BREAK = re.compile(r"<br\s*/?>|\n", re.IGNORECASE)
# Chat takes at most 32,000 bytes of a message (its JSON, as ``limits`` counts it); the text keeps
# a margin for the rest of the body. Counted in bytes after escaping: a character is up to 4 bytes
# in UTF-8 and a control character up to 6 in JSON, so no count of characters is safe.
MAX_TEXT_BYTES = 30_000


def text_of_cards(message: dict) -> str:
    """The plain text of the cards in ``message`` (Cards v2 JSON), one line per item."""
    lines: list[str] = []
    for item in message.get("cardsV2") or []:
        card = item.get("card") or {}
        header = card.get("header") or {}
        lines += [_plain(header.get(k)) for k in ("title", "subtitle") if header.get(k)]
        for section in card.get("sections") or []:
            if section.get("header"):
                lines.append(_html(section["header"]))
            for widget in section.get("widgets") or []:
                lines += _widget_lines(widget)
    return "\n".join(line for line in lines if line.strip())


def _widget_lines(widget: dict) -> list[str]:
    if "textParagraph" in widget:
        return [_html(widget["textParagraph"].get("text", ""))]
    if "decoratedText" in widget:
        decorated = widget["decoratedText"]
        label, value = _html(decorated.get("topLabel", "")), _html(decorated.get("text", ""))
        return [f"{label}: {value}" if label else value]
    if "buttonList" in widget:
        return [f"{_plain(b.get('text'))}: {link}" for b in widget["buttonList"].get("buttons") or []
                if (link := ((b.get("onClick") or {}).get("openLink") or {}).get("url"))]
    if "columns" in widget:
        return [line for column in widget["columns"].get("columnItems") or []
                for inner in column.get("widgets") or [] for line in _widget_lines(inner)]
    return []


def _html(text: str) -> str:
    """Chat's HTML subset as the text it shows: line breaks kept, tags out, entities read."""
    return "\n".join(Markup(part).striptags() for part in _BREAK.split(str(text)))


def _plain(text) -> str:
    return str(text or "")


def text_message(message: dict) -> dict:
    """``message`` with its cards replaced by their text, cut to fit Chat's size limit."""
    return {"text": fit(plain_text(text_of_cards(message) or " "))}


def fit(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """``text``, or its longest head that with "…" is at most ``limit`` bytes as JSON."""
    if _size(text) <= limit:
        return text
    low, high = 0, len(text)  # the head of ``low`` characters fits; that of ``high`` does not
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if _size(text[:middle] + "…") <= limit else (low, middle)
    return text[:low] + "…"


def _size(text: str) -> int:
    return len(json.dumps(text, ensure_ascii=False).encode())


def put_message_or_text(chat: ChatClient, space: str, message_id: str, message: dict, thread: str | None, *,
                        timeout: float | None = None) -> bool:
    """Write ``message``; if Chat refuses its cards (400), write their text instead. True when the
    cards were written, False when the text was. Raises as ``ChatClient.put_message`` does (the
    text's own refusal included)."""
    try:
        chat.put_message(space, message_id, message, thread, timeout=timeout)
        return True
    except ChatRefused as exc:
        if exc.status != 400 or not message.get("cardsV2"):
            raise
        log.error("Chat refused the card of %s in %s (%s); writing it as plain text instead", message_id, space, exc)
    chat.put_message(space, message_id, text_message(message), thread, timeout=timeout)
    return False
