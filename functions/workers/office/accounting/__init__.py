"""The Accounting port: where the office's quotations (見積書) and invoices (請求書) are issued.

Two adapters pass one contract suite (tests/office/test_accounting_contract.py):

- ``embedded`` (the default): a PDF rendered here (fpdf2, a Japanese font embedded) and filed in
  the case folder, with a small index in the job store;
- ``freee``: freee 請求書 API (quotations and invoices created in the office's freee company,
  partners looked up or created), with OAuth 2.0 tokens refreshed under a lease in the store.

A ``Document`` is what the office decided to issue: number, lines, totals, issuer, dates. It is
written once in the job store (``ledger``) before it is issued, so a retried step issues exactly
the same thing; ``issue`` is idempotent by the document's own number (it looks the number up
first), so a step killed after the service created the document never creates a second one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ackflow.i18n import N_, Msg

from ..issuer import Issuer
from ..money import Line, TaxRules, Totals

KINDS = ("quotation", "invoice")
TITLES = {"quotation": "御見積書", "invoice": "請求書"}  # the title on the document
NAMES = {"quotation": "見積書", "invoice": "請求書"}  # in file names, the sheet, lists


TITLES_OF_RECIPIENTS = ("御中", "様", "殿")  # what a recipient may already end in, as people type names


def addressed(recipient: str) -> tuple[str, str]:
    """The recipient as a document addresses it: (name, title). A name typed with its title
    (``株式会社ACME 御中``, ``山田太郎様``) keeps it, never gets a second (``… 御中 御中``); any other
    name is a company's: 御中."""
    name = recipient.strip()
    for title in TITLES_OF_RECIPIENTS:
        if name.endswith(title) and name[:-len(title)].strip():
            return name[:-len(title)].strip(), title
    return name, "御中"


@dataclass(frozen=True)
class Document:
    kind: str  # quotation | invoice
    number: str  # our own number: 2026-001-v2 (a quotation), INV-2026-0001 (an invoice)
    case: str
    folder: str  # the case folder (where the embedded adapter files the PDF)
    recipient: str  # printed with 御中
    title: str  # 件名
    issued: str  # issue date, ISO
    lines: tuple[Line, ...]
    rules: TaxRules
    issuer: Issuer
    version: int | None = None  # a quotation's version
    valid_until: str | None = None  # a quotation's validity date
    delivery: str | None = None  # 納期 on a quotation
    transaction_date: str | None = None  # 取引年月日 on an invoice
    payment_due: str | None = None  # お支払期限 on an invoice
    replaces: str | None = None  # the invoice this one corrects
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"document kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def totals(self) -> Totals:
        return self.rules.totals(self.lines)

    @property
    def file_name(self) -> str:
        if self.kind == "quotation" and self.version is not None:
            return f"見積書_{self.case}_v{self.version}.pdf"
        return f"{NAMES[self.kind]}_{self.number}.pdf"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "number": self.number, "case": self.case, "folder": self.folder,
                "recipient": self.recipient, "title": self.title, "issued": self.issued,
                "lines": [line.to_dict() for line in self.lines], "rules": self.rules.to_dict(),
                "issuer": self.issuer.to_dict(), "version": self.version, "valid_until": self.valid_until,
                "delivery": self.delivery, "transaction_date": self.transaction_date,
                "payment_due": self.payment_due, "replaces": self.replaces, "note": self.note,
                "totals": self.totals.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> Document:
        return cls(kind=data["kind"], number=data["number"], case=data["case"], folder=data["folder"],
                   recipient=data["recipient"], title=data["title"], issued=data["issued"],
                   lines=tuple(Line.from_dict(x) for x in data["lines"]), rules=TaxRules.from_dict(data["rules"]),
                   issuer=Issuer.from_dict(data["issuer"]), version=data.get("version"),
                   valid_until=data.get("valid_until"), delivery=data.get("delivery"),
                   transaction_date=data.get("transaction_date"), payment_due=data.get("payment_due"),
                   replaces=data.get("replaces"), note=data.get("note", ""))


@dataclass(frozen=True)
class Issued:
    """A document as the accounting service holds it."""

    kind: str
    number: str
    service: str  # embedded | freee
    ref: str  # the service's id: a path in the case storage, freee's document id
    link: str  # where a person opens it
    totals: Totals  # as the service computed them
    path: str = ""  # the PDF in the case storage, when there is one

    def to_dict(self) -> dict:
        return {"kind": self.kind, "number": self.number, "service": self.service, "ref": self.ref,
                "link": self.link, "totals": self.totals.to_dict(), "path": self.path}

    @classmethod
    def from_dict(cls, data: dict) -> Issued:
        return cls(data["kind"], data["number"], data["service"], data["ref"], data["link"],
                   Totals.from_dict(data["totals"]), data.get("path", ""))


@dataclass(frozen=True)
class Template:
    id: str
    name: str


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    extra: dict = field(default_factory=dict, compare=False)


# how a person reads the service a document is issued in (a job's progress line): freee by its
# name, the embedded one by what it makes (not the word "embedded")
SERVICE_NAMES = {"embedded": N_("a PDF in the case folder")}


# what a document's link button opens, by the key a job's result holds it under: the PDF (the embedded
# service files one: ``estimate_link``, ``invoice_link``), or the service's own page of the document
# (freee's ``report_url``: ``freee_estimate_link``, labelled “Open the estimate in freee”)
LINK_NAMES = {"quotation": "estimate", "invoice": "invoice"}


def link_key(issued: Issued) -> str:
    """The result key of ``issued``'s link, which says what its button opens (``RESULT_LABELS``)."""
    name = f"{LINK_NAMES[issued.kind]}_link"
    return name if issued.path else f"{issued.service}_{name}"


def service_name(service: str) -> Msg | str:
    return Msg(SERVICE_NAMES[service]) if service in SERVICE_NAMES else service


ISSUER_FIELDS = ("name", "address", "contact", "registration", "bank_account")


class Accounting(Protocol):
    service: str
    # the issuer's details the service prints from the document it is given (not from its own settings):
    # a document it may hold keeps them as it was first given (``ledger.to_present``)
    issuer_printed: tuple[str, ...]

    def check(self) -> None:
        """Raise PermanentError (or TransientError) when documents cannot be issued now (no grant,
        no company): called before a number is taken, so a refusal costs no number."""

    def check_document(self, document: Document) -> None:
        """Raise PermanentError when this document cannot be issued as it is (the embedded PDF's
        font lacks a character of it): called when the document is decided, before its number."""

    def issue(self, document: Document) -> Issued:
        """Create the document unless one of its kind with its number exists; return what the
        service holds. Idempotent: calling it again, or after a crash, creates nothing new."""

    def fetch(self, kind: str, number: str) -> Issued | None:
        """The document of this kind with our number, or None."""

    def templates(self, kind: str) -> list[Template]:
        """The layouts the service offers for this kind (at least one)."""

    def partner(self, name: str) -> Partner:
        """The client as the service knows it, looked up by name or created. Idempotent."""
