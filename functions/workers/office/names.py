"""Turning what people type, and what mails and portals call their files, into safe names.

A name from Chat never becomes a path: path separators, control characters and names a
filesystem treats specially are replaced or refused, and the result is checked again where it is
joined to the case folder (``safe_relative_path``, which every storage adapter calls, so a path one
adapter takes every adapter takes). Japanese, emoji and spaces are fine in names. Names are NFC
(one path for the same text however it was composed), end neither in a dot nor a space and are
never a Windows device name (the office opens the shared drive on Windows PCs, through Drive for
desktop).
"""

from __future__ import annotations

import re
import unicodedata

from ackflow.errors import PermanentError, UsageError
from ackflow.i18n import L_, N_, Msg

FORBIDDEN = re.compile(r'[/\\:*?"<>|]')
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                    *(f"{device}{n}" for device in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³"))}
MAX_COMPONENT_BYTES = 120  # names made here: well under the 255-byte limit of most filesystems, for UTF-8
MAX_NAME_BYTES = 255  # any one name a storage takes (a template's names, as well as ours)
MAX_PATH_BYTES = 900  # a whole case-relative path (Cloud Storage takes 1,024 bytes with its prefix)
KEPT = "\u200d\ufe0f"  # the zero-width joiner and the emoji variation selector: parts of emoji


def unprintable(ch: str) -> bool:
    """Control, format (bidi overrides, zero-width), surrogate and private-use characters."""
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") and ch not in KEPT


def reserved(name: str) -> bool:
    """A Windows device name, with or without an extension (``NUL.tar.gz`` is ``NUL``)."""
    return name.split(".")[0].rstrip(" ").upper() in WINDOWS_RESERVED


def safe_component(text: str, what: str = N_("name")) -> str:
    """One path component made from ``text``; UsageError when nothing usable is left. ``what`` names
    the text for the person (declared with N_(): said in their language)."""
    text = unicodedata.normalize("NFC", text)
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in KEPT for ch in text):
        raise UsageError(N_("the {what} contains control characters; write it without them"), what=L_(what))
    text = FORBIDDEN.sub("_", text)
    text = re.sub(r"\s+", " ", text).strip(" .")
    if not text or set(text) <= {"_", " "}:
        raise UsageError(N_("the {what} has no usable characters for a folder name"), what=L_(what))
    encoded = text.encode(errors="replace")
    if len(encoded) > MAX_COMPONENT_BYTES:  # cut on a character, and again no dot or space at the end
        text = encoded[:MAX_COMPONENT_BYTES].decode(errors="ignore").rstrip(" .")
    if reserved(text):
        text = "_" + text
    return text


def file_name(original: str, index: int, taken: set[str]) -> str:
    """A safe file name for the ``index``-th file someone else named (a mail's attachment, a portal's
    download), unique among ``taken`` (the names given so far in its folder, which it adds to):
    control and bidi characters dropped, no path, at most 120 bytes, its extension kept; a name that
    differs from one taken only in case or composition gets a number (``図面 (2).pdf``), as does a
    name with nothing usable left (``attachment-3``)."""
    name = "".join(" " if ch in "\t\r\n" else ch for ch in unicodedata.normalize("NFC", original)
                   if not unprintable(ch) or ch in "\t\r\n")
    name = name.replace("/", "_").replace("\\", "_")
    stem, dot, extension = name.rpartition(".")
    if not dot or not 0 < len(extension) <= 10 or not extension.isalnum():
        stem, extension = name, ""
    try:
        stem = safe_component(stem, N_("attachment name"))
    except UsageError:
        stem = f"attachment-{index}"
    suffix = f".{extension}" if extension else ""
    while len((stem + suffix).encode()) > MAX_COMPONENT_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(" .") or f"attachment-{index}"
    candidate, number = stem + suffix, 2
    while candidate.casefold() in taken:
        mark = f" ({number}){suffix}"
        while len((stem + mark).encode()) > MAX_COMPONENT_BYTES:  # two long names cut alike: both fit
            stem = stem[:-1]
        candidate, number = stem.rstrip(" .") + mark, number + 1
    taken.add(candidate.casefold())
    return candidate


def fit_name(name: str, limit: int = MAX_NAME_BYTES) -> str:
    """``name`` cut to ``limit`` UTF-8 bytes if longer, its extension kept and no dot or space left at
    the end (a template's name filled in with a long client and title)."""
    if len(name.encode()) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = f".{extension}" if dot and stem and 0 < len(extension) <= 10 else ""
    stem = name[: len(name) - len(suffix)]
    while len((stem + suffix).encode()) > limit:
        stem = stem[:-1]
    return stem.rstrip(" .") + suffix


MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
OCTET_STREAM = "application/octet-stream"


def safe_content_type(content_type: str) -> str:
    """The type a file is stored with, from a type someone else gave (a mail part's Content-Type):
    ``type/subtype`` in lower case, its parameters dropped; ``application/octet-stream`` for anything
    else, and for a Google Workspace type (``application/vnd.google-apps.*``), which would have Drive
    convert the upload, make it a folder, or refuse it."""
    kind = content_type.partition(";")[0].strip().lower()
    if not MEDIA_TYPE.fullmatch(kind) or kind.startswith("application/vnd.google-apps."):
        return OCTET_STREAM
    return kind


class UnsafePath(PermanentError, ValueError):
    """A path no case storage takes: it would leave the case folders, or a name in it is empty,
    unprintable or too long. Every name made here is safe, so this is a template's name or a bug:
    no retry can fix it (a ValueError as well, for callers that check paths)."""

    def __init__(self, path: str, reason: Msg):
        shown = "".join("\ufffd" if unprintable(ch) else ch for ch in path[:200])
        super().__init__(N_("“{path}” cannot be a path in the case folders: {reason}"), path=shown, reason=reason)


def safe_relative_path(path: str) -> str:
    """A relative path inside a case folder, NFC: no empty, '.', '..' or absolute components, no
    control characters, each name at most 255 bytes and the whole at most 900 (UnsafePath)."""
    if any(unprintable(ch) for ch in path):
        raise UnsafePath(path, L_("it contains control characters"))
    path = unicodedata.normalize("NFC", path)
    parts = path.replace("\\", "/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise UnsafePath(path, L_("a name in it is empty, “.” or “..”"))
    if any(len(p.encode()) > MAX_NAME_BYTES for p in parts):
        raise UnsafePath(path, L_("a name in it is longer than {limit} bytes", limit=MAX_NAME_BYTES))
    if len(path.encode()) > MAX_PATH_BYTES:
        raise UnsafePath(path, L_("it is longer than {limit} bytes", limit=MAX_PATH_BYTES))
    return "/".join(parts)
