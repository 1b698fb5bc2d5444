"""Quotations and invoices as A4 PDFs (fpdf2), the Japanese font embedded so they render anywhere.

An invoice carries everything the qualified invoice system (適格請求書) asks for: the issuer's name
and registration number, the transaction date, the lines with the reduced-rate ones marked (※),
the total and the consumption tax of each rate with the rate, and the recipient (御中). What is
printed comes from the ``Document`` alone, so printing it again gives the same text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from pathlib import Path

from ackflow.errors import PermanentError

from ..money import ROUNDINGS, yen
from . import TITLES, Document, addressed

FONT_CANDIDATES = (
    Path(__file__).resolve().parent.parent / "fonts",  # a font vendored into the deployed source
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
    Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
)
ROUNDING_NAMES = {"floor": "切り捨て", "round": "四捨五入", "ceil": "切り上げ"}
assert set(ROUNDING_NAMES) == set(ROUNDINGS)
REDUCED_MARK = "※"
WIDTHS = (95, 20, 35, 35)  # mm: description, quantity, unit price, amount
TABLE = sum(WIDTHS)  # mm from the left margin: what is set flush right ends where the table does
ROW = 8  # mm: the height of a one-line row
LEADING = 5  # mm: a line of wrapped description text at 10 pt


def find_font(configured: str = "") -> Path:
    candidates = [Path(configured)] if configured else []
    for candidate in [*candidates, *FONT_CANDIDATES]:
        if candidate.is_dir():
            found = sorted(candidate.glob("*.ttf"))
            if found:
                return found[0]
        elif candidate.exists():
            return candidate
    raise PermanentError("no font with Japanese glyphs for the documents: install fonts-ipafont-gothic, "
                         "or set ACKFLOW_OFFICE_ESTIMATE_FONT to a .ttf file")


GETA = "〓"  # what Japanese print has long put in place of a character it cannot set


def missing_glyphs(document: Document, font: str = "") -> list[str]:
    """The characters of the document's names (the recipient, the issuer's details) that the font
    cannot draw, in order of first use. fpdf2 leaves such a character out with a log line: an
    invoice to 𠮷野家 would be addressed to 野家 (IPA Gothic has no 𠮷, nor emoji). A name must be
    printed as it is, so such a document is refused, before it is numbered; elsewhere (the title,
    a line) the character is printed as 〓 (``printable``)."""
    cmap = font_characters(font)
    seen: dict[str, None] = {}
    for text in (document.recipient, *document.issuer.to_dict().values()):
        for char in text:
            if char not in seen and not char.isspace() and ord(char) not in cmap:
                seen[char] = None
    return list(seen)


def printable(document: Document, font: str = "") -> Document:
    """The document as the font can print it: in its title and lines, a character the font lacks
    (an emoji a person typed in Chat) becomes 〓, visibly, instead of vanishing. A space the font
    lacks (a line or paragraph separator, U+2028/U+2029, from a mail or a phone's keyboard; a tab)
    is printed as a space, in the names too: fpdf2 would drop it, and ``ACME\u2028Corp`` would be
    addressed as ``ACMECorp``, where the folder, the sheet and Chat say ``ACME Corp``."""
    cmap = font_characters(font)

    def spaced(text: str) -> str:
        return "".join(" " if c.isspace() and c != "\n" and ord(c) not in cmap else c for c in text)

    def mark(text: str) -> str:
        return "".join(c if c.isspace() or ord(c) in cmap else GETA for c in spaced(text))

    issuer = dataclasses.replace(document.issuer, **{key: spaced(value) for key, value in
                                                     document.issuer.to_dict().items() if isinstance(value, str)})
    return dataclasses.replace(document, recipient=spaced(document.recipient), issuer=issuer,
                               title=mark(document.title), note=mark(document.note),
                               lines=tuple(dataclasses.replace(line, description=mark(line.description))
                                           for line in document.lines))


def font_characters(font: str = "") -> frozenset[int]:
    """The code points the documents' font can draw (read once per font file)."""
    return _cmap(str(find_font(font)))


@functools.lru_cache(maxsize=4)
def _cmap(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(path, lazy=True).getBestCmap())


def marker(document: Document) -> bytes:
    """What an issued PDF holds, as written (its Info's Keywords, an ASCII PDF string): the kind and
    our number. A file at the document's path without it was not issued here."""
    return f"ackflow-document:{document.kind}:{document.number}".encode("ascii", "replace")


def page_count_alias(document: Document) -> str:
    """The text fpdf2 replaces with the number of pages. It replaces it wherever it stands on a page,
    not only in the footer that means it, so it must be text the document does not hold: ``{nb}``
    (fpdf2's own) unless a title, a line or a name says it (a title typed ``型番 {nb} 改修`` was
    printed ``型番 1 改修``). Chosen from the document alone: printing it again gives the same bytes."""
    held = repr(document)
    alias = "{nb}"
    while alias in held:
        alias = alias[:-1] + "#}"
    return alias


def _paged(title: str, numbered: str, alias: str = "{nb}"):
    """An A4 FPDF whose pages each say where they belong: a page after the first repeats the
    document and its number at its top (a page handed over on its own, the totals' page above all,
    still names its document), and every page says its number of the whole at its foot
    (``alias``: ``page_count_alias``)."""
    from fpdf import FPDF

    class Paged(FPDF):
        def header(self) -> None:
            if self.page_no() > 1:
                self.set_font("jp", size=9)
                self.cell(TABLE, 6, f"{title}　{numbered}（続き）", align="R", new_x="LMARGIN", new_y="NEXT")
                self.ln(2)
                self.set_font("jp", size=10)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("jp", size=9)
            self.cell(0, 6, f"{self.page_no()} / {alias}", align="C")

    pdf = Paged(format="A4")
    pdf.alias_nb_pages(alias)
    return pdf


def render(document: Document, font: str = "") -> bytes:
    document = printable(document, font)
    title = TITLES[document.kind]
    totals = document.totals
    issuer = document.issuer
    label = "見積番号" if document.kind == "quotation" else "請求書番号"
    pdf = _paged(title, f"{label} {document.number}", page_count_alias(document))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("jp", "", str(find_font(font)))
    pdf.add_page()
    pdf.set_title(f"{title} {document.number}")
    pdf.set_author(issuer.name)
    pdf.set_creation_date(_date_time(document.issued))  # the same bytes when printed again
    pdf.set_keywords(marker(document).decode())  # tells this PDF from a file someone put at its path

    pdf.set_font("jp", size=20)
    pdf.cell(0, 14, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("jp", size=10)
    pdf.cell(TABLE, 6, f"{label} {document.number}    発行日 {jp_date(document.issued)}", align="R",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("jp", size=14)
    pdf.multi_cell(110, 8, " ".join(addressed(document.recipient)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("jp", size=10)
    top = pdf.get_y()
    pdf.set_xy(120, top - 8)
    registration = f"登録番号 {issuer.registration}" if issuer.registration else ""
    pdf.multi_cell(75, 5, "\n".join(x for x in (issuer.name, issuer.address, issuer.contact, registration) if x),
                   align="R")
    pdf.set_y(max(pdf.get_y(), top) + 4)
    pdf.multi_cell(0, 6, f"件名: {document.title}", new_x="LMARGIN", new_y="NEXT")
    for label, value in (("納期", document.delivery), ("有効期限", document.valid_until),
                         ("取引年月日", document.transaction_date), ("お支払期限", document.payment_due)):
        if value:
            pdf.cell(0, 6, f"{label}: {jp_date(value)}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("jp", size=13)
    headline = "御見積金額" if document.kind == "quotation" else "ご請求金額"
    pdf.cell(TABLE, 9, f"{headline} {yen(totals.total)}（税込）", border="B", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    pdf.set_font("jp", size=10)
    _item_heading(pdf)
    for line in document.lines:
        _item_row(pdf, line, line.amount(document.rules.line_rounding))
    rows = [("小計（税抜）", totals.subtotal)]
    for rate in totals.by_rate:
        name = f"{rate.rate}%" + ("・軽減税率" if rate.reduced else "")
        if len(totals.by_rate) > 1 or document.kind == "invoice":
            rows.append((f"{rate.rate}%対象{'（軽減税率）' if rate.reduced else ''} 税抜", rate.subtotal))
        rows.append((f"消費税（{name}）", rate.tax))
    rows.append(("合計（税込）", totals.total))
    for label, amount in rows:
        pdf.cell(sum(WIDTHS[:3]), 8, label, border=1, align="R")
        pdf.cell(WIDTHS[3], 8, yen(amount), border=1, align="R")
        pdf.ln()
    pdf.ln(4)
    notes = []
    if any(line.reduced for line in document.lines):
        notes.append(f"{REDUCED_MARK} は軽減税率（{document.rules.reduced}%）対象です。")
    notes.append(f"消費税は税率ごとに合計して計算し、端数は{ROUNDING_NAMES[document.rules.rounding]}です。")
    if any(line.quantity * line.unit_price != line.amount(document.rules.line_rounding) for line in document.lines):
        notes.append(f"明細の金額（数量 × 単価）の1円未満の端数は{ROUNDING_NAMES[document.rules.line_rounding]}です。")
    if document.kind == "invoice":
        if issuer.bank_account:
            notes.append(f"お振込先: {issuer.bank_account}")
        if document.replaces:
            notes.append(f"本請求書は請求書番号 {document.replaces} を訂正するものです"
                         f"（{document.replaces} は無効となります）。")
    if document.note:
        notes.append(document.note)
    pdf.multi_cell(0, 5, "\n".join(notes))
    return bytes(pdf.output())


def _item_heading(pdf) -> None:
    for text, width in zip(("品名", "数量", "単価", "金額"), WIDTHS, strict=True):
        pdf.cell(width, ROW, text, border=1, align="C")
    pdf.ln()


def _item_row(pdf, line, amount: int) -> None:
    """One line of the document: its description wrapped within its column (never cut, never over
    the amounts), the row as tall as the wrapped text; a row that would not fit starts a new page,
    under the heading again."""
    text = line.description + (f" {REDUCED_MARK}" if line.reduced else "")
    wrapped = pdf.multi_cell(WIDTHS[0], LEADING, text, align="L", dry_run=True, output="LINES")
    height = max(ROW, len(wrapped) * LEADING + ROW - LEADING)
    if pdf.will_page_break(height):
        pdf.add_page()
        _item_heading(pdf)
    x, y = pdf.get_x(), pdf.get_y()
    pdf.rect(x, y, WIDTHS[0], height)
    pdf.set_xy(x, y + (ROW - LEADING) / 2)
    pdf.multi_cell(WIDTHS[0], LEADING, text, align="L")
    pdf.set_xy(x + WIDTHS[0], y)
    pdf.cell(WIDTHS[1], height, f"{line.quantity.normalize():f}", border=1, align="R")
    pdf.cell(WIDTHS[2], height, yen(line.unit_price), border=1, align="R")
    pdf.cell(WIDTHS[3], height, yen(amount), border=1, align="R")
    pdf.set_xy(x, y + height)


def _date_time(iso_date: str):
    return dt.datetime.fromisoformat(iso_date).replace(tzinfo=dt.UTC)


def jp_date(value: str) -> str:
    """A date as a Japanese document writes it (2026年12月1日); anything else as it is."""
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日"
