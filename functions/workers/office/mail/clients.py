"""A guess of the client from the sender: a domain learnt when a case was opened from an earlier
mail, else the sender's domain or display name matched against the clients already known (the
case records, which mirror the case sheet). Free-mail domains never match by domain."""

from __future__ import annotations

import re
import unicodedata

GENERIC = {"co", "jp", "com", "net", "org", "ne", "or", "ac", "go", "ed", "lg", "mail", "www", "info", "biz",
           "inc", "corp", "group", "tokyo", "osaka", "example"}
FREE_MAIL = {"gmail.com", "googlemail.com", "yahoo.co.jp", "yahoo.com", "outlook.com", "outlook.jp",
             "hotmail.com", "hotmail.co.jp", "icloud.com", "me.com", "docomo.ne.jp", "ezweb.ne.jp",
             "au.com", "softbank.ne.jp", "i.softbank.jp", "nifty.com", "live.jp", "msn.com"}
SUFFIXES = re.compile(r"(株式会社|有限会社|合同会社|\(株\)|（株）|㈱|inc\.?|co\.?,?\s*ltd\.?|ltd\.?|corp\.?"
                      r"|corporation)", re.IGNORECASE)


def normal(name: str) -> str:
    name = unicodedata.normalize("NFKC", name).lower()
    name = SUFFIXES.sub("", name)
    return "".join(ch for ch in name if ch.isalnum())


def guess(domain: str, display_name: str, known: list[str], learnt: str | None) -> str | None:
    if learnt:
        return learnt
    domain = domain.lower()
    labels = [] if domain in FREE_MAIL else [label for label in re.split(r"[.-]", domain)
                                             if len(label) >= 3 and label not in GENERIC]
    display = normal(display_name)
    for client in known:
        key = normal(client)
        if len(key) < 2:
            continue
        if any(label == key or (len(label) >= 4 and (label in key or key in label)) for label in labels):
            return client
        if len(key) >= 3 and key in display:
            return client
    return None


MAX_CLIENT = 60  # newcase's client (its form's limit): a longer name is no client a case can be opened for


def known_clients(docs, sheet=None, limit: int = 500) -> list[str]:
    """Clients of the case records (newest first), then any only the sheet has (best effort). Only
    names a case can have (``MAX_CLIENT`` characters): a person may write anything in the sheet's
    cell, and a note of thousands of characters mentioning ACME became a mail's guess, its card
    larger than Chat takes and its form refused."""
    names: list[str] = []
    for record in docs.query("cases", [], "created_at", True, limit):
        client = record.get("client")
        if isinstance(client, str) and client and len(client) <= MAX_CLIENT and client not in names:
            names.append(client)
    if sheet is not None:
        try:
            column = sheet.columns()["client"]
            for client in sheet.worksheet().col_values(column)[1:limit]:
                if client and len(client) <= MAX_CLIENT and client not in names:
                    names.append(client)
        except Exception:  # noqa: BLE001 - the sheet only adds to the guess; it must not stop a mail
            pass
    return names
