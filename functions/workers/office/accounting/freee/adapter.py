"""freee 請求書 API as the office's accounting service: quotations and invoices, templates, partners.

A document is looked up by our own number before it is created (``GET /iv/invoices?invoice_number=``),
so a retried step never creates a second one. The company's numbering in freee請求書 must be manual
(採番の設定: 自動採番しない), since our numbers are the ones that must be consecutive. The client
becomes a freee partner (取引先), found by name or created. The consumption tax is computed by
freee per rate per document with ``tax_fraction`` set to the office's rounding, and the totals it
answers are what ``Issued.totals`` reports.
"""

from __future__ import annotations

from decimal import Decimal

from ackflow.errors import PermanentError
from ackflow.i18n import N_, Msg, texts

from ...issuer import normalize_registration
from ...money import RateTotal, Totals
from .. import Document, Issued, Partner, Template, addressed
from .client import FreeeApi, FreeeRefused

FRACTIONS = {"floor": "omit", "round": "round", "ceil": "round_up"}  # ours → freee's
NUMBER = {"quotation": "quotation_number", "invoice": "invoice_number"}
PAGE = 100  # the most freee lists at once
FREEE_TITLES = {"御中": "御中", "様": "様", "殿": "(空白)"}  # freee offers 御中, 様 and none (殿 written in the name)
# What the job was doing, in the errors it reports (English, Japanese)
TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "templates": N_("list the {kind} templates"),
    "look_up": N_("look up {kind} {number}"),
    "read": N_("read {kind} {number}"),
    "create": N_("create {kind} {number}"),
    "create_partner": N_("create the partner {name}"),
    "look_up_partner": N_("look up the partner {name}"),
    "too_long": N_("freee takes at most {most} characters for {field}, and this {kind} has {length}: shorten it, "
                   "then issue it again (no number was taken)"),
    "field_issuer": N_("the issuer's name (ACKFLOW_OFFICE_NAME)"),
    "field_bank": N_("the bank account (ACKFLOW_OFFICE_BANK_ACCOUNT)"),
    "field_recipient": N_("the recipient"),
    "field_subject": N_("the title of the case"),
    "rate": N_("freee issues documents at tax rates of {rates} only, not {rate} %: check "
               "ACKFLOW_OFFICE_TAX_RATE and ACKFLOW_OFFICE_REDUCED_TAX_RATE (no number was taken)"),
    "registration_other": N_("freee printed invoice {number} with the registration number (登録番号) {theirs} of "
                             "its invoice template, not the office's {ours}: it is not a qualified invoice of "
                             "this office. Put {ours} on the invoice template in freee請求書 (or correct "
                             "ACKFLOW_OFFICE_REGISTRATION_NUMBER), then retry the job: it issues this same "
                             "invoice, still unsent in freee"),
    "registration_none": N_("freee printed invoice {number} without a registration number (登録番号): its invoice "
                            "template has none, so it is not a qualified invoice. Put the office's {ours} on the "
                            "invoice template in freee請求書, then retry the job: it issues this same invoice, "
                            "still unsent in freee"),
}
MOST = 255  # the longest text freee's request schema takes for a name, a subject or a bank account
FREEE_RATES = (0, 8, 10)  # a line's tax_rate in freee's request schema


KIND_NAMES = {"quotation": N_("quotation"), "invoice": N_("invoice")}  # {kind} in those texts, translated
_texts = texts(TEXTS)


def _say(key: str, **values) -> Msg:
    if "kind" in values:
        values["kind"] = Msg(KIND_NAMES[values["kind"]])
    return _texts(key, **values)


class FreeeAccounting:
    service = "freee"
    # company_name and bank_account_to_transfer (``body``); the registration number is its template's
    # (``check_registration``), the address and contact its company's
    issuer_printed = ("name", "bank_account")

    def __init__(self, api: FreeeApi, *, web_url: str = "https://invoice.secure.freee.co.jp",
                 template_ids: dict[str, str] | None = None):
        self.api = api
        self.web_url = web_url.rstrip("/")
        self.template_ids = {k: v for k, v in (template_ids or {}).items() if v}

    def check(self) -> None:
        self.templates("invoice")  # a token, the company and the permission to read 請求書, or a clear refusal

    def check_document(self, document: Document) -> None:
        """What freee would refuse after our number was taken (its fonts print any character): a
        text longer than its request schema takes (QuotationRequest / InvoiceRequest, 255 characters),
        or a tax rate other than 0, 8 and 10 % (its lines' ``tax_rate``)."""
        name, _ = addressed(document.recipient)
        texts = (("field_issuer", document.issuer.name), ("field_recipient", name), ("field_subject", document.title))
        if document.kind == "invoice":
            texts += (("field_bank", document.issuer.bank_account),)
        for key, text in texts:
            if len(text) > MOST:
                raise PermanentError(_say("too_long", field=_say(key), kind=document.kind,
                                          length=len(text), most=MOST))
        for line in document.lines:
            if document.rules.rate_of(line) not in FREEE_RATES:
                raise PermanentError(_say("rate", rate=document.rules.rate_of(line),
                                          rates=", ".join(f"{r} %" for r in FREEE_RATES)))

    def templates(self, kind: str) -> list[Template]:
        answer = self.api.get(f"/iv/{kind}s/templates", _say("templates", kind=kind))
        return [Template(str(t["id"]), t.get("name", "")) for t in answer.get("templates", [])]

    def fetch(self, kind: str, number: str) -> Issued | None:
        found = self._fetched(kind, number)
        return self._issued(kind, found) if found else None

    def _fetched(self, kind: str, number: str) -> dict | None:
        """Found by our number: the listing is asked to filter by it, and read page by page until it
        is found or the pages end, so a filter freee did not apply cannot hide it behind 100 others
        (and a retried step create a second one). The document as freee shows it, or None."""
        matches: list[dict] = []
        offset = 0
        while not matches:
            listed = self.api.get(f"/iv/{kind}s", _say("look_up", kind=kind, number=number),
                                  {NUMBER[kind]: number, "limit": PAGE, "offset": offset})
            page = listed.get(f"{kind}s", [])
            matches = [d for d in page if d.get(NUMBER[kind]) == number]
            if len(page) < PAGE:
                break
            offset += PAGE
        if not matches:
            return None
        found = self.api.get(f"/iv/{kind}s/{matches[0]['id']}", _say("read", kind=kind, number=number), missing_ok=True)
        return found[kind] if found else None

    def issue(self, document: Document) -> Issued:
        data = self._fetched(document.kind, document.number)
        if data is None:
            partner = self.partner(addressed(document.recipient)[0])
            template = self.template_ids.get(document.kind)  # none: freee uses the company's default (既定)
            created = self.api.post(f"/iv/{document.kind}s",
                                    _say("create", kind=document.kind, number=document.number),
                                    body(document, partner, template))
            data = created[document.kind]
        if document.kind == "invoice":
            check_registration(document, data)
        return self._issued(document.kind, data)

    def partner(self, name: str) -> Partner:
        found = self._find_partner(name)
        if found:
            return found
        try:
            created = self.api.post("/api/1/partners", _say("create_partner", name=name),
                                    {"name": name, "default_title": "御中"})
        except FreeeRefused:
            found = self._find_partner(name)  # created meanwhile by another job
            if found:
                return found
            raise
        partner = created["partner"]
        return Partner(str(partner["id"]), partner["name"])

    def _find_partner(self, name: str) -> Partner | None:
        listed = self.api.get("/api/1/partners", _say("look_up_partner", name=name), {"keyword": name, "limit": 3000})
        exact = [p for p in listed.get("partners", []) if p.get("name") == name]
        return Partner(str(exact[0]["id"]), exact[0]["name"]) if exact else None

    def _issued(self, kind: str, data: dict) -> Issued:
        """freee answers the document's page as ``report_url`` (required in its responses); the web
        URL only stands in for it if an answer lacks it."""
        link = data.get("report_url") or f"{self.web_url}/reports/{kind}s/{data['id']}"
        return Issued(kind, data[NUMBER[kind]], self.service, ref=str(data["id"]), link=link, totals=totals_of(data))


def check_registration(document: Document, data: dict) -> None:
    """A qualified invoice carries the issuer's registration number (登録番号). freee prints its
    invoice template's (``template.invoice_registration_number`` in InvoiceResponse), which its API
    cannot set per invoice: an invoice printed with another number, or none, is refused as issued
    (it stays unsent in freee; the retry, once the template is put right, finds it by number). An
    answer without ``template`` (not required in freee's reference) is not judged."""
    ours = document.issuer.registration
    template = data.get("template")
    if not ours or not isinstance(template, dict):
        return
    theirs = normalize_registration(str(template.get("invoice_registration_number") or ""))
    if theirs == ours:
        return
    if not theirs:
        raise PermanentError(_say("registration_none", number=document.number, ours=ours))
    raise PermanentError(_say("registration_other", number=document.number, theirs=theirs, ours=ours))


def totals_of(data: dict) -> Totals:
    """freee's per-rate amounts as our Totals (the rates Ackflow issues: 10 % and reduced 8 %)."""
    by_rate = []
    for key, rate, reduced in (("10", 10, False), ("8", 8, False), ("8_reduced", 8, True)):
        subtotal = int(Decimal(str(data.get(f"amount_excluding_tax_{key}") or 0)))
        if subtotal:
            by_rate.append(RateTotal(rate, reduced, subtotal, int(Decimal(str(data.get(f"amount_tax_{key}") or 0)))))
    return Totals(tuple(by_rate))


def _quantity(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def body(document: Document, partner: Partner, template: str | None) -> dict:
    """The create request for a document (its lines taxed by rate, nothing withheld)."""
    rules = document.rules
    name, title = addressed(document.recipient)
    shown = name if FREEE_TITLES[title] != "(空白)" else f"{name} {title}"
    lines = [{"type": "item", "description": line.description, "quantity": _quantity(line.quantity),
              "unit_price": str(line.unit_price), "tax_rate": rules.rate_of(line), "reduced_tax_rate": line.reduced,
              **({"sales_date": document.transaction_date} if document.kind == "invoice" and document.transaction_date
                 else {})}
             for line in document.lines]
    common = {"template_id": (int(template) if template.isdigit() else template) if template else None,
              NUMBER[document.kind]: document.number,
              "subject": document.title, "tax_entry_method": "out", "tax_fraction": FRACTIONS[rules.rounding],
              "line_amount_fraction": FRACTIONS[rules.line_rounding], "withholding_tax_entry_method": "out",
              "partner_id": int(partner.id) if partner.id.isdigit() else partner.id,
              "partner_title": FREEE_TITLES[title], "partner_display_name": shown, "company_name": document.issuer.name,
              "memo": f"Ackflow {document.case}", "lines": lines}
    if document.kind == "quotation":
        return _given({**common, "quotation_date": document.issued, "expiration_date": document.valid_until,
                       "delivery_deadline": document.delivery, "quotation_note": document.note})
    note = document.note
    if document.replaces:
        note = f"本請求書は請求書番号 {document.replaces} を訂正するものです。" + (f"\n{note}" if note else "")
    return _given({**common, "billing_date": document.issued,
                   "issue_date": document.transaction_date or document.issued, "payment_date": document.payment_due,
                   "payment_type": "transfer", "bank_account_to_transfer": document.issuer.bank_account,
                   "invoice_note": note})


# Optional fields freee refuses empty or null (minLength 1, or a date that is not nullable, in
# QuotationRequest / InvoiceRequest): left out when there is nothing to say, so freee uses its default
_LEFT_OUT_EMPTY = ("delivery_deadline", "expiration_date", "payment_date", "issue_date", "subject", "memo",
                   "bank_account_to_transfer", "company_name")


def _given(request: dict) -> dict:
    return {key: value for key, value in request.items()
            if value is not None and not (key in _LEFT_OUT_EMPTY and value == "")}
