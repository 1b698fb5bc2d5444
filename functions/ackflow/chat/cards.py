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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup, escape

from .events import EventFormat

Html = str | Markup  # plain text (escaped when rendered) or markup we wrote


@dataclass(frozen=True)
class Button:
    text: str
    action: str
    params: dict[str, str] = field(default_factory=dict)
    filled: bool = False


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


Widget = Text | Field | Buttons


@dataclass(frozen=True)
class Section:
    widgets: tuple[Widget, ...]
    header: Html = ""


@dataclass(frozen=True)
class Card:
    card_id: str
    title: str
    sections: tuple[Section, ...] = ()
    subtitle: str = ""

    def buttons(self) -> list[Button]:
        return [b for s in self.sections for w in s.widgets if isinstance(w, Buttons) for b in w.buttons]


def html(text: Html) -> str:
    """Chat's HTML subset for ``text``: plain text escaped, Markup kept as written."""
    return str(escape(text))


def _button(button: Button, fmt: EventFormat, endpoint_url: str) -> dict:
    params = dict(button.params)
    if fmt == EventFormat.ADDON:
        function = endpoint_url
        params = {"actionName": button.action, **params}
    else:
        function = button.action
    out = {
        "text": button.text,
        "onClick": {"action": {"function": function,
                               "parameters": [{"key": k, "value": str(v)} for k, v in params.items()]}},
    }
    if button.filled:
        out["type"] = "FILLED"
    return out


def _widget(widget: Widget, fmt: EventFormat, endpoint_url: str) -> dict:
    if isinstance(widget, Text):
        return {"textParagraph": {"text": html(widget.text)}}
    if isinstance(widget, Field):
        return {"decoratedText": {"topLabel": html(widget.label), "text": html(widget.value), "wrapText": True}}
    return {"buttonList": {"buttons": [_button(b, fmt, endpoint_url) for b in widget.buttons]}}


def render_card(card: Card, fmt: EventFormat, endpoint_url: str) -> dict:
    header = {"title": card.title}
    if card.subtitle:
        header["subtitle"] = card.subtitle
    sections = []
    for section in card.sections:
        body: dict = {"widgets": [_widget(w, fmt, endpoint_url) for w in section.widgets]}
        if section.header:
            body["header"] = html(section.header)
        sections.append(body)
    return {"cardId": card.card_id, "card": {"header": header, "sections": sections}}
