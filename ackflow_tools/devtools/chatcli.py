"""A terminal view of a space in the local Chat service: send as a person, press buttons, open, fill
and submit dialogs, and follow the app's answers (including the asynchronous ones) as they happen.
The person's client (language, time zone, platform) goes with everything they do."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from ..emulators.chat.userside import find_button, iter_buttons
from .dialogcli import cell_width, fit, render_dialog

TAG_RE = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    text = re.sub(r"<br\s*/?>", "\n", text or "")
    return html.unescape(TAG_RE.sub("", text))


CARD_WIDTH = 76  # columns of a card's box, borders included


# what Japanese never starts a line with (JIS X 4051's closing brackets, punctuation and marks of
# iteration and length): 「状況 j1」 broke as "…「状況 j1" and "」で確認…", a sentence's 。 alone
_NO_LINE_START = frozenset("、。，．）］｝〕〉》」』】〙〗〟’”｠»ゝゞヽヾー々・：；？！")


def wrapped(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns (wide characters count two): broken
    at a space where there is one in the line's second half, else anywhere (Japanese has no
    spaces) but before a character Japanese never starts a line with (the one before it goes down
    with it)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for char in paragraph:
            if cell_width(line + char) > width:
                cut = line.rfind(" ")
                if cut >= 0 and cell_width(line[:cut]) > width // 2:
                    lines.append(line[:cut])
                    line = line[cut + 1:]
                else:
                    keep = len(line)
                    if char in _NO_LINE_START:
                        while keep > 1 and line[keep - 1] in _NO_LINE_START:
                            keep -= 1
                        keep -= 1 if keep > 1 else 0
                    lines.append(line[:keep])
                    line = line[keep:]
            line += char
        lines.append(line)
    return lines


def _card_lines(card: dict) -> list[str]:
    lines: list[str] = []
    for section in card.get("sections", []):
        if section.get("header"):
            lines.append(f"[{plain(section['header'])}]")
        for widget in section.get("widgets", []):
            if "textParagraph" in widget:
                lines += plain(widget["textParagraph"].get("text", "")).splitlines()
            elif "decoratedText" in widget:
                item = widget["decoratedText"]
                lines.append(f"{plain(item.get('topLabel', ''))}: {plain(item.get('text', ''))}")
            elif "buttonList" in widget:
                lines.append("  ".join(f"[ {b.get('text', '?')} ]" for b in widget["buttonList"].get("buttons", [])))
    return lines


def render_message(message: dict, edited: bool = False, width: int = CARD_WIDTH) -> str:
    """A message as lines of text: sender, text, and each card in a box (header, widgets, buttons)
    whose right edge stays straight under Japanese (East Asian wide characters take two columns)."""
    sender = message.get("sender", {})
    who = sender.get("displayName") or sender.get("name", "?")
    lines = [f"{who}{' (edited)' if edited else ''}:"]
    if message.get("text", "").strip():
        lines += [f"  {line}" for line in plain(message["text"]).splitlines()]
    inner = width - 4
    for card_with_id in message.get("cardsV2", []):
        card = card_with_id.get("card", {})
        header = card.get("header", {})
        title = plain(header.get("title", ""))
        if header.get("subtitle"):
            title += f" — {plain(header['subtitle'])}"
        top = "┌─ " + fit(title, inner - 2).rstrip() + " "
        lines.append("  " + top + "─" * max(0, width - 1 - cell_width(top)) + "┐")
        for line in _card_lines(card):
            lines += [f"  │ {fit(part, inner)} │" for part in wrapped(line, inner)]
        lines.append("  └" + "─" * (width - 2) + "┘")
    return "\n".join(lines)


@dataclass
class Exchange:
    result: dict  # what the local Chat service answered for the action

    @property
    def error(self) -> str | None:
        return self.result.get("error")

    @property
    def reply(self) -> dict | None:
        return (self.result.get("reply") or {}).get("message")

    @property
    def dialog(self) -> dict | None:
        """The dialog the answer opened or drew again (None: no dialog is open after it)."""
        reply = self.result.get("reply") or {}
        return reply.get("dialog") if reply.get("action") == "dialog" else None

    @property
    def notice(self) -> str:
        return (self.result.get("reply") or {}).get("notice", "")


class ChatTerminal:
    def __init__(self, chat_url: str, space: str, user: dict | None = None,
                 out: Callable[[str], None] = print, fmt: str | None = None, client: dict | None = None):
        self.chat_url = chat_url.rstrip("/")
        self.space = space
        self.user = user or {}
        self.out = out
        self.fmt = fmt
        self.client = {k: v for k, v in (client or {}).items() if v}  # locale, timeZone, platform
        self.http = requests.Session()
        self.seq = self._last_seq()
        self.seen: dict[str, str] = {}  # message name -> its last rendering (to print edits once)
        self.messages: dict[str, dict] = {}  # message name -> its latest version

    def _last_seq(self) -> int:
        response = self.http.get(f"{self.chat_url}/_emulator/{self.space}/changes", params={"after": 0})
        return response.json().get("latest", 0) if response.status_code == 200 else 0

    def _post(self, action: str, body: dict) -> Exchange:
        body = {**body, "user": self.user} if self.user else dict(body)
        body.update(self.client)
        if self.fmt:
            body["format"] = self.fmt
        response = self.http.post(f"{self.chat_url}/_emulator/{self.space}:{action}", json=body, timeout=60)
        if response.status_code != 200:
            error = response.json().get("error", {}).get("message", response.text)
            return Exchange({"error": error})
        return Exchange(response.json())

    def send(self, text: str, mention: bool = False) -> Exchange:
        self.http.put(f"{self.chat_url}/_emulator/{self.space}", json={})
        exchange = self._post("send", {"text": text, "mention": mention})
        return self._shown(exchange)

    def _shown(self, exchange: Exchange) -> Exchange:
        self.drain()
        if exchange.error:
            self.out(f"! {exchange.error}")
        if exchange.dialog is not None:
            self.out(render_dialog(exchange.dialog))
        elif exchange.notice:
            self.out(f"(dialog) {exchange.notice}")
        return exchange

    def submit_dialog(self, button: str, inputs: dict) -> Exchange:
        """Press ``button`` in the open dialog with these ``formInputs``."""
        return self._shown(self._post("submitDialog", {"button": button, "formInputs": inputs}))

    def open_dialog(self) -> dict | None:
        """The dialog open for this person in the space (one a button opened: a mail card's 案件を作成),
        None when none is."""
        params = {"user": self.user["name"]} if self.user.get("name") else {}
        response = self.http.get(f"{self.chat_url}/_emulator/{self.space}/dialog", params=params, timeout=10)
        return response.json().get("dialog") if response.status_code == 200 else None

    def cancel_dialog(self) -> Exchange:
        return self._shown(self._post("cancelDialog", {}))

    def press(self, button: str, message: dict | None = None) -> tuple[Exchange, dict | None]:
        """Press ``button`` (its label, or the action it runs: ``run`` presses 実行 too) on
        ``message``, or on the latest message in the space that has it."""
        message = message or self.latest_with_button(button)
        if message is None:
            return Exchange({"error": f"no message in {self.space} has a “{button}” button"}), None
        if not find_button(message, button):
            button = button_for(message, button) or button
        exchange = self._post("click", {"message": message["name"], "button": button})
        return self._shown(exchange), message

    def latest_with_button(self, button: str) -> dict | None:
        latest: dict[str, dict] = {}
        after = 0
        while True:
            page = self.http.get(f"{self.chat_url}/_emulator/{self.space}/changes", params={"after": after}).json()
            for change in page["changes"]:
                if "message" in change:
                    latest[change["message"]["name"]] = change["message"]
            if not page["changes"]:
                break
            after = page["last"]
        with_button = [m for m in latest.values() if find_button(m, button) or button_for(m, button)]
        return max(with_button, key=lambda m: m.get("lastUpdateTime") or m.get("createTime", ""), default=None)

    def drain(self, wait: float = 0.0) -> list[dict]:
        """Print what happened in the space since last time; wait up to ``wait`` s for something."""
        response = self.http.get(f"{self.chat_url}/_emulator/{self.space}/changes",
                                 params={"after": self.seq, "wait": wait}, timeout=wait + 10)
        page = response.json()
        for change in page["changes"]:
            self._print(change)
        self.seq = page.get("last", self.seq)
        return page["changes"]

    def _print(self, change: dict) -> None:
        if change["kind"] == "app-error":
            self.out(f"! {change.get('error')}")
            return
        message = change.get("message")
        if not message or change["kind"] == "deleted":
            return
        self.messages[message["name"]] = message
        rendered = render_message(message, edited=change["kind"] == "updated")
        if self.seen.get(message["name"]) == rendered:
            return
        self.seen[message["name"]] = rendered
        self.out(rendered)

    def by_client_id(self, client_id: str) -> dict | None:
        return next((m for m in self.messages.values() if m.get("clientAssignedMessageId") == client_id), None)

    def follow(self, done: Callable[[], bool], timeout: float) -> bool:
        """Print changes until ``done()`` is true (checked after each batch); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                self.drain()
                return True
            self.drain(wait=min(1.0, max(0.0, deadline - time.monotonic())))
        return done()


def button_params(message: dict | None, label: str) -> dict:
    """The parameters of the message's button ``label``: its text, or the action it runs (``run``
    is 実行 on a Japanese card, as ``ChatTerminal.press`` reads it)."""
    if not message:
        return {}
    text = label if find_button(message, label) else button_for(message, label)
    action = (find_button(message, text) if text else None) or {}
    return {p["key"]: p["value"] for p in action.get("parameters", [])}



def button_for(message: dict | None, action: str) -> str | None:
    """The label of the message's button that runs ``action`` (its function, or the add-on's
    ``actionName``), whatever language the label is in."""
    for button in iter_buttons(message or {}):
        found = (button.get("onClick") or {}).get("action") or {}
        params = {p["key"]: p["value"] for p in found.get("parameters", [])}
        if action in (found.get("function"), params.get("actionName")) and button.get("text"):
            return button["text"]
    return None


def dialog_opener(message: dict | None) -> str | None:
    """The label of the message's first button that opens a dialog (the Fill in of a usage reply)."""
    for button in iter_buttons(message or {}):
        if ((button.get("onClick") or {}).get("action") or {}).get("interaction") == "OPEN_DIALOG":
            return button.get("text")
    return None
