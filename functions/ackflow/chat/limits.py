"""Google Chat's documented limits on what an app sends, checked on the JSON we send.

From the Chat API and Cards v2 references: a message (text and cards) is at most 32,000 bytes; a
card, in a message or a dialog, holds at most 100 widgets (the rest are silently dropped, so a
card past it loses its buttons); a ``columns`` widget has at most 2 columns and does not hold
another; a fixed footer is for dialogs only; a link opens an http(s) URL. The views keep within
them by construction; ``tests/core/test_card_limits.py`` builds every card the app can send, with
the largest and most hostile data, and checks it here.
"""

from __future__ import annotations

import json

MAX_MESSAGE_BYTES = 32_000
MAX_WIDGETS = 100
MAX_COLUMNS = 2
MAX_URL = 4_096  # a link we make (Chat documents none; browsers take far more)


def message_problems(message: dict) -> list[str]:
    """What in a Chat message (its JSON as sent) breaks Chat's limits; empty when nothing does."""
    found = []
    size = len(json.dumps(message, ensure_ascii=False).encode())
    if size > MAX_MESSAGE_BYTES:
        found.append(f"the message is {size:,} bytes (Chat takes at most {MAX_MESSAGE_BYTES:,})")
    for item in message.get("cardsV2") or []:
        found += [f"card {item.get('cardId', '?')}: {p}" for p in card_problems(item.get("card") or {})]
    return found


def card_problems(card: dict, dialog: bool = False) -> list[str]:
    """What in one Cards v2 card (a message's, or a dialog's body) breaks Chat's limits."""
    found = []
    widgets = [w for section in card.get("sections") or [] for w in section.get("widgets") or []]
    count = _count(widgets, found, nested=False)
    if count > MAX_WIDGETS:
        found.append(f"{count} widgets (a card shows at most {MAX_WIDGETS})")
    if "fixedFooter" in card and not dialog:
        found.append("a fixed footer outside a dialog")
    footer = card.get("fixedFooter") or {}
    for button in [footer[k] for k in ("primaryButton", "secondaryButton") if k in footer]:
        _button(button, found)
    return found


def _count(widgets: list, found: list[str], nested: bool) -> int:
    count = 0
    for widget in widgets:
        count += 1
        columns = widget.get("columns")
        if columns is not None:
            if nested:
                found.append("columns inside columns")
            items = columns.get("columnItems") or []
            if len(items) > MAX_COLUMNS:
                found.append(f"{len(items)} columns (at most {MAX_COLUMNS})")
            for item in items:
                count += _count(item.get("widgets") or [], found, nested=True)
        for button in (widget.get("buttonList") or {}).get("buttons") or []:
            _button(button, found)
    return count


def _button(button: dict, found: list[str]) -> None:
    link = ((button.get("onClick") or {}).get("openLink") or {}).get("url")
    if link is not None and (not link.startswith(("https://", "http://")) or len(link) > MAX_URL):
        found.append(f"a link button to {link[:80]!r} (an http(s) URL of at most {MAX_URL} characters)")
    if not button.get("text"):
        found.append("a button without a label")
