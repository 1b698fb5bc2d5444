"""``ackflow tasks-emulator`` and ``ackflow chat-emulator``: the local Google services."""

from __future__ import annotations

import click

from .serving import run_until_stopped


@click.command("tasks-emulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8123, show_default=True, type=int)
@click.option("--db", "db_path", default=".ackflow/tasks.db", show_default=True,
              help="SQLite file with queues, pending tasks and the signing key.")
@click.option("--name-reservation", default=3600.0, show_default=True, type=float,
              help="Seconds a task name stays reserved after the task ran or was deleted.")
@click.option("--min-dispatch-deadline", default=15.0, show_default=True, type=float,
              help="Smallest dispatch_deadline accepted (Google: 15 s).")
def tasks_emulator(host: str, port: int, db_path: str, name_reservation: float,
                   min_dispatch_deadline: float) -> None:
    """Run the local Cloud Tasks v2 REST service."""
    from ackflow_tools.emulators.cloudtasks import open_service
    from ackflow_tools.emulators.cloudtasks.api import build_app

    service = open_service(db_path, name_reservation=name_reservation,
                           min_dispatch_deadline=min_dispatch_deadline).start()
    try:
        run_until_stopped(build_app(service), host, port, "Cloud Tasks")
    finally:
        service.stop()


@click.command("chat-emulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8124, show_default=True, type=int)
@click.option("--db", "db_path", default=".ackflow/chat.db", show_default=True,
              help="SQLite file with spaces, messages and the signing keys.")
@click.option("--app-url", default="", help="The app's HTTP endpoint (where events are sent).")
@click.option("--audience", type=click.Choice(["project-number", "endpoint-url"]),
              default="project-number", show_default=True,
              help="What the app's tokens are issued for, as set in the Chat API console.")
@click.option("--project-number", default="123456789012", show_default=True)
@click.option("--format", "event_format", type=click.Choice(["classic", "addon"]), default="classic",
              show_default=True, help="Event format sent to the app.")
@click.option("--app-name", default="Ackflow", show_default=True)
@click.option("--slash-command", "slash_commands", multiple=True, metavar="/NAME=ID",
              help="A slash command configured for the app, e.g. /echo=1 (repeatable).")
@click.option("--space-write-limit", default=60, show_default=True, type=click.IntRange(min=0),
              help="Message writes per window in one space, shared by all apps (Chat: 60 a minute); 0: no limit.")
@click.option("--project-write-limit", default=3000, show_default=True, type=click.IntRange(min=0),
              help="Message writes per window by the app's project (Chat: 3,000 a minute); 0: no limit.")
@click.option("--quota-window", default=60.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Seconds of the quota window (shrink it to test a minute's quota in seconds).")
@click.option("--dialog-command", "dialog_commands", multiple=True, metavar="/NAME",
              help="A slash command set to \"Opens a dialog\" (repeatable).")
@click.option("--locale", default="ja", show_default=True, help="Every person's userLocale, unless set for them.")
@click.option("--time-zone", default="Asia/Tokyo", show_default=True, help="Every person's timeZone.id.")
@click.option("--platform", type=click.Choice(["WEB", "IOS", "ANDROID"]), default="WEB", show_default=True)
def chat_emulator(host: str, port: int, db_path: str, app_url: str, audience: str,
                  project_number: str, event_format: str, app_name: str,
                  slash_commands: tuple[str, ...], space_write_limit: int, project_write_limit: int,
                  quota_window: float, dialog_commands: tuple[str, ...], locale: str,
                  time_zone: str, platform: str) -> None:
    """Run the local Google Chat service (the app's REST API and a user side)."""
    from ackflow_tools.emulators.chat import QuotaConfig, open_service
    from ackflow_tools.emulators.chat.api import build_app
    from ackflow_tools.emulators.chat.events import Client, client_of
    from ackflow_tools.emulators.chat.userside import AppEndpoint

    commands = {}
    for item in slash_commands:
        name, _, number = item.partition("=")
        if not name.startswith("/") or not number.isdigit():
            raise click.BadParameter(f"expected /NAME=ID, got {item!r}", param_hint="--slash-command")
        commands[name] = int(number)
    unknown = [name for name in dialog_commands if name not in commands]
    if unknown:
        raise click.BadParameter(f"{', '.join(unknown)} is not a --slash-command", param_hint="--dialog-command")
    try:
        client = client_of({"locale": locale, "timeZone": time_zone, "platform": platform}, Client())
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    app = AppEndpoint(url=app_url, audience=audience, project_number=project_number, format=event_format,
                      display_name=app_name, slash_commands=commands, dialog_commands=list(dialog_commands))
    quota = QuotaConfig(space_limit=space_write_limit, project_limit=project_write_limit, window=quota_window)
    service, users = open_service(db_path, app, quota, client)
    run_until_stopped(build_app(service, users), host, port, "Chat")





@click.command("sheets-emulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8125, show_default=True, type=int)
@click.option("--data", "data_path", default=".ackflow/sheets.json", show_default=True,
              help="JSON file the spreadsheets are kept in.")
@click.option("--create", "create", multiple=True, metavar="SPREADSHEET_ID",
              help="Create an empty spreadsheet with this id if it does not exist (repeatable).")
def sheets_emulator(host: str, port: int, data_path: str, create: tuple[str, ...]) -> None:
    """Run the local Google Sheets v4 REST service (the endpoints gspread uses)."""
    from pathlib import Path

    from ackflow_tools.emulators.sheets import SheetsService, build_app

    Path(data_path).parent.mkdir(parents=True, exist_ok=True)
    service = SheetsService(data_path)
    for book_id in create:
        if book_id not in service.books:
            service.create(book_id)
    run_until_stopped(build_app(service), host, port, "Sheets")


@click.command("files-server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8127, show_default=True, type=int)
@click.option("--root", default=".ackflow/cases", show_default=True, help="The case folders to serve (read only).")
def files_server(host: str, port: int, root: str) -> None:
    """Serve the local case folders over http (/cases/…), for the link buttons on cards."""
    from pathlib import Path

    from ackflow_tools.emulators.files import CaseFiles

    Path(root).mkdir(parents=True, exist_ok=True)
    run_until_stopped(CaseFiles(root), host, port, "case files")


@click.command("gmail-emulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8126, show_default=True, type=int)
@click.option("--data", "data_path", default=".ackflow/gmail.json", show_default=True,
              help="JSON file the mailboxes are kept in.")
@click.option("--mailbox", "mailboxes", multiple=True, metavar="ADDRESS",
              help="Create this mailbox if it does not exist (repeatable).")
@click.option("--pubsub", "pubsub_url", default="", help="Pub/Sub (emulator) URL that watch notifications go to.")
@click.option("--history-retention", default=7 * 86400.0, show_default=True, type=float,
              help="Seconds a history record is kept; a start id older than that is answered 404.")
@click.option("--granted-scope", "granted", multiple=True, metavar="SCOPE",
              help="Scopes domain-wide delegation grants (default: gmail.modify).")
@click.option("--user-rate-limit", default=15_000, show_default=True, type=click.IntRange(min=0),
              help="Quota units a mailbox may spend a minute, as Gmail's per-user limit (0: none); past it, "
                   "403 userRateLimitExceeded.")
def gmail_emulator(host: str, port: int, data_path: str, mailboxes: tuple[str, ...], pubsub_url: str,
                   history_retention: float, granted: tuple[str, ...], user_rate_limit: int) -> None:
    """Run the local Gmail v1 REST service (watch, history, messages, labels)."""
    from pathlib import Path

    from ackflow_tools.emulators.gmail.api import SCOPE, build_app
    from ackflow_tools.emulators.gmail.service import GmailService

    Path(data_path).parent.mkdir(parents=True, exist_ok=True)
    service = GmailService(data_path, pubsub_url=pubsub_url, history_retention=history_retention,
                           user_rate_limit=user_rate_limit)
    for address in mailboxes:
        service.ensure(address)
    scopes = tuple(s if s.startswith("https://") else SCOPE + s for s in granted) or (SCOPE + "gmail.modify",)
    run_until_stopped(build_app(service, granted_scopes=scopes), host, port, "Gmail")
@click.command("drive-emulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8126, show_default=True, type=int)
@click.option("--data", "data_path", default=".ackflow/drive", show_default=True,
              help="Folder the files and their contents are kept in.")
@click.option("--public-url", default="", help="Base of the webViewLinks (default: http://HOST:PORT).")
@click.option("--shared-drive", "shared_drives", multiple=True, metavar="ID=NAME",
              help="Create this shared drive if it does not exist (repeatable).")
def drive_emulator(host: str, port: int, data_path: str, public_url: str, shared_drives: tuple[str, ...]) -> None:
    """Run the local Google Drive v3 REST service (the endpoints the case folders use)."""
    from pathlib import Path

    from ackflow_tools.emulators.drive import DriveService, build_app

    Path(data_path).mkdir(parents=True, exist_ok=True)
    service = DriveService(data_path, public_url or f"http://{host}:{port}")
    for item in shared_drives:
        drive_id, _, name = item.partition("=")
        if drive_id not in service.drives:
            service.put_drive(drive_id, name or drive_id)
    run_until_stopped(build_app(service), host, port, "Drive")
