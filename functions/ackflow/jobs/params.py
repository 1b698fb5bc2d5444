"""Typed command parameters: declared once, they give the parser, the validation and the usage line.

Text from a phone is messy: smart quotes, full-width spaces from a Japanese keyboard, an em dash
where ``--`` was typed. It is normalised before it is split, so ``newcase ACME “金型 A-12” —due
2026-12-01`` parses like its plain-ASCII twin.

A command is at most ``MAX_COMMAND`` characters: ``shlex`` grows a word one character at a time, so
its time grows with the square of a word's length (a one-word megabyte takes over 20 s). Chat
sends at most 32,000 bytes in a message, so the bound refuses no real message (a one-word
32,000 characters splits in about 25 ms); only events no Chat sends are answered "too long".
"""

from __future__ import annotations

import datetime as dt
import shlex
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError

KINDS = ("str", "int", "float", "date", "flag")
MAX_COMMAND = 32_000
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "＂": '"', "‘": "'", "’": "'", "\u3000": " "})


@dataclass(frozen=True)
class Param:
    name: str
    kind: str = "str"
    help: str = ""
    positional: bool = True
    required: bool = True
    rest: bool = False  # a positional that takes every remaining word
    repeated: bool = False  # an option that may be given several times
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 200
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    # For forms (dialogs) and shared rules: the input's label (declared with N_(), shown translated),
    # a value made of ``PART:PART:…`` (one input per part in a dialog), a registry lookup offering
    # known values (a selection), a rule for each value (typed or filled in alike).
    title: str = ""
    parts: tuple[str, ...] = ()
    lookup: str | None = None
    check: Callable[[Any], None] | None = field(default=None, compare=False)  # raises UsageError

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"parameter {self.name}: kind must be one of {KINDS}")
        if self.kind == "flag" and self.positional:
            raise ValueError(f"parameter {self.name}: a flag must be an option (positional=False)")

    @property
    def label(self) -> str:
        return self.metavar or self.name.upper()

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    def usage(self) -> str:
        if self.positional:
            text = f"{self.label}..." if self.rest else self.label
            return text if self.required else f"[{text}]"
        text = self.option if self.kind == "flag" else f"{self.option} {self.label}"
        if self.repeated:
            text += " ..."
        return text if self.required else f"[{text}]"

    def convert(self, raw: str) -> Any:
        value = self._convert(raw)
        if self.check is not None:
            self.check(value)
        return value

    def _convert(self, raw: str) -> Any:
        label = self.label if self.positional else self.option
        if any(unicodedata.category(ch) == "Cc" for ch in raw):
            raise UsageError(f"{label} contains control characters")
        if self.kind == "str":
            value = raw.strip()
            if not value:
                raise UsageError(f"{label} is empty")
            if len(value) > self.max_length:
                raise UsageError(f"{label} is too long ({len(value)} characters; at most {self.max_length})")
            if self.choices and value not in self.choices:
                raise UsageError(f"{label} must be one of: {', '.join(self.choices)}")
            return value
        if self.kind == "date":
            try:
                return dt.date.fromisoformat(raw.strip()).isoformat()
            except ValueError as exc:
                raise UsageError(f"{label} must be a date like 2026-12-01, got {raw!r}") from exc
        try:
            number = int(raw) if self.kind == "int" else float(raw)
        except ValueError as exc:
            kind = "a whole number" if self.kind == "int" else "a number"
            raise UsageError(f"{label} must be {kind}, got {raw!r}") from exc
        if (self.minimum is not None and number < self.minimum) or (
                self.maximum is not None and number > self.maximum):
            raise UsageError(f"{label} must be between {self.minimum:g} and {self.maximum:g}, got {raw}")
        return number


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    return text.replace("—", "--").replace("–", "--").strip()


def split_words(text: str) -> list[str]:
    if len(text) > MAX_COMMAND:
        raise UsageError(f"the command is too long ({len(text):,} characters; at most {MAX_COMMAND:,})")
    try:
        return shlex.split(normalize(text))
    except ValueError as exc:
        raise UsageError("a quotation mark is not closed") from exc


def parse_params(params: tuple[Param, ...], words: list[str]) -> dict[str, Any]:
    """Turn the words after a command into typed values, or raise UsageError saying what is wrong."""
    by_option = {p.option: p for p in params if not p.positional}
    positionals = [p for p in params if p.positional]
    values: dict[str, Any] = {}
    loose: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--") and len(word) > 2:
            name, has_value, inline = word.partition("=")
            param = by_option.get(name)
            if param is None:
                known = ", ".join(sorted(by_option)) or "none"
                raise UsageError(f"unknown option {name} (options: {known})")
            if param.kind == "flag":
                if has_value:
                    raise UsageError(f"{name} takes no value")
                values[param.name] = True
                i += 1
                continue
            if has_value:
                raw = inline
            elif i + 1 < len(words):
                raw = words[i + 1]
                i += 1
            else:
                raise UsageError(f"{name} needs a value ({param.label})")
            value = param.convert(raw)
            if param.repeated:
                values.setdefault(param.name, []).append(value)
            elif param.name in values:
                raise UsageError(f"{name} is given twice")
            else:
                values[param.name] = value
        else:
            loose.append(word)
        i += 1
    for param in positionals:
        if param.rest:
            if loose:
                values[param.name] = param.convert(" ".join(loose))
                loose = []
        elif loose:
            values[param.name] = param.convert(loose.pop(0))
    if loose:
        raise UsageError(f"unexpected {' '.join(loose)!r}")
    for param in params:
        if param.name not in values:
            if param.required:
                raise UsageError(f"{param.label if param.positional else param.option} is missing")
            if param.kind == "flag":
                values[param.name] = False
            elif param.repeated:
                values[param.name] = list(param.default or [])
            else:
                values[param.name] = param.default
    return values
