"""``ackflow config``: every setting with its value (secrets masked) and what it is for."""

from __future__ import annotations

import click

from .common import cli_settings


@click.command()
@click.option("--check", is_flag=True, help="Also apply the start-up checks the functions apply.")
def config(check: bool) -> None:
    """Print the settings in effect."""
    from ackflow.errors import ConfigError
    from ackflow.settings import describe

    settings = cli_settings()
    groups = [describe(settings)]
    office = None
    try:  # the office workflow's own settings, when it is installed
        from workers.office.settings import load_office_settings

        office = load_office_settings()
        groups.append(describe(office))
    except ImportError:
        pass
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    width = max(len(name) for group in groups for name, _, _ in group)
    for group in groups:
        for name, value, description in group:
            click.echo(f"{name:<{width}}  {value}")
            if description:
                click.echo(f"{'':<{width}}    {description}")
        click.echo()
    wrong = _registration_problem(office)
    invoices = _invoice_problem(office) if not wrong else None
    if invoices:
        click.echo(f"note: {invoices}", err=True)
    zones = _time_zone_problem(settings, office)
    if zones and not check:
        click.echo(f"note: {zones}", err=True)
    errors = []
    if check:
        if zones:
            errors.append(zones)
        errors.extend(settings.problems())
    if wrong:  # an error with or without --check: every invoice would be refused, or print a false number
        errors.append(wrong)
    if errors:  # every one of them, not the first only: each is a setting to fix
        for error in errors:
            click.echo(f"Error: {error}", err=True)
        raise click.exceptions.Exit(1)
    if check:
        click.echo("settings OK")


def _registration_problem(office) -> str | None:
    """What is wrong with ACKFLOW_OFFICE_REGISTRATION_NUMBER when it is set (a number whose check
    digit fails would print on every invoice, and every ``invoice`` would be refused); None when it
    is valid, not set (a note says what invoices need) or the office workflow is not installed."""
    if office is None or not office.registration_number:
        return None
    from workers.office.issuer import registration_problem

    wrong = registration_problem(office.registration_number)
    return f"ACKFLOW_OFFICE_REGISTRATION_NUMBER: {wrong}" if wrong else None


def _time_zone_problem(settings, office) -> str | None:
    """The office's dates (case numbers' year, estimates, due-date reminders) follow
    ACKFLOW_OFFICE_TIMEZONE, the periodic jobs' cron schedules ACKFLOW_TIME_ZONE: a deployment
    where they differ gets its Monday digest at another hour than it expects (Terraform sets both
    from ``time_zone``)."""
    if office is None or office.timezone == settings.time_zone:
        return None
    return (f"ACKFLOW_OFFICE_TIMEZONE ({office.timezone}) differs from ACKFLOW_TIME_ZONE ({settings.time_zone}): "
            "the office's dates follow the first, the digest's and the reminders' schedules the second; "
            "set both to the office's time zone")


def _invoice_problem(office) -> str | None:
    """Why invoices cannot be issued with these settings (a wrong registration number, or the
    office's details missing); None when they can or the office workflow is not installed."""
    if office is None:
        return None
    from workers.office.issuer import invoice_problems

    problem = invoice_problems(office)
    return str(problem) if problem else None
