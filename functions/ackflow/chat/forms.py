"""The inputs of a dialog (Cards v2 ``textInput``, ``dateTimePicker``, ``selectionInput``,
``columns``) and how their submitted values read back from ``formInputs``.

Labels, hints and item texts are plain text in Chat and are sent as they are; an input's ``name``
is what its value comes back under when the dialog is submitted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from markupsafe import Markup

from .cards import Text, Widget, widget_json
from .events import EventFormat, FormInput

ERROR_COLOR = "#b3261e"  # Material's error red, as Chat draws its own errors


@dataclass(frozen=True)
class TextInput:
    name: str
    label: str
    value: str = ""
    hint: str = ""
    multiline: bool = False

    def to_json(self, fmt: EventFormat, endpoint_url: str) -> dict:
        out = {"name": self.name, "label": self.label, "type": "MULTIPLE_LINE" if self.multiline else "SINGLE_LINE"}
        if self.value:
            out["value"] = self.value
        if self.hint:
            out["hintText"] = self.hint
        return {"textInput": out}


@dataclass(frozen=True)
class DateInput:
    """A date picker; Chat sends the chosen date as UTC midnight in ``dateInput.msSinceEpoch``."""

    name: str
    label: str
    value: dt.date | None = None

    def to_json(self, fmt: EventFormat, endpoint_url: str) -> dict:
        out: dict = {"name": self.name, "label": self.label, "type": "DATE_ONLY"}
        if self.value is not None:
            out["valueMsEpoch"] = str(date_ms(self.value))
        return {"dateTimePicker": out}


@dataclass(frozen=True)
class Choice:
    """A selection: a dropdown (or check boxes, ``multiple``) of ``(value, text)`` items."""

    name: str
    label: str
    items: tuple[tuple[str, str], ...]
    selected: tuple[str, ...] = ()
    kind: str = "DROPDOWN"  # DROPDOWN, RADIO_BUTTON, CHECK_BOX, SWITCH

    def to_json(self, fmt: EventFormat, endpoint_url: str) -> dict:
        items = [{"text": text, "value": value, "selected": value in self.selected} for value, text in self.items]
        return {"selectionInput": {"name": self.name, "label": self.label, "type": self.kind, "items": items}}


@dataclass(frozen=True)
class Columns:
    """Two columns side by side (Chat's limit), wrapped one under the other on a narrow screen."""

    left: tuple[Widget, ...]
    right: tuple[Widget, ...]

    def to_json(self, fmt: EventFormat, endpoint_url: str) -> dict:
        return {"columns": {"columnItems": [
            {"horizontalSizeStyle": "FILL_AVAILABLE_SPACE", "horizontalAlignment": "START",
             "verticalAlignment": "TOP", "widgets": [widget_json(w, fmt, endpoint_url) for w in column]}
            for column in (self.left, self.right)]}}


def error_text(*messages: str) -> Text:
    """An error shown next to the field it is about (Chat has no error state for inputs); several
    are shown one under another in the one widget."""
    return Text(Markup('<font color="{}">{}</font>').format(ERROR_COLOR, Markup("<br>").join(messages)))


def date_ms(value: dt.date) -> int:
    return int(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp() * 1000)


def ms_date(ms: int) -> dt.date:
    """The date a date picker sent (UTC midnight of it; a date-time picker's moment, its UTC day)."""
    return (dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=ms)).date()


def first(form: dict[str, FormInput], name: str) -> str | None:
    """The text of a single-value input, None when the form did not send it."""
    item = form.get(name)
    if item is None:
        return None
    if item.ms is not None:
        return ms_date(item.ms).isoformat()
    return item.values[0] if item.values else ""
