"""A job type's parameters as a dialog, and a submitted dialog read back with the parsers the typed
command uses (``Param.convert`` with its rules, then the job type's ``validate``).

Each parameter becomes inputs: a text input (numbers too, a multi-line one for a parameter that
takes the rest of a command), a date picker (``date``), a dropdown (declared ``choices``; or the
known values of a ``lookup`` beside a text input for a value not in the list), a switch (``flag``),
and for a repeated parameter one line per value with buttons to add a line and remove one; a value
made of ``parts`` (a line item's description, quantity and unit price) gets one input per part,
joined with ``:`` for the parser.

Inputs are named after their parameter: ``client``, ``client.new`` (a value not in the list),
``item.2`` or ``item.2.1`` (line 2, part 1). What a dialog must remember between submits travels
in its buttons' parameters (the job type, who opened it, the lines of each repeated parameter),
so nothing is stored before the confirmation; so do the values of parameters the form shows no
input for (``Param.in_form=False``, ``v.NAME``, given by a prefill hook) and what it was opened for
(``JobType.form_context``, ``b.KEY``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..chat.cards import Button, Buttons, Card, Section, Widget
from ..chat.events import FormInput
from ..chat.forms import Choice, Columns, DateInput, TextInput, first
from ..chat.forms import error_text as _error_text
from ..errors import UsageError
from ..i18n import Listed
from ..jobs.normalize import normalize_field
from ..jobs.params import Param
from ..jobs.registry import moment

if TYPE_CHECKING:
    from ..i18n import Speaker
    from ..jobs.registry import JobType
    from .runtime import Runtime

log = logging.getLogger(__name__)

ACTION = "form"  # the action of every button of a form
MAX_LINES = 12  # lines of a repeated parameter: a dialog holds at most 100 widgets
MAX_KNOWN = 50  # known values offered in a dropdown
MAX_ERROR = 200  # characters of an error shown in a form (it may quote what was typed)
MAX_FORM_ERROR = 600  # of the one error above every input (why the form cannot be sent, and what to do instead)
MAX_PART_ERROR = 50  # at least, of each error of a line's parts said together (at most MAX_ERROR in all)
FORM = ""  # the key of an error about the whole form
MAX_CARRIED = 200  # characters of a value the form carries in every button (a parameter it shows no input for)


@dataclass
class FormState:
    job_type: JobType
    inputs: dict[str, str] = field(default_factory=dict)  # input → what it holds (a date YYYY-MM-DD)
    lines: dict[str, int] = field(default_factory=dict)  # repeated parameter → lines shown
    errors: dict[str, str] = field(default_factory=dict)  # input or parameter ("" the form) → message
    carried: dict[str, str] = field(default_factory=dict)  # a parameter not in the form (in_form=False) → value
    bound: dict[str, str] = field(default_factory=dict)  # what the form was opened for (JobType.form_context)

    def count(self, param: Param) -> int:
        return min(MAX_LINES, max(1, self.lines.get(param.name, 1)))


def label(param: Param, speaker: Speaker) -> str:
    return speaker._(param.title) if param.title else param.name.replace("_", " ").capitalize()


def in_form(speaker: Speaker) -> Speaker:
    """The speaker naming parameters as the form labels them (an error shown next to its input)."""
    return dataclasses.replace(speaker, in_form=True)


def part_labels(param: Param, speaker: Speaker) -> list[str]:
    return [speaker._(part) for part in param.parts]


def known_values(runtime: Runtime, job_type: JobType) -> dict[str, list[str]]:
    """What each lookup offers now (a lookup that fails offers nothing: the text input remains)."""
    found: dict[str, list[str]] = {}
    for param in job_type.params:
        if not param.lookup or param.lookup in found:
            continue
        find = runtime.registry.lookups.get(param.lookup)
        values: list[str] = []
        if find is None:
            log.warning("parameter %s names lookup %s, which is not registered", param.name, param.lookup)
        else:
            try:
                values = list(find(runtime))
            except Exception:
                log.exception("lookup %s failed; the form offers a text input only", param.lookup)
        unique = dict.fromkeys(v for v in values if isinstance(v, str) and v and len(v) <= param.max_length)
        found[param.lookup] = list(unique)[:MAX_KNOWN]
    return found


# -- from values (a typed command's) to a form --------------------------------------------------
def initial(job_type: JobType, values: dict[str, Any], known: dict[str, list[str]],
            bound: dict[str, str] | None = None) -> FormState:
    state = FormState(job_type, bound={k: v[:MAX_CARRIED] for k, v in (bound or {}).items()
                                       if k in job_type.form_context})
    for param in job_type.params:
        value = values.get(param.name)
        if not param.in_form:
            if isinstance(value, list):  # a repeated parameter without inputs carries its first value
                value = value[0] if value else None
            text = "true" if value is True else "" if value in (None, "", False) else _text(value)
            if len(text) > MAX_CARRIED:
                state.errors[FORM] = "dropped"
            elif text:
                state.carried[param.name] = text
            continue
        if param.repeated:
            items = [v for v in value or [] if v not in (None, "")][:MAX_LINES]
            state.lines[param.name] = max(1, len(items))
            for index, item in enumerate(items, start=1):
                if param.parts:
                    for part, piece in enumerate(split_parts(param, str(item))):
                        state.inputs[f"{param.name}.{index}.{part}"] = piece
                else:
                    state.inputs[f"{param.name}.{index}"] = _text(item)
        elif param.kind == "flag":
            state.inputs[param.name] = "true" if value else ""
        elif value not in (None, ""):
            text = _text(value)
            if param.lookup and not param.choices and text not in known.get(param.lookup, []):
                state.inputs[f"{param.name}.new"] = text
            else:
                state.inputs[param.name] = text
    return state


def split_parts(param: Param, text: str) -> list[str]:
    if param.split is not None:
        return list(param.split(text))[: len(param.parts)]
    return text.rsplit(":", len(param.parts) - 1)


def join_parts(param: Param, pieces: list[str]) -> str:
    return param.join(pieces) if param.join is not None else ":".join(pieces)


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# -- from a submit --------------------------------------------------------------------------------
def from_submit(job_type: JobType, form: dict[str, FormInput], parameters: dict[str, str]) -> FormState:
    """The state a submitted dialog describes; inputs it should not have are a form error."""
    state = FormState(job_type)
    # what it was opened for, cut as a carried value is: the form carries it in every button, and a
    # forged one of any length would make a dialog larger than Chat shows (a real one is an id)
    state.bound = {key: parameters[f"b.{key}"][:MAX_CARRIED] for key in job_type.form_context
                   if f"b.{key}" in parameters}
    for param in job_type.params:
        if not param.in_form:
            if f"v.{param.name}" in parameters:
                state.carried[param.name] = parameters[f"v.{param.name}"]
            continue
        if param.repeated:
            raw = parameters.get(f"n.{param.name}", "1")
            state.lines[param.name] = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 1
    names = input_names(state)
    state.inputs = {name: first(form, name) or "" for name in names if name in form}
    if set(form) - names or any(not _fits(job_type, name, item) for name, item in form.items()):
        state.errors[FORM] = "forged"
    return state


def _fits(job_type: JobType, name: str, item: FormInput) -> bool:
    """Whether ``item`` is what the input ``name`` sends: one value (no input of a form has more),
    a date only from a date's picker. Otherwise a title could be read from a date picker's value or
    the first of two values be taken silently."""
    param = next((p for p in job_type.params if p.name == name.partition(".")[0]), None)
    picked = item.ms is not None or item.time is not None
    return len(item.values) <= 1 and not (picked and item.values) and \
        (not picked or (item.time is None and param is not None and param.kind == "date" and name == param.name))


def input_names(state: FormState) -> set[str]:
    names: set[str] = set()
    for param in state.job_type.params:
        if not param.in_form:
            continue
        if param.repeated:
            for index in range(1, state.count(param) + 1):
                if param.parts:
                    names.update(f"{param.name}.{index}.{part}" for part in range(len(param.parts)))
                else:
                    names.add(f"{param.name}.{index}")
        else:
            names.add(param.name)
            if param.lookup and not param.choices:
                names.add(f"{param.name}.new")
    return names


def add_line(state: FormState, name: str) -> None:
    param = _repeated(state, name)
    if param is not None:
        state.lines[name] = min(MAX_LINES, state.count(param) + 1)


def remove_line(state: FormState, name: str, line: str) -> None:
    """Take line ``line`` out, moving the lines after it up (the last line is emptied instead)."""
    param = _repeated(state, name)
    if param is None or not (line.isascii() and line.isdigit()):
        return
    count, index = state.count(param), int(line)
    if not 1 <= index <= count:
        return
    suffixes = [f".{part}" for part in range(len(param.parts))] or [""]
    for current in range(index, count):
        for suffix in suffixes:
            moved = state.inputs.pop(f"{name}.{current + 1}{suffix}", None)
            state.inputs.pop(f"{name}.{current}{suffix}", None)
            if moved is not None:
                state.inputs[f"{name}.{current}{suffix}"] = moved
    for suffix in suffixes:
        state.inputs.pop(f"{name}.{count}{suffix}", None)
    state.lines[name] = max(1, count - 1)


def _repeated(state: FormState, name: str) -> Param | None:
    return next((p for p in state.job_type.params if p.repeated and p.in_form and p.name == name), None)


def read(state: FormState, speaker: Speaker, today: dt.date | None = None,
         now: float | None = None) -> dict[str, Any] | None:
    """The parameters the form gives, or None with ``state.errors`` saying what is wrong where, in
    ``speaker``'s language (``today``: in their time zone, for dates written without a year;
    ``now``: the runtime's clock, for the job type's rules that depend on the day)."""
    values: dict[str, Any] = {}
    for param in state.job_type.params:
        if not param.in_form:
            _read_carried(state, param, values, speaker, today)
            continue
        if param.repeated:
            values[param.name] = _read_lines(state, param, speaker, today)
            continue
        if param.kind == "flag":
            values[param.name] = state.inputs.get(param.name) == "true"
            continue
        raw = _field(state, f"{param.name}.new", param) or _field(state, param.name, param)
        if not raw:
            if param.required:
                state.errors[param.name] = speaker._("Fill in {label}.", label=label(param, speaker))
            else:
                values[param.name] = param.default
            continue
        try:
            values[param.name] = param.convert(raw, today)
        except UsageError as exc:
            state.errors[param.name] = exc.render(in_form(speaker))
    if not state.errors:
        try:
            state.job_type.check(values, today, now)
        except UsageError as exc:
            state.errors[_about(state, exc)] = exc.render(in_form(speaker))
    elif state.job_type.validate_at:
        # the day's rules on the fields that did read (a past 納期) are said with the other errors,
        # not in a second round once those are fixed
        try:
            state.job_type.validate_at(values, moment(now, today))
        except UsageError as exc:
            where = _about(state, exc)
            if where != FORM and where not in state.errors:
                state.errors[where] = exc.render(in_form(speaker))
    return None if state.errors else values


def _about(state: FormState, exc: UsageError) -> str:
    """Where a job type's rule is said: under the input of the parameter it names (a date's rule
    names its date: 納期の 2026年11月1日(日) は過去の日付です), else at the top of the form."""
    about = exc.text.values.get("param")
    if isinstance(about, Param) and about.in_form and not about.repeated and \
            any(p.name == about.name for p in state.job_type.params):
        return about.name
    return FORM


def _read_carried(state: FormState, param: Param, values: dict[str, Any], speaker: Speaker,
                  today: dt.date | None) -> None:
    """A value the form's prefill gave for a parameter it shows no input for, read as typed."""
    raw = state.carried.get(param.name, "")
    if param.kind == "flag":
        values[param.name] = raw == "true"
    elif not raw:
        values[param.name] = [] if param.repeated else param.default
    else:
        try:
            values[param.name] = [param.convert(raw, today)] if param.repeated else param.convert(raw, today)
        except UsageError as exc:
            state.errors[FORM] = exc.render(speaker)


def _field(state: FormState, name: str, param: Param) -> str:
    text = normalize_field(state.inputs.get(name, ""))
    return " ".join(text.split()) if param.rest else text


def _read_lines(state: FormState, param: Param, speaker: Speaker, today: dt.date | None) -> list[Any]:
    collected: list[Any] = []
    for index in range(1, state.count(param) + 1):
        if param.parts:
            pieces = [_field(state, f"{param.name}.{index}.{part}", param) for part in range(len(param.parts))]
            if not any(pieces):
                continue
            needed = len(pieces) - param.optional_parts
            missing = [name for name, piece in zip(part_labels(param, speaker)[:needed], pieces[:needed], strict=True)
                       if not piece]
            if missing:  # the parts left empty, never an optional one (a line's tax rate)
                state.errors[f"{param.name}.{index}"] = speaker._(
                    "Line {n}: fill in {parts}.", n=index, parts=Listed(missing).render(speaker))
                continue
            if _part_errors(state, param, index, pieces, speaker):
                continue
            raw = join_parts(param, pieces)
        else:
            raw = _field(state, f"{param.name}.{index}", param)
            if not raw:
                continue
        try:
            collected.append(param.convert(raw, today))
        except UsageError as exc:
            state.errors[f"{param.name}.{index}"] = speaker._("Line {n}: {problem}", n=index,
                                                              problem=exc.render(in_form(speaker)))
    if param.required and not collected and not any(k.startswith(f"{param.name}.") for k in state.errors):
        state.errors[param.name] = speaker._("Fill in {label}.", label=label(param, speaker))
    return collected


def _part_errors(state: FormState, param: Param, index: int, pieces: list[str], speaker: Speaker) -> bool:
    """Each filled-in part of line ``index`` read with its own rule (``Param.part_checks``); an
    error is kept under its input (``item.1.1``), named as the input is labelled. True if any."""
    found = False
    for part, (check, label, piece) in enumerate(zip(param.part_checks, part_labels(param, speaker), pieces,
                                                     strict=False)):
        if check is None or not piece:
            continue
        try:
            check(piece)
        except UsageError as exc:
            state.errors[f"{param.name}.{index}.{part}"] = speaker._("{label}: {problem}", label=label,
                                                                     problem=exc.render(in_form(speaker)))
            found = True
    return found


# -- the dialog -----------------------------------------------------------------------------------
def error_text(*messages: str, limit: int = MAX_ERROR):
    """Errors in one widget, cut so that together they stay near ``limit`` characters (a dialog of
    twelve lines, each with errors, stays within Chat's 32,000 bytes)."""
    most = max(limit // max(1, len(messages)), MAX_PART_ERROR)
    return _error_text(*(m if len(m) <= most else m[: most - 1] + "…" for m in messages))


def _shown(state: FormState, name: str, param: Param) -> str:
    """What an input shows: what was typed, cut just past what the parameter takes (so a value too
    long is still refused, and a dialog stays small whatever was sent)."""
    return state.inputs.get(name, "")[: param.max_length + 1]


def _shown_parts(state: FormState, param: Param, index: int, count: int) -> list[str]:
    """What a line's inputs show: together cut just past what the whole line takes (each part shown
    up to the line's length, twelve lines of four parts of 200 Japanese characters made a dialog of
    38,000 bytes, past what Chat shows); a line cut so is still longer than the line takes. Each
    part as it is read, without the spaces around it: a 品名 padded with 300 spaces left nothing of
    the line's budget for its 数量 and 単価, which then came back empty."""
    left, shown = param.max_length + 1, []
    for part in range(count):
        value = state.inputs.get(f"{param.name}.{index}.{part}", "").strip()[:left]
        left -= len(value)
        shown.append(value)
    return shown


def build(state: FormState, speaker: Speaker, known: dict[str, list[str]], opener: str) -> Card:
    job_type = state.job_type
    base = {"form": job_type.name, "by": opener,
            **{f"n.{p.name}": str(state.count(p)) for p in job_type.params if p.repeated and p.in_form},
            **{f"v.{name}": value for name, value in state.carried.items()},
            **{f"b.{key}": value for key, value in state.bound.items()}}
    sections: list[Section] = []
    if state.errors.get(FORM):
        problem = state.errors[FORM]
        if problem == "forged":
            problem = speaker._("The form sent fields it does not have; nothing was started. Open it again.")
        elif problem == "dropped":
            problem = speaker._("Part of what was typed is too long for the form and was left out; type the "
                                "command instead to keep it.")
        sections.append(Section((error_text(problem, limit=MAX_FORM_ERROR),)))
    fields: list[Widget] = []
    for param in job_type.params:
        if param.repeated or not param.in_form:
            continue
        fields.extend(_inputs(state, param, speaker, known))
        if param.name in state.errors:
            fields.append(error_text(state.errors[param.name]))
    if fields:
        sections.append(Section(tuple(fields)))
    for param in job_type.params:
        if param.repeated and param.in_form:
            sections.append(_lines(state, param, speaker, base))
    footer = Button(speaker._("Next"), ACTION, {**base, "step": "submit"}, filled=True)
    title = (job_type.native_name if speaker.language == "ja" else None) or job_type.name
    return Card(f"form-{job_type.name}", title, tuple(sections), subtitle=speaker._(job_type.help),
                footer=footer)


def _inputs(state: FormState, param: Param, speaker: Speaker, known: dict[str, list[str]]) -> list[Widget]:
    name, text = param.name, label(param, speaker)
    value = _shown(state, name, param)
    hint = speaker._(param.help) if param.help else ""
    if param.kind == "date":
        try:
            day = dt.date.fromisoformat(value) if value else None
        except ValueError:
            day = None
        return [DateInput(name, text, day)]
    if param.kind == "flag":
        return [Choice(name, text, (("true", hint or text),), ("true",) if value == "true" else (), kind="SWITCH")]
    if param.choices:
        items = tuple((c, c) for c in param.choices)
        if not param.required:
            items = (("", "—"),) + items
        return [Choice(name, text, items, (value,) if value else ())]
    options = list(dict.fromkeys(known.get(param.lookup or "", [])))[:MAX_KNOWN]
    if param.lookup and options:
        items = (("", "—"),) + tuple((v, v) for v in options)
        new = TextInput(f"{name}.new", speaker._("{label} (not in the list)", label=text),
                        _shown(state, f"{name}.new", param), hint)
        return [Choice(name, text, items, (value,) if value in options else ()), new]
    if param.kind in ("int", "float") and param.minimum is not None and param.maximum is not None:
        low, high = format(param.minimum, "g"), format(param.maximum, "g")
        hint = speaker._("{minimum} to {maximum}", minimum=low, maximum=high)
    value = value or _shown(state, f"{name}.new", param)
    return [TextInput(name, text, value, hint, multiline=param.rest)]


def _line_inputs(state: FormState, param: Param, index: int, parts: list[str], failed: list[int]) -> list[Widget]:
    """A line's inputs: the first alone, the rest two by two in columns (a last odd one alone).

    A part's error (Param.part_checks) is said under its input. A line's errors stay one widget (a
    dialog holds at most 100), so when several parts fail it goes under the row of the last of them,
    across the whole width: inside a column, 単価's error was said under 数量 (the column's input)."""
    name = param.name
    cells = [[TextInput(f"{name}.{index}.{part}", text, shown)]
             for part, (text, shown) in enumerate(zip(parts, _shown_parts(state, param, index, len(parts)),
                                                      strict=True))]
    error = error_text(*(state.errors[f"{name}.{index}.{p}"] for p in failed)) if failed else None
    if error is not None and len(failed) == 1:
        cells[failed[0]].append(error)
    count = len(cells)
    groups = [(0,)] + [(a, a + 1) for a in range(1, count - 1, 2)] + ([(count - 1,)] if count % 2 == 0 else [])
    widgets: list[Widget] = []
    for group in groups:
        if len(group) == 1:
            widgets.extend(cells[group[0]])
        else:
            widgets.append(Columns(tuple(cells[group[0]]), tuple(cells[group[1]])))
        if error is not None and len(failed) > 1 and max(failed) in group:
            widgets.append(error)
    return widgets


def _lines(state: FormState, param: Param, speaker: Speaker, base: dict[str, str]) -> Section:
    count, name = state.count(param), param.name
    parts = part_labels(param, speaker)
    rows: list[Widget] = []
    for index in range(1, count + 1):
        failed = [part for part in range(len(parts)) if f"{name}.{index}.{part}" in state.errors]
        if parts:
            rows.extend(_line_inputs(state, param, index, parts, failed))
        else:
            rows.append(TextInput(f"{name}.{index}", speaker._("Line {n}", n=index),
                                  _shown(state, f"{name}.{index}", param)))
        if f"{name}.{index}" in state.errors and not failed:
            rows.append(error_text(state.errors[f"{name}.{index}"]))
        if count > 1:
            rows.append(Buttons((Button(speaker._("Remove line {n}", n=index), ACTION,
                                        {**base, "step": "remove", "param": name, "line": str(index)}),)))
    if name in state.errors:
        rows.append(error_text(state.errors[name]))
    if count < MAX_LINES:
        rows.append(Buttons((Button(speaker._("Add a line"), ACTION, {**base, "step": "add", "param": name}),)))
    return Section(tuple(rows), header=label(param, speaker))
