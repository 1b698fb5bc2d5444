"""Reading and filling the dialogs the app opens, as a person would in Chat: the inputs of a dialog
card by name, and ``formInputs`` in Chat's shape."""

from __future__ import annotations

import datetime as dt
import json


def widgets(card: dict):
    """Every widget of a card, columns opened up, in order."""
    def walk(items):
        for widget in items:
            yield widget
            for column in widget.get("columns", {}).get("columnItems", []):
                yield from walk(column.get("widgets", []))

    for section in card.get("sections", []):
        yield from walk(section.get("widgets", []))


def inputs_of(card: dict) -> dict[str, dict]:
    """The inputs of a dialog card by name (textInput, selectionInput, dateTimePicker)."""
    found = {}
    for widget in widgets(card):
        for kind in ("textInput", "selectionInput", "dateTimePicker"):
            if kind in widget:
                found[widget[kind]["name"]] = {"kind": kind, **widget[kind]}
    return found


def value_of(fields: dict[str, dict], name: str) -> str:
    """What an input holds: a text input's value, a selection's selected item."""
    field = fields[name]
    if field["kind"] == "selectionInput":
        return next((i["value"] for i in field.get("items", []) if i.get("selected")), "")
    return field.get("value", "")


def errors_after(card: dict) -> dict[str, str]:
    """Error texts of a dialog, by the input they follow ("" for one above every input)."""
    found, last = {}, ""
    for widget in widgets(card):
        for kind in ("textInput", "selectionInput", "dateTimePicker"):
            if kind in widget:
                last = widget[kind]["name"]
        text = widget.get("textParagraph", {}).get("text", "")
        if "<font color" in text:
            found[last] = text
    return found


def form_inputs(values: dict) -> dict:
    """``{"name": "text" | date | [values]}`` as Chat's ``formInputs``."""
    out = {}
    for name, value in values.items():
        if isinstance(value, dt.date):
            ms = int(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp() * 1000)
            out[name] = {"dateInput": {"msSinceEpoch": str(ms)}}
        elif isinstance(value, list):
            out[name] = {"stringInputs": {"value": value}}
        else:
            out[name] = {"stringInputs": {"value": [value]}}
    return out


def text(card: dict) -> str:
    import html

    return html.unescape(json.dumps(card, ensure_ascii=False))


def filled_in(card: dict, changes: dict | None = None) -> dict:
    """The ``formInputs`` a Chat client sends from this dialog: what each input shows, with
    ``changes`` (``{"name": "text" | date}``) typed over it."""
    values: dict = {}
    for name, field in inputs_of(card).items():
        if field["kind"] == "dateTimePicker":
            if field.get("valueMsEpoch"):
                values[name] = dt.datetime.fromtimestamp(int(field["valueMsEpoch"]) / 1000, dt.UTC).date()
        else:
            values[name] = value_of(inputs_of(card), name)
    values.update(changes or {})
    return form_inputs(values)
