"""freee 請求書 API as an Accounting adapter: OAuth tokens (``tokens``), calls and their errors
(``client``), quotations, invoices, templates and partners (``adapter``)."""

from __future__ import annotations

from .adapter import FreeeAccounting
from .client import FreeeApi
from .tokens import FreeeTokens, OAuthApp, SecretVault, StoreVault

__all__ = ["FreeeAccounting", "FreeeApi", "FreeeTokens", "OAuthApp", "SecretVault", "StoreVault"]
