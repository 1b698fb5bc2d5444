"""The English a Japanese reader would meet: the ASCII words of every text a message shows (its plain
text, card titles, labels, paragraphs, buttons, the notification's fallback), less what is meant to
be ASCII: ids, numbers, addresses, links, settings names, and the words a test allows by name."""

from __future__ import annotations

import html
import re

# what Chat shows of a message: the keys whose strings a person reads
SHOWN = {"text", "title", "subtitle", "topLabel", "bottomLabel", "label", "fallbackText", "hintText",
         "errorMessage"}
NOT_SHOWN = {"parameters", "sender", "thread", "space", "name", "cardId", "clientAssignedMessageId", "openLink"}

WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
MEANT = re.compile(
    r"https?://\S+"                    # links (buttons open them; a URL is not prose)
    r"|[\w.+-]+@[\w.-]+"               # addresses (whom to ask, a service account)
    r"|ACKFLOW_\w+"                    # a setting's name, which an administrator looks up
    r"|\b[\w-]*\d[\w-]*\b"             # anything with a digit: ids, case and invoice numbers, v1, INV-2026-0001
    r"|[\w-]+…"                        # a word cut short where a long text is cut (an id: jx…)
    r"|<[^>]+>")                       # Chat's markup (<b>, <br>, <font …>)


def shown_texts(message) -> list[str]:
    """Every string of ``message`` (a reply or a message of the space) a person reads."""
    found: list[str] = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                if k not in NOT_SHOWN:
                    walk(v, k)
        elif isinstance(node, list):
            for item in node:
                walk(item, key)
        elif isinstance(node, str) and key in SHOWN:
            found.append(html.unescape(node))

    walk(message)
    return found


def english_words(text: str, allowed: set[str]) -> list[str]:
    """The ASCII words of ``text`` that are not meant to be there."""
    return [w for w in WORD.findall(MEANT.sub(" ", html.unescape(MEANT.sub(" ", text)))) if w not in allowed]
