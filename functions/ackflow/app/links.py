"""Links in a job's result as buttons (``openLink``): one tap opens the folder, the sheet row or a
PDF, on a phone as on a desktop. A result value that is an http(s) URL is a link; a list of
``{"name", "link"}`` (the documents a step collected) gives a button per item. Other links (a
``file://`` path of local storage without a server) stay text.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..chat.cards import Button
from ..chat.limits import MAX_URL
from ..i18n import N_, Speaker

MAX_LINKS = 12  # buttons from one result; the card stays far below Chat's 100 widgets
MAX_LINK_CHARS = 12_000  # of URLs in one card: a message is at most 32,000 bytes, and a Cloud
# Storage link to a long Japanese folder name, percent-encoded, can take 2,000 characters
LABELS = {"folder_link": N_("Open the folder"), "sheet_link": N_("Open the sheet row"),
          "estimate_link": N_("Open the estimate (PDF)"), "invoice_link": N_("Open the invoice (PDF)")}


def is_link(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) <= MAX_URL


def is_link_list(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(item, dict) and is_link(item.get("link")) for item in value)


def label_of(key: str, speaker: Speaker, labels: Mapping[str, str] | None = None) -> str:
    """A link button's label, in the speaker's language: the job type's own (``result_labels``,
    declared with N_()), else the office's, else the key as words."""
    if labels and labels.get(key):
        return speaker._(labels[key])
    if key in LABELS:
        return speaker._(LABELS[key])
    return key.removesuffix("_link").replace("_", " ").capitalize()


def link_buttons(result: dict, keys: tuple[str, ...] | list[str], speaker: Speaker,
                 labels: Mapping[str, str] | None = None) -> tuple[Button, ...]:
    """The link buttons of ``result`` (in the order of ``keys``), as many as ``fit``; ``labels``: the
    job type's ``result_labels``."""
    buttons: list[Button] = []
    for key in keys:
        value = result.get(key)
        if is_link(value):
            buttons.append(Button(label_of(key, speaker, labels), url=value))
        elif is_link_list(value):
            buttons.extend(Button(str(item.get("name") or label_of(key, speaker, labels))[:80], url=item["link"])
                           for item in value)
    return fit(buttons)


def fit(buttons: list[Button], budget: int = MAX_LINK_CHARS) -> tuple[Button, ...]:
    """The first buttons, at most ``MAX_LINKS`` and ``budget`` characters of URLs."""
    kept: list[Button] = []
    for button in buttons[:MAX_LINKS]:
        budget -= len(button.url)
        if budget < 0:
            break
        kept.append(button)
    return tuple(kept)
