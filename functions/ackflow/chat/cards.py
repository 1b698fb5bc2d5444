"""A small card model (what Ackflow shows) and its Cards v2 JSON (what Chat renders).

Buttons name an action and parameters. In a classic app the action is the button's
``function``; in a Workspace add-on the function must be the endpoint URL, so the action travels
as the ``actionName`` parameter instead. Both are produced here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .events import EventFormat


@dataclass(frozen=True)
class Button:
    text: str
    action: str
    params: dict[str, str] = field(default_factory=dict)
    filled: bool = False


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class Buttons:
    buttons: tuple[Button, ...]


Widget = Text | Field | Buttons


@dataclass(frozen=True)
class Section:
    widgets: tuple[Widget, ...]
    header: str = ""


@dataclass(frozen=True)
class Card:
    card_id: str
    title: str
    sections: tuple[Section, ...] = ()
    subtitle: str = ""

    def buttons(self) -> list[Button]:
        return [b for s in self.sections for w in s.widgets if isinstance(w, Buttons) for b in w.buttons]


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
        return {"textParagraph": {"text": widget.text}}
    if isinstance(widget, Field):
        return {"decoratedText": {"topLabel": widget.label, "text": widget.value, "wrapText": True}}
    return {"buttonList": {"buttons": [_button(b, fmt, endpoint_url) for b in widget.buttons]}}


def render_card(card: Card, fmt: EventFormat, endpoint_url: str) -> dict:
    header = {"title": card.title}
    if card.subtitle:
        header["subtitle"] = card.subtitle
    sections = []
    for section in card.sections:
        body: dict = {"widgets": [_widget(w, fmt, endpoint_url) for w in section.widgets]}
        if section.header:
            body["header"] = section.header
        sections.append(body)
    return {"cardId": card.card_id, "card": {"header": header, "sections": sections}}
