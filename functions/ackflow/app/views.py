"""The cards Ackflow shows: help, confirmation, queued, the job's own message, job lists.

Every text is said by a ``Speaker`` (the person's language, time zone and platform): sentences
from the catalog, dates, amounts and moments in the person's form, never UTC.
"""

from __future__ import annotations

import json
import logging
import re
import time

from markupsafe import Markup

from ..chat.cards import Button, Buttons, Card, Field, Html, Section, Text
from ..chat.replies import Reply
from ..i18n import N_, Listed, Speaker, said
from ..jobs.model import SYSTEM, Confirmation, Job, JobStatus, StepStatus
from ..jobs.registry import BUILTIN_ALIASES, JobType, Registry
from . import links

log = logging.getLogger(__name__)

MAX_VALUE = 300
MAX_SHOWN_LINES = 30  # lines of a value a job type shows (Param.show) on a card
LONG_VALUE = 6_000  # a result a job type shows whole (JobType.long_results): 40 lines of a digest
MAX_PROBLEM = 600

# The app's own commands: (what follows the name, what it does), in the order help lists them.
BUILTIN_HELP = {
    "help": (N_("[COMMAND]"), N_("Show this list, or one command with an example.")),
    "status": (N_("JOB_ID"), N_("Show a job: its steps, result or error.")),
    "jobs": (N_("[all]"), N_("Your recent jobs (all: everyone's).")),
    "cancel": (N_("JOB_ID"), N_("Stop a job that has not finished.")),
    "retry": (N_("JOB_ID"), N_("Run a failed job again from the step that failed.")),
}
# Statuses as the app has always shown them in English (the names people search the logs and the
# console for), in words in Japanese.
STATUS_LABELS = {JobStatus.QUEUED: N_("QUEUED"), JobStatus.RUNNING: N_("RUNNING"),
                 JobStatus.SUCCEEDED: N_("SUCCEEDED"), JobStatus.FAILED: N_("FAILED"),
                 JobStatus.CANCELLED: N_("CANCELLED")}
STEP_LABELS = {StepStatus.PENDING: N_("PENDING"), StepStatus.RUNNING: N_("RUNNING"),
               StepStatus.SUCCEEDED: N_("SUCCEEDED"), StepStatus.FAILED: N_("FAILED"),
               StepStatus.CANCELLED: N_("CANCELLED")}


def short(value, limit: int = MAX_VALUE) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def requester_label(requester, speaker: Speaker) -> str:
    """Who asked for a job, as a person reads it: a person by their name; a job its schedule
    started by the word for that in the reader's language (its stored name is ``scheduler``)."""
    return speaker._("scheduled") if requester.name == SYSTEM.name else requester.label


def status_label(status: JobStatus | str, speaker: Speaker) -> str:
    try:
        return speaker._(STATUS_LABELS[JobStatus(status)])
    except ValueError:
        return str(status)


def builtin_name(name: str, speaker: Speaker) -> str:
    """What the app's own command is called for ``speaker`` (ヘルプ for help in Japanese)."""
    if speaker.language == "ja":
        return next((a for a in BUILTIN_ALIASES.get(name, ()) if not a.isascii()), name)
    return name


def builtin_usage(name: str, speaker: Speaker) -> str:
    """How the app's own command is written, for ``speaker``: 状況 ジョブID / status JOB_ID."""
    rest = BUILTIN_HELP[name][0]
    return " ".join(w for w in (builtin_name(name, speaker), speaker._(rest) if rest else "") if w)


def type_name(job_type: JobType | None, name: str, speaker: Speaker) -> str:
    """What a job type is called for ``speaker`` (新規案件 for newcase in Japanese)."""
    if job_type is not None and speaker.language == "ja":
        return job_type.native_name or job_type.name
    return name


def step_title(job_type: JobType | None, index: int, name: str, speaker: Speaker) -> str:
    if job_type is not None and index < len(job_type.steps) and job_type.steps[index].name == name:
        return speaker._(job_type.steps[index].label)
    return name


def shown_lines(job_type: JobType | None, key: str, value, speaker: Speaker) -> list[str] | None:
    """A parameter's value as the job type shows it (``Param.show``: line items as
    ``設計 × 1 @ ¥350,000`` and their subtotal), in lines of at most ``MAX_VALUE`` characters, at
    most ``MAX_SHOWN_LINES`` of them; None where the job type declares no way (or its way fails:
    logged, and the value is shown as typed)."""
    param = next((p for p in job_type.params if p.name == key), None) if job_type else None
    if param is None or param.show is None or value in (None, "", []):
        return None
    try:
        lines = param.show(value, speaker)
    except Exception:
        log.exception("showing parameter %s of %s failed; it is shown as typed", key, job_type.name)
        return None
    if not lines or not all(isinstance(line, str) for line in lines):
        return None
    return [short(line) for line in list(lines)[:MAX_SHOWN_LINES]]


def shown_value(job_type: JobType | None, key: str, value, speaker: Speaker) -> str:
    """A parameter's value as a person reads it on one line: a date as 2026年12月1日(火), yen as
    ¥350,000, a number with its ``prefix`` as v2, as the job type shows it (``shown_lines``)
    joined with "; "."""
    param = next((p for p in job_type.params if p.name == key), None) if job_type else None
    lines = shown_lines(job_type, key, value, speaker)
    if lines is not None:
        return short("; ".join(lines), LONG_VALUE)
    if value is None:  # not given (an optional parameter left out): JSON's null is no word for a person
        return "—"
    if isinstance(value, bool):  # a flag (--again, --replace): yes or no in the person's words, not true
        return speaker._("Yes") if value else speaker._("No")
    try:
        if param is not None and param.kind == "date" and isinstance(value, str):
            return speaker.date(value)
        if param is not None and param.kind == "yen" and isinstance(value, int):
            return speaker.yen(value)
        if param is not None and param.prefix and isinstance(value, int):  # a version as cards write it: v2
            return f"{param.prefix}{value}"
    except ValueError:
        pass
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return short(", ".join(value))
    return short(value)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATES = re.compile(r"\d{4}-\d{2}-\d{2}(?:, \d{4}-\d{2}-\d{2})+")  # a reminder's days due: "…-05, …-07"


def shown_result(value, speaker: Speaker, *, lines: bool = False) -> str:
    """A value of a job's result as a person reads it: a date (results are JSON, so an ISO string)
    as 2026年12月1日(火) / 1 Dec 2026, never 2026-12-01 in front of a person. ``lines``: a list of
    lines shown whole (``JobType.long_results``), up to ``LONG_VALUE`` characters cut at a line."""
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return speaker.date(value)
        except ValueError:
            pass
    if isinstance(value, str) and len(value) <= MAX_VALUE and _ISO_DATES.fullmatch(value):
        try:
            return str(Listed([speaker.date(day) for day in value.split(", ")]).render(speaker))
        except ValueError:
            pass
    if lines and isinstance(value, str) and len(value) > LONG_VALUE:
        kept = value[:LONG_VALUE - 1].rpartition("\n")[0] or value[:LONG_VALUE - 1]
        return kept + "\n…"
    return short(value, LONG_VALUE if lines else MAX_VALUE)


_BR = Markup("<br>")


def _usage_line(usage: str, help_text: str) -> Markup:
    return Markup("<b>{}</b> — {}").format(usage, help_text)


def help_card(registry: Registry, allowed: set[str], speaker: Speaker, intro: str = "") -> Reply:
    lines = []
    for name, (_rest, help_text) in BUILTIN_HELP.items():
        if name in allowed:
            lines.append(_usage_line(builtin_usage(name, speaker), speaker._(help_text)))
    commands = [_usage_line(jt.usage_for(speaker), speaker._(jt.help))
                for jt in registry if jt.name in allowed and not jt.schedule]
    commands += [_usage_line(c.usage_for(speaker), speaker._(c.help))
                 for c in registry.commands.values() if c.name in allowed]
    footer = speaker._("Write a command as a message (in a space, @mention me first). Arguments with spaces go "
                       "in quotes.")
    if speaker.language == "ja":
        footer = speaker.sentences(footer, speaker._("The English names (newcase, help, …) work too."))
    sections = [Section((Text(_BR.join(commands) or speaker._("(none you may use)")),), header=speaker._("Jobs")),
                Section((Text(_BR.join(lines)),), header=speaker._("Jobs you started")),
                Section((Text(footer),), wide_only=True)]
    if intro:
        sections.insert(0, Section((Text(intro),)))
    return Reply(card=Card("help", speaker._("What I can do"), tuple(sections)))


def command_help(usage: str, help_text: str, speaker: Speaker, example: str | None = None) -> Reply:
    """One command's help (``help COMMAND``): what it does, how to write it, an example."""
    text = help_text + "\n" + speaker._("Usage: {usage}", usage=usage)
    if example:
        text += "\n" + speaker._("Example: {example}", example=example)
    return Reply(text=text)


def usage_reply(problem: str, usage: str | None, speaker: Speaker, example: str | None = None) -> Reply:
    # the problem may quote what was written, up to a whole message: cut, so the answer stays
    # far below the 32,000 bytes Chat accepts
    problem = short(problem.rstrip(".。"), MAX_PROBLEM)
    if problem.endswith(("?", "？", "!", "！")):  # 「…のことですか？」: no full stop after it
        text = speaker._("I could not read that: {problem}", problem=problem)
    else:
        text = speaker._("I could not read that: {problem}.", problem=problem)
    if usage:
        text += "\n" + speaker._("Usage: {usage}", usage=usage)
    if example:  # a whole command to copy: what a usage line's placeholders mean, shown
        text += "\n" + speaker._("Example: {example}", example=example)
    return Reply(text=text)


def confirmation_card(confirmation: Confirmation, job_type: JobType, ttl: float, speaker: Speaker,
                      notes: tuple = (), from_form: bool = False) -> Reply:
    """"Run this?": what was asked, its parameters, what the job will do with the store's state
    (``notes`` of its precheck), and Run and Cancel. ``from_form``: sent from the job type's form,
    whose flags not in the form (``in_form=False``: the estimate form's ``replace``, which is what
    the form is) were set by the form, not chosen: they are not shown (a value not in the form,
    such as the version the lines were edited from, is: it says what the lines are)."""
    params = {"confirmation": confirmation.id, "token": confirmation.token}
    fields = tuple(Field(p.field_label(speaker), _field_value(job_type, p.name, confirmation.params[p.name], speaker))
                   for p in job_type.params
                   if confirmation.params.get(p.name) not in (None, False, [], "")
                   and not (from_form and p.kind == "flag" and not p.in_form))
    if notes:  # one field under the parameters, a line each (escaped: a record's values are shown, never obeyed)
        fields += (Field(speaker._("When run"), _BR.join(short(str(said(note, speaker)), MAX_PROBLEM)
                                                        for note in notes)),)
    expiry = speaker._("Asked by {who}. This card expires in {minutes} min.", who=confirmation.requester.label,
                       minutes=max(1, round(ttl / 60)))
    sections = (
        Section((Text(job_type.confirmation_text(confirmation.params, speaker)),) + fields),
        Section((Buttons((Button(speaker._("Run"), "run", params, filled=True),
                          Button(speaker._("Cancel"), "cancel", params))),
                 Text(expiry))),
    )
    title = speaker._("Run {name}?", name=type_name(job_type, job_type.name, speaker))
    card = Card(f"confirm-{confirmation.id}", title, sections, subtitle=speaker._(job_type.help))
    return Reply(card=card)


def _field_value(job_type: JobType, key: str, value, speaker: Speaker) -> Html:
    """A parameter's value on a card: the lines the job type shows it in (one under another), or
    as ``shown_value`` reads it."""
    lines = shown_lines(job_type, key, value, speaker)
    if lines is not None:
        return _BR.join(lines)  # each line escaped: what a person typed is shown, never obeyed
    return shown_value(job_type, key, value, speaker)


def queued_card(job: Job, job_type: JobType, speaker: Speaker, queue_down: bool = False) -> Reply:
    summary = job_type.confirmation_text(job.params, speaker)
    if queue_down:
        text = speaker._("{summary}\nThe job is saved, but the queue did not answer just now; it will be sent "
                         "automatically within a few minutes. Nothing is lost.", summary=summary)
    else:
        text = speaker._("{summary}\nProgress and the result will appear in this thread. Write “{command} {job_id}” "
                         "any time.", summary=summary, command=builtin_name("status", speaker), job_id=job.id)
    card = Card(f"confirm-{job.confirmation_id or job.id}", speaker._("Queued · job {job_id}", job_id=job.id),
                (Section((Text(text),)),))
    return Reply(card=card, update=True)


def decided_card(confirmation: Confirmation, title: str, text: str) -> Reply:
    return Reply(card=Card(f"confirm-{confirmation.id}", title, (Section((Text(text),)),)), update=True)


def not_cancellable(job: Job, job_type: JobType | None, step: str, speaker: Speaker) -> str:
    """Why a job past its ``no_cancel_after`` step, or held by a step under way, is not cancelled
    (chat and the console)."""
    index = next((i for i, s in enumerate(job.steps) if s.name == step), 0)
    return speaker._("Job {job_id} cannot be cancelled: its step “{step}” has taken what must be finished, "
                     "never dropped (an invoice number is issued). If the job fails, retry it.",
                     job_id=job.id, step=step_title(job_type, index, step, speaker))


def job_state_line(job: Job, job_type: JobType | None, now: float, speaker: Speaker,
                   retry_delay: float | None = None) -> str:
    step = job.step
    if job.status == JobStatus.SUCCEEDED:
        return speaker._("✅ Done in {duration}", duration=speaker.duration((job.finished_at or now) - job.created_at))
    if job.status == JobStatus.FAILED:
        index = next((i for i, s in enumerate(job.steps) if s.status == StepStatus.FAILED), job.current)
        failed = job.steps[index] if index < len(job.steps) else None
        error = job.last_error or speaker._("unknown error")  # not inside n_(): Babel would read n_ as _
        return speaker.n_("❌ Failed at step “{step}” after {count} attempt: {error}",
                          "❌ Failed at step “{step}” after {count} attempts: {error}",
                          failed.attempts if failed else 0,
                          step=step_title(job_type, index, failed.name, speaker) if failed else "-",
                          error=short(error, 500))
    if job.status == JobStatus.CANCELLED:
        return speaker._("Cancelled.")
    if job.status == JobStatus.QUEUED or step is None:
        return speaker._("Queued")
    line = speaker._("Running · step {index}/{count}: {step}", index=job.current + 1, count=len(job.steps),
                     step=step_title(job_type, job.current, step.name, speaker))
    if retry_delay is not None and job.last_error:
        line += "\n" + speaker._("Attempt {attempt} failed: {error}\nTrying again in about {delay}.",
                                 attempt=step.attempts, error=short(job.last_error, 300),
                                 delay=speaker.duration(retry_delay))
    return line


def job_title(job: Job, job_type: JobType | None, speaker: Speaker) -> str:
    return speaker._("{name} · job {job_id}", name=type_name(job_type, job.type, speaker), job_id=job.id)


def job_message(job: Job, job_type: JobType | None, speaker: Speaker, *, progress: str | None = None,
                retry_delay: float | None = None, now: float | None = None) -> Reply:
    """The one message that shows a job, edited in place from queued to its end, in the language of
    the person who asked for it. Links in the result (the folder, the sheet row, each PDF) are buttons."""
    now = now or time.time()
    widgets: list = [Text(job_state_line(job, job_type, now, speaker, retry_delay))]
    if progress and not job.status.finished:
        widgets.append(Text(short(progress, 1000)))
    if job.status == JobStatus.SUCCEEDED and job.result:
        fields, buttons = result_parts(job.result, job_type, speaker)
        widgets.extend(fields)
        if buttons:
            widgets.append(Buttons(buttons))
    sections = [Section(tuple(widgets))]
    if job.status == JobStatus.FAILED:
        hint = speaker._("Fix what is wrong, then press Retry (or write “{command} {job_id}”).",
                         command=builtin_name("retry", speaker), job_id=job.id)
        note = _failure_note(job, job_type, speaker)
        sections.append(Section(((Text(short(note, 1000)),) if note else ()) + (
            Text(hint), Buttons((Button(speaker._("Retry"), "retry", {"job": job.id}, filled=True),)))))
    subtitle = speaker._("for {who}", who=job.requester.label) if job.requester.name != SYSTEM.name \
        else speaker._("scheduled")
    return Reply(card=Card(f"job-{job.id}", job_title(job, job_type, speaker), tuple(sections), subtitle=subtitle))


def result_parts(result: dict, job_type: JobType | None, speaker: Speaker) -> tuple[list[Field], tuple[Button, ...]]:
    """A job's result as its result card shows it (the console's job page too): the job type's
    ``result_fields`` in order (every key if it declares none), each named by its ``result_labels``
    label in the person's language with its value as they read it; links as link buttons."""
    keys = job_type.result_fields if job_type and job_type.result_fields else tuple(result)
    shown = [k for k in keys if k in result]
    whole = job_type.long_results if job_type else ()
    fields = [Field(job_type.result_label(k, speaker) if job_type else k,
                    shown_result(result[k], speaker, lines=k in whole))
              for k in shown if not links.is_link(result[k]) and not links.is_link_list(result[k])]
    return fields, links.link_buttons(result, shown, speaker, job_type.result_labels if job_type else None)


def _failure_note(job: Job, job_type: JobType | None, speaker: Speaker) -> str | None:
    """The job type's sentence for its failure card; its own error never keeps the card from showing."""
    if job_type is None or job_type.failure_note is None:
        return None
    try:
        return job_type.failure_note(job, speaker)
    except Exception:
        log.exception("the failure note of job %s failed", job.id)
        return None


def job_details(job: Job, job_type: JobType | None, now: float, speaker: Speaker) -> Reply:
    """``status JOB_ID``: everything about one job."""
    reply = job_message(job, job_type, speaker, now=now)
    rows = [Field(speaker._("requested"), speaker._("{moment} ({ago} ago) by {who}",
                                                   moment=speaker.moment(job.created_at),
                                                   ago=speaker.ago(now - job.created_at),
                                                   who=job.requester.label))]
    for index, step in enumerate(job.steps):
        if step.had_nothing_to_do:  # it looked and found nothing to do: how often it looked says nothing
            detail = speaker._("not needed")
        else:
            detail = speaker.n_("{status}, {count} attempt", "{status}, {count} attempts", step.attempts,
                                status=speaker._(STEP_LABELS[step.status]))
        if step.error and step.status != StepStatus.SUCCEEDED:
            detail += f": {short(step.error, 200)}"
        rows.append(Field(speaker._("step {index}: {step}", index=index + 1,
                                    step=step_title(job_type, index, step.name, speaker)), detail))
    card = reply.card
    labels = {p.name: p.field_label(speaker) for p in job_type.params} if job_type else {}
    order = list(labels)  # as the job type declares them, as its confirmation card asked them
    params = sorted(job.params.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    shown = Listed(f"{labels.get(k, k)}: {shown_value(job_type, k, v, speaker)}" for k, v in params
                   if v not in (None, False, [], "")).render(speaker)  # 案件番号: 2026-001、明細: …
    parameters = Section((Field(speaker._("parameters"), short(shown or "—")),), wide_only=True)  # long: not on a phone
    sections = card.sections[:1] + (Section(tuple(rows), header=speaker._("Details")), parameters) + card.sections[1:]
    return Reply(card=Card(card.card_id, card.title, sections, subtitle=card.subtitle))


def jobs_list(jobs: list[Job], title: str, now: float, speaker: Speaker, registry: Registry | None = None) -> Reply:
    if not jobs:
        return Reply(text=speaker._("No jobs yet."))

    def job_type(name: str) -> JobType | None:
        return registry.get(name) if registry is not None and name in registry else None

    def line(job: Job) -> str:
        # the attempts beyond each step's first: a job of six steps that ran once each said “6 attempts”
        said = speaker._("{status} · {ago} ago · {who}", status=status_label(job.status, speaker),
                         ago=speaker.ago(now - job.created_at), who=requester_label(job.requester, speaker))
        retries = sum(max(0, step.attempts - 1) for step in job.steps)
        if retries:
            said += " · " + speaker.n_("{count} retry", "{count} retries", retries)
        return said

    rows = tuple(Field(f"{job.id} · {type_name(job_type(job.type), job.type, speaker)}", line(job)) for job in jobs)
    return Reply(card=Card("jobs", title, (Section(rows),)))
