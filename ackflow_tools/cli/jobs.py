"""``ackflow jobs`` (list, show) and ``ackflow sweep``."""

from __future__ import annotations

import json
import time

import click

from .common import acting_runtime, cli_runtime


def _age(seconds: float) -> str:
    from ackflow.i18n import ENGLISH

    return ENGLISH.duration(seconds)


@click.group(invoke_without_command=True)
@click.option("--status", type=click.Choice(["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]))
@click.option("--requester", help="Only jobs of this email (in any case: a@x.jp finds A@X.jp's).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.pass_context
def jobs(ctx: click.Context, status: str | None, requester: str | None, limit: int) -> None:
    """List jobs, newest first (id, type, status, steps done, requester, age, attempts over all
    steps)."""
    if ctx.invoked_subcommand:
        return
    from ackflow.jobs.model import JobStatus
    from ackflow.store.jobstore import JobFilter

    runtime = cli_runtime()
    # the console's filter: a requester in any case (jobs stored before the lowercase copy, as stored),
    # with a status as well; an address pasted with spaces round it, as the console reads it
    found = runtime.store.find_jobs(JobFilter(status=JobStatus(status) if status else None,
                                              requester_email=(requester or "").strip() or None), limit=limit).jobs
    if not found:
        click.echo("no jobs")
        return
    now = time.time()
    rows = [("ID", "TYPE", "STATUS", "STEPS", "REQUESTER", "AGE", "ATTEMPTS")]
    rows += [(j.id, j.type, j.status.value, f"{j.steps_done}/{len(j.steps)}", j.requester.label,
              _age(now - j.created_at), str(j.attempts)) for j in found]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip())


@jobs.command("show")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="The whole record as JSON.")
def show(job_id: str, as_json: bool) -> None:
    """One job with its steps, result or error."""
    from ackflow.errors import JobNotFound

    runtime = cli_runtime()
    try:
        job = runtime.store.get_job(job_id)
    except JobNotFound as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(job.to_dict(), indent=2, ensure_ascii=False))
        return
    told = _in_english(job)
    now = time.time()
    click.echo(f"job {job.id}  {job.type}  {job.status.value}")
    click.echo(f"  requested by {job.requester.label} {_age(now - job.created_at)} ago"
               f"{' in ' + job.space if job.space else ''}")
    click.echo(f"  parameters  {json.dumps(job.params, ensure_ascii=False)}")
    for number, step in enumerate(job.steps, start=1):
        marker = "→" if number - 1 == job.current and not job.status.finished else " "
        state = "not needed" if step.had_nothing_to_do else step.status.value
        click.echo(f"  {marker} step {number} {step.name}: {state}, {step.attempts} attempt(s)")
        if step.output:
            click.echo(f"      output  {json.dumps(step.output, ensure_ascii=False)}")
        if step.error:
            click.echo(f"      error   {told(step.error)}")
    if job.result is not None:
        click.echo(f"  result      {json.dumps(job.result, ensure_ascii=False)}")
    if job.last_error and job.status.value == "FAILED":
        click.echo(f"  error       {told(job.last_error)}")
    if job.space:
        if job.message_due:
            shown = "result not yet shown"
        elif job.message_shown_at:
            shown = "result shown"
        elif job.status.finished:  # Chat refused the space for good (the log says why)
            shown = "result never shown: Chat refused it for good"
        else:
            shown = "running"
        click.echo(f"  message     {shown}; {job.chat_writes} Chat write(s), {job.chat_throttled} answered 429")


@jobs.command("dead")
@click.option("--limit", type=int, default=20, show_default=True)
def dead(limit: int) -> None:
    """Dead letters: jobs that failed for good."""
    runtime = cli_runtime()
    letters = runtime.store.list_dead_letters(limit)
    if not letters:
        click.echo("no dead letters")
    for letter in letters:
        click.echo(f"{letter.job_id}  {letter.job_type}  step {letter.step}  "
                   f"{letter.attempts} attempt(s): {letter.error}")


@click.command()
def sweep() -> None:
    """Send lost work again and start due periodic jobs (what the scheduler calls every minute)."""
    from ackflow.app.sweep import sweep as run_sweep

    report = run_sweep(acting_runtime("ackflow sweep"))
    click.echo(json.dumps(report.to_dict(), indent=2))


def _in_english(job):
    """An error as the operator reads it: the job's own messages (kept as catalog messages) in
    English, with the words the requester was told after them when those differ (a Japanese
    requester's); a text kept only as told, as told."""
    from ackflow.i18n import ENGLISH
    from ackflow_tools.console.recorded import job_messages

    messages = job_messages(job)

    def told(text: str) -> str:
        message = messages.get(text)
        if message is None:
            return text
        try:
            english = str(message.render(ENGLISH))
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            return text
        return english if english == text else f"{english}  (told: {text})"

    return told
