"""Text commands: help, status, jobs, cancel, retry, and the job types of the registry.

A command is named by its name or any of its aliases (新規案件 for newcase, ヘルプ for help), in any
case and as an IME types it; an unknown name is answered with the nearest known ones. Everything
is said in the person's language (``speech.speaker_of``).
"""

from __future__ import annotations

import difflib
import logging
from typing import TYPE_CHECKING

from ..chat.events import ChatEvent
from ..chat.replies import Reply
from ..errors import InvalidTransition, JobNotFound, NotCancellable, UsageError
from ..i18n import Speaker
from ..jobs.model import Job, JobStatus
from ..jobs.params import first_word, split_words
from ..jobs.registry import BUILTIN_SLASH_IDS
from . import operations, precheck, views
from .confirm import ask
from .speech import speaker_of

if TYPE_CHECKING:
    from .runtime import Runtime


log = logging.getLogger(__name__)

BUILTIN_IDS = BUILTIN_SLASH_IDS  # the slash command ids of the builtins (the registry keeps them taken)
EVERYONE = ("all", "全部", "すべて", "全員")  # jobs all
MAX_SUGGESTIONS = 3


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
    names = list(views.BUILTIN_HELP) + runnable + list(runtime.registry.commands)
    return {n for n in names if n == "help" or runtime.access.allows(n, event.user.email, event.space)}


def refusal(runtime: Runtime, command: str, speaker: Speaker, refused_by: str | None = "default") -> Reply:
    if refused_by == "admins":
        text = speaker._("Sorry, “{command}” is for admins only (ACKFLOW_ADMINS).", command=command)
    elif refused_by == "command":
        text = speaker._("Sorry, “{command}” is limited to certain people or spaces, and you may not use it here "
                         "(your other commands are in “{help}”).", command=command,
                         help=views.builtin_name("help", speaker))
    else:
        text = speaker._("Sorry, you may not use “{command}” here.", command=command)
    contact = runtime.access.contact
    return Reply(text=speaker.sentences(text, speaker._("Ask {contact} for access.", contact=contact) if contact
                                        else speaker._("Ask the person who set up this app for access.")))


_HIRAGANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}  # ぁ..ゖ → ァ..ヶ


def katakana(text: str) -> str:
    """``text`` with its hiragana as katakana: へるぷ, typed before the IME converts it, is ヘルプ."""
    return text.translate(_HIRAGANA)


def suggestions(runtime: Runtime, event: ChatEvent, typed: str, cutoff: float = 0.5) -> list[str]:
    """The commands nearest to ``typed`` that this person may use (by their names or aliases, and
    with hiragana read as katakana; or by their names' readings in hiragana, みつもり for 見積),
    nearest first: each command once, by its name. A word that is a command's reading or everyday
    word exactly (リトライ) names that command alone: やり直し (redo) is not also near 取り消し."""
    allowed = allowed_commands(runtime, event)

    def offered(target: str) -> bool:
        return target in allowed and not (target in runtime.registry and runtime.registry.get(target).schedule)

    candidates = [(n, target) for n, target in runtime.registry.names().items() if offered(target)]
    candidates += [(reading, target) for reading, target in runtime.registry.readings() if offered(target)]
    forms = list(dict.fromkeys((typed.lower(), katakana(typed.lower()))))
    matcher = difflib.SequenceMatcher()
    scored: dict[str, float] = {}
    for name, target in candidates:
        matcher.set_seq2(name)
        best = 0.0
        for form in forms:
            matcher.set_seq1(form)
            if matcher.real_quick_ratio() >= 0.5 and matcher.quick_ratio() >= 0.5:
                best = max(best, matcher.ratio())
        if best >= cutoff and best > scored.get(target, 0.0):
            scored[target] = best
    exact = [t for t, score in scored.items() if score == 1.0]
    return sorted(exact) if exact else sorted(scored, key=lambda t: (-scored[t], t))[:MAX_SUGGESTIONS]


def shown_name(runtime: Runtime, name: str, speaker: Speaker, english: bool = True) -> str:
    """A command as a suggestion names it: for a Japanese reader by its Japanese name, with the
    English one after it when they wrote in Latin letters (「新規案件」（newcase）); for others by its name."""
    if name in views.BUILTIN_HELP:
        native = views.builtin_name(name, speaker)
    elif name in runtime.registry:
        native = views.type_name(runtime.registry.get(name), name, speaker)
    elif name in runtime.registry.commands:
        native = (runtime.registry.commands[name].native_name if speaker.language == "ja" else None) or name
    else:
        native = name
    quoted = speaker._("“{name}”", name=native)
    return speaker._("{name} ({english})", name=quoted, english=name) if native != name and english else quoted


def unknown_command(runtime: Runtime, event: ChatEvent, typed: str, speaker: Speaker,
                    near: list[str] | None = None) -> Reply:
    shown = views.short(typed, 40)
    text = speaker._("I don't know the command “{name}”.", name=shown)
    near = suggestions(runtime, event, typed[:100]) if near is None else near
    if near:
        names = speaker._(", ").join(shown_name(runtime, n, speaker, typed.isascii()) for n in near)
        text = speaker.sentences(text, speaker._("Did you mean {names}?", names=names))
    return views.help_card(runtime.registry, allowed_commands(runtime, event), speaker, text)


def unreadable(runtime: Runtime, event: ChatEvent, problem: str, speaker: Speaker) -> Reply:
    """A command that does not split (a quote left open, a text too long): what was wrong, and,
    when its first word names a command this person may use, how to write it, an example and
    (a job type) the Fill in button; otherwise the help card under what was wrong."""
    from .dialogs import with_fill_in

    typed, _ = first_word(command_text(runtime, event))
    name = runtime.registry.resolve(typed.lstrip("/")) if typed.lstrip("/") else None
    allowed = allowed_commands(runtime, event)
    if name is None or name not in allowed or name == "help":
        return views.help_card(runtime.registry, allowed, speaker, views.usage_reply(problem, None, speaker).text)
    if name in runtime.registry:
        job_type = runtime.registry.get(name)
        if job_type.schedule:
            return views.help_card(runtime.registry, allowed, speaker, views.usage_reply(problem, None, speaker).text)
        reply = views.usage_reply(problem, job_type.usage_for(speaker), speaker, job_type.example_for(speaker))
        return with_fill_in(reply, runtime, event, job_type, [])
    if name in runtime.registry.commands:
        return views.usage_reply(problem, runtime.registry.commands[name].usage_for(speaker), speaker)
    return views.usage_reply(problem, views.builtin_usage(name, speaker), speaker)


def handle_text(runtime: Runtime, event: ChatEvent) -> Reply:
    speaker = speaker_of(runtime, event)
    try:
        words = split_words(command_text(runtime, event))
    except UsageError as exc:
        return unreadable(runtime, event, exc.render(speaker), speaker)
    if not words:
        return views.help_card(runtime.registry, allowed_commands(runtime, event), speaker,
                               speaker._("Write a command; here is what I can do."))
    typed = words[0].lstrip("/")
    name = runtime.registry.resolve(typed)
    args = words[1:]
    if name is None:
        return unknown_command(runtime, event, typed, speaker)
    refused_by = runtime.access.refused_by(name, event.user.email, event.space) if name != "help" else None
    if refused_by:
        log.info("refused %s (%s rule)", name, refused_by, extra={"user": event.user.email, "space": event.space})
        return refusal(runtime, views.short(typed, 40), speaker, refused_by)
    if name == "help":
        if args:
            return _help_for(runtime, event, args[0].lstrip("/"), speaker)
        return views.help_card(runtime.registry, allowed_commands(runtime, event), speaker)
    if name == "status":
        return _status(runtime, args, speaker)
    if name == "jobs":
        return _jobs(runtime, event, args, speaker)
    if name == "cancel":
        return _with_job(runtime, event, args, "cancel", _cancel, speaker)
    if name == "retry":
        return _with_job(runtime, event, args, "retry", retry_job, speaker)
    if name in runtime.registry.commands:
        return runtime.registry.commands[name].handler(runtime, event, args)
    job_type = runtime.registry.get(name)
    if job_type.schedule:
        return unknown_command(runtime, event, typed, speaker)
    if runtime.registry.missing_modules(name):
        hint = speaker._(job_type.requires_hint) if job_type.requires_hint else \
            speaker._("ask the person who set up this app")
        return Reply(text=speaker._("“{name}” cannot run in this deployment: a part it needs is not installed "
                                    "({hint}). Nothing was started.", name=typed, hint=hint))
    try:
        now = runtime.clock()
        params = job_type.parse(args, speaker.today(now), now)
    except UsageError as exc:
        from .dialogs import with_fill_in  # the form, filled in with what was typed

        reply = views.usage_reply(exc.render(speaker), job_type.usage_for(speaker), speaker,
                                  job_type.example_for(speaker))
        return with_fill_in(reply, runtime, event, job_type, args)
    checked = precheck.check(runtime, job_type, params)  # what the store holds now: a refusal said at once
    if checked.refused is not None:
        return precheck.refused_reply(job_type, checked.refused, speaker)
    return ask(runtime, event, job_type, params, checked)


# how near the word after help must be to a command's name to be said as a typo of it: estimat
# (0.93), hepl (0.75), 見積もり (0.67) are; me in resume (0.5) and please in case (0.6) are not
HELP_CUTOFF = 0.65


def _help_for(runtime: Runtime, event: ChatEvent, typed: str, speaker: Speaker) -> Reply:
    """``help COMMAND`` (ヘルプ 請求): that command alone, as a phone shows it without scrolling
    through the whole list: how to write it, what it does, an example and (a job type) Fill in."""
    name = runtime.registry.resolve(typed)
    if name is None:
        # help me, ヘルプ お願いします: the word after help is often no command at all, and a loose
        # match (me in resume) would suggest what was never meant; only a near miss (estimat) is one
        near = suggestions(runtime, event, typed[:100], cutoff=HELP_CUTOFF)
        if not near:
            return views.help_card(runtime.registry, allowed_commands(runtime, event), speaker)
        return unknown_command(runtime, event, typed, speaker, near)
    if name in runtime.registry and runtime.registry.get(name).schedule:
        return unknown_command(runtime, event, typed, speaker)
    if name == "help":
        return views.help_card(runtime.registry, allowed_commands(runtime, event), speaker)
    refused_by = runtime.access.refused_by(name, event.user.email, event.space)
    if refused_by:
        return refusal(runtime, views.short(typed, 40), speaker, refused_by)
    if name in views.BUILTIN_HELP:
        return views.command_help(views.builtin_usage(name, speaker), speaker._(views.BUILTIN_HELP[name][1]),
                                  speaker)
    if name in runtime.registry.commands:
        command = runtime.registry.commands[name]
        return views.command_help(command.usage_for(speaker), speaker._(command.help), speaker)
    from .dialogs import with_fill_in

    job_type = runtime.registry.get(name)
    reply = views.command_help(job_type.usage_for(speaker), speaker._(job_type.help), speaker,
                               job_type.example_for(speaker))
    return with_fill_in(reply, runtime, event, job_type, []) if job_type.params else reply


def _need_job_id(command: str, speaker: Speaker) -> Reply:
    return Reply(text=speaker._("Which job? Write “{command} JOB_ID”.",
                                command=views.builtin_name(command, speaker)))


def _not_found(job_id: str, speaker: Speaker) -> Reply:
    return Reply(text=speaker._("There is no job “{job_id}”. Check the id (it starts with j) or write “{jobs}”.",
                                job_id=views.short(job_id, 40), jobs=views.builtin_name("jobs", speaker)))


def _status(runtime: Runtime, args: list[str], speaker: Speaker) -> Reply:
    if not args:
        return _need_job_id("status", speaker)
    try:
        job = runtime.store.get_job(args[0])
    except JobNotFound:
        return _not_found(args[0], speaker)
    job_type = runtime.registry.get(job.type) if job.type in runtime.registry else None
    return views.job_details(job, job_type, runtime.clock(), speaker)


def _jobs(runtime: Runtime, event: ChatEvent, args: list[str], speaker: Speaker) -> Reply:
    if args and args[0].lower() in EVERYONE:
        jobs = runtime.store.list_jobs(limit=15)
        return views.jobs_list(jobs, speaker._("Recent jobs"), runtime.clock(), speaker, runtime.registry)
    jobs = runtime.store.list_jobs(requester_email=event.user.email, limit=15)
    return views.jobs_list(jobs, speaker._("Your recent jobs"), runtime.clock(), speaker, runtime.registry)


def _not_yours(job: Job, speaker: Speaker) -> Reply:
    return Reply(text=speaker._("Only {who} (who started job {job_id}) or an admin can do that.",
                                who=job.requester.label, job_id=job.id))


def _with_job(runtime: Runtime, event: ChatEvent, args: list[str], command: str, action, speaker: Speaker) -> Reply:
    if not args:
        return _need_job_id(command, speaker)
    try:
        job = runtime.store.get_job(args[0])
    except JobNotFound:
        return _not_found(args[0], speaker)
    if not runtime.access.may_decide(event.user.email, job.requester.email):
        return _not_yours(job, speaker)
    return action(runtime, event, job)


def _cancel(runtime: Runtime, event: ChatEvent, job: Job) -> Reply:
    speaker = speaker_of(runtime, event)
    try:
        job = operations.cancel_job(runtime, job.id, event.user.email or event.user.name, "chat")
    except InvalidTransition as exc:
        return Reply(text=speaker._("Job {job_id} is already {status}; there is nothing to cancel.", job_id=job.id,
                                    status=views.status_label(exc.current, speaker)))
    except NotCancellable as exc:
        job_type = runtime.registry.get(job.type) if job.type in runtime.registry else None
        return Reply(text=views.not_cancellable(job, job_type, exc.step, speaker))
    return Reply(text=speaker._("Job {job_id} is cancelled.", job_id=job.id))


def retry_job(runtime: Runtime, event: ChatEvent, job: Job) -> Reply:
    """Send a FAILED job again from the step that failed (chat ``retry ID`` and the Retry button)."""
    speaker = speaker_of(runtime, event)
    try:
        job = operations.retry_job(runtime, job.id, event.user.email or event.user.name, "chat")
    except InvalidTransition as exc:
        return _cannot_retry(job, exc.current, speaker)
    job_type = runtime.registry.get(job.type) if job.type in runtime.registry else None
    step = views.step_title(job_type, job.current, job.steps[job.current].name, speaker)
    return Reply(text=speaker._("Retrying job {job_id} from step “{step}”.", job_id=job.id, step=step))


def _cannot_retry(job: Job, status: str, speaker: Speaker) -> Reply:
    return Reply(text=speaker._("Job {job_id} is {status}; only a FAILED job can be retried.", job_id=job.id,
                                status=views.status_label(status, speaker)))


def on_retry_click(runtime: Runtime, event: ChatEvent) -> Reply:
    speaker = speaker_of(runtime, event)
    job_id = event.parameters.get("job", "")
    try:
        job = runtime.store.get_job(job_id)
    except JobNotFound:
        return _not_found(job_id, speaker)
    if not runtime.access.may_decide(event.user.email, job.requester.email):
        return _not_yours(job, speaker)
    if job.status != JobStatus.FAILED:
        return _cannot_retry(job, job.status.value, speaker)
    return retry_job(runtime, event, job)
