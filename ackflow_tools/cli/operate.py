"""``ackflow retry`` and ``ackflow cancel``: an operator acts on a job, from a laptop or in dev.

They call the same core operations as the chat commands and the Retry button, so the job, its
tasks and its message in the thread change exactly as they would from Chat. Against the cloud
they run with the operator's Application Default Credentials: IAM decides.
"""

from __future__ import annotations

import getpass
import socket
from typing import TYPE_CHECKING

import click

from .common import acting_runtime, cli_runtime

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime


def operator_name() -> str:
    """Who acts, for the job's history: ACKFLOW_OPERATOR, else user@host."""
    return f"{getpass.getuser()}@{socket.gethostname()}"


_BY = click.option("--by", envvar="ACKFLOW_OPERATOR", default=operator_name, show_default="user@host",
                   help="Who is acting, as recorded in the job's history.")


def _act(runtime: Runtime, action, job_id: str, by: str, verb: str) -> None:
    from ackflow.errors import InvalidTransition, JobNotFound

    try:
        job = action(runtime, job_id, by, "cli")
    except JobNotFound as exc:
        raise click.ClickException(f"no job {job_id!r} (see `ackflow jobs`)") from exc
    except InvalidTransition as exc:
        raise click.ClickException(f"job {job_id} is {exc.current}; it cannot be {verb}") from exc
    click.echo(f"job {job.id} {verb}: now {job.status.value}"
               + (f" (step {job.current + 1}: {job.steps[job.current].name})"
                  if job.status.value == "QUEUED" else ""))


@click.command()
@click.argument("job_id")
@_BY
def retry(job_id: str, by: str) -> None:
    """Run a FAILED job again from the step that failed."""
    from ackflow.app.operations import retry_job

    _act(acting_runtime("ackflow retry"), retry_job, job_id, by, "retried")


@click.command()
@click.argument("job_id")
@_BY
def cancel(job_id: str, by: str) -> None:
    """Cancel a job that has not finished."""
    from ackflow.app.operations import cancel_job

    _act(cli_runtime(), cancel_job, job_id, by, "cancelled")  # queues nothing
