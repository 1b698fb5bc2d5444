"""Typed command parameters: declared once, they give the parser, the validation and the usage line.

Text from a phone is messy: smart quotes, full-width letters, digits and spaces from a Japanese
IME, 「」 quotes, ``：`` for ``:``, an em dash where ``--`` was typed. It is normalised
(``jobs/normalize.py``) before it is split, so ``新規案件 ACME「プレス金型 A-12」 ：納期 １２月１日``
parses like ``newcase ACME "プレス金型 A-12" --due 12/1``. An option is ``--name VALUE``,
``--name=VALUE``, or by one of its aliases: ``:納期 VALUE`` or ``納期:VALUE`` (``：`` is ``:``).
A flag is written by its alias alone too (``置換``: it takes no value).

Dates read as people write them (``2026-12-01``, ``12/1``, ``12月1日``, ``令和8年12月1日``; a date
without a year is the next such day from today in the person's time zone), amounts of yen too
(``¥350,000``, ``35万円``). Every complaint is a UsageError whose text is said in the person's
language where it is shown.

A command is at most ``MAX_COMMAND`` characters: ``shlex`` grows a word one character at a time, so
its time grows with the square of a word's length (a one-word megabyte takes over 20 s). Chat
sends at most 32,000 bytes in a message, so the bound refuses no real message (a one-word
32,000 characters splits in about 25 ms); only events no Chat sends are answered "too long".
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import shlex
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..i18n import ENGLISH, N_
from .normalize import normalize

if TYPE_CHECKING:
    from ..i18n import Speaker

KINDS = ("str", "int", "float", "date", "yen", "flag")
MAX_COMMAND = 32_000
MAX_QUOTED = 60  # characters of what was typed quoted back in a complaint
# 「」『』 always open and close a word, even typed against the word before or after: ACME「金型」
_INT = re.compile(r"^[+-]?[0-9]+$")
_FLOAT = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_WORDED = re.compile(r"^[+-]?[0-9]+(?:\.[0-9]+)?\s*(?P<word>[^\W\d_]+)$")  # 30分, 3個: a number, then a word
_OPENING = re.compile(r"(?<=[^\s=])([「『｢])")  # but --item=「設計 A:1:1」 stays one word
_CLOSING = re.compile(r"([」』｣])(?=\S)")


def quoted(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 1] + "…"


@dataclass(frozen=True)
class Param:
    name: str
    kind: str = "str"
    help: str = ""  # declared with N_(): shown translated
    positional: bool = True
    required: bool = True
    rest: bool = False  # a positional that takes every remaining word
    repeated: bool = False  # an option that may be given several times
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 200
    choices: tuple[str, ...] | None = None
    metavar: str | None = None  # declared with N_() when it is words (ORDER_REF): shown translated
    # For forms (dialogs) and shared rules: the input's label (declared with N_(), shown translated),
    # a value made of ``PART:PART:…`` (one input per part in a dialog), a registry lookup offering
    # known values (a selection), a rule for each value (typed or filled in alike).
    title: str = ""
    parts: tuple[str, ...] = ()
    lookup: str | None = None
    check: Callable[[Any], None] | None = field(default=None, compare=False)  # raises UsageError
    aliases: tuple[str, ...] = ()  # other names of an option, e.g. 納期 for --due (:納期 VALUE, 納期:VALUE)
    # A value of ``parts`` read into its parts and back (default: split and joined at ``:``, the
    # description side keeping its colons); the last ``optional_parts`` parts may be left empty.
    split: Callable[[str], list[str]] | None = field(default=None, compare=False)
    join: Callable[[list[str]], str] | None = field(default=None, compare=False)
    optional_parts: int = 0
    # A form reads each part on its own first, so that a part's error is shown under its input
    # (``数量: 「abc」は数として読めません``): one rule per part of ``parts`` (None: no rule of its
    # own), each raising UsageError said without the part's name (the form puts its label first).
    part_checks: tuple[Callable[[str], Any] | None, ...] = field(default=(), compare=False)
    in_form: bool = True  # False: no input in a form; a value the form's prefill gives travels in its buttons
    # How a card shows the value to a person (the whole value: a repeated parameter's list):
    # ``show(value, speaker)`` gives its lines in the speaker's language, e.g. line items as
    # ``設計 × 1 @ ¥350,000`` and their subtotal; None (or an error) and the value is shown as typed.
    # The value the job gets is never changed.
    show: Callable[[Any, Speaker], Sequence[str] | None] | None = field(default=None, compare=False)
    # a date: one written without its year (12月1日) is the next such day from today; with ``recent``
    # (the day something happened: a delivery, a payment), the latest such day at most ``recent`` days ahead
    recent: int | None = None
    # a number the cards write after a letter (a version: v2), read with that letter too: 見積版：v2
    prefix: str = ""
    # units a number may be written with after it, as people say it (sleep's 30秒, 30s): read as the
    # number alone; a number followed by any other word is refused, saying to leave that word out
    units: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"parameter {self.name}: kind must be one of {KINDS}")
        if self.kind == "flag" and self.positional:
            raise ValueError(f"parameter {self.name}: a flag must be an option (positional=False)")
        if self.aliases and self.positional:
            raise ValueError(f"parameter {self.name}: only an option has aliases")
        for alias in self.aliases:
            if not alias or alias != normalize(alias) or any(c.isspace() or c in ":=\"'" for c in alias):
                raise ValueError(f"parameter {self.name}: alias {alias!r} must be one plain word")
        if self.units and self.kind not in ("int", "float"):
            raise ValueError(f"parameter {self.name}: only a number has units")
        if self.part_checks and len(self.part_checks) != len(self.parts):
            raise ValueError(f"parameter {self.name}: part_checks must have one rule (or None) per part")

    def is_unit(self, word: str) -> bool:
        """``word`` is one of this number's units written alone (the 秒 of ``30 秒``)."""
        return any(word.lower() == unit.lower() for unit in self.units)

    @property
    def label(self) -> str:
        return self.metavar or self.name.upper()

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def native_alias(self) -> str | None:
        """The first alias that is not ASCII (a Japanese name), if any."""
        return next((a for a in self.aliases if not a.isascii()), None)

    def usage(self, speaker: Speaker | None = None) -> str:
        """``CLIENT``, ``[--due YYYY-MM-DD]``; for a Japanese speaker ``顧客``, ``[納期：日付]``, ``[置換]``
        (a flag by its name alone: a colon with nothing after it reads as a value left out)."""
        japanese = speaker is not None and speaker.language == "ja"
        if self.positional:
            label = self.shown_label(speaker)
            text = f"{label}..." if self.rest else label
            return text if self.required else f"[{text}]"
        alias = self.native_alias if japanese else None
        placeholder = self.placeholder(speaker)
        if alias:
            text = alias if self.kind == "flag" else f"{alias}：{placeholder}"  # as the parser reads it
        else:
            text = self.option if self.kind == "flag" else f"{self.option} {placeholder}"
        if self.repeated:
            text += " ..."
        return text if self.required else f"[{text}]"

    def shown_label(self, speaker: Speaker | None = None) -> str:
        """What a positional is called in a usage line: CLIENT; 顧客 for a Japanese speaker."""
        if speaker is not None and speaker.language == "ja":
            return speaker._(self.title) if self.title else speaker._(self.label)
        return self.label

    def placeholder(self, speaker: Speaker | None = None) -> str:
        if speaker is None:
            return self.label
        if speaker.language == "ja" and not self.metavar and self.title:
            return speaker._(self.title)
        return speaker._(self.label)

    def field_label(self, speaker: Speaker) -> str:
        """How a card names this parameter beside its value: its title (Case number, 案件番号), else
        as a complaint names it."""
        return speaker._(self.title) if self.title else self.render(speaker)

    def render(self, speaker: Speaker) -> str:
        """How a complaint names this parameter: ``CLIENT`` / ``--due``; ``顧客`` / ``納期``; in a
        form, as its input is labelled (``Seconds``, ``Due date``)."""
        if speaker.in_form and self.title:
            return speaker._(self.title)
        if speaker.language == "ja":
            if self.positional:
                return self.shown_label(speaker)
            return self.native_alias or (speaker._(self.title) if self.title else self.option)
        return self.label if self.positional else self.option

    def convert(self, raw: str, today: dt.date | None = None) -> Any:
        """``raw`` as this parameter's value; ``today`` (in the person's time zone) places a date
        written without its year."""
        value = self._convert(raw, today)
        if self.check is not None:
            self.check(value)
        return value

    def _convert(self, raw: str, today: dt.date | None) -> Any:
        # U+2028/U+2029 are line breaks too (a phone's keyboard, text pasted from a document): no
        # control characters, they passed, and broke the client's name into lines in the case sheet,
        # the cards and a YAML template, where its folder made them a space
        controls = {ch for ch in raw if unicodedata.category(ch) in ("Cc", "Zl", "Zp")}
        if controls and controls <= set("\r\n\t\u2028\u2029"):  # typed inside quotes on a phone: said in its words
            raise UsageError(N_("{label} has a line break or a tab; write it on one line, "
                                "like “{example}”"), label=self, example=quoted(raw))
        if controls:
            raise UsageError(N_("{label} contains control characters"), label=self)
        if self.kind == "str":
            value = raw.strip()
            if not value:
                raise UsageError(N_("{label} is empty"), label=self)
            if len(value) > self.max_length:
                raise UsageError(N_("{label} is too long ({length} characters; at most {maximum})"),
                                 label=self, length=f"{len(value):,}", maximum=f"{self.max_length:,}")
            if self.choices and value not in self.choices:
                raise UsageError(N_("{label} must be one of: {choices}"), label=self, choices=", ".join(self.choices))
            return value
        if self.kind == "date":
            from .typed import parse_date

            try:
                day = parse_date(raw, today or dt.datetime.now(dt.UTC).date(), self.recent)
            except ValueError as exc:
                if str(exc) == "not a date":  # its reason would only say again what the message says
                    raise UsageError(N_("{label} is not a date I can read: “{value}”. "
                                        "Write it like 2026-12-01, 12/1 or 12月1日."),
                                     label=self, value=quoted(raw)) from exc
                raise UsageError(N_("{label} is not a date I can read ({problem}): “{value}”. "
                                    "Write it like 2026-12-01, 12/1 or 12月1日."),
                                 label=self, problem=_problem(exc), value=quoted(raw)) from exc
            return day.isoformat()
        if self.kind == "yen":
            from .typed import parse_yen

            try:
                number = parse_yen(raw, allow_zero=self.minimum is not None and self.minimum <= 0)
            except ValueError as exc:
                if str(exc) == "negative":  # -5000: said as what it is, with the least amount taken
                    least = N_("{label} is negative: “{value}”. An amount here is more than ¥0: write it without "
                               "a minus sign, like 350000.") if self.minimum is None or self.minimum > 0 else \
                        N_("{label} is negative: “{value}”. An amount here is ¥0 or more: write it without a minus "
                           "sign, like 350000.")
                    raise UsageError(least, label=self, value=quoted(raw)) from exc
                if str(exc) == "not an amount":  # its reason would only say again what the message says
                    raise UsageError(N_("{label} is not an amount I can read: “{value}”. "
                                        "Write it like 350000, ¥350,000 or 35万円."),
                                     label=self, value=quoted(raw)) from exc
                raise UsageError(N_("{label} is not an amount I can read ({problem}): “{value}”. "
                                    "Write it like 350000, ¥350,000 or 35万円."),
                                 label=self, problem=_problem(exc), value=quoted(raw)) from exc
        else:
            digits = raw.strip()
            if self.prefix and digits[:len(self.prefix)].lower() == self.prefix.lower():
                digits = digits[len(self.prefix):]  # v2 as a card writes it
            for unit in sorted(self.units, key=len, reverse=True):  # 30秒間 before 30秒
                if len(digits) > len(unit) and digits.lower().endswith(unit.lower()):
                    digits = digits[:-len(unit)].rstrip()  # 30秒, 30 s as the person says it
                    break
            # Digits only: int() and float() would also take 1_000, nan, inf and other scripts' digits.
            if not (_INT if self.kind == "int" else _FLOAT).match(digits):
                worded = _WORDED.match(digits)
                if worded:  # 30分, 3個: a word after the number, which an example of digits would not fit
                    raise UsageError(N_("{label} must be a number written in digits alone, without “{word}”, "
                                        "not “{value}”"), label=self, word=quoted(worded["word"]), value=quoted(raw))
                message = N_("{label} must be a whole number written in digits, like 12, not “{value}”") \
                    if self.kind == "int" else N_("{label} must be a number written in digits, like 1.5, not “{value}”")
                raise UsageError(message, label=self, value=quoted(raw))
            number = int(digits) if self.kind == "int" else float(digits)
        if (self.minimum is not None and number < self.minimum) or (
                self.maximum is not None and number > self.maximum):
            raise UsageError(N_("{label} must be from {minimum} to {maximum}, not {value}"), label=self,
                             minimum=_number(self.minimum), maximum=_number(self.maximum), value=quoted(raw))
        return number


def _number(value: float | None) -> str:
    if value is None:
        return "…"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def _problem(exc: ValueError):
    """A parser's reason (an English text marked for the catalog) as a text said later."""
    from ..i18n import L_

    return L_(str(exc), **getattr(exc, "values", {}))


def split_words(text: str) -> list[str]:
    """The words of a command as a person typed it, normalised (full-width forms, 「」 quotes, ``：``,
    dashes, invisible characters); a backslash is text (a Japanese keyboard's ¥ key types one)."""
    if len(text) > MAX_COMMAND:
        raise UsageError(N_("the command is too long ({length} characters; at most {maximum})"),
                         length=f"{len(text):,}", maximum=f"{MAX_COMMAND:,}")
    text = normalize(_CLOSING.sub(r"\1 ", _OPENING.sub(r" \1", _shield_nested(text))))
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    lexer.escape = ""
    try:
        return [word.translate(_UNSHIELD) for word in lexer]
    except ValueError as exc:
        raise UsageError(N_("a quotation mark is not closed")) from exc


MAX_NAME = 100  # characters of a command's name read by ``first_word``


def first_word(text: str) -> tuple[str, str]:
    """The first word of a command (its name, normalised as ``split_words`` would) and the text
    after it as typed, read without splitting the rest: a command that does not split (a quote left
    open, a text too long) still names what it is for. The word ends at a space or a quote
    (``新規案件「x``); ("", text) when there is none."""
    start = len(text) - len(text.lstrip())
    end = start
    while end < len(text) and end - start < MAX_NAME and not text[end].isspace() and text[end] not in _QUOTES:
        end += 1
    return normalize(_PRIVATE.sub("", text[start:end])), text[end:]


def join_words(words: list[str]) -> str:
    """``words`` as one text that ``split_words`` reads back as the same words (a Fill in button
    carries what was typed so). A word with a space or a quote is put in 「」: inside them every
    quote is text, where ``shlex.quote``'s '…' would have its 「」 read as quotes again."""
    return " ".join(w if w and not any(c.isspace() or c in _NESTED for c in w) else f"「{w}」" for w in words)


# Quotes inside a 「…」 or 『…』 are text: 「型「A」改」 is the one word 型「A」改, not 型 A 改. While it is
# split they stand in as private-use characters (none of which a person types: they are dropped first).
_BRACKETS = {"「": "」", "『": "』", "｢": "｣"}
_NESTED = "「」『』｢｣\"'“”‘’„＂«»＇"
_SHIELD = {ord(c): 0xE000 + i for i, c in enumerate(_NESTED)}
_UNSHIELD = {0xE000 + i: c for i, c in enumerate(_NESTED)}
_PRIVATE = re.compile("[\ue000-\uf8ff]")
_QUOTES = frozenset(_NESTED) | frozenset(_BRACKETS)


def _shield_nested(text: str) -> str:
    text = _PRIVATE.sub("", text)
    out: list[str] = []
    stack: list[str] = []  # the closing brackets awaited, outermost first
    awaited = dict.fromkeys(_BRACKETS.values(), 0)  # how many of each are in the stack (no scan of it)
    start = 0
    for i, ch in enumerate(text):
        if stack and ch == stack[-1]:
            awaited[stack.pop()] -= 1
            if not stack:  # the outermost closes: what was inside is shielded
                out.append(text[start] + text[start + 1:i].translate(_SHIELD) + ch)
                start = i + 1
        elif awaited.get(ch):  # 『型「A』: the 「 inside is still open
            raise UsageError(N_("a quotation mark is not closed"))
        elif ch in _BRACKETS:
            if not stack:
                out.append(text[start:i])
                start = i
            stack.append(_BRACKETS[ch])
            awaited[_BRACKETS[ch]] += 1
    out.append(text[start:])  # a bracket left open: as typed (the split says it is not closed)
    return "".join(out)


class _OptionNames:
    """A command's options as each reader writes them, in their declared order: 納期：、明細：、置換 in
    Japanese (by their first alias, a flag without a colon; an option without one as ``--name``),
    --due, --item in English."""

    __slots__ = ("params",)

    def __init__(self, params):
        self.params = tuple(params)

    def render(self, speaker) -> str:
        if speaker.language == "ja":
            return "、".join((p.aliases[0] if p.kind == "flag" else f"{p.aliases[0]}：") if p.aliases else p.option
                            for p in self.params) or "—"
        return ", ".join(p.option for p in self.params) or "—"

    def __str__(self) -> str:
        return self.render(ENGLISH)


class _Options:
    """The options of a command by every name they may be written with."""

    def __init__(self, params: tuple[Param, ...]):
        self.by_option = {p.option: p for p in params if not p.positional}
        self.by_alias = {a: p for p in params if not p.positional for a in p.aliases}
        # a flag's alias written alone (追加発行 for --again, as 追加発行： is): the flag, unless the
        # command takes free text (a title), where the same word may be part of that text
        free_text = any(p.positional and p.rest for p in params)
        self.bare_flags = {} if free_text else {a: p for a, p in self.by_alias.items() if p.kind == "flag"}

    def near(self, words: list[str]) -> str | None:
        """The option a word left over most likely meant, as it is written (``納期：``, ``--due``),
        when the word is a name and a colon or ``=`` (``納品:12月1日``, ``納期=12月1日``, as 案件一覧's
        filters are written) and the name is near an option's, or the word is an option's name
        written alone (``納期 12月1日``: its value came as the next word)."""
        names = {**{a: f"{a}：" for a in self.by_alias if self.by_alias[a].kind != "flag"},
                 **{o[2:]: o for o, p in self.by_option.items() if p.kind != "flag"}}
        for word in words:
            if word.lower() in names:
                return names[word.lower()]
            head, colon, _ = word.replace("=", ":", 1).partition(":")
            if colon and head and len(head) <= MAX_NAME:
                found = difflib.get_close_matches(head.lower(), names, n=1, cutoff=0.5)
                if found:
                    return names[found[0]]
        return None

    def match(self, word: str) -> tuple[Param, str, str | None] | None:
        """(the option, the name it was written as, its value if written in the same word), or None
        when ``word`` is not an option at all. UsageError for ``--name`` that names nothing."""
        if word.startswith("--") and len(word) > 2:
            name, has_value, inline = word.partition("=")
            param = self.by_option.get(name) or self.by_alias.get(name[2:])
            if param is None:
                raise UsageError(N_("unknown option {name} (options: {known})"), name=quoted(name),
                                 known=_OptionNames(self.by_option.values()))
            return param, name, inline or None  # --due= then nothing: "needs a value", not "“” is not a date"
        if word.startswith(":") and len(word) > 1:  # :納期 12月1日, :納期12月1日
            for alias in sorted(self.by_alias, key=len, reverse=True):
                if word[1:].startswith(alias):
                    rest = word[1 + len(alias):].lstrip(":")
                    return self.by_alias[alias], alias, rest or None
            return None
        if word in self.bare_flags:  # 追加発行 alone: a flag takes no value, so its name is enough
            return self.bare_flags[word], word, None
        head, colon, tail = word.partition(":")
        if colon and head in self.by_alias:  # 納期:12月1日 (or 納期: then the value)
            return self.by_alias[head], head, tail or None
        return None


def parse_params(params: tuple[Param, ...], words: list[str], today: dt.date | None = None) -> dict[str, Any]:
    """Turn the words after a command into typed values, or raise UsageError saying what is wrong.
    ``today`` (in the person's time zone) places dates written without a year."""
    options = _Options(params)
    positionals = [p for p in params if p.positional]
    values: dict[str, Any] = {}
    loose: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        found = options.match(word)
        if found is None:
            loose.append(word)
            i += 1
            continue
        param, name, inline = found
        if param.kind == "flag":
            if inline is not None:
                raise UsageError(N_("{name} takes no value"), name=name)
            values[param.name] = True
            i += 1
            continue
        if inline is not None:
            raw = inline
        elif i + 1 < len(words):
            raw = words[i + 1]
            i += 1
        else:
            raise UsageError(N_("{name} needs a value"), name=name)
        if i + 1 < len(words) and param.is_unit(words[i + 1]):  # 回数：2 回, the unit a word of its own
            raw += words[i + 1]
            i += 1
        value = param.convert(raw, today)
        if param.repeated:
            values.setdefault(param.name, []).append(value)
        elif param.name in values:
            raise UsageError(N_("{name} is given twice"), name=name)
        else:
            values[param.name] = value
        i += 1
    for param in positionals:
        if param.rest:
            if loose:
                values[param.name] = param.convert(" ".join(loose), today)
                loose = []
        elif loose:
            raw = loose.pop(0)
            if loose and param.is_unit(loose[0]):  # sleep 30 秒: the unit a word of its own
                raw += loose.pop(0)
            values[param.name] = param.convert(raw, today)
    if loose:
        meant = options.near(loose)
        if meant:  # 納品：12月1日 typed for 納期：12月1日
            raise UsageError(N_("unexpected “{words}”; did you mean “{option}”?"), words=quoted(" ".join(loose)),
                             option=meant)
        raise UsageError(N_("unexpected “{words}”"), words=quoted(" ".join(loose)))
    for param in params:
        if param.name not in values:
            if param.required:
                raise UsageError(N_("{label} is missing"), label=param)
            if param.kind == "flag":
                values[param.name] = False
            elif param.repeated:
                values[param.name] = list(param.default or [])
            else:
                values[param.name] = param.default
    return values
