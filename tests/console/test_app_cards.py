"""The browser chat draws every card the app sends, in both event formats: help, usage, the jobs
list, confirmations, every job type in every state, the forms of every job type (with every line
and every error), the notices dialogs show, the cases and the mail card, all built as
tests/core/test_card_limits.py builds them (largest and most hostile data). Each widget must
become what Chat shows: no widget drawn as unknown, every button a button, every input a field."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from ackflow.app import formspec, views
from ackflow.app.dialogs import info_card, with_fill_in
from ackflow.app.runtime import Runtime
from ackflow.chat.cards import card_body
from ackflow.chat.events import EventFormat
from ackflow.chat.replies import message_json
from ackflow.settings import Settings
from ackflow_tools.console.cards import Renderer, message_html
from tests.core.test_card_limits import (
    FORMATS,
    HOSTILE,
    LONG,
    NOW,
    SPEAKERS,
    URL,
    event,
    hostile_case,
    longest,
    replies,
)
from workers.job_types import build_registry

ENDPOINT = "https://example.com/chat"
# what each widget of Cards v2 becomes in the page (a class on its element)
DRAWN_AS = {"textParagraph": "gc-text", "decoratedText": "gc-decorated", "buttonList": "gc-buttons",
            "chipList": "gc-buttons", "divider": "gc-divider", "image": "gc-image", "textInput": "gc-input",
            "selectionInput": "gc-input", "dateTimePicker": "gc-input", "columns": "gc-columns"}


@pytest.fixture(scope="module")
def registry():
    return build_registry(Settings())


def office_replies(registry, tmp_path) -> list[tuple[str, object]]:
    """The office's cards: a case, the open cases' list, the mail card in each of its states."""
    from workers.office.cases import CASES
    from workers.office.commands import list_cases, show_case
    from workers.office.mail.card import mail_card

    runtime = Runtime(Settings(sqlite_path=str(tmp_path / "cases.db")), registry=registry)
    record = hostile_case(3)
    for number in range(1, 5):
        case = f"2026-{number:03d}"
        runtime.store.docs.transaction(lambda tx, c=case: tx.set(CASES, c, {**record, "case": c, "created_at": NOW}))
    mail = {"id": "m" * 20, "status": "OPENED", "sender_address": "a@example.com", "sender_name": HOSTILE,
            "subject": LONG[:500], "preview": LONG[:600], "received_at": NOW, "due": "2026-12-01",
            "attachments": [{"original": HOSTILE, "size": 10**6, "too_large": True}] * 3, "recipients": 5,
            "truncated": True, "auth_failure": HOSTILE, "folder_link": URL, "folder": HOSTILE, "case": "2026-001",
            "opened_by": HOSTILE, "ignored_by": HOSTILE, "job": "j" * 12, "client_guess": HOSTILE}
    out = []
    for speaker in SPEAKERS:
        out.append((f"case {speaker.language}", show_case(runtime, event(speaker), ["2026-001"])))
        out.append((f"cases {speaker.language}", list_cases(runtime, event(speaker), [])))
    for status in ("PROPOSED", "OPENED", "IGNORED"):
        out.append((f"mail {status}", mail_card({**mail, "status": status})))
    runtime.close()
    return out


def every_card(registry, tmp_path) -> list[tuple[str, dict, bool]]:
    """(what, the card as Chat receives it, whether a dialog shows it), in both formats."""
    built: list[tuple[str, dict, bool]] = []
    messages = [(name, reply) for speaker in SPEAKERS for name, reply in replies(registry, speaker)]
    messages += office_replies(registry, tmp_path)
    runtime = Runtime(Settings(), registry=registry)
    for speaker in SPEAKERS:
        for job_type in registry:
            usage = job_type.usage_for(speaker)
            messages.append((f"usage {job_type.name}", with_fill_in(views.usage_reply(LONG, usage, speaker), runtime,
                                                                     event(speaker), job_type, [LONG] * 3)))
    for fmt in FORMATS:
        for name, reply in messages:
            message = message_json(reply, fmt, ENDPOINT)
            for item in message.get("cardsV2") or []:
                built.append((f"{name} ({fmt.value})", item["card"], False))
        for name, reply in replies(registry)[:3]:
            built.append((f"notice {name} ({fmt.value})", card_body(info_card(reply), fmt, ENDPOINT), True))
        for speaker in SPEAKERS:
            for job_type in registry:
                if job_type.schedule:
                    continue
                known = {"clients": [HOSTILE[:60]] * 5}
                state = formspec.initial(job_type, {p.name: longest(p) for p in job_type.params}, known)
                for param in job_type.params:
                    if param.repeated:
                        state.lines[param.name] = 3
                state.errors = {name: LONG[:200] for name in formspec.input_names(state)}
                state.errors[formspec.FORM] = LONG[:200]
                card = formspec.build(state, speaker, known, "users/1")
                built.append((f"form {job_type.name} {speaker.language} ({fmt.value})",
                              card_body(card, fmt, ENDPOINT), True))
    return built


def widgets(card: dict):
    """Every widget of a card, those inside columns too."""
    def walk(items):
        for widget in items or []:
            yield widget
            for column in (widget.get("columns") or {}).get("columnItems") or []:
                yield from walk(column.get("widgets"))
    for section in card.get("sections") or []:
        yield from walk(section.get("widgets"))


def buttons(card: dict) -> list[dict]:
    found = []
    for widget in widgets(card):
        found += (widget.get("buttonList") or {}).get("buttons") or []
        found += (widget.get("chipList") or {}).get("chips") or []
        if "button" in (widget.get("decoratedText") or {}):
            found.append(widget["decoratedText"]["button"])
    footer = card.get("fixedFooter") or {}
    return found + [footer[k] for k in ("primaryButton", "secondaryButton") if k in footer]


def classes(html: str) -> Counter:
    return Counter(name for value in re.findall(r'class="([^"]*)"', html) for name in value.split())


def test_every_card_the_app_sends_is_drawn_widget_by_widget(registry, tmp_path):
    cards = every_card(registry, tmp_path)
    kinds = Counter(next(iter(w)) for _, card, _ in cards for w in widgets(card))
    assert {"textParagraph", "decoratedText", "buttonList", "textInput", "selectionInput", "dateTimePicker",
            "columns"} <= set(kinds), kinds  # the app's whole vocabulary is here
    assert len({name.rsplit(" (", 1)[1] for name, _, _ in cards}) == 2  # both event formats
    for name, card, dialog in cards:
        html = Renderer("spaces/x/messages/m", dialog=dialog).card(card)
        drawn = classes(html)
        assert "gc-unknown" not in html, name
        wanted = Counter()
        for widget in widgets(card):
            kind = next(iter(widget))
            assert kind in DRAWN_AS, f"{name}: the console does not know {kind}"
            wanted[DRAWN_AS[kind]] += 1
        for css, count in wanted.items():
            assert drawn[css] == count, (name, css, drawn[css], count)
        assert drawn["gc-button"] == len(buttons(card)), name
        clicks = [b for b in buttons(card) if (b.get("onClick") or {}).get("action")]
        links = [b for b in buttons(card) if (b.get("onClick") or {}).get("openLink")]
        assert html.count("data-action=") == len(clicks), name  # each one clicks (or submits the dialog)
        assert drawn["gc-link"] == len(links), name  # each one opens its page in a new tab
        for widget in widgets(card):
            for kind in ("textInput", "selectionInput", "dateTimePicker"):
                if kind in widget:
                    assert f'name="{widget[kind]["name"]}"' in html, (name, widget[kind]["name"])
        if card.get("header", {}).get("title"):
            assert 'class="gc-title"' in html, name


def test_a_whole_message_with_a_card_is_drawn_in_both_formats(registry):
    [(_, reply)] = [r for r in replies(registry) if r[0] == "help"]
    for fmt in (EventFormat.CLASSIC, EventFormat.ADDON):
        message = {"name": "spaces/x/messages/m1", "sender": {"type": "BOT", "displayName": "Ackflow"},
                   **message_json(reply, fmt, ENDPOINT)}
        html = str(message_html(message))
        assert "gc-unknown" not in html and 'class="gc-card"' in html and "gc-bot" in html


def test_a_cards_image_is_a_link_to_it_not_a_load_from_another_host():
    html = Renderer().card({"sections": [{"widgets": [
        {"image": {"imageUrl": "https://images.example/図面.png", "altText": "図面 A-12"}},
        {"image": {"imageUrl": "javascript:alert(1)"}}]}]})
    assert "<img" not in html and "javascript" not in html
    assert 'href="https://images.example/図面.png" target="_blank" rel="noopener noreferrer"' in html
    assert "図面 A-12" in html


def test_a_buttons_type_and_colour_are_drawn_as_chat_draws_them():
    """Cards v2 ``Button``: OUTLINED when no type is given, FILLED, FILLED_TONAL, BORDERLESS; and
    "if the color field is set, the type is forced to FILLED" (a fixed footer's buttons are text
    buttons with a colour). A coloured button was drawn outlined, the tonal and borderless ones
    like any other."""
    def drawn(button: dict) -> set[str]:
        html = Renderer(dialog=True).card({"sections": [{"widgets": [{"buttonList": {"buttons": [
            {"text": "Go", "onClick": {"action": {"function": "go"}}, **button}]}}]}]})
        return set(re.search(r'<button[^>]* class="([^"]*)"', html).group(1).split())

    assert drawn({}) == {"gc-button"}
    assert drawn({"type": "OUTLINED"}) == {"gc-button"}
    assert drawn({"type": "FILLED"}) == {"gc-button", "gc-filled"}
    assert drawn({"color": {"red": 0.1, "green": 0.4, "blue": 0.8}}) == {"gc-button", "gc-filled"}
    assert drawn({"type": "BORDERLESS", "color": {"red": 1}}) == {"gc-button", "gc-filled"}
    assert drawn({"type": "FILLED_TONAL"}) == {"gc-button", "gc-tonal"}
    assert drawn({"type": "BORDERLESS"}) == {"gc-button", "gc-borderless"}


def test_a_cards_header_is_drawn_as_the_plain_text_chat_shows_it(registry, tmp_path):
    """Chat shows a card header's title and subtitle as plain text, and the app sends them as they
    are (a case's title is the subtitle of its card): the browser chat read them as Chat's HTML
    subset, so a case titled <a href="https://evil.example">…</a> was a live link there, which
    Chat shows as the text it is, and <b>, &amp; were not what the office would see."""
    from workers.office.cases import CASES
    from workers.office.commands import show_case

    title = '<a href="https://evil.example/login">Verify your account</a> <b>急ぎ</b> &amp; 金型'
    runtime = Runtime(Settings(sqlite_path=str(tmp_path / "cases.db")), registry=registry)
    try:
        runtime.store.docs.transaction(lambda tx: tx.set(CASES, "2026-001", {
            "case": "2026-001", "client": "ACME", "title": title, "status": "受付", "created_at": NOW}))
        reply = show_case(runtime, event(SPEAKERS[0]), ["2026-001"])
    finally:
        runtime.close()
    for fmt in FORMATS:
        [item] = message_json(reply, fmt, ENDPOINT)["cardsV2"]
        assert item["card"]["header"]["subtitle"] == title  # sent as it is: plain text in Chat
        html = Renderer().card(item["card"])
        header = re.search(r'<div class="gc-card-header">(.*?)</div></div>', html).group(1)
        assert "<a " not in header and "<b>" not in header, header
        assert "&lt;a href=&#34;https://evil.example/login&#34;&gt;" in header and "&amp;amp; 金型" in header, header
