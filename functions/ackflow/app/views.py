"""The cards Ackflow shows: help, confirmation, queued, the job's own message, job lists."""

from __future__ import annotations

import json
import time

from markupsafe import Markup

from ..chat.cards import Button, Buttons, Card, Field, Section, Text
from ..chat.replies import Reply
from ..i18n import Speaker
from ..jobs.model import Confirmation, Job, JobStatus
from ..jobs.registry import JobType, Registry
from . import links, texts

MAX_VALUE = 300
MAX_PROBLEM = 600


def short(value, limit: int = MAX_VALUE) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 90:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


_BR = Markup("<br>")


def _usage_line(usage: str, help_text: str) -> Markup:
    return Markup("<b>{}</b> — {}").format(usage, help_text)


def help_card(registry: Registry, allowed: set[str], intro: str = "") -> Reply:
    lines = [_usage_line(*texts.BUILTIN_HELP[name]) for name in texts.BUILTIN_HELP if name in allowed]
    commands = [_usage_line(jt.usage, jt.help) for jt in registry if jt.name in allowed and not jt.schedule]
    commands += [_usage_line(c.usage, c.help) for c in registry.commands.values() if c.name in allowed]
    sections = [Section((Text(_BR.join(commands) or "(none you may use)"),), header="Jobs"),
                Section((Text(_BR.join(lines)),), header="Jobs you started"),
                Section((Text(texts.HELP_FOOTER),), wide_only=True)]
    if intro:
        sections.insert(0, Section((Text(intro),)))
    return Reply(card=Card("help", texts.HELP_TITLE, tuple(sections)))


def usage_reply(problem: str, usage: str | None) -> Reply:
    # the problem may quote what was written, up to a whole message: cut, so the answer stays
    # far below the 32,000 bytes Chat accepts
    text = texts.BAD_ARGUMENTS.format(problem=short(problem, MAX_PROBLEM))
    if usage:
        text += "\n" + texts.USAGE.format(usage=usage)
    return Reply(text=text)


def confirmation_card(confirmation: Confirmation, job_type: JobType, ttl: float) -> Reply:
    params = {"confirmation": confirmation.id, "token": confirmation.token}
    fields = tuple(Field(p.label if p.positional else p.option, short(confirmation.params.get(p.name)))
                   for p in job_type.params
                   if confirmation.params.get(p.name) not in (None, False, [], ""))
    sections = (
        Section((Text(job_type.confirmation_text(confirmation.params)),) + fields),
        Section((Buttons((Button(texts.RUN, "run", params, filled=True),
                          Button(texts.CANCEL, "cancel", params))),
                 Text(texts.CONFIRM_EXPIRY.format(who=confirmation.requester.label,
                                                  minutes=round(ttl / 60))))),
    )
    card = Card(f"confirm-{confirmation.id}", texts.CONFIRM_TITLE.format(name=job_type.name), sections,
                subtitle=job_type.help)
    return Reply(card=card)


def queued_card(job: Job, job_type: JobType, queue_down: bool = False) -> Reply:
    summary = job_type.confirmation_text(job.params)
    template = texts.QUEUE_DOWN_TEXT if queue_down else texts.QUEUED_TEXT
    card = Card(f"confirm-{job.confirmation_id or job.id}", texts.QUEUED_TITLE.format(job_id=job.id),
                (Section((Text(template.format(summary=summary, job_id=job.id)),)),))
    return Reply(card=card, update=True)


def decided_card(confirmation: Confirmation, title: str, text: str) -> Reply:
    return Reply(card=Card(f"confirm-{confirmation.id}", title, (Section((Text(text),)),)), update=True)


def job_state_line(job: Job, now: float, retry_delay: float | None = None) -> str:
    step = job.step
    if job.status == JobStatus.SUCCEEDED:
        return texts.STATE_SUCCEEDED.format(duration=duration((job.finished_at or now) - job.created_at))
    if job.status == JobStatus.FAILED:
        failed = next((s for s in job.steps if s.status.value == "FAILED"), step)
        return texts.STATE_FAILED.format(step=failed.name if failed else "-", attempts=failed.attempts if failed else 0,
                                         error=short(job.last_error or "unknown error", 500))
    if job.status == JobStatus.CANCELLED:
        return texts.STATE_CANCELLED
    if job.status == JobStatus.QUEUED or step is None:
        return texts.STATE_QUEUED
    line = texts.STATE_RUNNING.format(index=job.current + 1, count=len(job.steps), step=step.name)
    if retry_delay is not None and job.last_error:
        line += "\n" + texts.STATE_RETRYING.format(attempt=step.attempts, error=short(job.last_error, 300),
                                                   delay=duration(retry_delay))
    return line


def job_message(job: Job, job_type: JobType | None, *, progress: str | None = None,
                retry_delay: float | None = None, now: float | None = None, speaker: Speaker | None = None) -> Reply:
    """The one message that shows a job, edited in place from queued to its end. Links in the
    result (the folder, the sheet row, each PDF) are buttons."""
    now = now or time.time()
    widgets: list = [Text(job_state_line(job, now, retry_delay))]
    if progress and not job.status.finished:
        widgets.append(Text(short(progress, 1000)))
    if job.status == JobStatus.SUCCEEDED and job.result:
        keys = job_type.result_fields if job_type and job_type.result_fields else tuple(job.result)
        shown = [k for k in keys if k in job.result]
        widgets.extend(Field(k, short(job.result[k])) for k in shown
                       if not links.is_link(job.result[k]) and not links.is_link_list(job.result[k]))
        buttons = links.link_buttons(job.result, shown, speaker or Speaker())
        if buttons:
            widgets.append(Buttons(buttons))
    sections = [Section(tuple(widgets))]
    if job.status == JobStatus.FAILED:
        sections.append(Section((Text(texts.FAILED_HINT.format(job_id=job.id)),
                                 Buttons((Button(texts.RETRY, "retry", {"job": job.id}, filled=True),)))))
    title = f"{job.type} · job {job.id}"
    subtitle = f"for {job.requester.label}" if job.requester.name != "system" else "scheduled"
    return Reply(card=Card(f"job-{job.id}", title, tuple(sections), subtitle=subtitle))


def job_details(job: Job, job_type: JobType | None, now: float) -> Reply:
    """``status JOB_ID``: everything about one job."""
    reply = job_message(job, job_type, now=now)
    rows = [Field("requested", f"{duration(now - job.created_at)} ago by {job.requester.label}")]
    for index, step in enumerate(job.steps, start=1):
        detail = f"{step.status.value}, {step.attempts} attempt(s)"
        if step.error and step.status.value != "SUCCEEDED":
            detail += f": {short(step.error, 200)}"
        rows.append(Field(f"step {index}: {step.name}", detail))
    card = reply.card
    parameters = Section((Field("parameters", short(job.params)),), wide_only=True)  # long: not on a phone
    sections = card.sections[:1] + (Section(tuple(rows), header="Details"), parameters) + card.sections[1:]
    return Reply(card=Card(card.card_id, card.title, sections, subtitle=card.subtitle))


def jobs_list(jobs: list[Job], title: str, now: float) -> Reply:
    if not jobs:
        return Reply(text=texts.NO_JOBS)
    rows = tuple(Field(f"{job.id} · {job.type}",
                       f"{job.status.value} · {duration(now - job.created_at)} ago · {job.requester.label}"
                       f" · {job.attempts} attempt(s)")
                 for job in jobs)
    return Reply(card=Card("jobs", title, (Section(rows),)))
