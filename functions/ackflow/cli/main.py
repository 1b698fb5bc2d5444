"""Entry point of the ``ackflow`` command: one group, subcommands in their own modules."""

from __future__ import annotations

import click

from .emulators import chat_emulator, tasks_emulator


@click.group(context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "ACKFLOW"})
@click.version_option(package_name="ackflow")
def cli() -> None:
    """Ackflow: ChatOps on serverless task queues."""


cli.add_command(tasks_emulator)
cli.add_command(chat_emulator)
