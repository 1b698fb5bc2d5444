"""Settings of the office workflow (prefix ``ACKFLOW_OFFICE_``), apart from the core's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ackflow.errors import ConfigError
from ackflow.settings import split_commas

DEFAULT_TEMPLATE = str(Path(__file__).resolve().parent / "templates" / "case")
CommaList = Annotated[list[str], NoDecode]


class OfficeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACKFLOW_OFFICE_", extra="ignore", frozen=True)

    name: str = Field("設計事務所", description="The office's name, the issuer of estimates and invoices.")
    address: str = Field("", description="The office's address, under its name on estimates and invoices.")
    contact: str = Field("", description="Phone or email printed on estimates and invoices.")
    timezone: str = Field("Asia/Tokyo", description="Time zone of case numbers (the year), dates and estimates.")
    holidays: str = Field("JP", description="Country whose public holidays are not working days (ISO code, the holidays library's calendar: JP has 祝日 and 振替休日); empty: only weekends.")
    closed_days: CommaList = Field(default_factory=list, description="The office's own closed days, MM-DD every year or YYYY-MM-DD once, e.g. '12-29,12-30,12-31,01-02,01-03' (年末年始).")

    storage: Literal["local", "gcs", "drive"] = Field("local", description="Where case folders live: a local folder, Cloud Storage, or a Google Drive shared drive.")
    local_root: str = Field(".ackflow/cases", description="Root folder of case folders (storage=local).")
    local_link_base: str = Field("", description="URL that serves local_root over http (ackflow dev's file server), for links that open on a phone; empty: file:// links.")
    gcs_bucket: str = Field("", description="Bucket of case folders (storage=gcs).")
    gcs_prefix: str = Field("cases/", description="Prefix of case folders in the bucket.")
    drive_parent_folder: str = Field("", description="Drive folder id (in a shared drive) the case folders are made in (storage=drive).")
    drive_template_folder: str = Field("", description="Drive folder id of the boilerplate case folder, copied with files.copy (storage=drive); empty: TEMPLATE_DIR is uploaded.")
    drive_template_max_bytes: int = Field(100 * 1024 * 1024, gt=0, description="Largest file the Drive template may hold (a bigger one is refused, not copied into every case).")
    drive_endpoint: str = Field("", description="Drive API base URL; empty for Google's, a local stand-in's in tests and ackflow dev.")
    drive_credentials_file: str = Field("", description="Service-account key file for Drive; empty: application default credentials.")
    template_dir: str = Field(DEFAULT_TEMPLATE, description="The boilerplate case folder (names and text files are templates).")

    sheet_id: str = Field("", description="Spreadsheet id of the case sheet (empty: no sheet).")
    sheet_tab: str = Field("Cases", description="Worksheet (tab) of the case sheet.")
    sheets_endpoint: str = Field("", description="Sheets API base URL; empty for Google's, a local server's in tests.")
    sheets_credentials_file: str = Field("", description="Service-account key file for Sheets; empty: application default credentials.")

    tax_rate: float = Field(0.10, ge=0, le=1, description="Standard consumption tax rate (10 %).")
    reduced_tax_rate: float = Field(0.08, ge=0, le=1, description="Reduced consumption tax rate (8 %), for lines marked :8%.")
    tax_rounding: Literal["floor", "round", "ceil"] = Field("floor", description="Rounding of the consumption tax, once per rate per document: floor (切り捨て), round (四捨五入), ceil (切り上げ).")
    line_rounding: Literal["floor", "round", "ceil"] = Field("round", description="Rounding of a line amount whose quantity has decimals.")
    estimate_font: str = Field("", description="TTF font with Japanese glyphs for estimates and invoices; empty: found on the machine.")
    estimate_validity_days: int = Field(30, gt=0, description="Days an estimate is valid (its validity date is printed).")

    registration_number: str = Field("", description="The office's qualified invoice registration number (登録番号): T and 13 digits; required to issue invoices.")
    bank_account: str = Field("", description="Where clients pay, printed on invoices, e.g. 'みずほ銀行 蒲田支店 普通 1234567 ヤマダセッケイ'; required to issue invoices.")
    payment_terms: str = Field("next-month-end", description="Payment due date of an invoice: next-month-end (翌月末), month-end (当月末), or a number of days (30d).")
    invoice_prefix: str = Field("INV-", max_length=10, description="Invoice numbers are PREFIX + year + '-' + a four-digit sequence, consecutive per year (INV-2026-0001); letters, digits, - and _ only.")
    documents_tab: str = Field("Documents", description="Worksheet (tab) of the case sheet listing every issued document: number, date, amount, client.")

    accounting: Literal["embedded", "freee"] = Field("embedded", description="Where estimates and invoices are issued: embedded (PDFs in the case folder) or freee (freee 請求書 API).")
    freee_client_id: str = Field("", description="Client ID of the office's freee app (freee app store, アプリ管理).")
    freee_client_secret: SecretStr = Field(SecretStr(""), description="Client secret of the office's freee app.")
    freee_company_id: int = Field(0, ge=0, description="freee company (事業所) id; 0: the one chosen when authorizing.")
    freee_redirect_uri: str = Field("urn:ietf:wg:oauth:2.0:oob", description="Callback URL registered for the freee app (out-of-band: the code is shown on freee's page).")
    freee_token_vault: str = Field("store", description="Where freee's refresh token is kept: store (the job store) or secret:projects/PROJECT/secrets/NAME (Secret Manager).")
    freee_api_url: str = Field("https://api.freee.co.jp", description="freee API base URL; a local stand-in's in dev and tests.")
    freee_accounts_url: str = Field("https://accounts.secure.freee.co.jp", description="freee's OAuth server (authorize and token URLs).")
    freee_web_url: str = Field("https://invoice.secure.freee.co.jp", description="Where documents are opened in freee請求書 when freee's answer lacks their report_url (links in the case).")
    freee_quotation_template: str = Field("", description="freee template id for quotations; empty: the company's default (既定) in freee.")
    freee_invoice_template: str = Field("", description="freee template id for invoices; empty: the company's default (既定) in freee.")
    client_items: str = Field("", description='Default line items per client, JSON {"ACME": [["design", 1, 120000]], "*": [...]} or a path to such a file; each row is checked on load (a price of at least ¥1). A client with none (and no "*") gets no estimate from newcase without --item.')

    portals: str = Field("", description='Client portals, JSON {"ACME": {"url": "https://portal.acme.example", "credentials": "env:ACME_PORTAL"}} or a path.')
    portal_allowed_hosts: CommaList = Field(default_factory=list, description="Hosts the portal fetcher may contact (required).")
    portal_timeout: float = Field(20.0, gt=0, description="Seconds per portal request.")
    portal_max_bytes: int = Field(50 * 1024 * 1024, gt=0, description="Largest attachment downloaded from a portal.")
    portal_max_pages: int = Field(20, gt=0, description="Pages of the order list searched for an order.")
    portal_retries: int = Field(3, ge=0, description="Retries of a portal request on a 5xx or a timeout.")
    secrets_endpoint: str = Field("", description="Secret Manager API base URL (portal credentials kept in Secret Manager); empty for Google's, a plain http:// URL is a local stand-in reached without credentials.")
    portal_password: SecretStr = Field(SecretStr(""), description="Fallback portal password (prefer per-portal credentials).")

    mailbox: str = Field("", description="The request mailbox (a Google Workspace address) whose new mails become cards; empty: no mail is read.")
    mail_space: str = Field("", description="Chat space (spaces/…) where mail cards appear; empty: ACKFLOW_PERIODIC_SPACE.")
    mail_event_format: Literal["classic", "addon"] = Field("classic", description="The Chat app's format, for the buttons of mail cards (add-on buttons call the endpoint URL).")
    mail_language: Literal["ja", "en"] = Field("ja", description="Language of mail cards.")
    gmail_topic: str = Field("", description="Pub/Sub topic (projects/P/topics/T) Gmail notifies; empty: no push, the sweep polls the mailbox.")
    gmail_endpoint: str = Field("", description="Gmail API base URL; empty for Google's, the local stand-in's in dev.")
    gmail_credentials_file: str = Field("", description="Service-account key file with domain-wide delegation; empty: keyless (signJwt by the function's account).")
    gmail_service_account: str = Field("", description="Service account whose domain-wide delegation reads the mailbox (keyless); empty: the function's own.")
    mail_max_attachment_bytes: int = Field(20 * 1024 * 1024, gt=0, description="Largest attachment saved into a case (larger: listed on the card, not saved).")
    mail_max_bytes: int = Field(30 * 1024 * 1024, gt=0, description="Largest mail saved whole as .eml (larger: its headers and text as Gmail read them, and its attachments within their limit).")
    mail_rescan_days: int = Field(3, gt=0, description="Days of mail re-read when Gmail no longer knows the stored history id.")
    mail_rescan_max: int = Field(50, gt=0, description="Most mails re-read in such a re-scan.")
    mail_batch: int = Field(50, gt=0, description="Most new mails handled per notification or sweep (the rest follow).")
    mail_lease: float = Field(120.0, gt=0, description="Seconds one delivery holds a mail it is proposing; a dead holder's mail is taken over after it.")
    mail_authserv_id: str = Field("mx.google.com", description="Authentication-Results from this server (the receiving one) are trusted; others are ignored.")
    mail_watch_renew_after: float = Field(86400.0, gt=0, description="Seconds after which the sweep renews the Gmail watch (a watch lasts 7 days).")
    mail_unshown_retries: int = Field(3, ge=0, le=30, description="Times the sweep tries again, a day apart, to show a mail whose card Chat refused for good (UNSHOWN); 0: only an operator shows it again (ackflow mail show-again, the console's Mail page).")

    @field_validator("tax_rate", "reduced_tax_rate")
    @classmethod
    def _whole_percent(cls, value: float) -> float:
        if abs(value * 100 - round(value * 100)) > 1e-9:
            raise ValueError("must be a whole percent, e.g. 0.10 or 0.08")
        return value

    @field_validator("payment_terms")
    @classmethod
    def _terms(cls, value: str) -> str:
        import re

        if value not in ("next-month-end", "month-end") and not re.fullmatch(r"\d{1,3}d", value):
            raise ValueError("must be next-month-end, month-end or a number of days such as 30d")
        return value

    @field_validator("invoice_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        """The number names the invoice's file and its document in freee: letters, digits, - and _
        only (a / made a folder inside 05_請求; a space or a colon is refused by some services)."""
        import re

        if not re.fullmatch(r"[A-Za-z0-9_-]*", value):
            raise ValueError("may hold only letters, digits, - and _ (it begins every invoice number, e.g. INV-)")
        return value

    @field_validator("freee_token_vault")
    @classmethod
    def _vault(cls, value: str) -> str:
        import re

        if value != "store" and not re.fullmatch(r"secret:projects/[^/]+/secrets/[^/]+", value):
            raise ValueError("must be store or secret:projects/PROJECT/secrets/NAME (no version: new ones are added)")
        return value

    @property
    def tax_percent(self) -> int:
        return round(self.tax_rate * 100)

    @property
    def reduced_percent(self) -> int:
        return round(self.reduced_tax_rate * 100)

    @field_validator("client_items")
    @classmethod
    def _client_items(cls, value: str, info: ValidationInfo) -> str:
        """Every default line is checked as a typed one is (a ¥0 or negative price, a zero quantity, a
        rate other than the two is refused here, when the settings load, not when an estimate is due)."""
        from .estimating import read_client_items

        standard, reduced = (round(info.data.get(name, default) * 100)
                             for name, default in (("tax_rate", 0.10), ("reduced_tax_rate", 0.08)))
        read_client_items(value, standard, reduced)
        return value

    @field_validator("holidays")
    @classmethod
    def _country(cls, value: str) -> str:
        import re

        value = value.strip().upper()
        if value and not re.fullmatch(r"[A-Z]{2}", value):
            raise ValueError("must be a two-letter country code such as JP, or empty")
        return value

    @field_validator("closed_days", mode="before")
    @classmethod
    def _closed_days(cls, value):
        from .workdays import parse_closed_days

        days = split_commas(value)
        parse_closed_days(days)
        return days

    @field_validator("portal_allowed_hosts", mode="before")
    @classmethod
    def _comma_list(cls, value):
        return [host.lower() for host in split_commas(value)]


def load_office_settings() -> OfficeSettings:
    try:
        return OfficeSettings()
    except ValidationError as exc:
        problems = [f"ACKFLOW_OFFICE_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("invalid office settings:\n  " + "\n  ".join(problems)) from exc
