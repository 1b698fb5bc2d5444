"""The Accounting adapter the settings name: embedded (the default) or freee."""

from __future__ import annotations

from ackflow.errors import PermanentError
from ackflow.i18n import N_

TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "freee_app": N_("ACKFLOW_OFFICE_ACCOUNTING=freee needs ACKFLOW_OFFICE_FREEE_CLIENT_ID and "
                    "ACKFLOW_OFFICE_FREEE_CLIENT_SECRET (the office's freee app, freee app store → "
                    "アプリ管理)"),
}


def accounting_from_settings(settings, docs, storage):
    if settings.accounting == "embedded":
        from .embedded import EmbeddedAccounting

        return EmbeddedAccounting(docs, storage, settings.estimate_font)
    from .freee import FreeeAccounting, FreeeApi

    return FreeeAccounting(FreeeApi(settings.freee_api_url, freee_tokens(settings, docs),
                                    settings.freee_company_id or None),
                           web_url=settings.freee_web_url,
                           template_ids={"quotation": settings.freee_quotation_template,
                                         "invoice": settings.freee_invoice_template})


def freee_tokens(settings, docs):
    """freee's tokens for these settings (the worker's and ``ackflow freee authorize``'s)."""
    from .freee import FreeeTokens, OAuthApp, SecretVault, StoreVault

    if not settings.freee_client_id or not settings.freee_client_secret.get_secret_value():
        raise PermanentError(TEXTS["freee_app"])
    app = OAuthApp(settings.freee_client_id, settings.freee_client_secret.get_secret_value(),
                   settings.freee_accounts_url, settings.freee_redirect_uri)
    if settings.freee_token_vault == "store":
        vault = StoreVault(docs)
    else:
        vault = SecretVault(settings.freee_token_vault.removeprefix("secret:"), settings.secrets_endpoint)
    return FreeeTokens(app, docs, vault)
