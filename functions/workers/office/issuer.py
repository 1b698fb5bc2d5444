"""The issuer of the office's documents: name, address, registration number, bank account.

A qualified invoice (適格請求書) must carry the issuer's registration number (登録番号): ``T``
and 13 digits, the first of which is the check digit of the other twelve:
9 − (Σ Pₙ × Qₙ mod 9), Pₙ the n-th digit counted from the right, Qₙ 1 for odd n and 2 for even n.
A wrong number is refused by ``ackflow config`` (an error, with or without ``--check``), by the
``invoice`` command and by its step.

``ackflow dev`` ships a sample issuer (``SAMPLE``) so invoices work on a fresh machine; a deployed
worker refuses to issue invoices until the office's own details are set.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass

from ackflow.i18n import N_, Joined, Msg, texts

DEFAULT_NAME = "設計事務所"  # the settings' placeholder: not anyone's name

TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "format": N_("the registration number must be T followed by 13 digits (e.g. T7123456789012), "
                 "got “{number}”"),
    "check": N_("the registration number {number} is not valid: its first digit should be "
                "{expected} (the check digit of the other twelve); check it on the National Tax "
                "Agency's site"),
    "missing": N_("invoices cannot be issued until the office's own details are set: {missing} "
                  "(docs/office-workflow.md, “Invoices”)"),
    "name": N_("ACKFLOW_OFFICE_NAME (the issuer's name)"),
    "registration": N_("ACKFLOW_OFFICE_REGISTRATION_NUMBER (T + 13 digits)"),
    "bank": N_("ACKFLOW_OFFICE_BANK_ACCOUNT (where clients pay)"),
}


say = texts(TEXTS)


def check_digit(twelve: str) -> int:
    """The check digit of the 12-digit base of a corporate or registration number."""
    total = sum(int(digit) * (1 if n % 2 else 2) for n, digit in enumerate(reversed(twelve), start=1))
    return 9 - total % 9


def normalize_registration(text: str) -> str:
    """``T1234567890123`` from what people paste: full-width characters, a lowercase t, hyphens or spaces."""
    return re.sub(r"[\s\-‐ー－]", "", unicodedata.normalize("NFKC", text)).upper()


def registration_problem(text: str) -> Msg | None:
    """What is wrong with a registration number, or None when it is valid."""
    number = normalize_registration(text)
    if not re.fullmatch(r"T[0-9]{13}", number):  # ASCII digits: \d would take ٧ (and print it)
        return say("format", number=text)
    expected = check_digit(number[2:])
    if int(number[1]) != expected:
        return say("check", number=number, expected=expected)
    return None


def valid_registration(twelve: str) -> str:
    """A valid registration number for a 12-digit base (for samples and tests)."""
    return f"T{check_digit(twelve)}{twelve}"


@dataclass(frozen=True)
class Issuer:
    name: str
    address: str = ""
    contact: str = ""
    registration: str = ""
    bank_account: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Issuer:
        return cls(**{k: data.get(k, "") for k in ("name", "address", "contact", "registration", "bank_account")})

    @classmethod
    def from_settings(cls, settings) -> Issuer:
        return cls(settings.name, settings.address, settings.contact,
                   normalize_registration(settings.registration_number) if settings.registration_number else "",
                   settings.bank_account)


def invoice_problems(settings) -> Msg | None:
    """Why invoices cannot be issued with these settings (None: they can)."""
    if settings.registration_number and (problem := registration_problem(settings.registration_number)):
        return problem
    missing = []
    if not settings.name.strip() or settings.name == DEFAULT_NAME:
        missing.append(say("name"))
    if not settings.registration_number:
        missing.append(say("registration"))
    if not settings.bank_account.strip():
        missing.append(say("bank"))
    return say("missing", missing=Joined(missing)) if missing else None


# What `ackflow dev` runs with: an example office whose registration number is valid (made up: it
# belongs to no one) and a bank account that does not exist.
SAMPLE = Issuer(name="サンプル設計事務所", address="東京都大田区蒲田1-2-3", contact="03-0000-0000",
                registration=valid_registration("123456789012"),
                bank_account="サンプル銀行 本店 普通 1234567 サンプルセッケイジムショ")
