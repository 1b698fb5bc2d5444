"""Job types and the registry that holds them.

A job type declares everything the app needs to offer it in Chat and run it on a queue: its
name and other names (``aliases``: 新規案件 for newcase), a one-line help, typed parameters, the
confirmation wording, the queue, a retry limit, a timeout per step, the ordered steps and, for
periodic jobs, a cron schedule (read in the deployment's time zone). The parser, the help text,
the confirmation card and the queue list all come from here.

Texts a person reads (help, confirmation wording, parameter titles and help, step titles, result
labels) are declared in English with ``N_()`` and said in the person's language where they are
shown (``functions/ackflow/i18n``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import UnknownJobType, UsageError
from ..queues import QueueDefinition
from .normalize import normalize
from .params import Param, parse_params

if TYPE_CHECKING:
    from ..i18n import Speaker
    from .context import StepContext

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
MAX_ALIAS = 30
# The commands every deployment has, answered by the app itself, and their other names.
BUILTIN_ALIASES: dict[str, tuple[str, ...]] = {
    "help": ("ヘルプ", "使い方"), "status": ("状況",), "jobs": ("一覧",), "cancel": ("取消", "取り消し"),
    "retry": ("再実行",),
}
# The slash command ids of the commands every deployment has (the Chat app's configuration gives
# each command an id; deploy.md lists them all). Chat accepts ids 1–1000.
BUILTIN_SLASH_IDS: dict[int, str] = {1: "help", 2: "status", 3: "jobs", 4: "cancel", 5: "retry"}
MAX_SLASH_ID = 1000
# The readings of the builtins' names, in hiragana (as a phone sends them when the IME's conversion
# was skipped), and the everyday words for what they do (キャンセル, リトライ; 中止 is the card's own
# Cancel button): suggestions only, never names (とりけし gets “did you mean 取消?”, not a cancel).
BUILTIN_READINGS: dict[str, tuple[str, ...]] = {
    "help": ("へるぷ", "つかいかた", "?"), "status": ("じょうきょう", "ステータス"), "jobs": ("いちらん",),
    "cancel": ("とりけし", "キャンセル", "中止"), "retry": ("さいじっこう", "リトライ", "やり直し"),
}


def check_aliases(owner: str, aliases: tuple[str, ...]) -> None:
    for alias in aliases:
        if not alias or len(alias) > MAX_ALIAS or alias != normalize(alias).lower() or any(
                c.isspace() or c in "\"':：/" for c in alias):
            raise ValueError(f"{owner}: alias {alias!r} must be one word, as it reads normalised and in lower case")
MIN_TIMEOUT, MAX_TIMEOUT = 15.0, 1800.0  # Cloud Tasks' dispatch deadline range

StepFn = Callable[["StepContext"], "dict | None"]


class Reads(Protocol):
    """What a job type's ``precheck`` may do with the job store: read one document by its collection
    and id (None when there is none). Nothing else: no query, no write. ``now``: the runtime's
    clock (seconds since the epoch), for what depends on the day."""

    now: float

    def get(self, collection: str, doc_id: str) -> dict | None: ...


@dataclass(frozen=True)
class Step:
    name: str
    run: StepFn
    title: str = ""  # declared with N_(): shown translated

    @property
    def label(self) -> str:
        return self.title or self.name


@dataclass(frozen=True)
class JobType:
    name: str
    help: str  # declared with N_(): shown translated
    steps: tuple[Step, ...]
    params: tuple[Param, ...] = ()
    confirm: str = ""  # e.g. N_("Echo “{text}”"); translated, then formatted with the parameters
    queue: str = "ackflow-default"
    timeout: float = 60.0  # per step; becomes the task's dispatch deadline and the claim's lease
    max_attempts: int | None = None  # None: as many as the queue allows
    schedule: str | None = None  # cron, for periodic jobs
    # periodic: whether a slot of the schedule starts a job, asked with the runtime and the slot (an
    # aware datetime); None: every slot. E.g. only the first working day of a week.
    runs_on: Callable[[Any, dt.datetime], bool] | None = None
    validate: Callable[[dict], None] | None = None  # cross-parameter rules; raise UsageError
    # rules that depend on the day (a due date not in the past): ``validate_at(values, now)``, ``now``
    # the runtime's clock (seconds since the epoch), so that tests set it; raise UsageError
    validate_at: Callable[[dict, float], None] | None = None
    # rules that depend on what the store holds now (a case already delivered is not started):
    # ``precheck(values, reads)`` reads at most a document or two through ``reads`` (``Reads``) and
    # raises UsageError to refuse, saying why and what to do instead; it may return notes for the
    # card (Msgs: what the job will do with that state, e.g. which estimate version and amount an
    # order accepts). Asked where the card would be shown (a typed command, a form's submit) and
    # again at Run, before the job is recorded: notes that changed meanwhile refuse the Run. A store
    # that does not answer shows the card all the same, so the steps must refuse on their own too
    # (the state may change between the card and the run). Reads only, quickly: Chat waits.
    precheck: Callable[[dict, Reads], Iterable | None] | None = field(default=None, compare=False)
    examples: tuple[str, ...] = ()
    slash_command_id: int | None = None
    result_fields: tuple[str, ...] = field(default=())  # output keys to show on the result card
    # result keys whose text is a list of lines shown whole (a digest's cases), up to views.LONG_VALUE
    # characters cut at a line; any other value is cut at views.MAX_VALUE
    long_results: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()  # modules the steps import (e.g. an extra's); checked, not imported
    requires_hint: str = ""  # how to get them, e.g. "install the office extra: pip install 'ackflow[office]'"
    aliases: tuple[str, ...] = ()  # other names a person may type, e.g. ("新規案件",)
    readings: tuple[str, ...] = ()  # the names' readings in hiragana, for suggestions only: ("しんきあんけん",)
    no_cancel_after: str = ""  # a step after whose success the job may not be cancelled (it holds what the step
    # took, e.g. an invoice number, which must be issued: retried if it fails, never dropped)
    admins_only: bool = False  # only ACKFLOW_ADMINS may ask for it: refused at the command, never offered
    result_labels: dict[str, str] = field(default_factory=dict, compare=False)  # result key → N_() label
    # Forms (app/dialogs.py): ``prefill(runtime, event, values, bound)`` returns the values a form opens
    # with, from what was typed (``values``) and the opening button's parameters named in
    # ``form_context`` (``bound``, kept in the form's buttons); it may raise UsageError to answer
    # with that instead of a form. ``form_submit(runtime, event, values, bound)`` makes the reply a
    # valid submit closes the form with (default: the confirmation card, ``confirm.ask``).
    prefill: Callable[..., dict] | None = field(default=None, compare=False)
    form_submit: Callable[..., Any] | None = field(default=None, compare=False)
    form_context: tuple[str, ...] = ()
    # A job that failed for good: ``on_failed(runtime, job)`` runs once its failure card is shown
    # (best effort: an error is logged; run it again from a sweep task if it must happen), and
    # ``failure_note(job, speaker)`` may add a sentence to the card (e.g. what the job holds and how
    # to finish it), or None.
    on_failed: Callable[..., Any] | None = field(default=None, compare=False)
    failure_note: Callable[..., str | None] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not NAME_RE.match(self.name):
            raise ValueError(f"job type name {self.name!r}: lowercase letters, digits, hyphens")
        check_aliases(f"job type {self.name}", self.aliases)
        check_aliases(f"job type {self.name}", self.readings)
        if not self.steps:
            raise ValueError(f"job type {self.name} has no steps")
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"job type {self.name} repeats a step name")
        if not MIN_TIMEOUT <= self.timeout <= MAX_TIMEOUT:
            raise ValueError(f"job type {self.name}: timeout must be {MIN_TIMEOUT:g}–{MAX_TIMEOUT:g} s")
        if sum(1 for p in self.params if p.rest) > 1:
            raise ValueError(f"job type {self.name}: at most one parameter may take the rest")
        params = [p.name for p in self.params]
        try:
            named_in_confirm = placeholders(self.confirm)
        except ValueError as exc:
            raise ValueError(f"job type {self.name}: confirm {exc}") from None
        for named in named_in_confirm:
            if named not in params:  # the card would show the braces to everyone
                raise ValueError(f"job type {self.name}: confirm names {{{named}}}, which is not one of its "
                                 f"parameters ({', '.join(params) or 'it has none'})")
        if self.no_cancel_after and self.no_cancel_after not in names:  # else a cancel would never be refused
            raise ValueError(f"job type {self.name}: no_cancel_after names {self.no_cancel_after!r}, which is "
                             f"not one of its steps ({', '.join(names)})")
        if self.schedule is not None:
            check_schedule(self.name, self.schedule)

    def missing_modules(self) -> tuple[str, ...]:
        """The ``requires`` modules this Python cannot import (found without importing them)."""
        import importlib.util

        missing = []
        for name in self.requires:
            try:
                found = importlib.util.find_spec(name) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                missing.append(name)
        return tuple(missing)

    @property
    def usage(self) -> str:
        return " ".join([self.name, *(p.usage() for p in self.params)])

    @property
    def native_name(self) -> str | None:
        """The first alias that is not ASCII (a Japanese name), if any."""
        return next((a for a in self.aliases if not a.isascii()), None)

    def usage_for(self, speaker: Speaker) -> str:
        """The usage line as ``speaker`` reads it: Japanese names and labels for a Japanese speaker."""
        name = (self.native_name if speaker.language == "ja" else None) or self.name
        return " ".join([name, *(p.usage(speaker) for p in self.params)])

    def example_for(self, speaker: Speaker) -> str | None:
        """An example command as ``speaker`` types it: for a Japanese speaker one written with the
        Japanese name (新規案件 ACME「…」 納期：12月1日) or its options' (fail 回数：2) if there is one,
        else the first."""
        japanese = [e for e in self.examples if e.split(" ", 1)[0] in self.aliases or "：" in e]
        plain = [e for e in self.examples if e not in japanese]
        ordered = japanese + plain if speaker.language == "ja" else plain + japanese
        return ordered[0] if ordered else None

    def parse(self, words: list[str], today: dt.date | None = None, now: float | None = None) -> dict[str, Any]:
        """Typed values from the words after the command (``today``: in the person's time zone;
        ``now``: the runtime's clock, for ``validate_at``)."""
        try:
            values = parse_params(self.params, words, today)
            self.check(values, today, now)
        except UsageError as exc:
            exc.usage = self.usage
            raise
        return values

    def check(self, values: dict[str, Any], today: dt.date | None = None, now: float | None = None) -> None:
        """The job type's own rules on parsed values (``validate``, then ``validate_at`` with ``now``;
        without it, noon UTC of ``today``, which is ``today`` in every office's time zone, or else
        the wall clock)."""
        if self.validate:
            self.validate(values)
        if self.validate_at:
            self.validate_at(values, moment(now, today))

    def confirmation_text(self, params: dict, speaker: Speaker | None = None) -> str:
        """The confirmation wording in ``speaker``'s language, filled in with the parameters as
        they read them (a date as 2026年12月1日(火), an amount as ¥350,000)."""
        if speaker is None:
            from ..i18n import ENGLISH as speaker
        if not self.confirm:
            return speaker._("Run {name}?", name=self.name)
        shown = dict(params)
        for param in self.params:
            value = params.get(param.name)
            if value not in (None, "") and param.kind in ("date", "yen"):
                try:
                    shown[param.name] = speaker.date(value) if param.kind == "date" else speaker.yen(value)
                except (TypeError, ValueError):
                    pass
        try:
            return speaker._(self.confirm).format(**shown)
        except (KeyError, IndexError, ValueError):
            return speaker._(self.confirm)

    def result_label(self, key: str, speaker: Speaker) -> str:
        label = self.result_labels.get(key)
        return speaker._(label) if label else key


def placeholders(text: str) -> list[str]:
    """The names a text's ``{placeholders}`` fill in (``{due}``, ``{item[0]}`` → ``due``, ``item``)."""
    import string

    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
    except ValueError as exc:  # an unmatched brace
        raise ValueError(f"{text!r} is not a text its values can fill in: {exc}") from None
    return [re.split(r"[.\[]", field, maxsplit=1)[0] for field in fields]


def moment(now: float | None, today: dt.date | None = None) -> float:
    """``now``, else noon UTC of ``today`` (a day in every time zone within 12 hours of UTC), else
    the wall clock."""
    if now is not None:
        return now
    if today is not None:
        return dt.datetime(today.year, today.month, today.day, 12, tzinfo=dt.UTC).timestamp()
    import time

    return time.time()


def check_schedule(name: str, schedule: str) -> None:
    """Refuse a cron expression the sweep could not read, when the job type is declared rather
    than on every sweep. The sweep reads it with cronsim, in the deployment's time zone
    (ACKFLOW_TIME_ZONE)."""
    from cronsim import CronSim, CronSimError

    try:
        CronSim(schedule, dt.datetime(2000, 1, 1))
    except CronSimError as exc:
        raise ValueError(f"job type {name}: schedule {schedule!r} is not a cron expression the sweep "
                         f"can read ({exc}); use five fields, minute hour day month weekday, "
                         f"in the deployment's time zone, e.g. '0 9 * * 1-5'") from exc


@dataclass(frozen=True)
class Command:
    name: str
    help: str  # declared with N_(): shown translated
    usage: str  # e.g. "case CASE_NUMBER"; its words after the name are translated (N_ them)
    handler: Callable[..., Any]
    slash_command_id: int | None = None
    aliases: tuple[str, ...] = ()  # other names a person may type, e.g. ("案件",)
    readings: tuple[str, ...] = ()  # the names' readings in hiragana, for suggestions only: ("あんけん",)

    def __post_init__(self) -> None:
        check_aliases(f"command {self.name}", self.aliases)
        check_aliases(f"command {self.name}", self.readings)

    @property
    def native_name(self) -> str | None:
        return next((a for a in self.aliases if not a.isascii()), None)

    def usage_for(self, speaker: Speaker) -> str:
        name, _, rest = self.usage.partition(" ")
        name = (self.native_name if speaker.language == "ja" else None) or name
        return " ".join([name, *(speaker._(word) for word in rest.split())])


class Registry:
    """Job types by name. Duplicate names and unknown queues are refused when a type is added."""

    def __init__(self, queues: dict[str, QueueDefinition]):
        self.queues = dict(queues)
        self._types: dict[str, JobType] = {}
        self.services: dict[str, Callable[[Any], Any]] = {}
        self.commands: dict[str, Command] = {}
        self.actions: dict[str, Callable[..., Any]] = {}
        self.endpoints: dict[str, Callable[..., Any]] = {}
        self.sweep_tasks: dict[str, Callable[..., Any]] = {}
        self.lookups: dict[str, Callable[..., list[str]]] = {}
        self._missing: dict[str, tuple[str, ...]] = {}
        # every name a person may type → the command or job type it names (builtins included)
        self._names: dict[str, str] = {name: name for name in BUILTIN_ALIASES}
        self._names.update({alias: name for name, aliases in BUILTIN_ALIASES.items() for alias in aliases})
        # readings → what they name, for suggestions only (``suggestions``); a reading two share names both
        self._readings: dict[str, set[str]] = {}
        for name, readings in BUILTIN_READINGS.items():
            self._add_readings(name, readings)
        self._slash_ids: dict[int, str] = dict(BUILTIN_SLASH_IDS)  # slash command id → what it runs

    def _check_slash_id(self, name: str, number: int | None) -> None:
        """One slash command id names one command: a second would make Chat's /command run another."""
        if number is None:
            return
        if not 1 <= number <= MAX_SLASH_ID:
            raise ValueError(f"{name!r}: slash command id {number} is not one Chat accepts (1–{MAX_SLASH_ID})")
        holder = self._slash_ids.get(number)
        if holder is not None and holder != name:
            raise ValueError(f"{name!r}: slash command id {number} is already /{holder}'s")

    def _record_slash_id(self, name: str, number: int | None) -> None:
        self._slash_ids = {k: v for k, v in self._slash_ids.items() if v != name}  # a replacement's old id
        if number is not None:
            self._slash_ids[number] = name

    def _claim_names(self, name: str, aliases: tuple[str, ...], replacing: bool = False,
                     readings: tuple[str, ...] = ()) -> None:
        taken = [n for n in (name, *aliases) if n in self._names and not (replacing and self._names[n] == name)]
        if taken:
            raise ValueError(f"{name!r}: the name {taken[0]!r} is already taken (by {self._names[taken[0]]!r})")
        if replacing:
            self._names = {k: v for k, v in self._names.items() if v != name}
            for named in self._readings.values():
                named.discard(name)
        self._names.update({n: name for n in (name, *aliases)})
        self._add_readings(name, readings)

    def _add_readings(self, name: str, readings: tuple[str, ...]) -> None:
        for reading in readings:
            self._readings.setdefault(reading, set()).add(name)

    def resolve(self, word: str) -> str | None:
        """The command or job type that ``word`` (a name or an alias, any case) names, or None."""
        return self._names.get(word.lower())

    def names(self) -> dict[str, str]:
        """Every name and alias → what it names (for suggestions)."""
        return dict(self._names)

    def readings(self) -> list[tuple[str, str]]:
        """Every reading of a name in hiragana and what it names (for suggestions only)."""
        return [(reading, name) for reading, named in self._readings.items() for name in sorted(named)]

    def service(self, name: str, factory: Callable[[Any], Any]) -> None:
        """Offer steps a service (``ctx.services.<name>``), created on first use by
        ``factory(services)``."""
        if name in self.services:
            raise ValueError(f"service {name!r} is already registered")
        self.services[name] = factory

    def command(self, command: Command) -> Command:
        """A command answered at once, without a job (e.g. a lookup). Its handler gets
        ``(runtime, event, words)`` and returns a Reply; it must be quick (Chat waits for it)."""
        if command.name in self.commands or command.name in self._types:
            raise ValueError(f"command {command.name!r} is already registered")
        if not NAME_RE.match(command.name):
            raise ValueError(f"command name {command.name!r}: lowercase letters, digits, hyphens")
        self._check_slash_id(command.name, command.slash_command_id)
        self._claim_names(command.name, command.aliases, readings=command.readings)
        self._record_slash_id(command.name, command.slash_command_id)
        self.commands[command.name] = command
        return command

    def action(self, name: str, handler: Callable[..., Any]) -> None:
        """A button of the deployment's own cards: a click whose action is ``name`` is answered by
        ``handler(runtime, event)`` with a Reply, at once (the webhook; Chat waits for it)."""
        if name in self.actions or name in ("run", "cancel", "retry"):
            raise ValueError(f"card action {name!r} is already registered")
        self.actions[name] = handler

    def endpoint(self, path: str, handler: Callable[..., Any]) -> None:
        """A path of the worker besides tasks, e.g. a Pub/Sub push subscription's: a POST to
        ``<worker>/<path>`` whose bearer token verifies is answered by ``handler(runtime, request)``
        with an HttpResponse (2xx: done; 503: the sender retries)."""
        if not NAME_RE.match(path) or path in self.endpoints or path == "sweep":
            raise ValueError(f"worker endpoint {path!r} is taken or not a plain name")
        self.endpoints[path] = handler

    def sweep_task(self, name: str, task: Callable[..., Any]) -> None:
        """Work for the periodic sweep: ``task(runtime, now)`` returns a summary for the sweep's
        report (or None); an exception is reported, never stops the rest of the sweep."""
        if name in self.sweep_tasks:
            raise ValueError(f"sweep task {name!r} is already registered")
        self.sweep_tasks[name] = task

    def lookup(self, name: str, find: Callable[..., list[str]]) -> None:
        """Known values for a parameter's dialog input (``Param(lookup=name)``, e.g. the clients of
        earlier cases): ``find(runtime)`` returns them, quickly (Chat waits for the dialog)."""
        if name in self.lookups:
            raise ValueError(f"lookup {name!r} is already registered")
        self.lookups[name] = find

    def add(self, job_type: JobType) -> JobType:
        if job_type.name in self._types or job_type.name in self.commands:
            raise ValueError(f"job type {job_type.name!r} is already registered")
        self._check_queue(job_type)
        self._check_slash_id(job_type.name, job_type.slash_command_id)
        self._claim_names(job_type.name, job_type.aliases, readings=job_type.readings)
        self._record_slash_id(job_type.name, job_type.slash_command_id)
        self._types[job_type.name] = job_type
        self._missing.pop(job_type.name, None)  # the replacement may need other modules
        return job_type

    def replace(self, job_type: JobType) -> JobType:
        """Swap a registered job type for another of the same name (a deployment's own version).
        The replacement is checked first: a refused one leaves the registered type in place."""
        if job_type.name not in self._types:
            raise UnknownJobType(f"unknown job type {job_type.name!r}")
        self._check_queue(job_type)
        self._check_slash_id(job_type.name, job_type.slash_command_id)
        self._claim_names(job_type.name, job_type.aliases, replacing=True, readings=job_type.readings)
        self._record_slash_id(job_type.name, job_type.slash_command_id)
        self._types[job_type.name] = job_type
        self._missing.pop(job_type.name, None)  # the replacement may need other modules
        return job_type

    def _check_queue(self, job_type: JobType) -> None:
        if job_type.queue not in self.queues:
            raise ValueError(f"job type {job_type.name!r} names queue {job_type.queue!r}, which is not "
                             f"defined (defined: {', '.join(sorted(self.queues))})")
        queue = self.queues[job_type.queue]
        if job_type.timeout > queue.max_step_timeout:
            raise ValueError(f"job type {job_type.name!r} has a {job_type.timeout:g} s timeout; queue "
                             f"{queue.name} allows steps of at most {queue.max_step_timeout:g} s")
        if job_type.max_attempts is not None and queue.max_attempts != -1 \
                and job_type.max_attempts > queue.max_attempts:
            raise ValueError(f"job type {job_type.name!r} wants {job_type.max_attempts} attempts; "
                             f"queue {queue.name} allows {queue.max_attempts}")

    def job(self, name: str, help: str, **options) -> Callable[[StepFn], StepFn]:
        """Decorator for a one-step job type: the function is its only step."""

        def register(fn: StepFn) -> StepFn:
            self.add(JobType(name=name, help=help, steps=(Step(name, fn),), **options))
            return fn

        return register

    def get(self, name: str) -> JobType:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownJobType(f"unknown job type {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[JobType]:
        return iter(self._types.values())

    def missing_modules(self, name: str) -> tuple[str, ...]:
        """What the job type needs and this deployment lacks (looked up once per type)."""
        if name not in self._missing:
            self._missing[name] = self.get(name).missing_modules()
        return self._missing[name]

    def queue_of(self, job_type: JobType) -> QueueDefinition:
        return self.queues[job_type.queue]

    def max_attempts(self, job_type: JobType) -> int:
        """Attempts per step: the job type's own limit, or its queue's (-1 = unlimited)."""
        return job_type.max_attempts or self.queue_of(job_type).max_attempts
