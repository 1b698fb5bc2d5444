"""A dialog in the terminal: drawn in a box (East Asian wide characters count two columns, so the
right edge stays straight under Japanese), and filled in from ``NAME=VALUE`` pairs as Chat's
``formInputs``."""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata

TAG_RE = re.compile(r"<[^>]+>")
ERROR_RE = re.compile(r"<font color=\"#b3261e\">", re.IGNORECASE)
# what a value typed by anyone may carry that would steer the terminal rather than be shown: bidi
# embeddings, overrides, isolates and marks (U+202E turns the rest of the line, border included,
# around), and C0/C1 controls (escape sequences, backspace, carriage return)
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def shown(text: str) -> str:
    """``text`` as a terminal may show it: tabs as a space, bidi and control characters gone."""
    return "".join(" " if char == "\t" else char for char in text
                   if char == "\t" or (char not in BIDI and unicodedata.category(char) != "Cc"))


def cell_width(text: str) -> int:
    """Terminal columns ``text`` takes: wide and full-width characters two, combining marks none."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Cf", "Mn", "Me"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns (with … when cut) and padded to exactly ``width``; what
    would steer the terminal (bidi overrides, controls) is dropped first (``shown``)."""
    text = shown(text)
    if cell_width(text) > width:
        out, used = "", 0
        for char in text:
            step = cell_width(char)
            if used + step > width - 1:
                break
            out, used = out + char, used + step
        text = out + "…"
    return text + " " * (width - cell_width(text))


def plain(text: str) -> str:
    return html.unescape(TAG_RE.sub("", re.sub(r"<br\s*/?>", "\n", text or "")))


def walk(widgets: list):
    for widget in widgets:
        if "columns" in widget:
            for column in widget["columns"].get("columnItems", []):
                yield from walk(column.get("widgets", []))
        else:
            yield widget


def lines_of(card: dict) -> list[str]:
    """The dialog as lines of text: its inputs with what they hold, errors (!), and buttons."""
    lines: list[str] = []
    for section in card.get("sections", []):
        if section.get("header"):
            lines.append(f"[{plain(section['header'])}]")
        for widget in walk(section.get("widgets", [])):
            if "textInput" in widget:
                item = widget["textInput"]
                lines.append(f"{item.get('label', '')} ({item['name']}): {item.get('value', '')}")
            elif "dateTimePicker" in widget:
                item = widget["dateTimePicker"]
                value = ""
                if item.get("valueMsEpoch"):
                    value = (dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=int(item["valueMsEpoch"]))).date()
                lines.append(f"{item.get('label', '')} ({item['name']}, YYYY-MM-DD): {value}")
            elif "selectionInput" in widget:
                item = widget["selectionInput"]
                chosen = [i["text"] for i in item.get("items", []) if i.get("selected")]
                offered = " / ".join(i["text"] for i in item.get("items", []) if i.get("value"))
                lines.append(f"{item.get('label', '')} ({item['name']}): {', '.join(chosen)}   ‹{offered}›")
            elif "textParagraph" in widget:
                text = widget["textParagraph"].get("text", "")
                mark = "! " if ERROR_RE.search(text) else ""
                lines += [mark + line for line in plain(text).splitlines()]
            elif "buttonList" in widget:
                lines.append("  ".join(f"[ {b.get('text', '?')} ]" for b in widget["buttonList"].get("buttons", [])))
    footer = card.get("fixedFooter", {})
    buttons = [footer[k] for k in ("secondaryButton", "primaryButton") if k in footer]
    if buttons:
        lines.append("  ".join(f"[ {b.get('text', '?')} ]" for b in buttons))
    return lines


def render_dialog(card: dict, width: int = 72) -> str:
    header = card.get("header", {})
    title = plain(header.get("title", "dialog"))
    if header.get("subtitle"):
        title += f" — {plain(header['subtitle'])}"
    inner = width - 4
    top = "┌─ " + fit(title, inner - 2).rstrip() + " "
    top += "─" * max(0, width - 1 - cell_width(top)) + "┐"
    body = [f"│ {fit(line, inner)} │" for line in lines_of(card)]
    return "\n".join([top, *body, "└" + "─" * (width - 2) + "┘"])


def inputs_of(card: dict) -> dict[str, dict]:
    """The dialog's inputs by name, with their kind and label."""
    found = {}
    for section in card.get("sections", []):
        for widget in walk(section.get("widgets", [])):
            for kind in ("textInput", "selectionInput", "dateTimePicker"):
                if kind in widget:
                    found[widget[kind]["name"]] = {"kind": kind, **widget[kind]}
    return found


def current_inputs(card: dict) -> dict:
    """What the dialog holds now, as ``formInputs`` (what a person who changes nothing submits)."""
    out = {}
    for name, item in inputs_of(card).items():
        if item["kind"] == "textInput" and item.get("value"):
            out[name] = {"stringInputs": {"value": [item["value"]]}}
        elif item["kind"] == "selectionInput":
            chosen = [i["value"] for i in item.get("items", []) if i.get("selected")]
            if chosen:
                out[name] = {"stringInputs": {"value": chosen}}
        elif item["kind"] == "dateTimePicker" and item.get("valueMsEpoch"):
            out[name] = {"dateInput": {"msSinceEpoch": str(item["valueMsEpoch"])}}
    return out


def fill(card: dict, values: dict[str, str]) -> dict:
    """``formInputs`` for the dialog: what it holds, with ``values`` (by input name or label) set."""
    inputs = inputs_of(card)
    by_label = {item.get("label", "").strip().lower(): name for name, item in inputs.items()}
    out = current_inputs(card)
    for key, value in values.items():
        name = key if key in inputs else by_label.get(key.strip().lower())
        if name is None:
            known = ", ".join(sorted(inputs))
            raise ValueError(f"the dialog has no input {key!r} (inputs: {known})")
        if inputs[name]["kind"] == "dateTimePicker":
            try:
                day = dt.date.fromisoformat(value)
            except ValueError as exc:
                raise ValueError(f"{key} is a date: write it YYYY-MM-DD, not {value!r}") from exc
            ms = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)
            out[name] = {"dateInput": {"msSinceEpoch": str(ms)}}
        else:
            out[name] = {"stringInputs": {"value": [value]}}
    return out


def line_inputs(card: dict) -> dict[str, list[list[str]]]:
    """Repeated parameters' lines: ``{"item": [["item.1.0", "item.1.1", …], …]}`` (by line)."""
    lines: dict[str, dict[int, list[str]]] = {}
    for name in inputs_of(card):
        match = re.fullmatch(r"([a-z_][a-z0-9_]*)\.(\d+)(?:\.(\d+))?", name)
        if match:
            lines.setdefault(match[1], {}).setdefault(int(match[2]), []).append(name)
    return {param: [sorted(found[n], key=lambda x: int(x.rsplit(".", 1)[-1])) for n in sorted(found)]
            for param, found in lines.items()}


def button_labels(card: dict) -> list[str]:
    labels = []
    for line in lines_of(card):
        labels += re.findall(r"\[ (.+?) \]", line)
    return labels
