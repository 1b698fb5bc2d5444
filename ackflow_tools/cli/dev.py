"""``ackflow dev``: the whole pipeline on this machine, until Ctrl-C."""

from __future__ import annotations

import datetime as dt
import shutil
import signal
import threading
import time
from pathlib import Path

import click

from .chat import DEFAULT_SPACE
from .common import DEV_DIR, typed_ackflow

DEFAULT_PORTS = {"webhook": 8080, "worker": 8081, "tasks": 8123, "chat": 8124, "sheets": 8125, "drive": 8126,
                 "pushsign": 8127, "gmail": 8128, "files": 8129, "freee": 8130, "pubsub": 8085, "console": 8090}


@click.command()
@click.option("--workdir", type=click.Path(path_type=Path), default=DEV_DIR, show_default=True,
              help="Where the SQLite files and logs go.")
@click.option("--reset", is_flag=True, help="Start from empty state (delete the workdir first).")
@click.option("--port-offset", type=int, default=0, show_default=True,
              help="Add this to every default port (8080 webhook, 8081 worker, 8085 Pub/Sub, 8090 console, "
                   "8123 Cloud Tasks, 8124 Chat, 8125 Sheets, 8126 Drive, 8127 push relay, 8128 Gmail, "
                   "8129 case folders, 8130 freee).")
@click.option("--format", "event_format", type=click.Choice(["classic", "addon"]), default="classic",
              show_default=True, help="Event format the local Chat service sends.")
@click.option("--chat-auth", type=click.Choice(["project-number", "endpoint-url"]),
              help="The Chat app's authentication audience (default: endpoint-url with --format addon, "
                   "which add-on events need; else project-number).")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
@click.option("--firestore", is_flag=True, help="Keep job state in the Firestore emulator instead of SQLite.")
@click.option("--queue", "queue_backend", type=click.Choice(["cloudtasks", "sqs"]), default="cloudtasks",
              show_default=True, help="Cloud Tasks (local service) or SQS (moto server) with the relay.")
@click.option("--sweep-interval", type=float, default=5.0, show_default=True,
              help="Seconds between calls of the sweep (0: never).")
@click.option("--mail/--no-mail", default=None,
              help="The request mailbox: the Gmail stand-in, the Pub/Sub emulator (needs Java) and the push relay. "
                   "Default: on when Java and the gcloud CLI's Pub/Sub emulator are installed.")
@click.option("--storage", type=click.Choice(["local", "drive"]), default="local", show_default=True,
              help="Case folders in a local folder, or in a shared drive on the local Drive service.")
@click.option("--language", type=click.Choice(["ja", "en"]), default="ja", show_default=True,
              help="The deployment's language (ACKFLOW_LANGUAGE), the console's, and every person's Chat client's "
                   "unless set for them (ackflow chat --locale).")
@click.option("--time-zone", default="Asia/Tokyo", show_default=True,
              help="The deployment's and the office's time zone (ACKFLOW_TIME_ZONE, ACKFLOW_OFFICE_TIMEZONE), the "
                   "console's, and every person's unless set (--tz).")
@click.option("--accounting", type=click.Choice(["embedded", "freee"]), default="embedded", show_default=True,
              help="Issue estimates and invoices as PDFs here, or through the local freee stand-in "
                   "(authorized at start).")
def dev(workdir: Path, reset: bool, port_offset: int, event_format: str, chat_auth: str | None, workers: int,
        firestore: bool, queue_backend: str, sweep_interval: float, mail: bool | None, storage: str, language: str,
        time_zone: str, accounting: str) -> None:
    """Run the whole pipeline locally: both functions, the local Cloud Tasks and Chat services, state."""
    from ..devtools.stack import MAIL_SPACE, LocalStack, StackConfig

    if event_format == "addon" and chat_auth == "project-number":
        raise click.UsageError("add-on events are signed for the endpoint URL, never for the project number: "
                               "--format addon needs --chat-auth endpoint-url (the default with it)")
    from ackflow.i18n import valid_time_zone

    if not valid_time_zone(time_zone):
        raise click.BadParameter(f"{time_zone!r} is not a time zone (e.g. Asia/Tokyo)", param_hint="--time-zone")
    if mail is None:
        from ..devtools.pubsub import missing

        why = missing()
        mail = why is None
        if why:
            click.echo(f"mail off: {why} (--no-mail to say so; the rest runs without it)", err=True)
    if reset and workdir.exists():
        shutil.rmtree(workdir)
    config = StackConfig(
        workdir=workdir, ports={k: v + port_offset for k, v in DEFAULT_PORTS.items()},
        workers=workers, event_format=event_format, chat_auth=chat_auth, sweep_interval=sweep_interval,
        store="firestore" if firestore else "sqlite", queue_backend=queue_backend, mail=mail, storage=storage,
        console=True, language=language, time_zone=time_zone, accounting=accounting, periodic_space=MAIL_SPACE,
        # one zone, the office's: its dates, the periodic jobs' schedules and the console's times
        extra_env={"ACKFLOW_OFFICE_TIMEZONE": time_zone},
    )
    stack = LocalStack(config)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # Ctrl-C, also when started in the background
        signal.signal(sig, lambda *_: stopping.set())
    click.echo("starting…", err=True)
    try:
        stack.start()
    except Exception as exc:
        raise click.ClickException(f"could not start the local pipeline: {exc}") from exc
    try:
        try:
            first_job(stack)
        except Exception as exc:  # the pipeline runs on; the person sees why the first job did not
            click.echo(f"  ! the first job could not be run: {exc}; see the logs in {workdir}/", err=True)
        click.echo(banner(stack, workdir, time_zone))
        while not stopping.wait(0.5):
            for name, proc in stack.procs.items():
                if not proc.running:
                    click.echo(f"{name} stopped unexpectedly:\n{proc.log_tail()}", err=True)
                    stopping.set()
    except KeyboardInterrupt:
        pass
    finally:
        click.echo("stopping…", err=True)
        stack.stop()
        click.echo("stopped.", err=True)


def banner(stack, workdir: Path, time_zone: str) -> str:
    """Where each part answers, and what to type next: commands that work as printed, in order."""
    from ..devtools.drive import PARENT_FOLDER
    from ..devtools.stack import MAIL_SPACE, MAILBOX

    config = stack.config
    drive = (f"\n  Google Drive   {stack.url('drive')}/drive/folders/{PARENT_FOLDER}   (local service; case folders)"
             if config.storage == "drive"
             else f"\n  case folders   {stack.url('files')}/cases   (served for link buttons)")
    sqs = (f"\n  SQS (moto)     {stack.url('moto')}\n  SQS relay      {stack.url('relay')}/certs   (its certificates)"
           if config.queue_backend == "sqs" else "")
    freee = (f"\n  freee          {stack.url('freee')}   (local stand-in; estimates and invoices, authorized)"
             if config.accounting == "freee" else "")
    mailbox = (f"\n  Gmail          {stack.url('gmail')}   (local service; the request mailbox {MAILBOX})"
               f"\n  Pub/Sub        {stack.url('pubsub')}   (the gcloud emulator; Gmail's push to the worker)"
               if config.mail else "")
    me = typed_ackflow(workdir)
    year = today_in(time_zone).year
    case = f"{year}-{next_case_number(stack, year):03d}"  # what the newcase below makes
    try_mail = (f"\n  {me} mail receive --from yamada@acme.co.jp --subject 'プレス金型 A-12 のお見積り'"
                if config.mail else "")
    office_space = (("mail cards, " if config.mail else "")
                    + f"the Monday digest, due-date reminders; run one now: {stack.url('console')}/periodic")
    return f"""
Ackflow is running locally ({config.store} job state, {config.queue_backend}):
  chat_webhook   {stack.webhook_url}
  worker         {stack.worker_url}
  Cloud Tasks    {stack.url('tasks')}   (local service)
  Google Chat    {stack.url('chat')}   (local service)
  Google Sheets  {stack.url('sheets')}   (local service; the case sheet){drive}{mailbox}{sqs}{freee}
  console        {stack.url('console')}/jobs   (and the browser chat: {stack.url('console')}/chat)
  office space   {stack.url('console')}/chat?space={MAIL_SPACE}   ({office_space})
  state, logs    {workdir}/

Try, in another terminal in this folder, in this order:
  {me} chat "echo hello" --yes
  {me} chat "sleep 3"      then   {me} click run
  {me} chat '新規案件 ACME「プレス金型 A-12」 納期：12月1日 明細：金型設計:1:350000' --yes
  {me} chat '受注 {case}' --yes     then   {me} chat '請求 {case}' --yes
  {me} chat 'case {case}' --locale en --tz Europe/London{try_mail}
  {me} jobs

Ctrl-C stops everything."""


def today_in(time_zone: str) -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(time_zone)).date()


def next_case_number(stack, year: int) -> int:
    """The number the next ``newcase`` takes this year (the office workflow's counter)."""
    runtime = stack.runtime()
    try:
        return runtime.store.counter_value(f"case-{year}") + 1
    finally:
        runtime.store.close()


def first_job(stack, timeout: float = 60.0) -> bool:
    """Run one job through the whole pipeline as a person in Chat would, and show it: ``echo`` sent
    to the local Chat service, the confirmation card from ``chat_webhook``, Run pressed, the task
    through the queue to the worker, its result in the thread. Says so when it does not finish."""
    from ackflow.jobs.model import JobStatus

    from ..devtools.chatcli import ChatTerminal, button_for, button_params

    click.echo("\nA first job, as someone in Chat runs it (you write, press Run, the worker answers in the thread):")
    terminal = ChatTerminal(stack.url("chat"), DEFAULT_SPACE, out=lambda text: click.echo(_indented(text)))
    started = time.monotonic()
    card = terminal.send("echo hello").reply
    run = button_for(card, "run")
    confirmation = button_params(card, run).get("confirmation") if run else None
    if confirmation is None:
        click.echo(f"  ! no confirmation card came back; see the logs in {stack.workdir}/", err=True)
        return False
    terminal.press(run, card)
    runtime = stack.runtime()
    try:
        job_id = runtime.store.get_confirmation(confirmation).job_id

        def shown() -> bool:
            job = runtime.store.get_job(job_id)
            return job.status.finished and not job.message_due and terminal.by_client_id(job.message_id) is not None

        done = terminal.follow(shown, timeout)
        job = runtime.store.get_job(job_id)
    finally:
        runtime.store.close()
    if done and job.status == JobStatus.SUCCEEDED:
        click.echo(f"  job {job.id}: {job.status.value} in {time.monotonic() - started:.1f} s "
                   f"(chat_webhook → {stack.config.queue_backend} → worker → Chat)")
        return True
    click.echo(f"  ! job {job_id} is {job.status.value} after {timeout:g} s; see the logs in {stack.workdir}/",
               err=True)
    return False


def _indented(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
