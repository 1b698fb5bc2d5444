"""Forms instead of options: a job command opens a Chat dialog made from its parameters.

Chat's dialog contract (both event formats): a slash command configured to open a dialog, or a
button with ``interaction: OPEN_DIALOG`` (the "Fill in" button of a usage reply), arrives as a
dialog event ``REQUEST_DIALOG``; the answer is the dialog. A button in the dialog arrives as
``SUBMIT_DIALOG`` with the inputs in ``formInputs``: "add a line" and "remove" draw the dialog
again, "Next" validates with the parsers the typed command uses. Errors come back in the dialog,
next to their field; a valid submit closes it and posts the usual confirmation card (nothing is
created before that card's Run). Closing the dialog (``CANCEL_DIALOG``) starts nothing.

A job type may fill its form in from the store (``JobType.prefill``: the office's estimate opens
with the case's latest lines), bind it to what opened it (``form_context``: a mail) and send it its
own way (``form_submit``); see docs/job-types.md.

Dialogs need synchronous answers, which the webhook gives. Who opened a dialog travels in its
buttons; a submit by anyone else, a form for a job type that is no longer offered, or inputs the
dialog does not have are refused in the dialog, with nothing created.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from ..chat.cards import Button, Buttons, Card, Section, Text
from ..chat.events import ChatEvent, EventKind
from ..chat.replies import Answer, DialogClose, DialogReply, Reply
from ..errors import UsageError
from ..i18n import Speaker
from ..jobs.params import first_word, join_words, parse_params, split_words
from . import commands, formspec, precheck
from .confirm import ask
from .speech import speaker_of

if TYPE_CHECKING:
    from ..jobs.registry import JobType
    from .runtime import Runtime

log = logging.getLogger(__name__)

MAX_PREFILL = 1000  # characters of a typed command carried by a Fill in button


def offered(runtime: Runtime, event: ChatEvent, name: str) -> JobType | None:
    """The job type ``name`` if this person may start it here as a form."""
    if name not in runtime.registry:
        return None
    job_type = runtime.registry.get(name)
    if job_type.schedule or name not in commands.allowed_commands(runtime, event):
        return None
    return job_type


def on_dialog(runtime: Runtime, event: ChatEvent) -> Answer:
    speaker = speaker_of(runtime, event)
    if event.dialog == "CANCEL_DIALOG":
        return DialogClose(notice=speaker._("Nothing was started."))
    if event.dialog == "REQUEST_DIALOG":
        return _open(runtime, event, speaker)
    return _submit(runtime, event, speaker)


def in_dialog(event: ChatEvent, reply: Reply) -> Answer:
    """A message answer (an error, a refusal) given where a dialog event needs a dialog answer."""
    if event.dialog == "SUBMIT_DIALOG":
        return DialogReply(info_card(reply), update=True)
    if event.dialog == "CANCEL_DIALOG":
        return DialogClose()
    return DialogReply(info_card(reply))


def info_card(reply: Reply) -> Card:
    if reply.card is not None:
        return dataclasses.replace(reply.card, footer=None)
    return Card("notice", "Ackflow", (Section((Text(reply.text),)),))


# -- open -------------------------------------------------------------------------------------------
def _open(runtime: Runtime, event: ChatEvent, speaker: Speaker) -> Answer:
    if event.kind == EventKind.CLICK:  # the Fill in button of a usage reply
        name, text = event.parameters.get("form", ""), event.parameters.get("text", "")
    else:  # a slash command that opens a dialog; what was typed after it fills the form in
        typed = commands.command_text(runtime, event)
        try:
            words = split_words(typed)
            name, text = (words[0].lstrip("/").lower() if words else ""), join_words(words[1:])
        except UsageError:  # the rest as typed: the form opens empty and says why at its top (prefill)
            name, text = first_word(typed)
            name = name.lstrip("/").lower()
    name = runtime.registry.resolve(name) or name  # 新規案件 is newcase
    job_type = offered(runtime, event, name)
    if job_type is None:
        return in_dialog(event, _typed(runtime, event, name))
    values, problem = prefill(job_type, text, speaker, speaker.today(runtime.clock()))
    bound = {key: event.parameters[key] for key in job_type.form_context
             if event.kind == EventKind.CLICK and event.parameters.get(key)}
    if job_type.prefill is not None:
        try:
            values = job_type.prefill(runtime, event, values, bound)
        except UsageError as exc:  # what the form would be for cannot be filled in: said instead of a form
            return DialogReply(_notice(speaker, exc.render(speaker)))
        except Exception:  # a prefill that fails leaves the form as typed; it still opens
            log.exception("the %s form's prefill failed; it opens with what was typed", job_type.name)
    known = formspec.known_values(runtime, job_type)
    state = formspec.initial(job_type, values, known, bound)
    if problem:
        state.errors[formspec.FORM] = problem
    log.info("opened the %s form", job_type.name, extra={"job_type": job_type.name, "space": event.space})
    return DialogReply(formspec.build(state, speaker, known, event.user.name))


def prefill(job_type: JobType, text: str, speaker: Speaker, today=None) -> tuple[dict, str]:
    """What a typed command already says, for the form (nothing is required yet, no value is refused:
    the form shows it to be fixed; a value that reads, such as a date written 12月1日, is shown as
    read); a problem reading it is shown at the top."""
    if not text.strip():
        return {}, ""
    as_written = tuple(p if p.kind == "flag" else dataclasses.replace(
        p, kind="str", required=False, check=None, choices=None, max_length=MAX_PREFILL, units=())
        for p in job_type.params)
    try:
        words = split_words(text)
    except UsageError as exc:  # nothing of it is read: the form says so, rather than open as if nothing was typed
        return {}, speaker._("What was typed after the command could not be read ({problem}), so the form "
                             "opens empty: fill it in.", problem=exc.render(speaker))
    try:
        values = parse_params(as_written, words, today)
    except UsageError as exc:
        return {}, exc.render(speaker)
    try:  # what is wrong in what was typed (what is missing is for the form to ask)
        typed = parse_params(tuple(dataclasses.replace(p, required=False) for p in job_type.params), words, today)
    except UsageError as exc:
        return values, exc.render(speaker)
    return {**values, **{k: v for k, v in typed.items() if v not in (None, "", [], False)}}, ""


def _typed(runtime: Runtime, event: ChatEvent, name: str) -> Reply:
    """What typing ``name`` answers (a refusal, "unknown command", help): said in the dialog."""
    if name not in runtime.registry and name not in commands.BUILTIN_IDS.values() \
            and name not in runtime.registry.commands:
        name = ""  # never a forged text: only a name we know is typed on the person's behalf
    typed = dataclasses.replace(event, kind=EventKind.MESSAGE, text=name, command_name=None, command_id=None,
                                dialog=None, form={})
    return commands.handle_text(runtime, typed)


# -- submit -----------------------------------------------------------------------------------------
def _submit(runtime: Runtime, event: ChatEvent, speaker: Speaker) -> Answer:
    params = event.parameters
    name = params.get("form", "")
    if name not in runtime.registry:
        return DialogReply(_notice(speaker, speaker._(
            "This form is no longer offered; nothing was started. Send the command again.")), update=True)
    if params.get("by") != event.user.name:
        log.warning("a %s form opened by someone else was submitted", name,
                    extra={"job_type": name, "user": event.user.email, "space": event.space})
        command = "/" + name
        return DialogReply(_notice(speaker, speaker._(
            "This form was opened by someone else; nothing was started. Open your own with “{command}”.",
            command=command)), update=True)
    job_type = offered(runtime, event, name)
    if job_type is None:
        return DialogReply(info_card(_typed(runtime, event, name)), update=True)
    state = formspec.from_submit(job_type, event.form, params)
    known = formspec.known_values(runtime, job_type)
    step = params.get("step", "")
    if step == "add" and not state.errors:
        formspec.add_line(state, params.get("param", ""))
    elif step == "remove" and not state.errors:
        formspec.remove_line(state, params.get("param", ""), params.get("line", ""))
    elif step == "submit" and not state.errors:
        now = runtime.clock()
        values = formspec.read(state, speaker, speaker.today(now), now)
        checked = precheck.check(runtime, job_type, values) if values is not None else None
        if checked is not None and checked.refused is not None:  # the store's state refuses it: said in the form
            state.errors[formspec.FORM] = checked.refused.render(formspec.in_form(speaker))  # it names its command
            values = None
        if values is not None:
            if job_type.form_submit is not None:
                return DialogClose(message=job_type.form_submit(runtime, event, values, state.bound))
            return DialogClose(message=ask(runtime, event, job_type, values, checked))
        log.info("the %s form came back with errors", name, extra={"job_type": name, "fields": sorted(state.errors)})
    return DialogReply(formspec.build(state, speaker, known, event.user.name), update=True)


def _notice(speaker: Speaker, text: str) -> Card:
    return Card("notice", "Ackflow", (Section((Text(text),)),))


# -- the Fill in button ---------------------------------------------------------------------------
def with_fill_in(reply: Reply, runtime: Runtime, event: ChatEvent, job_type: JobType, args: list[str]) -> Reply:
    """A usage reply with a button that opens the job type's form, filled in with what was typed."""
    speaker = speaker_of(runtime, event)
    text = join_words(args)
    params = {"form": job_type.name, **({"text": text} if len(text) <= MAX_PREFILL else {})}
    button = Button(speaker._("Fill in"), formspec.ACTION, params, filled=True, open_dialog=True)
    card = Card(f"usage-{job_type.name}", speaker._("Or fill in a form"), (Section((Buttons((button,)),)),),
                subtitle=job_type.native_name if speaker.language == "ja" and job_type.native_name else job_type.name)
    return dataclasses.replace(reply, card=card)
