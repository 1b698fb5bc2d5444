"""Text as a Japanese IME or a phone keyboard types it, made plain before it is parsed.

- NFKC: full-width letters and digits (ＡＣＭＥ１２), the ideographic space (U+3000), full-width
  punctuation (：、／＃) and half-width katakana become their ordinary forms;
- quotes: 「」『』“”‘’„＂ become ASCII quotes (「」 and “” pair like "…", 『』 and ‘’ like '…');
- dashes: an em or en dash, or the long vowel mark typed for one at the start of an option
  (—due, –due, ーーdue), becomes ``--``;
- invisible and direction-changing characters (zero-width spaces, bidi overrides and marks, the
  BOM) are removed, so they cannot hide or reorder what a card shows.

- a dash between two digits (``2026ー001``: the minus key of a Japanese IME in kana mode types the
  long vowel mark; ``−‐‑–—―`` too) becomes ``-``, so a case number or a date reads as meant.

The wave dash 〜 and the katakana long vowel ー inside words are left alone: they are text.
"""

from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans({
    "「": '"', "」": '"', "“": '"', "”": '"', "„": '"', "＂": '"', "«": '"', "»": '"',
    "『": "'", "』": "'", "‘": "'", "’": "'", "＇": "'",
})
# Zero-width and bidirectional formatting characters: never meaningful in a command.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u061c]")
_DIGIT_DASH = re.compile(r"(?<=[0-9])[ー−‐‑–—―](?=[0-9])")
_DASHED_OPTION = re.compile(r"(?:(?<=\s)|^)(?:[—–―‐‑]|ー{1,2}|-ー|ー-)(?=[^\W\d_])", re.UNICODE)


def normalize(text: str) -> str:
    """The plain form of ``text`` (see the module docstring). Idempotent."""
    text = _INVISIBLE.sub("", text)
    text = _DIGIT_DASH.sub("-", unicodedata.normalize("NFKC", text).translate(_QUOTES))
    text = _DASHED_OPTION.sub("--", text)
    return text.strip()


def has_bidi_or_controls(text: str) -> bool:
    """Whether ``text`` holds control characters (other than tab/newline) or bidi overrides."""
    return bool(_INVISIBLE.search(text)) or any(
        unicodedata.category(ch) == "Cc" and ch not in "\t\n" for ch in text)


def normalize_field(text: str) -> str:
    """A dialog field's text: invisible and bidi characters removed, NFKC (full-width letters and
    digits made plain), a dash between digits made ``-``, surrounding space dropped. Quotes and
    other dashes are kept: in a field they are text, not syntax."""
    return _DIGIT_DASH.sub("-", unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))).strip()
