"""``ackflow dialog``: open a command's form (Chat dialog) from the terminal, fill it in, submit it,
and see what comes back, as a person on a phone or a desktop would in Chat."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .chat import DEFAULT_SPACE, _client, _follow_runtime, _offer_run, _terminal, client_options, same_person

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime


@click.command("dialog")
@click.argument("command", required=False)
@click.argument("args", nargs=-1)
@click.option("--set", "values", multiple=True, metavar="INPUT=VALUE",
              help="Fill an input, by name or label (a date as YYYY-MM-DD); repeatable.")
@click.option("--line", "lines", multiple=True, metavar="[PARAM=]VALUE",
              help='A line of a repeated parameter, e.g. --line "金型設計:1:350000" (lines are added as needed).')
@click.option("--show", is_flag=True, help="Open the form (or, without COMMAND, the one open) and print it; "
                                           "submit nothing (it stays open).")
@click.option("--cancel", is_flag=True, help="Close the open form with its close icon (COMMAND is ignored).")
@click.option("--yes", "-y", is_flag=True, help="Press Run on the confirmation card and follow the job.")
@click.option("--space", default=DEFAULT_SPACE, show_default=True)
@click.option("--user", "user_email", help="Act as this email (default: dev@example.com).")
@click.option("--format", "fmt", type=click.Choice(["classic", "addon"]), help="Event format (default: the app's).")
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Seconds to wait for the job.")
@click.option("--chat-url", help="The local Chat service (default: the running `ackflow dev`).")
@client_options
def dialog(command: str | None, args: tuple[str, ...], values: tuple[str, ...], lines: tuple[str, ...], show: bool,
           cancel: bool, yes: bool, space: str, user_email: str | None, fmt: str | None, timeout: float,
           chat_url: str | None, locale: str | None, time_zone: str | None, platform: str | None) -> None:
    """Open COMMAND's form as `/COMMAND ARGS` would, fill it in, submit it, and show what comes back:
    the form again with its errors (exit 1), or the confirmation card (with --yes, run it and follow
    the job). E.g. ackflow dialog newcase ACME --set title="プレス金型 A-12" --set due=2026-12-01
    --line "金型設計:1:350000" --locale ja --tz Asia/Tokyo --platform IOS. Without COMMAND, the form
    a button opened for you in the space (ackflow click 案件を作成 --space spaces/office, then ackflow
    dialog --space spaces/office --set client=ACME精機 --yes)."""
    import shlex

    from ..devtools.chatcli import dialog_opener

    runtime = _follow_runtime(chat_url) if yes else None
    terminal = _terminal(chat_url, space, user_email, fmt, _client(locale, time_zone, platform))
    again = same_person(space, user_email, fmt, chat_url, locale, time_zone, platform)
    if cancel:
        exchange = terminal.cancel_dialog()
        if exchange.error:
            raise click.ClickException(exchange.error)
        return
    if not command:  # the form a button opened (a mail card's 案件を作成, a usage reply's Fill in)
        opened = terminal.open_dialog()
        if opened is None:
            raise click.UsageError(f"no form is open for you in {space}: name a command (ackflow dialog newcase), "
                                   f"or press a button that opens one first (ackflow click 案件を作成 --space {space})")
        if show:
            from ..devtools.chatcli import render_dialog

            click.echo(render_dialog(opened))
            return
        _fill_and_submit(terminal, opened, values, lines, yes, timeout, runtime, again)
        return
    text = " ".join(["/" + command.lstrip("/"), *(shlex.quote(a) for a in args)])
    click.echo(f"you: {text}")
    exchange = terminal.send(text)
    if exchange.error:
        raise click.ClickException(exchange.error)
    if exchange.dialog is None:  # not a slash command set to open a form here: its Fill in button
        opener = dialog_opener(exchange.reply)
        if opener is None:
            _offer_run(terminal, exchange.reply, yes, timeout, runtime, again)
            return
        exchange, _ = terminal.press(opener, exchange.reply)
        if exchange.error or exchange.dialog is None:
            raise click.ClickException(exchange.error or "the Fill in button opened no form")
    if show:
        return
    _fill_and_submit(terminal, exchange.dialog, values, lines, yes, timeout, runtime, again)


def _fill_and_submit(terminal, card: dict, values: tuple[str, ...], lines: tuple[str, ...], yes: bool,
                     timeout: float, runtime: Runtime | None, again: str = "") -> None:
    card = _with_lines(terminal, card, lines)
    exchange = _submit(terminal, card, values, lines)
    if exchange.dialog is not None:
        raise click.ClickException("the form came back with errors (marked !); fix them and submit again")
    _offer_run(terminal, exchange.reply, yes, timeout, runtime, again)


def _footer(card: dict) -> str:
    button = (card.get("fixedFooter") or {}).get("primaryButton") or {}
    if not button.get("text"):
        raise click.ClickException("the form has no submit button")
    return button["text"]


def _step_button(card: dict, step: str, param: str) -> str | None:
    from ..emulators.chat.userside import iter_buttons

    for button in iter_buttons({"cardsV2": [{"card": card}]}):
        action = (button.get("onClick") or {}).get("action") or {}
        params = {p["key"]: p["value"] for p in action.get("parameters", [])}
        if params.get("step") == step and params.get("param") == param:
            return button.get("text")
    return None


def _line_values(card: dict, lines: tuple[str, ...]) -> dict[str, list[str]]:
    from ..devtools.dialogcli import line_inputs

    repeated = line_inputs(card)
    wanted: dict[str, list[str]] = {}
    for line in lines:
        param, sep, value = line.partition("=")
        if not sep or param not in repeated:
            if len(repeated) != 1:
                raise click.ClickException(f"say which list {line!r} is for: PARAM=VALUE, PARAM one of "
                                           f"{', '.join(sorted(repeated)) or '(none in this form)'}")
            param, value = next(iter(repeated)), line
        wanted.setdefault(param, []).append(value)
    return wanted


def _with_lines(terminal, card: dict, lines: tuple[str, ...]) -> dict:
    """Press "add a line" until the form has a line for each --line."""
    from ..devtools.dialogcli import current_inputs, line_inputs

    for param, items in _line_values(card, lines).items():
        while len(line_inputs(card).get(param, [])) < len(items):
            label = _step_button(card, "add", param)
            if label is None:
                raise click.ClickException(f"the form takes at most {len(line_inputs(card)[param])} lines of {param}")
            exchange = terminal.submit_dialog(label, current_inputs(card))
            if exchange.error or exchange.dialog is None:
                raise click.ClickException(exchange.error or "the form closed while adding a line")
            card = exchange.dialog
    return card


def _submit(terminal, card: dict, values: tuple[str, ...], lines: tuple[str, ...]):
    from ..devtools.dialogcli import fill, line_inputs

    wanted = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.ClickException(f"--set takes INPUT=VALUE, not {item!r}")
        wanted[name.strip()] = value
    for param, items in _line_values(card, lines).items():
        for inputs, value in zip(line_inputs(card)[param], items, strict=False):
            pieces = value.rsplit(":", len(inputs) - 1) if len(inputs) > 1 else [value]
            wanted.update(zip(inputs, pieces, strict=False))
    try:
        form = fill(card, wanted)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    exchange = terminal.submit_dialog(_footer(card), form)
    if exchange.error:
        raise click.ClickException(exchange.error)
    return exchange
