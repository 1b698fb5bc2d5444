"""``ackflow freee authorize`` (connect the office's freee company, once) and ``ackflow
freee-emulator`` (the local freee stand-in)."""

from __future__ import annotations

import secrets

import click

from .serving import run_until_stopped

# A deployment gives the client secret to the worker only, from Secret Manager: the settings that
# `terraform output operator_env` prints leave it out (docs/deploy.md).
NO_CLIENT_SECRET = (
    "ACKFLOW_OFFICE_FREEE_CLIENT_SECRET is not set in this shell. A deployment keeps it in Secret Manager (the "
    "secret that Terraform's office.freee_client_secret names) and gives it to the worker only, so the "
    "operator_env lines leave it out: export ACKFLOW_OFFICE_FREEE_CLIENT_SECRET=\"$(gcloud secrets versions "
    "access latest --secret=SECRET)\" and run ackflow freee authorize again")


@click.group()
def freee() -> None:
    """freee 請求書 as the office's accounting service."""


@freee.command()
@click.option("--code", help="The authorization code freee showed (else you are asked for it).")
def authorize(code: str | None) -> None:
    """Print freee's authorization URL, take the code it shows, and keep the grant.

    The refresh token goes where ACKFLOW_OFFICE_FREEE_TOKEN_VAULT says (the job store or Secret
    Manager); the worker refreshes it from then on. Run it again when freee says the grant expired
    or was revoked.
    """
    from ackflow.errors import AckflowError
    from workers.office.accounting.factory import freee_tokens
    from workers.office.settings import load_office_settings

    from .common import cli_runtime

    try:
        settings = load_office_settings()
        if settings.freee_client_id and not settings.freee_client_secret.get_secret_value():
            raise click.ClickException(NO_CLIENT_SECRET)
        runtime = cli_runtime()
        tokens = freee_tokens(settings, runtime.store.docs)
    except AckflowError as exc:
        raise click.ClickException(str(exc)) from exc
    if code is None:
        click.echo("Open this URL as a person who may issue invoices in the office's freee company, choose the "
                   "company (事業所) and press 許可する:\n")
        click.echo(tokens.app.authorize_url(secrets.token_urlsafe(16)) + "\n")
        code = click.prompt("The authorization code freee shows (認可コード)").strip()
    try:
        result = tokens.exchange(code)
    except AckflowError as exc:
        raise click.ClickException(str(exc)) from exc
    company = result.get("company_id") or settings.freee_company_id or "(set ACKFLOW_OFFICE_FREEE_COMPANY_ID)"
    click.echo(f"freee is connected: company {company}; the refresh token is kept in {result['vault']}.")


@click.command("freee-emulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8130, show_default=True, type=int)
@click.option("--data", "data_path", default=".ackflow/freee.json", show_default=True,
              help="JSON file the stand-in keeps its state in.")
@click.option("--rate-limit", default=600, show_default=True, type=int, help="API calls allowed per window.")
@click.option("--rate-window", default=60.0, show_default=True, type=float, help="Seconds of the rate window.")
@click.option("--access-limit", default=0, show_default=True, type=int,
              help="API calls within --access-window after which every call answers 403 for --access-lockout "
                   "seconds (freee's access limit; 0: none, as freee does not publish its threshold).")
@click.option("--access-window", default=60.0, show_default=True, type=float)
@click.option("--access-lockout", default=600.0, show_default=True, type=float)
def freee_emulator(host: str, port: int, data_path: str, rate_limit: int, rate_window: float, access_limit: int,
                   access_window: float, access_lockout: float) -> None:
    """Run the local freee stand-in (OAuth, 請求書 API, partners)."""
    from pathlib import Path

    from ackflow_tools.emulators.freee import FreeeService
    from ackflow_tools.emulators.freee.app import build_app

    Path(data_path).parent.mkdir(parents=True, exist_ok=True)
    service = FreeeService(data_path, rate_limit=rate_limit, rate_window=rate_window, access_limit=access_limit,
                           access_window=access_window, access_lockout=access_lockout)
    run_until_stopped(build_app(service), host, port, "freee")
