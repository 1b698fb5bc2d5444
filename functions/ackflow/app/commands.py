"""Text commands: help, status, jobs, cancel, retry, and the job types of the registry."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..chat.events import ChatEvent
from ..chat.replies import Reply
from ..errors import InvalidTransition, JobNotFound, UsageError
from ..jobs.model import Job, JobStatus
from ..jobs.params import split_words
from . import operations, texts, views
from .confirm import ask

if TYPE_CHECKING:
    from .runtime import Runtime


log = logging.getLogger(__name__)

BUILTIN_IDS = {1: "help", 2: "status", 3: "jobs", 4: "cancel", 5: "retry"}


def command_text(runtime: Runtime, event: ChatEvent) -> str:
    """What to parse: slash commands arrive as a name (or id) plus argumentText."""
    name = event.command_name
    if name is None and event.command_id is not None:
        name = command_names(runtime).get(event.command_id)
    if name:
        return f"{name} {event.text}".strip()
    return event.text


def command_names(runtime: Runtime) -> dict[int, str]:
    names = dict(BUILTIN_IDS)
    names.update({jt.slash_command_id: jt.name for jt in runtime.registry if jt.slash_command_id})
    names.update({c.slash_command_id: c.name for c in runtime.registry.commands.values() if c.slash_command_id})
    return names


def allowed_commands(runtime: Runtime, event: ChatEvent) -> set[str]:
    """What this person may use here (a job type this deployment cannot run is never offered)."""
    runnable = [jt.name for jt in runtime.registry if not runtime.registry.missing_modules(jt.name)]
    names = list(texts.BUILTIN_HELP) + runnable + list(runtime.registry.commands)
    return {n for n in names if n == "help" or runtime.access.allows(n, event.user.email, event.space)}


def refusal(runtime: Runtime, command: str, refused_by: str | None = "default") -> Reply:
    contact = runtime.access.contact
    text = (texts.REFUSED_BY_COMMAND if refused_by == "command" else texts.REFUSED).format(command=command)
    text += texts.REFUSED_CONTACT.format(contact=contact) if contact else texts.REFUSED_NO_CONTACT
    return Reply(text=text)


def handle_text(runtime: Runtime, event: ChatEvent) -> Reply:
    try:
        words = split_words(command_text(runtime, event))
    except UsageError as exc:
        return views.usage_reply(str(exc), None)
    if not words:
        return views.help_card(runtime.registry, allowed_commands(runtime, event), texts.EMPTY_COMMAND)
    name = words[0].lstrip("/").lower()
    args = words[1:]
    known = name in texts.BUILTIN_HELP or name in runtime.registry or name in runtime.registry.commands
    refused_by = runtime.access.refused_by(name, event.user.email, event.space) if name != "help" and known else None
    if refused_by:
        log.info("refused %s (%s rule)", name, refused_by, extra={"user": event.user.email, "space": event.space})
        return refusal(runtime, name, refused_by)
    if name == "help":
        return views.help_card(runtime.registry, allowed_commands(runtime, event))
    if name == "status":
        return _status(runtime, args)
    if name == "jobs":
        return _jobs(runtime, event, args)
    if name == "cancel":
        return _with_job(runtime, event, args, "cancel", _cancel)
    if name == "retry":
        return _with_job(runtime, event, args, "retry", retry_job)
    if name in runtime.registry.commands:
        return runtime.registry.commands[name].handler(runtime, event, args)
    if name in runtime.registry:
        job_type = runtime.registry.get(name)
        if job_type.schedule:
            return views.help_card(runtime.registry, allowed_commands(runtime, event),
                                   texts.UNKNOWN_COMMAND.format(name=name))
        if runtime.registry.missing_modules(name):
            return Reply(text=texts.UNAVAILABLE.format(name=name, hint=job_type.requires_hint or texts.ASK_ADMIN))
        try:
            params = job_type.parse(args)
        except UsageError as exc:
            from .dialogs import with_fill_in  # the form, filled in with what was typed

            return with_fill_in(views.usage_reply(str(exc), exc.usage), event, job_type, args)
        return ask(runtime, event, job_type, params)
    return views.help_card(runtime.registry, allowed_commands(runtime, event),
                           texts.UNKNOWN_COMMAND.format(name=views.short(name, 40)))


def _status(runtime: Runtime, args: list[str]) -> Reply:
    if not args:
        return Reply(text=texts.NEED_JOB_ID.format(command="status"))
    try:
        job = runtime.store.get_job(args[0])
    except JobNotFound:
        return Reply(text=texts.JOB_NOT_FOUND.format(job_id=views.short(args[0], 40)))
    job_type = runtime.registry.get(job.type) if job.type in runtime.registry else None
    return views.job_details(job, job_type, runtime.clock())


def _jobs(runtime: Runtime, event: ChatEvent, args: list[str]) -> Reply:
    if args and args[0].lower() == "all":
        jobs = runtime.store.list_jobs(limit=15)
        return views.jobs_list(jobs, texts.JOBS_TITLE_ALL, runtime.clock())
    jobs = runtime.store.list_jobs(requester_email=event.user.email, limit=15)
    return views.jobs_list(jobs, texts.JOBS_TITLE_MINE, runtime.clock())


def _with_job(runtime: Runtime, event: ChatEvent, args: list[str], command: str, action) -> Reply:
    if not args:
        return Reply(text=texts.NEED_JOB_ID.format(command=command))
    try:
        job = runtime.store.get_job(args[0])
    except JobNotFound:
        return Reply(text=texts.JOB_NOT_FOUND.format(job_id=views.short(args[0], 40)))
    if not runtime.access.may_decide(event.user.email, job.requester.email):
        return Reply(text=texts.NOT_YOUR_JOB.format(who=job.requester.label, job_id=job.id))
    return action(runtime, event, job)


def _cancel(runtime: Runtime, event: ChatEvent, job: Job) -> Reply:
    try:
        job = operations.cancel_job(runtime, job.id, event.user.email or event.user.name, "chat")
    except InvalidTransition as exc:
        return Reply(text=texts.CANNOT_CANCEL.format(job_id=job.id, status=exc.current))
    return Reply(text=texts.CANCELLED_JOB.format(job_id=job.id))


def retry_job(runtime: Runtime, event: ChatEvent, job: Job) -> Reply:
    """Send a FAILED job again from the step that failed (chat ``retry ID`` and the Retry button)."""
    try:
        job = operations.retry_job(runtime, job.id, event.user.email or event.user.name, "chat")
    except InvalidTransition as exc:
        return Reply(text=texts.CANNOT_RETRY.format(job_id=job.id, status=exc.current))
    return Reply(text=texts.RETRIED.format(job_id=job.id, step=job.steps[job.current].name))


def on_retry_click(runtime: Runtime, event: ChatEvent) -> Reply:
    job_id = event.parameters.get("job", "")
    try:
        job = runtime.store.get_job(job_id)
    except JobNotFound:
        return Reply(text=texts.JOB_NOT_FOUND.format(job_id=views.short(job_id, 40)))
    if not runtime.access.may_decide(event.user.email, job.requester.email):
        return Reply(text=texts.NOT_YOUR_JOB.format(who=job.requester.label, job_id=job.id))
    if job.status != JobStatus.FAILED:
        return Reply(text=texts.CANNOT_RETRY.format(job_id=job.id, status=job.status.value))
    return retry_job(runtime, event, job)

