"""What Chat would obey in a message the app sends: tags in the card fields Chat reads as HTML, and
links or mentions in the message's text. The app's own markup is ``<b>`` and ``<br>``; anything
else live there came from someone's text."""

from __future__ import annotations

import re

OURS = {"b", "br"}
TAG = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9]*)")
CHAT_TEXT_MARKUP = re.compile(r"<(?:https?:|mailto:|users/)|\][(\[:]")

HOSTILE = ('<a href="https://example.net">Verify your account</a>',
           "<https://example.net|Verify your account>", "<users/all>", "[Verify your account](https://example.net)",
           '<font color="#ff0000">URGENT</font>', "<img src=x onerror=alert(1)>")


def _html_fields(message: dict):
    for card in message.get("cardsV2") or []:
        for section in (card.get("card") or {}).get("sections") or []:
            if section.get("header"):
                yield "section header", section["header"]
            for widget in section.get("widgets") or []:
                if "textParagraph" in widget:
                    yield "textParagraph", widget["textParagraph"].get("text", "")
                if "decoratedText" in widget:
                    item = widget["decoratedText"]
                    yield "decoratedText.topLabel", item.get("topLabel", "")
                    yield "decoratedText", item.get("text", "")


def live_markup(message: dict) -> list[str]:
    """Every piece of markup Chat would obey in ``message`` that the app did not mean."""
    found = []
    for where, text in _html_fields(message):
        found += [f"{where}: <{m.group(1)}" for m in TAG.finditer(text) if m.group(1).lower() not in OURS]
    text = message.get("text") or ""
    found += [f"text: {m.group(0)}" for m in CHAT_TEXT_MARKUP.finditer(text)]
    return found


def message_of(body: dict) -> dict:
    """The message inside a synchronous answer, in either event format (``{}`` if none)."""
    action = (body.get("hostAppDataAction") or {}).get("chatDataAction") or {}
    for key in ("createMessageAction", "updateMessageAction"):
        if key in action:
            return action[key].get("message") or {}
    return body
