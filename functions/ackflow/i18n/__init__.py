"""Every person-facing text in the person's language, and numbers, money and dates in their form.

Texts are marked in code with ``_("…")`` (translated at once), ``N_("…")`` (a declaration kept in
English and translated where it is shown, e.g. a job type's help line) or ``L_("…", **values)`` (a
text said later, in whoever's language it reaches: an error raised deep in a parser), extracted to
``locale/ackflow.pot`` with Babel, translated in ``locale/<lang>/LC_MESSAGES/ackflow.po`` and
compiled to ``.mo`` files (``scripts/catalog``), which the standard library's gettext loads.

A :class:`Speaker` is one person's language, time zone and platform; ``speaker._("…")`` and its
formatters are what views use. Babel (CLDR data) is imported only on the first formatted number or
date, so the webhook's cold start does not pay for it.
"""

from __future__ import annotations

import datetime as dt
import gettext as _gettext
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "ackflow"
LANGUAGES = ("ja", "en")  # the catalogs shipped; English is the source language
DEFAULT_LANGUAGE = "en"
DEFAULT_TIME_ZONE = "UTC"  # a deployment sets its own (ACKFLOW_TIME_ZONE; the office: Asia/Tokyo)

_lock = threading.Lock()


class MissingValue(KeyError):
    """A text names a ``{placeholder}`` its values do not give (``N_("no data for {month}")``
    raised with ``folder=``): a bug in the code that says it, named with the text and the values,
    since a bare ``KeyError: 'month'`` reads like a missing parameter. A KeyError still, for the
    callers that fall back on one."""

    def __init__(self, message: str, name: str, given) -> None:
        super().__init__(name)
        self.message, self.name, self.given = message, name, tuple(given)

    def __str__(self) -> str:
        return (f"the text {self.message!r} names {{{self.name}}}, which it was not given "
                f"(given: {', '.join(self.given) or 'no values'})")


def _filled(message: str, text: str, values: dict) -> str:
    try:
        return text.format(**values)
    except KeyError as exc:
        raise MissingValue(message, str(exc.args[0]), values) from None


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (declarations, constants)."""
    return message


class Msg:
    """A text to be said later, in the language of whoever it reaches: ``msgid`` (English, marked
    for the catalog) and its values, which may themselves be Msgs (or anything with
    ``render(speaker)``). ``str()`` gives the English text (logs, tests)."""

    __slots__ = ("msgid", "values")

    def __init__(self, msgid: str, **values):
        self.msgid = msgid
        self.values = values

    def render(self, speaker: Speaker) -> str:
        return speaker._(self.msgid, **self.values)

    def __str__(self) -> str:
        return self.render(ENGLISH)

    def __repr__(self) -> str:
        return f"Msg({self.msgid!r}, **{self.values!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and (self.msgid, self.values) == (other.msgid, other.values)

    def __hash__(self) -> int:
        return hash(self.msgid)


def L_(message: str, **values) -> Msg:
    """Mark ``message`` for extraction and keep it, with ``values``, to be said later (a Msg)."""
    return Msg(message, **values)


def texts(table: dict[str, str]) -> Callable[..., Msg]:
    """A module's own ``say(key, **values)`` for its table of marked texts (``N_("…")`` by key):
    the Msg of that text with those values, said later in the language of whoever it reaches."""

    def say(key: str, **values) -> Msg:
        return Msg(table[key], **values)

    return say


class Joined:
    """Texts said one after another with ``separator`` (each may be a Msg), in whoever's language."""

    __slots__ = ("parts", "separator")

    def __init__(self, parts, separator: str = "; "):
        self.parts = tuple(parts)
        self.separator = separator

    def render(self, speaker: Speaker) -> str:
        return self.separator.join(str(said(part, speaker)) for part in self.parts)

    def __str__(self) -> str:
        return self.render(ENGLISH)


class Listed(Joined):
    """Values listed as each reader lists them: “a、b” in Japanese, “a, b” in English."""

    __slots__ = ()

    def __init__(self, parts):
        super().__init__(parts, ", ")

    def render(self, speaker: Speaker) -> str:
        separator = "、" if speaker.language == "ja" else ", "
        return separator.join(str(said(part, speaker)) for part in self.parts)


class Day:
    """A date as a value of a text said later: 2026年12月1日(火) or 1 Dec 2026, as each reader writes it."""

    __slots__ = ("value",)

    def __init__(self, value: dt.date | str):
        self.value = value

    def render(self, speaker: Speaker) -> str:
        return speaker.date(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Day) and str(self.value) == str(other.value)

    def __hash__(self) -> int:
        return hash(str(self.value))


class Yen:
    """An amount of integer yen as a value of a text said later: ¥430,000 (the reader's digits)."""

    __slots__ = ("amount",)

    def __init__(self, amount: int):
        self.amount = int(amount)

    def render(self, speaker: Speaker) -> str:
        return speaker.yen(self.amount)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Yen) and self.amount == other.amount

    def __hash__(self) -> int:
        return hash(self.amount)


def said(value, speaker: Speaker):
    """``value`` as ``speaker`` says it: a Msg (or anything with ``render``) rendered, else as it is."""
    render = getattr(value, "render", None)
    return render(speaker) if callable(render) and not isinstance(value, type) else value


def language_of(tag: str | None) -> str | None:
    """The shipped language for a BCP 47 tag as Chat sends it (``ja``, ``ja-JP``, ``en_US``), or None."""
    if not tag or not isinstance(tag, str):
        return None
    base = tag.replace("_", "-").split("-", 1)[0].strip().lower()
    return base if base in LANGUAGES else None


@cache
def _catalog(language: str) -> _gettext.NullTranslations:
    with _lock:
        if language == "en":
            return _gettext.NullTranslations()
        return _gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=False)


@lru_cache(maxsize=64)
def _zone(name: str):
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


def valid_time_zone(name: str | None) -> bool:
    if not name or not isinstance(name, str) or len(name) > 64:
        return False
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError):
        return False


@dataclass(frozen=True)
class Speaker:
    """How to speak to one person: their language (``ja`` or ``en``), time zone and platform."""

    language: str = DEFAULT_LANGUAGE
    time_zone: str = DEFAULT_TIME_ZONE
    platform: str = ""  # Chat's common.platform: IOS, ANDROID, WEB (empty: unknown)
    # in a form: a parameter is named as its input is labelled (Seconds), not as a command names
    # it (SECONDS, --due); see ``Param.render``
    in_form: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            object.__setattr__(self, "language", DEFAULT_LANGUAGE)
        if not valid_time_zone(self.time_zone):
            object.__setattr__(self, "time_zone", DEFAULT_TIME_ZONE)

    # -- texts ----------------------------------------------------------------------------------
    def _(self, message: str, **values) -> str:
        """``message`` in this language, formatted with ``values`` (str.format names)."""
        text = _catalog(self.language).gettext(message)
        return _filled(message, text, {k: said(v, self) for k, v in values.items()}) if values else text

    def n_(self, singular: str, plural: str, count: int, **values) -> str:
        """The plural form for ``count`` (Japanese has one form; English two); ``{count}`` is
        formatted with the language's digit grouping."""
        text = _catalog(self.language).ngettext(singular, plural, count)
        return _filled(singular, text, {"count": self.number(count), **{k: said(v, self) for k, v in values.items()}})

    def sentences(self, *parts: str) -> str:
        """Sentences one after another (Japanese puts no space after 。)."""
        return ("" if self.language == "ja" else " ").join(p for p in parts if p)

    @property
    def phone(self) -> bool:
        return self.platform in ("IOS", "ANDROID")

    # -- numbers, money, dates ------------------------------------------------------------------
    def number(self, value: int | float) -> str:
        from babel.numbers import format_decimal

        return format_decimal(value, locale=self.language)

    def yen(self, amount: int) -> str:
        """Integer yen as ¥430,000 (in both languages: the sign offices print)."""
        sign = "-" if amount < 0 else ""
        return f"{sign}¥{self.number(abs(int(amount)))}"

    def date(self, value: dt.date | str) -> str:
        """2026年12月1日(火) in Japanese, 1 Dec 2026 in English."""
        from babel.dates import format_date

        if isinstance(value, str):
            value = dt.date.fromisoformat(value)
        pattern = "y年M月d日(E)" if self.language == "ja" else "d MMM y"
        return format_date(value, pattern, locale=self.language)

    def moment(self, timestamp: float) -> str:
        """A moment in the person's time zone: 2026年12月1日(火) 14:05 / 1 Dec 2026, 14:05."""
        from babel.dates import format_datetime

        when = dt.datetime.fromtimestamp(timestamp, _zone(self.time_zone))
        pattern = "y年M月d日(E) H:mm" if self.language == "ja" else "d MMM y, H:mm"
        return format_datetime(when, pattern, locale=self.language)

    def today(self, now: float) -> dt.date:
        return dt.datetime.fromtimestamp(now, _zone(self.time_zone)).date()

    def duration(self, seconds: float) -> str:
        seconds = max(0.0, seconds)
        if seconds < 1:
            return self._("{n} ms", n=round(seconds * 1000))
        if seconds < 90:
            return self._("{n} s", n=round(seconds, 1) if seconds < 10 else round(seconds))
        if seconds < 5400:
            return self._("{n} min", n=round(seconds / 60))
        return self._("{n} h", n=round(seconds / 3600, 1))

    def ago(self, seconds: float) -> str:
        """How long ago something was, for “… ago”: whole seconds, as a clock says it (9.8 秒前 and
        120 ミリ秒前 are a stopwatch's), then as ``duration``."""
        seconds = max(0.0, seconds)
        if seconds < 90:
            return self._("{n} s", n=max(1, round(seconds)))
        return self.duration(seconds)


ENGLISH = Speaker("en", "UTC")


def speaker_for(language: str | None, time_zone: str | None = None, platform: str | None = None, *,
                default_language: str = DEFAULT_LANGUAGE, default_time_zone: str = DEFAULT_TIME_ZONE) -> Speaker:
    """A Speaker from what is known, each part falling back to the deployment's default."""
    return Speaker(language_of(language) or language_of(default_language) or DEFAULT_LANGUAGE,
                   time_zone if valid_time_zone(time_zone) else default_time_zone,
                   (platform or "").upper()[:16])
