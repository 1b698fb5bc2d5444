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
    try:  # the office workflow's own settings, when it is installed
        from workers.office.settings import load_office_settings

        groups.append(describe(load_office_settings()))
    except ImportError:
        pass
    width = max(len(name) for group in groups for name, _, _ in group)
    for group in groups:
        for name, value, description in group:
            click.echo(f"{name:<{width}}  {value}")
            if description:
                click.echo(f"{'':<{width}}    {description}")
        click.echo()
    if check:
        try:
            settings.check()
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo("settings OK")
