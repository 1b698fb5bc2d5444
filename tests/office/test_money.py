"""Money on the office's documents: lines, tax once per rate per document, rounding said out loud,
registration numbers with their check digit, and the qualified invoice as a PDF (pypdf)."""

from __future__ import annotations

import io
from decimal import Decimal

import pypdf
import pytest

from ackflow.errors import UsageError
from ackflow.i18n import speaker_for
from workers.office.accounting import Document
from workers.office.accounting.pdf import render
from workers.office.estimating import edit_lines, parse_change
from workers.office.invoicing import payment_due
from workers.office.issuer import Issuer, check_digit, invoice_problems, registration_problem, valid_registration
from workers.office.money import MAX_DESCRIPTION, Line, TaxRules, join_item, parse_line, split_item

RULES = TaxRules()

JA = speaker_for("ja")


def lines(*texts: str) -> tuple[Line, ...]:
    return tuple(parse_line(t) for t in texts)


# -- lines -------------------------------------------------------------------------------------
def test_lines_read_as_people_type_them():
    assert parse_line("3Dモデル: 作成:2:45,000") == Line("3Dモデル: 作成", Decimal(2), 45000)
    assert parse_line("弁当:3:¥800:8%") == Line("弁当", Decimal(3), 800, reduced=True)
    assert parse_line("設計：１：３５０，０００円") == Line("設計", Decimal(1), 350000)  # a Japanese IME's characters
    assert parse_line("図面:1:1000:10%").reduced is False
    assert parse_line("立会い:1.5:30001").amount("round") == 45002
    assert parse_line("部品:1,200:15").quantity == Decimal(1200)


@pytest.mark.parametrize("text, complaint", [
    ("no numbers", "cannot read"), ("x:one:100", "cannot read"), (":1:100", "no description"),
    ("x:0:100", "quantity"), ("x:-1:100", "quantity"), ("x:1.0001:100", "quantity"), ("x:1e9:100", "cannot read"),
    ("x:1:0", "unit price"), ("x:1:-5", "unit price"), ("x:1:10000000000", "unit price"), ("x:1:12.5", "cannot read"),
    ("x:1:100:5%", "tax rate"),
    # a comma not between groups of three is refused, never dropped (1,5 was a quantity of 15, 1,50 of 150)
    ("x:1,5:100", "cannot read"), ("x:1,50:100", "cannot read"), ("x:2:1,5", "cannot read"),
    ("x:1,5:1,5万", "cannot read"),
])
def test_bad_lines_get_a_clear_complaint(text, complaint):
    with pytest.raises(UsageError, match=complaint):
        parse_line(text)


@pytest.mark.parametrize("text, said", [
    ("設計：一：３５万円", "明細「設計：一：３５万円」を読み取れません: 数量の「一」は数として読めません（数字"),
    ("設計:1,5:350000", "数量の「1,5」は数として読めません"),
    ("設計:1:1,5", "単価の「1,5」は金額として読めません（カンマの位置が正しくありません。例: 350000、"),
    ("設計:1:12.5", "単価の「12.5」は金額として読めません（円に小数はありません。例:"),
    ("設計:1:三十五万円", "単価の「三十五万円」は金額として読めません（数字で書いてください: 三十五万円 は 35万円。"),
    ("設計 1 350000", "明細「設計 1 350000」を読み取れません。「品名:数量:単価」の形で書いてください（例: 金型"),
])
def test_an_unreadable_line_says_which_field_and_why_in_japanese(text, said):
    # it said only “明細「設計:1:1,5」を読み取れません” and the format, whatever was wrong in the line
    with pytest.raises(UsageError) as caught:
        parse_line(text)
    shown = caught.value.render(JA)
    assert said in shown, shown
    assert '"' not in shown  # Japanese text quotes with 「」, not ASCII quotes


@pytest.mark.parametrize("text", ["設計:1:100000:8", "設計:1:100000:5", "設計::100000:10", "設計:1:100000:８"])
def test_a_rate_typed_without_its_percent_is_refused_not_read_as_a_price(text):
    # read as before, 設計:1:100000:8 was the line “設計:1”, 100,000 of them at ¥8
    with pytest.raises(UsageError, match="without %.*tax rate.*unit price"):
        parse_line(text)
    for change in ("2=::800:8", "2=弁当:3:800:8"):  # an estimate's --change: line 2 was renamed “:” at ¥8
        with pytest.raises(UsageError, match="without %"):
            parse_change(change, RULES)


def test_a_description_longer_than_a_documents_line_is_refused_where_it_is_typed():
    """freee's document and the PDF print the same lines: a description is never cut on the way
    (the freee adapter cut it to 100 characters without a word)."""
    assert parse_line("設" * MAX_DESCRIPTION + ":1:1000").description == "設" * MAX_DESCRIPTION
    with pytest.raises(UsageError, match=f"has {MAX_DESCRIPTION + 1} characters; at most {MAX_DESCRIPTION}"):
        parse_line("設" * (MAX_DESCRIPTION + 1) + ":1:1000")
    with pytest.raises(UsageError, match=f"at most {MAX_DESCRIPTION}"):  # an estimate's --change too
        parse_change("2=" + "x" * (MAX_DESCRIPTION + 1) + "::", RULES)
    assert parse_change("2=" + "x" * MAX_DESCRIPTION + "::", RULES)[1] == "x" * MAX_DESCRIPTION


def test_a_description_with_a_ratio_keeps_its_price_when_written_back():
    line = parse_line("図面 縮尺1:100:2:¥50")  # with ¥ (or 円) a small price after a ratio is a price
    assert (line.description, line.quantity, line.unit_price) == ("図面 縮尺1:100", Decimal(2), 50)
    assert parse_line(line.text()) == line  # the text a form and a new version start from reads back
    assert parse_line(join_item(["図面 縮尺1:100", "2", "50", ""])) == line  # a form's inputs
    assert parse_line("図面 縮尺1:100:2:5000").unit_price == 5000  # a price no rate could be: read


def test_an_astronomical_total_is_refused():
    with pytest.raises(UsageError, match="larger than"):
        RULES.totals(lines("a:99999999:9999999999"))


# -- tax once per rate per document ------------------------------------------------------------
def test_tax_is_rounded_once_per_rate_never_per_line():
    # three lines of ¥105 at 10 %: per line 10.5 → 10 each (30); per invoice 315 × 10 % = 31.5 → 31
    totals = RULES.totals(lines("a:1:105", "b:1:105", "c:1:105"))
    assert (totals.subtotal, totals.tax, totals.total) == (315, 31, 346)
    assert sum(int(Decimal(105) * 10 / 100) for _ in range(3)) == 30  # what per-line rounding would give


def test_mixed_rates_are_taxed_per_rate_and_reduced_lines_apart():
    # 10 %: 105 × 3 = 315 → 31.5 → 31; 8 % (reduced): 110 × 3 = 330 → 26.4 → 26 (per line: 8 each, 24)
    totals = RULES.totals(lines("a:3:105", "弁当:1:110:8%", "茶:1:110:8%", "菓子:1:110:8%"))
    assert [(r.rate, r.reduced, r.subtotal, r.tax) for r in totals.by_rate] == [(10, False, 315, 31),
                                                                               (8, True, 330, 26)]
    assert totals.total == 315 + 31 + 330 + 26


@pytest.mark.parametrize("rounding, tax", [("floor", 31), ("round", 32), ("ceil", 32)])
def test_the_rounding_is_configurable(rounding, tax):
    assert TaxRules(rounding=rounding).totals(lines("a:3:105")).tax == tax


def test_half_a_yen_rounds_up_with_round_and_a_fraction_always_with_ceil():
    assert TaxRules(rounding="round").totals(lines("a:1:104")).tax == 10  # 10.4
    assert TaxRules(rounding="ceil").totals(lines("a:1:101")).tax == 11  # 10.1


# -- estimate versions -------------------------------------------------------------------------
def test_a_new_version_starts_from_the_previous_lines():
    base = lines("金型設計:1:350000", "試作立会い:2:40000", "図面:1:10000")
    new = edit_lines(base, add=[parse_line("追加設計:1:50000")], change=["1=::380000", "2=立会い::"],
                     remove=[3], rules=RULES, version=1, case="2026-001")
    assert [line.text() for line in new] == ["金型設計:1:380000", "立会い:2:40000", "追加設計:1:50000"]
    with pytest.raises(UsageError, match="v1 has no line 7"):
        edit_lines(base, add=[], change=["7=::1"], remove=[], rules=RULES, version=1, case="2026-001")
    with pytest.raises(UsageError, match="no lines"):
        edit_lines(base, add=[], change=[], remove=[1, 2, 3], rules=RULES, version=1, case="2026-001")
    with pytest.raises(UsageError, match="both changed and removed"):
        edit_lines(base, add=[], change=["1=::5"], remove=[1], rules=RULES, version=1, case="2026-001")
    assert parse_change("2=弁当::800:8%", RULES) == (2, "弁当", None, 800, True)
    for bad in ("2::1:1", "x=::1", "2=::0", "2=::1:5%"):
        with pytest.raises(UsageError):
            parse_change(bad, RULES)


# -- registration numbers ----------------------------------------------------------------------
def test_the_check_digit_follows_the_national_tax_agency_rule():
    assert check_digit("000012050002") == 7  # 7000012050002: the National Tax Agency's own corporate number
    assert registration_problem("T7000012050002") is None
    assert registration_problem("ｔ７０００－０１２０－５０００２") is None  # full width, hyphens, lowercase
    assert "should be 7" in str(registration_problem("T1000012050002"))
    assert "T followed by 13 digits" in str(registration_problem("7000012050002"))
    assert "T followed by 13 digits" in str(registration_problem("T70000120500"))
    assert "13" in registration_problem("T70000120500").render(JA)
    assert registration_problem(valid_registration("123456789012")) is None
    # digits of another script are no registration number (\d took them: T٧123456789012 was valid,
    # and printed so on the invoice); full-width ones are, once read as ASCII
    assert "T followed by 13 digits" in str(registration_problem("T\u0667123456789012"))
    assert "T followed by 13 digits" in str(registration_problem("T7123456789\u0660\u0661\u0662"))
    assert "should be 9" in str(registration_problem("Ｔ１２３４５６７８９０１２３"))  # typed full width


class Office:
    name = "山田金型設計事務所"
    address = contact = ""
    registration_number = valid_registration("987654321098")
    bank_account = "みずほ銀行 蒲田支店 普通 1234567"


def test_invoices_wait_for_the_offices_own_details():
    assert invoice_problems(Office) is None
    missing = type("Missing", (Office,), {"name": "設計事務所", "bank_account": "", "registration_number": ""})
    problem = str(invoice_problems(missing))
    assert "ACKFLOW_OFFICE_NAME" in invoice_problems(missing).render(JA)
    assert "ACKFLOW_OFFICE_NAME" in problem and "ACKFLOW_OFFICE_BANK_ACCOUNT" in problem
    assert "ACKFLOW_OFFICE_REGISTRATION_NUMBER" in problem
    wrong = type("Wrong", (Office,), {"registration_number": "T1987654321098"})
    assert "is not valid" in str(invoice_problems(wrong))


@pytest.mark.parametrize("issued, terms, due", [
    ("2026-11-21", "next-month-end", "2026-12-31"), ("2026-12-05", "next-month-end", "2027-01-31"),
    ("2027-01-10", "next-month-end", "2027-02-28"), ("2026-11-21", "month-end", "2026-11-30"),
    ("2026-11-21", "30d", "2026-12-21"),
])
def test_payment_due_dates_from_the_terms(issued, terms, due):
    import datetime as dt

    assert payment_due(dt.date.fromisoformat(issued), terms).isoformat() == due


# -- the qualified invoice as a PDF ------------------------------------------------------------
ISSUER = Issuer("山田金型設計事務所", "東京都大田区蒲田1-2-3", "03-0000-0000", valid_registration("987654321098"),
                "みずほ銀行 蒲田支店 普通 1234567 ヤマダカナガタ")


def invoice(**changes) -> Document:
    values = dict(kind="invoice", number="INV-2026-0007", case="2026-001", folder="2026-001_ACME_x",
                  recipient="株式会社ACME", title="プレス金型 A-12", issued="2026-11-21",
                  lines=lines("金型設計:1:350000", "試作立会い:2:40000", "弁当:3:800:8%"), rules=RULES, issuer=ISSUER,
                  transaction_date="2026-11-20", payment_due="2026-12-31")
    values.update(changes)
    return Document(**values)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_an_invoice_pdf_carries_every_item_a_qualified_invoice_requires():
    text = pdf_text(render(invoice()))
    for expected in (
        "請求書", "INV-2026-0007", "発行日 2026年11月21日",
        "山田金型設計事務所", f"登録番号 {ISSUER.registration}",  # the issuer and the registration number
        "取引年月日: 2026年11月20日",  # the transaction date
        "金型設計", "試作立会い", "弁当 ※", "※ は軽減税率（8%）対象です",  # the lines, reduced-rate lines marked
        "10%対象 税抜", "¥430,000", "消費税（10%）", "¥43,000",  # per rate: the total and the tax, with the rate
        "8%対象（軽減税率） 税抜", "¥2,400", "消費税（8%・軽減税率）", "¥192",
        "株式会社ACME 御中",  # the recipient
        "合計（税込）", "¥475,592", "お支払期限: 2026年12月31日", "お振込先: みずほ銀行 蒲田支店",
        "端数は切り捨て",
    ):
        assert expected in text, expected


def placed_text(data: bytes) -> list[tuple[str, float, float]]:
    """Each piece of text on the first page with where it starts (x, y in mm from the bottom left)."""
    pieces = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            pieces.append((text.strip(), tm[4] * 25.4 / 72, tm[5] * 25.4 / 72))

    pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    return pieces


def test_a_long_description_wraps_within_its_column_and_is_printed_whole():
    from fpdf import FPDF

    from workers.office.accounting.pdf import WIDTHS, find_font

    sixty = ("金型設計および製図一式" * 6)[:60]
    longest = ("プレス金型の設計と製図、試作立会いと調整作業、図面の修正と納品前の確認一式" * 6)[:MAX_DESCRIPTION]
    data = render(invoice(lines=lines(f"{sixty}:1:1000:8%", f"{longest}:2:350000")))
    pieces = placed_text(data)
    names = [text for text, _, _ in pieces]
    table = pieces[names.index("金額") + 1:names.index("小計（税抜）")]
    left = 10  # the page margin, mm
    amounts_start = left + WIDTHS[0]
    described = [(text, x) for text, x, _ in table if x < amounts_start]
    assert "".join(text for text, _ in described).replace(" ", "") == f"{sixty}※{longest}"  # nothing cut
    assert len(described) > 4  # wrapped onto several lines
    measure = FPDF()
    measure.add_font("jp", "", str(find_font()))
    measure.set_font("jp", size=10)
    for text, x in described:  # each line ends before the quantity column starts
        assert x + measure.get_string_width(text) <= amounts_start, text
    assert [text for text, x, _ in table if x >= amounts_start] == ["1", "¥1,000", "¥1,000", "2", "¥350,000",
                                                                   "¥700,000"]


@pytest.mark.parametrize("recipient, printed, partner, title", [
    ("株式会社ACME 御中", "株式会社ACME 御中", "株式会社ACME", "御中"),  # typed with its title: not 御中 御中
    ("株式会社ACME御中", "株式会社ACME 御中", "株式会社ACME", "御中"),
    ("山田太郎 様", "山田太郎 様", "山田太郎", "様"),  # a person: not 様 御中
    ("株式会社ACME", "株式会社ACME 御中", "株式会社ACME", "御中"),
])
def test_a_recipient_typed_with_its_title_gets_no_second_one(recipient, printed, partner, title):
    from workers.office.accounting import Partner
    from workers.office.accounting.freee.adapter import body

    text = pdf_text(render(invoice(recipient=recipient)))
    assert printed in text and "御中 御中" not in text and "様 御中" not in text
    sent = body(invoice(recipient=recipient), Partner("1", partner), "2")  # freee: the partner by its name
    assert (sent["partner_display_name"], sent["partner_title"]) == (partner, title)


def test_a_correction_names_the_invoice_it_replaces():
    text = pdf_text(render(invoice(number="INV-2026-0008", replaces="INV-2026-0007")))
    assert "INV-2026-0008" in text and "請求書番号 INV-2026-0007 を訂正する" in text


def test_printing_again_gives_the_same_text():
    assert pdf_text(render(invoice())) == pdf_text(render(invoice()))


def test_a_document_survives_the_store_as_json():
    import json

    document = invoice(replaces="INV-2026-0001")
    assert Document.from_dict(json.loads(json.dumps(document.to_dict()))) == document


@pytest.mark.parametrize("text, pieces", [
    ("金型設計:1:350000", ["金型設計", "1", "350000", ""]),
    ("資料: A:2:1,000:8%", ["資料: A", "2", "1,000", "8%"]),  # a description with a colon, a reduced line
    ("設計", ["設計", "", "", ""]),
])
def test_a_line_splits_into_the_forms_inputs_and_joins_back_as_typed(text, pieces):
    assert split_item(text) == pieces
    if pieces[1]:
        assert join_item(pieces) == text
    assert join_item(["資料", "2", "1000", "8"]) == "資料:2:1000:8%"  # a rate typed without %
    assert parse_line(join_item(["資料", "2", "1000", "8"])).reduced


@pytest.mark.parametrize(("line_rounding", "amount", "said"), [
    ("round", "¥167", "四捨五入"), ("floor", "¥166", "切り捨て"), ("ceil", "¥167", "切り上げ")])
def test_a_line_whose_amount_was_rounded_says_how_on_the_document(line_rounding, amount, said):
    """0.5 × ¥333 is ¥166.5: the line's amount is rounded by its own rule (money.py: "that rule is
    written on the document as well"), which the PDF did not say: only the tax's rounding was."""
    rules = TaxRules(line_rounding=line_rounding)
    text = pdf_text(render(invoice(lines=lines("設計:0.5:333", "部品:2:100"), rules=rules)))
    assert f"設計 0.5 ¥333 {amount}" in text
    assert f"明細の金額（数量 × 単価）の1円未満の端数は{said}です。" in text, text


def test_lines_of_whole_amounts_say_nothing_of_line_rounding():
    text = pdf_text(render(invoice(lines=lines("設計:1.5:1000", "部品:2:100"))))  # ¥1,500: nothing rounded
    assert "明細の金額" not in text


@pytest.mark.parametrize("text", ["値引:1:-5000", "値引:1:−5,000", "出精値引:1:▲5000", "値引:1:△5,000円",
                                  "値引:1:-¥5,000"])
def test_a_discount_line_with_a_negative_price_is_refused_saying_so(text):
    """A discount (値引, written -5000 or ▲5000 as Japanese accounts write a negative) was refused as
    “not an amount of yen”: it is one, and the person needs to know discounts cannot be a line."""
    with pytest.raises(UsageError) as refused:
        parse_line(text)
    said = refused.value.render(speaker_for("ja"))
    assert "マイナス" in said and "値引" in said, said
    assert "negative" in refused.value.render(speaker_for("en"))


def test_a_negative_price_in_a_forms_line_is_said_too():
    from workers.office.money import check_price_part

    with pytest.raises(UsageError) as refused:
        check_price_part("▲5000")
    assert "マイナス" in refused.value.render(speaker_for("ja"))


def test_a_change_to_a_negative_price_is_refused_saying_so():
    with pytest.raises(UsageError) as refused:
        parse_change("1=::▲5000", RULES)
    assert "マイナス" in refused.value.render(speaker_for("ja"))


@pytest.mark.parametrize("kind, number, label", [("invoice", "INV-2026-0009", "請求書番号"),
                                                 ("quotation", "2026-001-v3", "見積番号")])
def test_every_page_of_a_long_document_says_which_document_and_which_page(kind, number, label):
    """A document of 45 lines runs to several pages. Printed and handed over, a page on its own (the
    last holds the totals and the tax per rate) must still say which document it belongs to: each
    page after the first repeats the number, and every page says its number of the whole."""
    many = lines(*(f"図面修正 第{n}版 詳細設計および構造計算の見直し、関係各所との調整を含む作業一式:1:3333"
                   for n in range(1, 46)))
    extra = {"version": 3, "valid_until": "2026-12-21"} if kind == "quotation" else {}
    data = render(invoice(kind=kind, number=number, lines=many, **extra))
    pages = [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]
    assert len(pages) >= 3
    for at, text in enumerate(pages, start=1):
        assert f"{label} {number}" in text, at
        assert f"{at} / {len(pages)}" in text, at
    assert "合計（税込）" in pages[-1] and "合計（税込）" not in pages[0]


def test_the_number_and_date_lines_end_where_the_table_does():
    """The first page's number and issue date and a later page's heading (its document and number,
    続き) were set flush right to the page margin, running past the table's right edge: they end
    at the table's edge now, as the issuer's block does."""
    from fpdf import FPDF

    from workers.office.accounting.pdf import WIDTHS, find_font

    many = lines(*(f"図面修正 第{n}版 詳細設計および構造計算の見直し:1:3333" for n in range(1, 46)))
    reader = pypdf.PdfReader(io.BytesIO(render(invoice(lines=many))))
    measure = FPDF()
    measure.add_font("jp", "", str(find_font()))
    edge = 10 + sum(WIDTHS)  # the left margin and the table, mm
    for page, start, size in ((0, "請求書番号", 10), (1, "請求書", 9)):
        pieces = []

        def visit(text, cm, tm, font, font_size, pieces=pieces):
            if text.strip():
                pieces.append((text.strip(), tm[4] * 25.4 / 72))

        reader.pages[page].extract_text(visitor_text=visit)
        text, x = next((t, x) for t, x in pieces if t.startswith(start))
        measure.set_font("jp", size=size)
        end = x + measure.get_string_width(text)
        assert edge - 3 < end <= edge, (page, text, end, edge)


def test_a_title_or_line_that_says_nb_is_printed_as_typed_not_as_the_page_count():
    """fpdf2 replaces its page-count alias (``{nb}`` by default) wherever it appears on a page, not
    only in the footer that means it: a title ``図面 {nb} 式`` or a line typed with it in Chat was
    printed as ``図面 1 式`` on the client's invoice (what was typed changed, silently)."""
    data = render(invoice(title="型番 {nb} 改修", lines=lines("部品 {nb} 加工:1:1000")))
    text = pdf_text(data)
    assert "型番 {nb} 改修" in text
    assert "部品 {nb} 加工" in text
    assert "1 / 1" in text  # the footer still counts the pages
