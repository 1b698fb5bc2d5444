"""Settings of the office workflow (prefix ``ACKFLOW_OFFICE_``), apart from the core's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ackflow.errors import ConfigError
from ackflow.settings import split_commas

DEFAULT_TEMPLATE = str(Path(__file__).resolve().parent / "templates" / "case")
CommaList = Annotated[list[str], NoDecode]


class OfficeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACKFLOW_OFFICE_", extra="ignore", frozen=True)

    name: str = Field("設計事務所", description="The office's name, at the top of estimates.")
    address: str = Field("", description="The office's address, under its name on estimates.")
    contact: str = Field("", description="Phone or email printed on estimates.")
    timezone: str = Field("Asia/Tokyo", description="Time zone of case numbers (the year), dates and estimates.")

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

    tax_rate: float = Field(0.10, ge=0, le=1, description="Consumption tax rate on estimates.")
    estimate_font: str = Field("", description="TTF font with Japanese glyphs for estimates; empty: found on the machine.")
    estimate_validity_days: int = Field(30, gt=0, description="Days an estimate is valid.")
    client_items: str = Field("", description='Default line items per client, JSON {"ACME": [["design", 1, 120000]]} or a path to such a file.')

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
    mail_max_bytes: int = Field(30 * 1024 * 1024, gt=0, description="Largest mail saved whole as .eml (larger: attachments only).")
    mail_rescan_days: int = Field(3, gt=0, description="Days of mail re-read when Gmail no longer knows the stored history id.")
    mail_rescan_max: int = Field(50, gt=0, description="Most mails re-read in such a re-scan.")
    mail_batch: int = Field(50, gt=0, description="Most new mails handled per notification or sweep (the rest follow).")
    mail_lease: float = Field(120.0, gt=0, description="Seconds one delivery holds a mail it is proposing; a dead holder's mail is taken over after it.")
    mail_authserv_id: str = Field("mx.google.com", description="Authentication-Results from this server (the receiving one) are trusted; others are ignored.")
    mail_watch_renew_after: float = Field(86400.0, gt=0, description="Seconds after which the sweep renews the Gmail watch (a watch lasts 7 days).")

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
