"""A small card model (what Ackflow shows) and its Cards v2 JSON (what Chat renders).

Buttons name an action and parameters. In a classic app the action is the button's
``function``; in a Workspace add-on the function must be the endpoint URL, so the action travels
as the ``actionName`` parameter instead. Both are produced here and nowhere else.

Text is plain by default. The fields Chat reads as its HTML subset (``textParagraph.text``,
``decoratedText.text`` and ``topLabel``, a section's ``header``) are HTML-escaped when the card is
rendered, so what a person typed or a job fetched is shown, never obeyed: ``<a href=…>`` arrives as
text, not as a link. Markup we mean (bold command names, line breaks) is passed as
``markupsafe.Markup``, built with ``Markup.format`` so that the values it interpolates are
escaped too. Header titles and button labels are plain text in Chat and are sent as they are.

A button either runs an action (``action``, optionally opening a dialog) or opens a link (``url``,
``openLink``: how a phone reaches a folder, a sheet row or a PDF). Dialog inputs are widgets of
``chat/forms.py``: any widget with a ``to_json(fmt, endpoint_url)`` renders itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from markupsafe import Markup, escape

from .events import EventFormat

Html = str | Markup  # plain text (escaped when rendered) or markup we wrote


@dataclass(frozen=True)
class Button:
    text: str
    action: str = ""
    params: dict[str, str] = field(default_factory=dict)
    filled: bool = False
    url: str = ""  # an openLink button (http or https only)
    open_dialog: bool = False  # the action opens a dialog (interaction OPEN_DIALOG)

    def __post_init__(self) -> None:
        if bool(self.url) == bool(self.action):
            raise ValueError("a button has either an action or a url")
        if self.url and not self.url.startswith(("https://", "http://")):
            raise ValueError("a link button opens an http(s) URL")


@dataclass(frozen=True)
class Text:
    text: Html


@dataclass(frozen=True)
class Field:
    label: Html
    value: Html


@dataclass(frozen=True)
class Buttons:
    buttons: tuple[Button, ...]


class Custom(Protocol):
    """A widget that renders itself (the inputs of a dialog, columns)."""

    def to_json(self, fmt: EventFormat, endpoint_url: str) -> dict: ...


Widget = Text | Field | Buttons | Custom


@dataclass(frozen=True)
class Section:
    widgets: tuple[Widget, ...]
    header: Html = ""
    wide_only: bool = False  # left out on a phone (common.platform IOS or ANDROID): helpful, not needed


@dataclass(frozen=True)
class Card:
    card_id: str
    title: str
    sections: tuple[Section, ...] = ()
    subtitle: str = ""
    footer: Button | None = None  # a dialog's fixed footer (Chat shows fixed footers in dialogs only)

    def buttons(self) -> list[Button]:
        found = [b for s in self.sections for w in s.widgets if isinstance(w, Buttons) for b in w.buttons]
        return found + ([self.footer] if self.footer else [])


def html(text: Html) -> str:
    """Chat's HTML subset for ``text``: plain text escaped, Markup kept as written."""
    return str(escape(text))


def button_json(button: Button, fmt: EventFormat, endpoint_url: str) -> dict:
    if button.url:
        out = {"text": button.text, "onClick": {"openLink": {"url": button.url}}}
        if button.filled:
            out["type"] = "FILLED"
        return out
    params = dict(button.params)
    if fmt == EventFormat.ADDON:
        function = endpoint_url
        params = {"actionName": button.action, **params}
    else:
        function = button.action
    action = {"function": function, "parameters": [{"key": k, "value": str(v)} for k, v in params.items()]}
    if button.open_dialog:
        action["interaction"] = "OPEN_DIALOG"
    out = {"text": button.text, "onClick": {"action": action}}
    if button.filled:
        out["type"] = "FILLED"
    return out


def widget_json(widget: Widget, fmt: EventFormat, endpoint_url: str) -> dict:
    if isinstance(widget, Text):
        return {"textParagraph": {"text": html(widget.text)}}
    if isinstance(widget, Field):
        return {"decoratedText": {"topLabel": html(widget.label), "text": html(widget.value), "wrapText": True}}
    if isinstance(widget, Buttons):
        return {"buttonList": {"buttons": [button_json(b, fmt, endpoint_url) for b in widget.buttons]}}
    return widget.to_json(fmt, endpoint_url)


def card_body(card: Card, fmt: EventFormat, endpoint_url: str) -> dict:
    """The Cards v2 ``Card`` (a message's card, or a dialog's body)."""
    header = {"title": card.title}
    if card.subtitle:
        header["subtitle"] = card.subtitle
    sections = []
    for section in card.sections:
        body: dict = {"widgets": [widget_json(w, fmt, endpoint_url) for w in section.widgets]}
        if section.header:
            body["header"] = html(section.header)
        sections.append(body)
    out = {"header": header, "sections": sections}
    if card.footer is not None:
        out["fixedFooter"] = {"primaryButton": button_json(card.footer, fmt, endpoint_url)}
    return out


def render_card(card: Card, fmt: EventFormat, endpoint_url: str) -> dict:
    return {"cardId": card.card_id, "card": card_body(card, fmt, endpoint_url)}


def for_phone(card: Card) -> Card:
    """The card as a phone shows it best: without its subtitle and the sections only a wide screen
    needs (Chat on a phone has a narrow column, and a long card scrolls past its buttons)."""
    sections = tuple(s for s in card.sections if not s.wide_only)
    return Card(card.card_id, card.title, sections or card.sections[:1], "", card.footer)


def plain(text: Html) -> str:
    """What a card's text says, as plain text (the markup we wrote taken out)."""
    return Markup(str(text).replace("<br>", " ")).striptags() if isinstance(text, Markup) else str(text)


def fallback_text(card: Card, limit: int = 300) -> str:
    """A plain-text description of the card, for where cards are not shown (phone notifications,
    screen readers): its title, then its first lines of text."""
    parts = [card.title] + ([card.subtitle] if card.subtitle else [])
    for section in card.sections:
        for widget in section.widgets:
            if isinstance(widget, Text):
                parts.append(plain(widget.text))
            elif isinstance(widget, Field):
                parts.append(f"{plain(widget.label)}: {plain(widget.value)}")
    text = " · ".join(" ".join(p.split()) for p in parts if p.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"
