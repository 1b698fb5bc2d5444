"""Turning what people type into safe file and folder names.

A name from Chat never becomes a path: path separators, control characters and names a
filesystem treats specially are replaced or refused, and the result is checked again where it is
joined to the case folder. Japanese, emoji and spaces are fine in names.
"""

from __future__ import annotations

import re
import unicodedata

from ackflow.errors import UsageError
from ackflow.i18n import L_, N_

FORBIDDEN = re.compile(r'[/\\:*?"<>|]')
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
MAX_COMPONENT_BYTES = 120  # well under the 255-byte limit of most filesystems, for UTF-8 names


def safe_component(text: str, what: str = N_("name")) -> str:
    """One path component made from ``text``; UsageError when nothing usable is left. ``what`` names
    the text for the person (declared with N_(): said in their language)."""
    text = unicodedata.normalize("NFC", text)
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200d\ufe0f" for ch in text):
        raise UsageError(N_("the {what} contains control characters; write it without them"), what=L_(what))
    text = FORBIDDEN.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip().strip(".").strip()
    if not text or set(text) <= {"_", " "}:
        raise UsageError(N_("the {what} has no usable characters for a folder name"), what=L_(what))
    if text.upper().split(".")[0] in WINDOWS_RESERVED:
        text = "_" + text
    encoded = text.encode()
    if len(encoded) > MAX_COMPONENT_BYTES:
        text = encoded[:MAX_COMPONENT_BYTES].decode(errors="ignore").rstrip()
    return text


def safe_relative_path(path: str) -> str:
    """A relative path inside a case folder: no empty, '.', '..' or absolute components."""
    parts = [p for p in path.replace("\\", "/").split("/")]
    if path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"unsafe path {path!r}")
    return "/".join(parts)
