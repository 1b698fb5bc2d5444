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
    invoices = _invoice_problem(office)
    if invoices:
        click.echo(f"note: {invoices}", err=True)
    zones = _time_zone_problem(settings, office)
    if zones and not check:
        click.echo(f"note: {zones}", err=True)
    if check:
        if zones:
            raise click.ClickException(zones)
        try:
            settings.check()
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        if office is not None and office.registration_number:
            from workers.office.issuer import registration_problem

            wrong = registration_problem(office.registration_number)
            if wrong:  # a wrong registration number is an error; missing details are a note
                raise click.ClickException(str(wrong))
        click.echo("settings OK")


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
