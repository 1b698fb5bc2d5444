"""The Accounting contract: what every adapter must do, tested the same way on each — the embedded
PDFs and freee 請求書 API (on the local stand-in, connected through its OAuth server)."""

from __future__ import annotations

import io

import pypdf
import pytest

from ackflow.store.sqlite import SqliteDocuments
from tests.support.freee import StandIn
from workers.office.accounting import Document
from workers.office.accounting.embedded import EmbeddedAccounting
from workers.office.issuer import Issuer, valid_registration
from workers.office.money import TaxRules, parse_line
from workers.office.storage import LocalStorage

ISSUER = Issuer("山田金型設計事務所", "東京都大田区", "03-0000-0000", valid_registration("987654321098"),
                "みずほ銀行 蒲田支店 普通 1234567")


class Embedded:
    def __init__(self, tmp_path):
        self.storage = LocalStorage(tmp_path / "cases")
        self.accounting = EmbeddedAccounting(SqliteDocuments(tmp_path / "store.db"), self.storage)

    def held(self, kind: str, number: str) -> int:
        """How many documents of this number the service holds."""
        return sum(1 for path in self.storage.list("2026-001_ACME") if number.replace("-v", "_v") in path
                   and f"/{'03_見積' if kind == 'quotation' else '05_請求'}/" in path)

    def stop(self) -> None:
        pass


class Freee:
    def __init__(self, tmp_path):
        self.standin = StandIn()
        tokens = self.standin.tokens(SqliteDocuments(tmp_path / "store.db"))
        tokens.exchange(self.standin.approve())
        self.standin.service.state.company["invoice_registration_number"] = ISSUER.registration  # its template's
        self.accounting = self.standin.accounting(tokens)

    def held(self, kind: str, number: str) -> int:
        return len(self.standin.documents(f"{kind}s", number))

    def stop(self) -> None:
        self.standin.stop()


@pytest.fixture(params=["embedded", "freee"])
def service(request, tmp_path):
    adapter = (Embedded if request.param == "embedded" else Freee)(tmp_path)
    yield adapter
    adapter.stop()


def document(kind: str = "invoice", number: str = "INV-2026-0001", rounding: str = "floor", **changes) -> Document:
    values = dict(kind=kind, number=number, case="2026-001", folder="2026-001_ACME", recipient="株式会社ACME",
                  title="プレス金型 A-12", issued="2026-11-21",
                  lines=tuple(parse_line(t) for t in ("金型設計:1:350000", "試作:3:105", "弁当:3:110:8%")),
                  rules=TaxRules(rounding=rounding), issuer=ISSUER)
    if kind == "quotation":
        values.update(version=1, valid_until="2026-12-21", delivery="2026-12-01")
    else:
        values.update(transaction_date="2026-11-20", payment_due="2026-12-31")
    values.update(changes)
    return Document(**values)


@pytest.mark.parametrize("kind, number", [("quotation", "2026-001-v1"), ("invoice", "INV-2026-0001")])
def test_a_document_is_issued_with_our_number_and_found_by_it(service, kind, number):
    wanted = document(kind, number)
    issued = service.accounting.issue(wanted)
    assert (issued.kind, issued.number) == (kind, number)
    assert issued.totals == wanted.totals and issued.link
    found = service.accounting.fetch(kind, number)
    assert found is not None and found.ref == issued.ref and found.totals == wanted.totals
    assert service.accounting.fetch(kind, "INV-1999-9999") is None


@pytest.mark.parametrize("rounding", ["floor", "round", "ceil"])
def test_the_service_taxes_once_per_rate_as_we_do(service, rounding):
    wanted = document(number=f"INV-2026-00{len(rounding)}", rounding=rounding)
    issued = service.accounting.issue(wanted)
    assert issued.totals == wanted.totals
    assert [(r.rate, r.reduced) for r in issued.totals.by_rate] == [(10, False), (8, True)]


# Three ¥105 lines at 10 % and three ¥110 lines at 8 %: taxed once per rate, 315 × 10 % = 31.5 and
# 330 × 8 % = 26.4 are rounded once each; line by line, 10.5 × 3 and 8.8 × 3 would round to other sums
# (floor: ¥30 and ¥24, round: ¥33 and ¥27, ceil: ¥33 and ¥27).
FRACTIONAL = ("試作A:1:105", "試作B:1:105", "試作C:1:105", "弁当A:1:110:8%", "弁当B:1:110:8%", "弁当C:1:110:8%")


@pytest.mark.parametrize("rounding, tax_10, tax_8", [("floor", 31, 26), ("round", 32, 26), ("ceil", 32, 27)])
def test_the_tax_of_several_fractional_lines_is_rounded_once_per_rate_not_per_line(service, rounding, tax_10, tax_8):
    wanted = document(number=f"INV-2026-01{len(rounding)}", rounding=rounding,
                      lines=tuple(parse_line(t) for t in FRACTIONAL))
    for totals in (wanted.totals, service.accounting.issue(wanted).totals,
                   service.accounting.fetch("invoice", wanted.number).totals):
        assert [(r.rate, r.reduced, r.subtotal, r.tax) for r in totals.by_rate] == [(10, False, 315, tax_10),
                                                                                    (8, True, 330, tax_8)]
        assert (totals.subtotal, totals.tax, totals.total) == (645, tax_10 + tax_8, 645 + tax_10 + tax_8)


def test_issuing_again_creates_nothing_and_never_replaces_what_was_issued(service):
    first = service.accounting.issue(document())
    again = service.accounting.issue(document())
    assert again.ref == first.ref
    other_lines = document(lines=(parse_line("別の明細:1:1"),))  # the same number, other content
    assert service.accounting.issue(other_lines).totals == first.totals
    assert service.held("invoice", "INV-2026-0001") == 1


@pytest.mark.parametrize("kind, number", [("quotation", "2026-001-v1"), ("invoice", "INV-2026-0001")])
def test_a_file_someone_put_at_the_documents_path_is_never_taken_as_issued_nor_replaced(tmp_path, kind, number):
    """A person's own file (a draft of the same name) sits where the PDF goes: the step fails
    saying what to move; once moved, the same number is issued. A PDF this adapter filed before a
    crash (no index entry yet) is still taken as issued."""
    from ackflow.errors import PermanentError
    from ackflow.i18n import speaker_for

    service = Embedded(tmp_path)
    wanted = document(kind, number)
    path = service.accounting.path_of(wanted)
    draft = b"%PDF-1.4 a draft of the office's own"
    service.storage.create(path, draft)
    with pytest.raises(PermanentError) as refused:
        service.accounting.issue(wanted)
    said = refused.value.render(speaker_for("en"))
    assert wanted.file_name in said and number in said and "Move or rename" in said
    assert service.storage.read(path) == draft and service.accounting.fetch(kind, number) is None
    moved = tmp_path / "cases" / path
    moved.rename(moved.with_name("draft.pdf"))
    issued = service.accounting.issue(wanted)
    assert issued.path == path and service.storage.read(path) != draft
    # filed before a crash: the index entry lost, the PDF in place
    crashed = Embedded(tmp_path / "crashed")
    crashed.storage.create(path, service.storage.read(path))
    assert crashed.accounting.issue(wanted).path == path


def test_templates_are_offered_for_both_kinds(service):
    for kind in ("quotation", "invoice"):
        templates = service.accounting.templates(kind)
        assert templates and all(t.id and t.name for t in templates)


def test_clients_become_partners_once(service):
    acme = service.accounting.partner("株式会社ACME")
    assert service.accounting.partner("株式会社ACME").id == acme.id
    assert service.accounting.partner("山田製作所 株式会社").id != acme.id


def test_the_service_is_ready_before_a_number_is_taken(service):
    service.accounting.check()  # raises when it is not (see test_freee.py for the refusals)


def test_an_embedded_invoice_is_a_pdf_in_the_case_folder(tmp_path):
    service = Embedded(tmp_path)
    issued = service.accounting.issue(document())
    assert issued.path == "2026-001_ACME/05_請求/請求書_INV-2026-0001.pdf"
    text = pypdf.PdfReader(io.BytesIO(service.storage.read(issued.path))).pages[0].extract_text()
    assert "INV-2026-0001" in text and "株式会社ACME 御中" in text
    (tmp_path / "cases" / issued.path).write_bytes(b"a person's copy")  # never overwritten
    service.accounting.issue(document())
    assert service.storage.read(issued.path) == b"a person's copy"


# Fractional quantities: each line's amount is rounded once by the line rule (freee's
# line_amount_fraction), the rate's sum of those taxed once (tax_fraction). 1.5 × ¥333 = 499.5,
# 0.125 × ¥1,001 = 125.125, 2.5 × ¥107 = 267.5 (8 %, reduced).
FRACTIONAL_QUANTITIES = ("図面修正:1.5:333", "検図:0.125:1001", "弁当:2.5:107:8%")


@pytest.mark.parametrize("line_rounding, subtotal_10, subtotal_8", [
    ("floor", 499 + 125, 267), ("round", 500 + 125, 268), ("ceil", 500 + 126, 268)])
def test_fractional_quantities_are_rounded_per_line_by_the_line_rule_then_taxed_per_rate(
        service, line_rounding, subtotal_10, subtotal_8):
    wanted = document(number=f"INV-2026-02{len(line_rounding)}", lines=tuple(parse_line(t) for t in
                                                                              FRACTIONAL_QUANTITIES),
                      rules=TaxRules(rounding="floor", line_rounding=line_rounding))
    expected = [(10, False, subtotal_10, subtotal_10 * 10 // 100), (8, True, subtotal_8, subtotal_8 * 8 // 100)]
    for totals in (wanted.totals, service.accounting.issue(wanted).totals,
                   service.accounting.fetch("invoice", wanted.number).totals):
        assert [(r.rate, r.reduced, r.subtotal, r.tax) for r in totals.by_rate] == expected
