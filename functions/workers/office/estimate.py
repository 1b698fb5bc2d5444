"""Draft estimates: line items, tax and totals, rendered as a PDF with a Japanese font embedded.

``AccountingBackend`` is the port an accounting service (freee and similar) will implement later;
``PdfEstimates`` is its local adapter, which only drafts the document.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Protocol

from ackflow.errors import PermanentError, UsageError
from ackflow.i18n import L_, N_
from ackflow.jobs.params import quoted

FONT_CANDIDATES = (
    Path(__file__).resolve().parent / "fonts",  # a font vendored into the deployed source
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
    Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
)
ITEM_EXAMPLE = L_('description:quantity:unit price, e.g. --item "金型設計:1:350000" (or 明細：金型設計:1:35万円)')
MAX_QUANTITY = Decimal(1_000_000)  # bounds that keep every amount an ordinary number (no 1e999999)
MAX_UNIT_PRICE = 10**11


@dataclass(frozen=True)
class LineItem:
    description: str
    quantity: Decimal
    unit_price: int

    @property
    def amount(self) -> int:
        return int((self.quantity * self.unit_price).to_integral_value())

    def to_dict(self) -> dict:
        return {"description": self.description, "quantity": str(self.quantity), "unit_price": self.unit_price}

    @classmethod
    def from_dict(cls, data: dict) -> LineItem:
        return cls(data["description"], Decimal(data["quantity"]), int(data["unit_price"]))


def parse_item(text: str) -> LineItem:
    """``description:quantity:unit_price`` (the description may itself contain colons), as people
    type it: ``：`` for ``:``, full-width digits, and the price as ``350000``, ``¥350,000``,
    ``35万円``."""
    from ackflow.jobs.normalize import normalize
    from ackflow.jobs.typed import parse_yen

    plain = normalize(text)
    try:
        description, quantity, price = plain.rsplit(":", 2)
        try:
            unit_price = parse_yen(price, allow_zero=True)
        except ValueError as exc:
            if str(exc) != "too large":
                raise
            unit_price = MAX_UNIT_PRICE + 1  # said below, with the range it must be in
        item = LineItem(description.strip(), Decimal(quantity.strip().replace(",", "")), unit_price)
    except (ValueError, InvalidOperation) as exc:
        raise UsageError(N_("I cannot read the item “{item}”; write {example}"), item=quoted(text),
                         example=ITEM_EXAMPLE) from exc
    if not item.description:
        raise UsageError(N_("the item “{item}” has no description; write {example}"), item=quoted(text),
                         example=ITEM_EXAMPLE)
    if not item.quantity.is_finite() or not 0 < item.quantity <= MAX_QUANTITY \
            or item.quantity.as_tuple().exponent < -3 or not 0 <= item.unit_price <= MAX_UNIT_PRICE:
        raise UsageError(N_("the item “{item}” needs a quantity from 0.001 to {quantity} and a price from 0 to "
                            "{price}"), item=quoted(text), quantity=f"{MAX_QUANTITY:,}", price=f"¥{MAX_UNIT_PRICE:,}")
    return item


def default_items(client: str, config: str) -> list[LineItem]:
    """The client's default line items from ACKFLOW_OFFICE_CLIENT_ITEMS (JSON or a file of it);
    ``"*"`` is the default for clients without their own."""
    table: dict = {}
    if config.strip():
        text = Path(config).read_text() if not config.lstrip().startswith("{") else config
        table = json.loads(text)
    rows = table.get(client) or table.get("*") or [["設計一式", 1, 0]]
    return [LineItem(str(d), Decimal(str(q)), int(p)) for d, q, p in rows]


@dataclass(frozen=True)
class Office:
    name: str
    address: str = ""
    contact: str = ""


@dataclass(frozen=True)
class Estimate:
    case: str
    version: int
    client: str
    title: str
    items: tuple[LineItem, ...]
    tax_rate: float
    issued: dt.date
    valid_days: int
    office: Office
    due: str | None = None

    @property
    def subtotal(self) -> int:
        return sum(item.amount for item in self.items)

    @property
    def tax(self) -> int:
        return math.floor(self.subtotal * self.tax_rate)  # rounded down, as is usual in Japan

    @property
    def total(self) -> int:
        return self.subtotal + self.tax

    @property
    def valid_until(self) -> dt.date:
        return self.issued + dt.timedelta(days=self.valid_days)

    @property
    def file_name(self) -> str:
        return f"見積書_{self.case}_v{self.version}.pdf"


@dataclass
class EstimateDocument:
    name: str
    data: bytes
    content_type: str = "application/pdf"
    details: dict = field(default_factory=dict)


class AccountingBackend(Protocol):
    def draft_estimate(self, estimate: Estimate) -> EstimateDocument:
        """Draft the estimate; return the document to file in the case folder."""


def yen(amount: int) -> str:
    return f"¥{amount:,}"


def jp_date(value: dt.date | str) -> str:
    """A date as a Japanese document writes it: 2026年12月1日."""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.year}年{day.month}月{day.day}日"


def find_font(configured: str = "") -> Path:
    candidates = [Path(configured)] if configured else []
    for candidate in [*candidates, *FONT_CANDIDATES]:
        if candidate.is_dir():
            found = sorted(candidate.glob("*.ttf"))
            if found:
                return found[0]
        elif candidate.exists():
            return candidate
    raise PermanentError("no font with Japanese glyphs for the estimate: install fonts-ipafont-gothic, "
                         "or set ACKFLOW_OFFICE_ESTIMATE_FONT to a .ttf file")


class PdfEstimates:
    """The local AccountingBackend: an A4 PDF (fpdf2), the font embedded so it renders anywhere."""

    def __init__(self, font: str = ""):
        self.font = font

    def draft_estimate(self, estimate: Estimate) -> EstimateDocument:
        from fpdf import FPDF

        pdf = FPDF(format="A4")
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.add_page()
        pdf.add_font("jp", "", str(find_font(self.font)))
        pdf.set_title(f"御見積書 {estimate.case}")
        pdf.set_author(estimate.office.name)

        pdf.set_font("jp", size=20)
        pdf.cell(0, 14, "御見積書", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("jp", size=10)
        pdf.cell(0, 6, f"見積番号 {estimate.case}-v{estimate.version}    発行日 {jp_date(estimate.issued)}",
                 align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_font("jp", size=14)
        pdf.multi_cell(110, 8, f"{estimate.client} 御中", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("jp", size=10)
        top = pdf.get_y()
        pdf.set_xy(120, top - 8)
        pdf.multi_cell(75, 5, "\n".join(x for x in (estimate.office.name, estimate.office.address,
                                                      estimate.office.contact) if x), align="R")
        pdf.set_y(max(pdf.get_y(), top) + 4)
        pdf.multi_cell(0, 6, f"件名: {estimate.title}", new_x="LMARGIN", new_y="NEXT")
        if estimate.due:
            pdf.cell(0, 6, f"納期: {jp_date(estimate.due)}", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 6, f"有効期限: {jp_date(estimate.valid_until)}", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_font("jp", size=13)
        pdf.cell(0, 9, f"御見積金額 {yen(estimate.total)}（税込）", border="B", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)

        pdf.set_font("jp", size=10)
        widths = (95, 20, 35, 35)
        for text, width in zip(("品名", "数量", "単価", "金額"), widths, strict=False):
            pdf.cell(width, 8, text, border=1, align="C")
        pdf.ln()
        for item in estimate.items:
            pdf.cell(widths[0], 8, item.description[:60], border=1)
            pdf.cell(widths[1], 8, f"{item.quantity.normalize():f}", border=1, align="R")
            pdf.cell(widths[2], 8, yen(item.unit_price), border=1, align="R")
            pdf.cell(widths[3], 8, yen(item.amount), border=1, align="R")
            pdf.ln()
        for label, amount in (("小計", estimate.subtotal), (f"消費税（{estimate.tax_rate * 100:g}%）", estimate.tax),
                              ("合計", estimate.total)):
            pdf.cell(sum(widths[:3]), 8, label, border=1, align="R")
            pdf.cell(widths[3], 8, yen(amount), border=1, align="R")
            pdf.ln()
        pdf.ln(6)
        pdf.multi_cell(0, 5, "※ 本見積書は下書きです。内容をご確認のうえ正式版を発行いたします。")
        return EstimateDocument(estimate.file_name, bytes(pdf.output()),
                                details={"subtotal": estimate.subtotal, "tax": estimate.tax, "total": estimate.total})
