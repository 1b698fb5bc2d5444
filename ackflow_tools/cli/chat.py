"""``ackflow chat``, ``ackflow click`` and ``ackflow dialog``: talk to the bot as a Chat user would, in
the terminal, as a person with a language, a time zone and a phone or a desktop."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .common import chat_url, check_same_pipeline, cli_runtime, store_label, typed_ackflow

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime

DEFAULT_SPACE = "spaces/dev"


def chat_user(email: str) -> dict:
    """The Chat user of an email: the same ``users/<number>`` on every run (access rules and
    ``jobs`` by requester see one person)."""
    import hashlib

    number = int.from_bytes(hashlib.sha256(email.strip().lower().encode()).digest()[:8], "big") % 10**18
    return {"email": email, "displayName": email.split("@")[0], "name": f"users/{number}"}


def _terminal(chat: str | None, space: str, user_email: str | None, fmt: str | None, client: dict | None = None):
    from ..devtools.chatcli import ChatTerminal

    return ChatTerminal(chat_url(chat), space, chat_user(user_email) if user_email else {}, out=click.echo, fmt=fmt,
                        client=client)


def client_options(command):
    """``--locale``, ``--tz`` and ``--platform``: the person's Chat client, sent with every event."""
    command = click.option("--platform", type=click.Choice(["WEB", "IOS", "ANDROID"], case_sensitive=False),
                           help="The Chat client: WEB, IOS or ANDROID (default: the person's, else WEB).")(command)
    command = click.option("--tz", "time_zone", metavar="ZONE",
                           help="The person's time zone, e.g. Asia/Tokyo (default: theirs, else the service's).",
                           )(command)
    return click.option("--locale", metavar="TAG", help="The person's language, e.g. ja or en-US.")(command)


def _client(locale: str | None, time_zone: str | None, platform: str | None) -> dict:
    return {"locale": locale, "timeZone": time_zone, "platform": platform.upper() if platform else None}


def _follow_runtime(explicit_chat_url: str | None):
    """The store to follow jobs in, checked before anything is pressed: a run that cannot be
    followed is refused before it starts a job."""
    check_same_pipeline(explicit_chat_url)
    return cli_runtime()


def _job_for(runtime: Runtime, message: dict | None, label: str) -> str | None:
    """The job a pressed button started or concerns, from the button's own parameters. A job or
    confirmation the store does not know means the CLI reads another pipeline's store: an error."""
    from ackflow.errors import NotFound

    from ..devtools.chatcli import button_params

    params = button_params(message, label)
    try:
        if "job" in params:
            return runtime.store.get_job(params["job"]).id
        if "confirmation" in params:
            return runtime.store.get_confirmation(params["confirmation"]).job_id
    except NotFound as exc:
        raise click.ClickException(
            f"the button was pressed, but the job store this command reads ({store_label(runtime.settings)}) "
            f"does not know it ({exc}): it is not the store of the Chat service's app. Set ACKFLOW_DEV_DIR "
            f"to the workdir of the `ackflow dev` that serves it") from exc
    return None


def _follow_job(terminal, runtime: Runtime, job_id: str, timeout: float) -> None:
    """Print the thread until the job ends and its final message is shown; exit 1 if it failed."""
    from ackflow.jobs.model import JobStatus

    state = {}

    def finished() -> bool:
        # the store says when the final message is written (``message_due`` is set as the job
        # finishes and cleared once the write is confirmed): a progress edit the budget let out
        # after the finish is written later than it, yet is not the result
        job = runtime.store.get_job(job_id)
        state["job"] = job
        if not job.status.finished or job.message_due:
            return False
        return not job.space or terminal.by_client_id(job.message_id) is not None

    if not terminal.follow(finished, timeout):
        raise click.ClickException(f"job {job_id} did not finish within {timeout:g} s "
                                   f"(it is {state['job'].status.value}); see `ackflow jobs show {job_id}`")
    job = state["job"]
    click.echo(f"job {job.id}: {job.status.value}")
    if job.status != JobStatus.SUCCEEDED:
        raise SystemExit(1)


def _press_and_follow(terminal, label: str, timeout: float, runtime: Runtime, message: dict | None = None) -> None:
    """Press the button; with a runtime (run, retry), follow the job it starts."""
    exchange, message = terminal.press(label, message)
    if exchange.error:
        raise click.ClickException(exchange.error)
    if runtime is None:
        return
    job_id = _job_for(runtime, message, label)
    if not job_id:  # refused (another person's request, an expired card): nothing ran, so not a success
        raise click.ClickException(f"{label} was pressed, but no job started: the app's answer is above")
    _follow_job(terminal, runtime, job_id, timeout)


@click.command()
@click.argument("text")
@click.option("--yes", "-y", is_flag=True, help="Press Run on the confirmation card.")
@click.option("--space", default=DEFAULT_SPACE, show_default=True)
@click.option("--user", "user_email", help="Send as this email (default: dev@example.com).")
@click.option("--mention", is_flag=True, help="@mention the app, as in a space with other people.")
@click.option("--format", "fmt", type=click.Choice(["classic", "addon"]), help="Event format (default: the app's).")
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Seconds to wait for the job.")
@click.option("--chat-url", help="The local Chat service (default: the running `ackflow dev`).")
@client_options
def chat(text: str, yes: bool, space: str, user_email: str | None, mention: bool, fmt: str | None,
         timeout: float, chat_url: str | None, locale: str | None, time_zone: str | None, platform: str | None) -> None:
    """Send TEXT to the bot and show the conversation; with --yes, run it and follow the job.
    A slash command that opens a form shows it (fill it in with `ackflow dialog`)."""
    runtime = _follow_runtime(chat_url) if yes else None
    terminal = _terminal(chat_url, space, user_email, fmt, _client(locale, time_zone, platform))
    click.echo(f"you: {text}")
    exchange = terminal.send(text, mention=mention)
    if exchange.error:
        raise click.ClickException(exchange.error)
    if exchange.dialog is not None:
        click.echo("(a form is open: fill it in and submit it with `ackflow dialog`, or close it with "
                   "`ackflow dialog --cancel`)")
        return
    again = same_person(space, user_email, fmt, chat_url, locale, time_zone, platform)
    _offer_run(terminal, exchange.reply, yes, timeout, runtime, again)


def same_person(space: str, user_email: str | None, fmt: str | None, chat_url: str | None,
                locale: str | None, time_zone: str | None, platform: str | None) -> str:
    """The options of ``ackflow click`` that press as the same person, in the same space and
    service, as the command that showed the card (without them, `click run` presses the default
    user's latest card in spaces/dev: someone else's, or none)."""
    import shlex

    options = []
    for name, value in (("--space", None if space == DEFAULT_SPACE else space), ("--user", user_email),
                        ("--format", fmt), ("--chat-url", chat_url), ("--locale", locale), ("--tz", time_zone),
                        ("--platform", platform)):
        if value:
            options += [name, shlex.quote(value)]
    return "".join(f" {option}" for option in options)


def _offer_run(terminal, message: dict | None, yes: bool, timeout: float, runtime: Runtime, again: str = "") -> None:
    from ..devtools.chatcli import button_for

    run = button_for(message, "run")
    if run is None:
        return
    if not yes:
        me = typed_ackflow()
        click.echo(f"(press a button with: {me} click run{again}   or   {me} click cancel{again})")
        return
    _press_and_follow(terminal, run, timeout, runtime, message)


@click.command("click")
@click.argument("button")
@click.option("--space", default=DEFAULT_SPACE, show_default=True)
@click.option("--user", "user_email", help="Press as this email (default: dev@example.com).")
@click.option("--format", "fmt", type=click.Choice(["classic", "addon"]))
@click.option("--timeout", type=float, default=120.0, show_default=True)
@click.option("--no-follow", is_flag=True, help="Do not wait for the job to end.")
@click.option("--chat-url", help="The local Chat service (default: the running `ackflow dev`).")
@client_options
def click_button(button: str, space: str, user_email: str | None, fmt: str | None, timeout: float,
                 no_follow: bool, chat_url: str | None, locale: str | None, time_zone: str | None,
                 platform: str | None) -> None:
    """Press BUTTON (e.g. run, cancel, retry) on the latest card that has it."""
    named = not no_follow and button.strip().lower() in _FOLLOWED
    runtime = _follow_runtime(chat_url) if named else None  # a pipeline it cannot follow: refused before a read
    terminal = _terminal(chat_url, space, user_email, fmt, _client(locale, time_zone, platform))
    message = terminal.latest_with_button(button)
    if runtime is None and not no_follow and _starts_a_job(message, button):  # 実行, 再実行: the card's label
        runtime = _follow_runtime(chat_url)
    _press_and_follow(terminal, button, timeout, runtime, message)


def _starts_a_job(message: dict | None, label: str) -> bool:
    """Whether the button ``label`` is the card's label of run or retry in its reader's language
    (実行, 再実行), which a person types as shown (``run`` and ``retry`` themselves are checked first)."""
    from ..devtools.chatcli import button_for

    wanted = label.strip().lower()
    return any((button_for(message, action) or "").strip().lower() == wanted for action in _FOLLOWED)


_FOLLOWED = ("run", "retry")  # the actions whose job `ackflow click` follows

