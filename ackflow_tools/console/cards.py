"""Google Chat messages and Cards v2 as HTML, as Chat draws them: header, sections, text
paragraphs in Chat's HTML subset, decorated text, buttons (actions and links), dividers, images
(as links: the page loads nothing from another host), columns, and the inputs of dialogs (text,
selection, date and time).

Everything that comes from a message is escaped; the few tags of Chat's card HTML subset are
rebuilt from a parse (never passed through), links keep only http(s) and mailto targets.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from markupsafe import Markup, escape

SAFE_SCHEMES = ("http://", "https://", "mailto:")
COLOR_RE = re.compile(r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20}")  # fullmatch: a "$" lets a final newline in
SIMPLE_TAGS = {"b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "s": "s", "strike": "s", "del": "s",
               "ul": "ul", "ol": "ol", "li": "li", "code": "code", "time": "time"}


# Bidirectional controls (embeddings, overrides, isolates: CVE-2021-42574's "Trojan Source") turn
# the text after them around: "請求書\u202efdp.exe" reads as "請求書exe.pdf". Whatever a job, a
# person, a mail or a card says is shown with them named, not obeyed.
BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")


def visible_bidi(text):
    """``text`` (a str or Markup) with each bidirectional control shown as its code point."""
    if not isinstance(text, str) or not BIDI_RE.search(text):
        return text
    return type(text)(BIDI_RE.sub(lambda m: f"[U+{ord(m.group()):04X}]", text))


def safe_url(url: str | None) -> str | None:
    url = (url or "").strip()
    return url if url.lower().startswith(SAFE_SCHEMES) else None


class _Subset(HTMLParser):
    """Rebuild Chat's card HTML subset; anything else is shown as the text it is."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "br":
            self.out.append("<br>")
        elif tag in SIMPLE_TAGS:
            self._open(SIMPLE_TAGS[tag], "")
        elif tag == "font" and COLOR_RE.fullmatch(values.get("color") or ""):
            # the page's CSP refuses style attributes: console.js colours it (CSSOM is allowed)
            self._open("span", f' class="gc-color" data-color="{values["color"]}"')
        elif tag == "a" and safe_url(values.get("href")):
            self._open("a", f' href="{escape(safe_url(values["href"]))}" target="_blank" rel="noopener noreferrer"')
        else:
            self.out.append(str(escape(self.get_starttag_text() or "")))

    def _open(self, tag: str, attributes: str) -> None:
        self.out.append(f"<{tag}{attributes}>")
        self.open.append(tag)

    def handle_endtag(self, tag):
        wanted = {"font": "span"}.get(tag) or SIMPLE_TAGS.get(tag) or tag
        if wanted in self.open:
            while self.open:
                closing = self.open.pop()
                self.out.append(f"</{closing}>")
                if closing == wanted:
                    break
        elif tag != "br":
            self.out.append(str(escape(f"</{tag}>")))

    def handle_data(self, data):
        self.out.append(str(escape(data)))

    def result(self) -> str:
        return "".join(self.out) + "".join(f"</{tag}>" for tag in reversed(self.open))


def card_html(text: str | None) -> Markup:
    """Card text (Chat's HTML subset) as safe HTML; newlines are line breaks, as in Chat."""
    parser = _Subset()
    parser.feed((text or "").replace("\n", "<br>"))
    parser.close()
    return Markup(parser.result())


LINK_RE = re.compile(r"<(https?://[^|>\s]+)(?:\|([^>]*))?>")
FORMAT_RES = [(re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])"), "b"),
              (re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])"), "i"),
              (re.compile(r"(?<![\w~])~([^~\n]+)~(?![\w~])"), "s"),
              (re.compile(r"`([^`\n]+)`"), "code")]


def text_html(text: str | None) -> Markup:
    """A message's text with Chat's own formatting: *bold*, _italic_, ~strike~, `code`, and
    <url|label> links; everything else shown as typed."""
    pieces, last = [], 0
    for match in LINK_RE.finditer(text or ""):
        pieces.append(_formatted(text[last:match.start()]))
        url, label = match.group(1), match.group(2) or match.group(1)
        pieces.append(f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{escape(label)}</a>')
        last = match.end()
    pieces.append(_formatted((text or "")[last:]))
    return Markup("".join(pieces).replace("\n", "<br>"))


def _formatted(text: str) -> str:
    out = str(escape(text))
    for pattern, tag in FORMAT_RES:
        out = pattern.sub(lambda m, t=tag: f"<{t}>{m.group(1)}</{t}>", out)
    return out


# -- cards ------------------------------------------------------------------------------------------
# What a card of the wrong shape raises while drawn (a string where Chat wants an object, a date
# that is not a number). The local Chat service stores what an app writes without Google's
# checks, so one such message made every load of the browser chat a 500: it is drawn as a broken
# part instead (gc-unknown, as tests/console/test_app_cards.py looks for), and the rest as usual.
DRAW_ERRORS = (AttributeError, TypeError, ValueError, KeyError, IndexError, OverflowError, OSError)


def _broken(what: object, exc: Exception) -> str:
    return (f'<div class="gc-unknown" data-broken="{escape(str(what)[:40])}">'
            f'{escape(str(what)[:40])}: {escape(type(exc).__name__)}</div>')


class Renderer:
    """Cards v2 → HTML. ``message`` names the message a button belongs to (for its click); in a
    dialog, inputs become form fields and buttons submit the dialog."""

    def __init__(self, message: str = "", dialog: bool = False):
        self.message = message
        self.dialog = dialog

    def cards(self, cards_v2: list) -> Markup:
        return Markup("".join(self._item(item) for item in cards_v2 or [] if item))

    def _item(self, item: dict) -> str:
        try:
            return self.card(item.get("card") or {}, item.get("cardId", ""))
        except DRAW_ERRORS as exc:
            return _broken("cardsV2", exc)

    def card(self, card: dict, card_id: str = "") -> str:
        try:
            return visible_bidi(self._card(card, card_id))  # a dialog is drawn from here alone
        except DRAW_ERRORS as exc:
            return _broken("card", exc)

    def _card(self, card: dict, card_id: str) -> str:
        parts = [f'<div class="gc-card" data-card-id="{escape(card_id)}">']
        header = card.get("header") or {}
        if header.get("title") or header.get("subtitle"):
            parts.append('<div class="gc-card-header">')
            # plain text in Chat (not its HTML subset): a case's title is its card's subtitle, as written
            parts.append(f'<div class="gc-title">{escape(str(header.get("title") or ""))}</div>')
            if header.get("subtitle"):
                parts.append(f'<div class="gc-subtitle">{escape(str(header["subtitle"]))}</div>')
            parts.append("</div>")
        for section in card.get("sections") or []:
            parts.append(self.section(section))
        footer = card.get("fixedFooter") or {}
        buttons = [footer[k] for k in ("secondaryButton", "primaryButton") if k in footer]
        if buttons:
            parts.append(f'<div class="gc-footer">{self.buttons(buttons, primary=footer.get("primaryButton"))}</div>')
        parts.append("</div>")
        return "".join(parts)

    def section(self, section: dict) -> str:
        parts = ['<div class="gc-section">']
        if section.get("header"):
            parts.append(f'<div class="gc-section-header">{card_html(section["header"])}</div>')
        for widget in section.get("widgets") or []:
            parts.append(self.widget(widget))
        parts.append("</div>")
        return "".join(parts)

    def widget(self, widget: dict) -> str:
        try:
            return self._widget(widget)
        except DRAW_ERRORS as exc:
            return _broken(next(iter(widget), "widget") if isinstance(widget, dict) else "widget", exc)

    def _widget(self, widget: dict) -> str:
        if "textParagraph" in widget:
            return f'<div class="gc-text">{card_html(widget["textParagraph"].get("text"))}</div>'
        if "decoratedText" in widget:
            return self.decorated(widget["decoratedText"])
        if "buttonList" in widget:
            return f'<div class="gc-buttons">{self.buttons(widget["buttonList"].get("buttons") or [])}</div>'
        if "divider" in widget:
            return '<hr class="gc-divider">'
        if "image" in widget:
            # a link, not an <img>: the page loads nothing from another host (its CSP refuses it)
            url = safe_url(widget["image"].get("imageUrl"))
            alt = escape(widget["image"].get("altText") or "image")
            return (f'<div class="gc-image"><a href="{escape(url)}" target="_blank" rel="noopener noreferrer">'
                    f'🖼 {alt}</a></div>') if url else ""
        if "textInput" in widget:
            return self.text_input(widget["textInput"])
        if "selectionInput" in widget:
            return self.selection(widget["selectionInput"])
        if "dateTimePicker" in widget:
            return self.date_time(widget["dateTimePicker"])
        if "columns" in widget:
            columns = (widget["columns"].get("columnItems") or [])
            inner = "".join('<div class="gc-column">' + "".join(self.widget(w) for w in c.get("widgets") or [])
                            + "</div>" for c in columns)
            return f'<div class="gc-columns">{inner}</div>'
        if "chipList" in widget:
            chips = widget["chipList"].get("chips") or []
            return f'<div class="gc-buttons">{self.buttons(chips)}</div>'
        kind = next(iter(widget), "?")
        return f'<div class="gc-unknown">{escape(kind)}</div>'

    def decorated(self, item: dict) -> str:
        parts = ['<div class="gc-decorated"><div class="gc-decorated-body">']
        if item.get("topLabel"):
            parts.append(f'<div class="gc-top-label">{card_html(item["topLabel"])}</div>')
        parts.append(f'<div class="gc-decorated-text">{card_html(item.get("text"))}</div>')
        if item.get("bottomLabel"):
            parts.append(f'<div class="gc-bottom-label">{card_html(item["bottomLabel"])}</div>')
        parts.append("</div>")
        if "button" in item:
            parts.append(self.buttons([item["button"]]))
        parts.append("</div>")
        return "".join(parts)

    def buttons(self, buttons: list, primary: dict | None = None) -> str:
        return "".join(self.button(b, filled=b is primary) for b in buttons)

    def button(self, button: dict, filled: bool = False) -> str:
        label = button.get("text") or button.get("label") or "?"
        # Chat's button types (OUTLINED unless told); "if the color field is set, the type is forced to FILLED"
        kind = "FILLED" if filled or button.get("color") else button.get("type")
        style = "gc-button" + {"FILLED": " gc-filled", "FILLED_TONAL": " gc-tonal",
                               "BORDERLESS": " gc-borderless"}.get(kind, "")
        disabled = " disabled" if button.get("disabled") else ""
        on_click = button.get("onClick") or {}
        link = safe_url((on_click.get("openLink") or {}).get("url"))
        if link:
            return (f'<a class="{style} gc-link" href="{escape(link)}" target="_blank" '
                    f'rel="noopener noreferrer">{escape(label)}</a>')
        action = on_click.get("action")
        if action is None:
            return f'<button type="button" class="{style}" disabled>{escape(label)}</button>'
        data = escape(json.dumps(action, ensure_ascii=False))
        kind = "dialog-submit" if self.dialog else "click"
        return (f'<button type="button" class="{style}" data-{kind}="{escape(label)}" '
                f'data-message="{escape(self.message)}" data-action="{data}"{disabled}>{escape(label)}</button>')

    # -- dialog inputs ---------------------------------------------------------------------------
    def _label(self, name: str, label: str | None) -> str:
        return f'<label class="gc-label" for="gc-{escape(name)}">{escape(label or name)}</label>'

    def text_input(self, item: dict) -> str:
        name = item.get("name", "")
        value = escape(item.get("value", ""))
        attrs = f'id="gc-{escape(name)}" name="{escape(name)}" data-kind="text"'
        hint = f'<div class="gc-hint">{escape(item["hintText"])}</div>' if item.get("hintText") else ""
        if item.get("type") == "MULTIPLE_LINE":
            field = f'<textarea {attrs} rows="3">{value}</textarea>'
        else:
            field = f'<input type="text" {attrs} value="{value}">'
        return f'<div class="gc-input">{self._label(name, item.get("label"))}{field}{hint}</div>'

    def selection(self, item: dict) -> str:
        name = escape(item.get("name", ""))
        kind = item.get("type", "DROPDOWN")
        items = item.get("items") or []
        if kind in ("DROPDOWN", "MULTI_SELECT"):
            multiple = " multiple" if kind == "MULTI_SELECT" else ""
            options = "".join(f'<option value="{escape(i.get("value", ""))}"{" selected" if i.get("selected") else ""}>'
                              f'{escape(i.get("text", ""))}</option>' for i in items)
            field = f'<select id="gc-{name}" name="{name}" data-kind="select"{multiple}>{options}</select>'
        else:
            input_type = "radio" if kind == "RADIO_BUTTON" else "checkbox"
            field = "".join(
                f'<label class="gc-choice"><input type="{input_type}" name="{name}" data-kind="select" '
                f'value="{escape(i.get("value", ""))}"{" checked" if i.get("selected") else ""}> '
                f'{escape(i.get("text", ""))}</label>' for i in items)
        return f'<div class="gc-input">{self._label(item.get("name", ""), item.get("label"))}{field}</div>'

    def date_time(self, item: dict) -> str:
        import datetime as dt

        name = item.get("name", "")
        kind = item.get("type", "DATE_AND_TIME")
        input_type = {"DATE_ONLY": "date", "TIME_ONLY": "time"}.get(kind, "datetime-local")
        value = ""
        if item.get("valueMsEpoch") not in (None, ""):
            when = dt.datetime.fromtimestamp(int(item["valueMsEpoch"]) / 1000, dt.UTC)
            value = {"date": when.strftime("%Y-%m-%d"), "time": when.strftime("%H:%M")}.get(
                input_type, when.strftime("%Y-%m-%dT%H:%M"))
        field = (f'<input type="{input_type}" id="gc-{escape(name)}" name="{escape(name)}" '
                 f'data-kind="{escape(kind)}" value="{escape(value)}">')
        return f'<div class="gc-input">{self._label(name, item.get("label"))}{field}</div>'


def message_html(message: dict, edited: str = "edited") -> Markup:
    """One message as Chat shows it: who, when (edited: the word for it in the reader's
    language), its text and its cards."""
    try:
        return _message_html(message, edited)
    except DRAW_ERRORS as exc:
        name = str(message.get("name", "")) if isinstance(message, dict) else ""
        return Markup(f'<div class="gc-message" data-name="{escape(name)}">{_broken("message", exc)}</div>')


def _message_html(message: dict, edited_label: str) -> Markup:
    sender = message.get("sender") or {}
    bot = sender.get("type") == "BOT"
    who = sender.get("displayName") or sender.get("name") or "?"
    edited = f" · {edited_label}" if message.get("lastUpdateTime") else ""
    name = message.get("name", "")
    parts = [f'<div class="gc-message{" gc-bot" if bot else " gc-human"}" id="m-{escape(_dom_id(name))}" '
             f'data-name="{escape(name)}">',
             f'<div class="gc-sender">{escape(who)}<span class="gc-meta">{escape(edited)}</span></div>']
    if (message.get("text") or "").strip():
        parts.append(f'<div class="gc-message-text">{text_html(message["text"])}</div>')
    parts.append(str(Renderer(name).cards(message.get("cardsV2") or [])))
    parts.append("</div>")
    return Markup(visible_bidi("".join(parts)))


def _dom_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


def dialog_of(response: dict | None) -> dict | None:
    """The card of a dialog an app's answer opens, in either format: classic
    ``actionResponse.type DIALOG`` with ``dialogAction.dialog.body``, or an add-on's
    ``action.navigations[].pushCard`` (also under ``renderActions``)."""
    if not isinstance(response, dict):
        return None
    action_response = response.get("actionResponse") or {}
    if action_response.get("type") == "DIALOG":
        return ((action_response.get("dialogAction") or {}).get("dialog") or {}).get("body")
    for holder in (response, response.get("renderActions") or {}):
        for navigation in (holder.get("action") or {}).get("navigations") or []:
            if "pushCard" in navigation:
                return navigation["pushCard"]
            if "updateCard" in navigation:
                return navigation["updateCard"]
    return None


def dialog_closed(response: dict | None) -> bool:
    """Whether the app's answer to a dialog's submit closes it (an OK action status, or an add-on's
    ``endNavigation``)."""
    if not isinstance(response, dict):
        return False
    status = ((response.get("actionResponse") or {}).get("dialogAction") or {}).get("actionStatus")
    if status is not None:
        code = status.get("statusCode", "OK") if isinstance(status, dict) else status
        return code in ("OK", 0)
    for holder in (response, response.get("renderActions") or {}):
        for navigation in (holder.get("action") or {}).get("navigations") or []:
            if "endNavigation" in navigation:
                return True
    return "hostAppDataAction" in response or "text" in response or "cardsV2" in response
