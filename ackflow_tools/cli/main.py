"""Entry point of the ``ackflow`` command: one group, subcommands in their own modules."""

from __future__ import annotations

import click

from .emulators import chat_emulator, drive_emulator, files_server, gmail_emulator, sheets_emulator, tasks_emulator


class _Cli(click.Group):
    """The ``ackflow`` group: a setting the operator must fix (no Google credentials on this machine,
    say) or a backing service that refused or did not answer ends the command with its message and
    exit status 1, as click's own errors do, not with a traceback."""

    def invoke(self, ctx: click.Context):
        from ackflow.errors import ConfigError, Unavailable

        # the command line, which the group's invoke consumes (click 9: all in ``args``)
        words = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        try:
            return super().invoke(ctx)
        except (ConfigError, Unavailable) as exc:
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:  # requests' errors are OSErrors: imported only when one is raised
            import requests

            if not isinstance(exc, requests.ConnectionError):
                raise
            options = _url_options(ctx, words)  # the command's own: --chat-url, --gmail-url …
            right = f", and is the URL right ({', '.join(options)})" if options else ""
            raise click.ClickException(f"nothing answers at {_origin(exc)}: is `ackflow dev` running{right}?") from exc


def _url_options(ctx: click.Context, words: list[str]) -> list[str]:
    """The ``--…-url`` options of the (sub)command ``words`` name."""
    command = ctx.command
    while isinstance(command, click.Group) and words:
        command, words = command.get_command(ctx, words[0]), words[1:]
    if command is None:
        return []
    return [name for param in command.params if isinstance(param, click.Option)
            for name in param.opts if name.endswith("-url")]


def _origin(exc) -> str:
    """scheme://host:port of the request that found no one to answer it."""
    from urllib.parse import urlsplit

    url = getattr(getattr(exc, "request", None), "url", None) or ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "the service's address"


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "ACKFLOW"})
@click.version_option(package_name="ackflow")
def cli() -> None:
    """Ackflow: ChatOps on serverless task queues."""


cli.add_command(tasks_emulator)
cli.add_command(chat_emulator)
cli.add_command(sheets_emulator)
cli.add_command(gmail_emulator)
cli.add_command(drive_emulator)
cli.add_command(files_server)


def _add_core_commands() -> None:
    from .chat import chat, click_button
    from .config import config
    from .console import console
    from .dev import dev
    from .dialog import dialog
    from .freee import freee, freee_emulator
    from .jobs import jobs, sweep
    from .mail import mail
    from .operate import cancel, retry
    from .relay import sqs_relay

    for command in (dev, chat, click_button, dialog, jobs, sweep, retry, cancel, config, sqs_relay, mail, console,
                    freee, freee_emulator):
        cli.add_command(command)


_add_core_commands()
