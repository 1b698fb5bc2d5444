"""Money on estimates and invoices: lines in integer yen, tax per rate, rounding said out loud.

A qualified invoice (適格請求書) rounds the consumption tax once per tax rate per document, never
per line: the lines of one rate are added up, the sum is taxed, and that one figure is rounded
(``floor`` by default, as is usual in Japan; ``round`` is half up, 四捨五入; ``ceil`` 切り上げ).
Estimates are computed the same way, so an accepted estimate and its invoice agree to the yen.

A line is ``description:quantity:unit price`` with an optional rate, ``:8%`` for a reduced-rate
line (軽減税率). A fractional quantity makes a fractional amount; the line amount is rounded with
its own rule (``round`` by default), and that rule is written on the document as well.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from ackflow.errors import UsageError
from ackflow.i18n import N_, Msg, texts

ROUNDINGS = {"floor": ROUND_FLOOR, "round": ROUND_HALF_UP, "ceil": ROUND_CEILING}
MAX_UNIT_PRICE = 9_999_999_999  # ¥10 billion less a yen: anything larger is a typo
MAX_QUANTITY = Decimal("99999999.999")  # what freee accepts: 8 integer and 3 decimal digits
MAX_TOTAL = 999_999_999_999  # per document
MAX_LINES = 50
# A line's description, in characters. freee's reference gives no limit for it; 100 is what the
# freee adapter used to cut it to, without a word. Refusing more where it is typed keeps the PDF, the
# stored lines and freee's document the same, and the person knows before anything is issued.
MAX_DESCRIPTION = 100

# Person-facing texts of this module (English, Japanese): the catalog takes them from here.
TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "format": N_("write \"description:quantity:unit price\", e.g. \"金型設計:1:350000\" (add \":8%\" for a "
                 "reduced-rate line)"),
    "unreadable": N_("cannot read the item “{text}”; {format}"),
    "unreadable_quantity": N_("cannot read the item “{text}”: its quantity “{value}” is not a number (write "
                              "digits, e.g. 1 or 1.5); {format}"),
    "unreadable_price": N_("cannot read the item “{text}”: its unit price “{value}” is not an amount of yen "
                           "(e.g. 350000, ¥350,000 or 35万円)"),
    "unreadable_price_why": N_("cannot read the item “{text}”: its unit price “{value}” is not an amount of "
                               "yen ({problem}; e.g. 350000, ¥350,000 or 35万円)"),
    "negative_price": N_("the unit price of “{text}” is negative: a discount cannot be a line of its own; "
                         "lower the unit price of the line it applies to instead (e.g. 金型設計:1:330000)"),
    "part_negative_price": N_("“{value}” is negative: a discount cannot be a line of its own; lower the unit "
                              "price of the line it applies to instead"),
    "no_description": N_("the item “{text}” has no description; {format}"),
    "long_description": N_("the description of the item “{text}” has {length} characters; at most {most} fit "
                           "on a line of an estimate or invoice: shorten it"),
    "quantity": N_("the quantity of “{text}” must be more than 0 and at most 99,999,999.999, with "
                   "at most three decimals"),
    "price": N_("the unit price of “{text}” must be a whole number of yen from 1 to ¥9,999,999,999"),
    "rate": N_("the tax rate of “{text}” must be {standard}% or {reduced}% (reduced rate)"),
    "unmarked_rate": N_("the item “{text}” ends in {last} without %: if it is the tax rate, write “:{last}%”; "
                        "if it is the unit price, write “¥{last}”"),
    "too_many": N_("at most {most} lines on one document"),
    # a form's line, each input read on its own (the form puts the input's label first: 数量: …)
    "part_quantity": N_("“{value}” is not a number I can read (e.g. 1 or 1.5)"),
    "part_quantity_range": N_("“{value}” must be more than 0 and at most 99,999,999.999, with at most three "
                              "decimals"),
    "part_price": N_("“{value}” is not an amount of yen I can read ({problem}; e.g. 350000, ¥350,000 or 35万円)"),
    "part_price_plain": N_("“{value}” is not an amount of yen I can read (e.g. 350000, ¥350,000 or 35万円)"),
    "part_price_range": N_("“{value}” must be a whole number of yen from 1 to ¥9,999,999,999"),
    "part_rate": N_("“{value}” must be {standard}% or {reduced}% (reduced rate), or left empty for {standard}%"),
    "part_description": N_("{length} characters; at most {most} fit on a line of an estimate or invoice: "
                           "shorten it"),
    # how a card shows the lines typed (Param.show), before the job is run
    "shown_reduced": N_("{line} ({rate}%, reduced rate)"),
    "shown_subtotal": N_("Subtotal before tax: {amount}"),
    "too_large": N_("the total {total} is larger than ¥999,999,999,999; check the quantities and prices"),
}


say = texts(TEXTS)


@dataclass(frozen=True)
class Line:
    description: str
    quantity: Decimal
    unit_price: int
    reduced: bool = False  # a reduced-rate line (軽減税率対象, 8 %)

    def amount(self, rounding: str = "round") -> int:
        return int((self.quantity * self.unit_price).quantize(Decimal(1), rounding=ROUNDINGS[rounding]))

    def to_dict(self) -> dict:
        return {"description": self.description, "quantity": str(self.quantity), "unit_price": self.unit_price,
                "reduced": self.reduced}

    @classmethod
    def from_dict(cls, data: dict) -> Line:
        return cls(data["description"], Decimal(data["quantity"]), int(data["unit_price"]),
                   bool(data.get("reduced", False)))

    def text(self) -> str:
        """The line as it is typed (what ``parse_line`` reads back)."""
        rate = ":8%" if self.reduced else ""
        price = priced(self.description, str(self.unit_price))
        return f"{self.description}:{self.quantity.normalize():f}:{price}{rate}"


_RATE = re.compile(r":\s*(\d+(?:\.\d+)?)\s*%\s*$")


def split_item(text: str) -> list[str]:
    """A typed line as a form's four inputs: description, quantity, unit price, rate ("8%" or empty)."""
    found = _RATE.search(text)
    body = text[:found.start()] if found else text
    pieces = body.rsplit(":", 2)
    return pieces + [""] * (3 - len(pieces)) + [f"{found.group(1)}%" if found else ""]


def join_item(pieces: list[str]) -> str:
    """A form's line back as typed: a rate written without % (8, ８) still reads as a rate."""
    description, quantity, price, rate = (list(pieces) + ["", "", "", ""])[:4]
    rate = rate.strip().rstrip("%％").strip()
    return f"{description}:{quantity}:{priced(description, price)}" + (f":{rate}%" if rate else "")


# a negative amount as typed: -5000, −5,000 (the IME's minus), ▲5000 and △5000 (as Japanese accounts write one)
_NEGATIVE = re.compile(r"^\s*(?:[-−‐▲△]\s*[¥￥\\]?|[¥￥\\]\s*[-−▲△])\s*[0-9０-９]")


def is_negative(text: str) -> bool:
    """Whether ``text`` is a negative amount (a discount typed as a line)."""
    return bool(_NEGATIVE.match(text))


def read_yen(text: str) -> int:
    """A whole number of yen as people type it: ``350000``, ``350,000``, ``¥350,000``, ``350000円``,
    ``35万円``, full-width digits (the bounds are the caller's)."""
    from ackflow.jobs.typed import parse_yen

    return parse_yen(text, allow_zero=True)


def read_quantity(text: str) -> Decimal:
    """A quantity: ``3``, ``1.5``, ``1,000``; a comma only between groups of three digits (``1,5``
    is a decimal comma or a typo, never 15)."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not re.fullmatch(r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]+)?", cleaned):
        raise ValueError(text)
    return Decimal(cleaned.replace(",", ""))


def parse_line(text: str, *, standard: int = 10, reduced: int = 8) -> Line:
    """``description:quantity:unit price[:8%]`` (the description may itself contain colons)."""
    fmt = say("format")
    rate = None
    from ackflow.jobs.normalize import normalize

    body = normalize(text)
    found = _RATE.search(body)
    if found:
        rate = Decimal(found.group(1))
        body = body[:found.start()]
    try:
        description, quantity, price = body.rsplit(":", 2)
    except ValueError as exc:
        raise UsageError(say("unreadable", text=text, format=fmt)) from exc
    if not found:
        check_unmarked_rate(text, description, price)
    try:
        qty = read_quantity(quantity)
    except (ValueError, InvalidOperation) as exc:  # which field, and why: 三 for 3, 1,5 for 1.5
        raise UsageError(say("unreadable_quantity", text=text, value=_value(quantity), format=fmt)) from exc
    if is_negative(price):
        raise UsageError(say("negative_price", text=text))
    try:
        unit = read_yen(price)
    except ValueError as exc:
        if str(exc) != "too large":
            problem = str(exc)
            said = (say("unreadable_price", text=text, value=_value(price)) if problem == "not an amount" else
                    say("unreadable_price_why", text=text, value=_value(price),
                        problem=Msg(problem, **getattr(exc, "values", {}))))
            raise UsageError(said) from exc
        unit = MAX_UNIT_PRICE + 1  # said below, with the range it must be in
    description = description.strip()
    if not description:
        raise UsageError(say("no_description", text=text, format=fmt))
    check_description(text, description)
    check_line(text, qty, unit)
    if rate is not None and rate not in (Decimal(standard), Decimal(reduced)):
        raise UsageError(say("rate", text=text, standard=standard, reduced=reduced))
    return Line(description, qty, unit, reduced=rate is not None and rate == Decimal(reduced) != Decimal(standard))


def check_description(text: str, description: str) -> None:
    """A line's description fits a line of a document (``MAX_DESCRIPTION`` characters)."""
    if len(description) > MAX_DESCRIPTION:
        raise UsageError(say("long_description", text=text[:40] + "…", length=len(description),
                             most=MAX_DESCRIPTION))


_NUMBER_LEFT = re.compile(r":\s*[0-9,.]*\s*$")  # what a description ends in when a field too many was typed
_BARE_RATE = re.compile(r"\s*[0-9]{1,3}(?:\.[0-9]+)?\s*")  # 8, 10, 8.0: no ¥, 円 or 万


def check_unmarked_rate(text: str, description: str, price: str) -> None:
    """A rate typed without its % (``設計:1:1000:8``) would be read as the unit price (¥8) and the
    real quantity and price as the end of the description (``設計:1``): refused, saying both ways
    to write it. Only a bare number of at most 100 after a description that ends in ``:number``
    (or in ``:``) is refused; a price with ¥ or 円 is always a price."""
    if _NUMBER_LEFT.search(description) and _BARE_RATE.fullmatch(price) and Decimal(price) <= 100:
        raise UsageError(say("unmarked_rate", text=text, last=price.strip()))


def priced(description: str, price: str) -> str:
    """The unit price as written after ``description`` in a line's text: with ¥ where a bare number
    would read as a rate without its % (``check_unmarked_rate``), e.g. after ``縮尺1:100:2``."""
    if _NUMBER_LEFT.search(description) and _BARE_RATE.fullmatch(price):
        return f"¥{price.strip()}"
    return price


def check_line(text: str, quantity: Decimal, unit_price: int) -> None:
    if not (0 < quantity <= MAX_QUANTITY) or quantity.as_tuple().exponent < -3:
        raise UsageError(say("quantity", text=text))
    if not 1 <= unit_price <= MAX_UNIT_PRICE:
        raise UsageError(say("price", text=text))


@dataclass(frozen=True)
class RateTotal:
    rate: int  # percent
    reduced: bool
    subtotal: int  # the lines of this rate, before tax
    tax: int  # rounded once, for this rate on this document

    def to_dict(self) -> dict:
        return {"rate": self.rate, "reduced": self.reduced, "subtotal": self.subtotal, "tax": self.tax}

    @classmethod
    def from_dict(cls, data: dict) -> RateTotal:
        return cls(int(data["rate"]), bool(data["reduced"]), int(data["subtotal"]), int(data["tax"]))


@dataclass(frozen=True)
class Totals:
    by_rate: tuple[RateTotal, ...]  # standard rate first

    @property
    def subtotal(self) -> int:
        return sum(r.subtotal for r in self.by_rate)

    @property
    def tax(self) -> int:
        return sum(r.tax for r in self.by_rate)

    @property
    def total(self) -> int:
        return self.subtotal + self.tax

    def to_dict(self) -> dict:
        return {"by_rate": [r.to_dict() for r in self.by_rate], "subtotal": self.subtotal, "tax": self.tax,
                "total": self.total}

    @classmethod
    def from_dict(cls, data: dict) -> Totals:
        return cls(tuple(RateTotal.from_dict(r) for r in data["by_rate"]))


@dataclass(frozen=True)
class TaxRules:
    """The rates and the rounding a document is computed with (kept on the document)."""

    standard: int = 10
    reduced: int = 8
    rounding: str = "floor"  # the tax of each rate
    line_rounding: str = "round"  # a line amount with a fractional quantity

    def __post_init__(self) -> None:
        for rule in (self.rounding, self.line_rounding):
            if rule not in ROUNDINGS:
                raise ValueError(f"rounding must be one of {', '.join(ROUNDINGS)}, got {rule!r}")

    def to_dict(self) -> dict:
        return {"standard": self.standard, "reduced": self.reduced, "rounding": self.rounding,
                "line_rounding": self.line_rounding}

    @classmethod
    def from_dict(cls, data: dict) -> TaxRules:
        return cls(int(data["standard"]), int(data["reduced"]), data["rounding"], data["line_rounding"])

    def rate_of(self, line: Line) -> int:
        return self.reduced if line.reduced else self.standard

    def totals(self, lines: tuple[Line, ...] | list[Line]) -> Totals:
        """Tax once per rate: the sum of the lines of a rate, times the rate, rounded once."""
        if len(lines) > MAX_LINES:
            raise UsageError(say("too_many", most=MAX_LINES))
        groups: dict[bool, int] = {}
        for line in lines:
            groups[line.reduced] = groups.get(line.reduced, 0) + line.amount(self.line_rounding)
        by_rate = []
        for reduced in (False, True):
            if reduced in groups:
                rate = self.reduced if reduced else self.standard
                subtotal = groups[reduced]
                tax = int((Decimal(subtotal) * rate / 100).quantize(Decimal(1), rounding=ROUNDINGS[self.rounding]))
                by_rate.append(RateTotal(rate, reduced, subtotal, tax))
        totals = Totals(tuple(by_rate))
        if totals.total > MAX_TOTAL:
            raise UsageError(say("too_large", total=yen(totals.total)))
        return totals


def yen(amount: int) -> str:
    return f"¥{amount:,}"


def rate_label(rate: RateTotal) -> str:
    """``10%対象`` / ``8%対象（軽減税率）``: how a qualified invoice names a rate."""
    return f"{rate.rate}%対象" + ("（軽減税率）" if rate.reduced else "")


# -- a form's line, part by part; the lines as a card shows them ---------------------------------
MAX_SHOWN = 20  # lines of a card that shows typed lines (the subtotal counts every line)
MAX_SHOWN_DESCRIPTION = 40  # characters of a description on such a card


def office_rules() -> TaxRules:
    """The office's configured rates and rounding (ACKFLOW_OFFICE_*); the standard ones if they do
    not read (the job's own check says why, before any card)."""
    try:
        from .estimating import rules_of
        from .settings import load_office_settings

        return rules_of(load_office_settings())
    except Exception:
        return TaxRules()


def _value(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:39] + "…"


def check_description_part(text: str) -> None:
    description = text.strip()
    if len(description) > MAX_DESCRIPTION:
        raise UsageError(say("part_description", length=len(description), most=MAX_DESCRIPTION))


def check_quantity_part(text: str) -> Decimal:
    try:
        quantity = read_quantity(text)
    except (ValueError, InvalidOperation) as exc:
        raise UsageError(say("part_quantity", value=_value(text))) from exc
    if not (0 < quantity <= MAX_QUANTITY) or quantity.as_tuple().exponent < -3:
        raise UsageError(say("part_quantity_range", value=_value(text)))
    return quantity


def check_price_part(text: str) -> int:
    from ackflow.i18n import L_

    if is_negative(text):
        raise UsageError(say("part_negative_price", value=_value(text)))
    try:
        unit = read_yen(text)
    except ValueError as exc:
        if str(exc) == "not an amount":  # its reason would only say again what the message says
            raise UsageError(say("part_price_plain", value=_value(text))) from exc
        if str(exc) != "too large":
            raise UsageError(say("part_price", value=_value(text),
                                 problem=L_(str(exc), **getattr(exc, "values", {})))) from exc
        unit = MAX_UNIT_PRICE + 1
    if not 1 <= unit <= MAX_UNIT_PRICE:
        raise UsageError(say("part_price_range", value=_value(text)))
    return unit


def check_rate_part(text: str) -> None:
    """A line's rate as a form's input holds it: empty (the standard rate), or one of the office's
    rates, with or without % (``8``, ``８％``)."""
    cleaned = unicodedata.normalize("NFKC", text).strip().rstrip("%").strip()
    if not cleaned:
        return
    rules = office_rules()
    try:
        rate = Decimal(cleaned)
    except InvalidOperation:
        rate = None
    if rate is None or rate not in (Decimal(rules.standard), Decimal(rules.reduced)):
        raise UsageError(say("part_rate", value=_value(text), standard=rules.standard, reduced=rules.reduced))


# one rule per input of a form's line (description, quantity, unit price, rate): Param.part_checks
PART_CHECKS = (check_description_part, check_quantity_part, check_price_part, check_rate_part)


def shown_lines(lines: list[Line], rules: TaxRules, speaker, subtotal: bool = True) -> list[str]:
    """Lines as a person checks them before a job runs, in their language: ``設計 × 1 @ ¥350,000``,
    ``部品 A × 2 @ ¥1,200 = ¥2,400 (8%, reduced rate)``, then (``subtotal``) the subtotal before
    tax of them all."""
    shown = []
    for line in lines[:MAX_SHOWN]:
        description = " ".join(line.description.split())
        if len(description) > MAX_SHOWN_DESCRIPTION:
            description = description[:MAX_SHOWN_DESCRIPTION - 1] + "…"
        amount = line.amount(rules.line_rounding)
        text = f"{description} × {speaker.number(line.quantity)} @ {speaker.yen(line.unit_price)}"
        if line.quantity != 1:
            text += f" = {speaker.yen(amount)}"
        if line.reduced:
            text = say("shown_reduced", line=text, rate=rules.reduced).render(speaker)
        shown.append(text)
    if len(lines) > MAX_SHOWN:
        shown.append(speaker.n_("… and {count} more line", "… and {count} more lines", len(lines) - MAX_SHOWN))
    if subtotal:
        amount = sum(line.amount(rules.line_rounding) for line in lines)
        shown.append(say("shown_subtotal", amount=speaker.yen(amount)).render(speaker))
    return shown


def show_items(items, speaker, subtotal: bool = True) -> list[str] | None:
    """``Param.show`` of typed lines (``--item``/``明細``): each read as the job reads it, at the
    office's rates. None when one does not read (the card shows them as typed)."""
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        return None
    rules = office_rules()
    try:
        lines = [parse_line(item, standard=rules.standard, reduced=rules.reduced) for item in items]
    except UsageError:
        return None
    return shown_lines(lines, rules, speaker, subtotal)


def show_added_items(items, speaker) -> list[str] | None:
    """``Param.show`` of an estimate's lines: typed, they are added to the previous version's; from
    the form, they are the whole version. The card cannot tell which, and a subtotal of added lines
    would read as the new version's: the lines only."""
    return show_items(items, speaker, subtotal=False)
