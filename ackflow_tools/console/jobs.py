"""Pages of jobs: the list (filters, search, counts, paging, live), one job (steps, attempts,
tasks, thread, audit), the dead letters, the audit log; and the actions on them."""

from __future__ import annotations

import dataclasses
import json
import time

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for

from ackflow.app import operations, views
from ackflow.errors import DeadLetterNotFound, InvalidTransition, JobNotFound, NotCancellable
from ackflow.jobs.model import REQUESTER_LOWER, Job, JobStatus, requester_key
from ackflow.store.documents import JOBS
from ackflow.store.jobstore import JobFilter
from ackflow.taskqueue.base import task_name

from .app import actor_surface, console_config, local_path
from .filters import ID_RE, SEARCH_SCAN, SEARCH_SECONDS, cursor_text, fold, parse, parse_cursor
from .recorded import job_messages, job_traces, letter_error, recorded_error

blueprint = Blueprint("jobs", __name__)
COUNTS_TTL = 15.0  # seconds the per-status counts are reused while no job changes (aggregation queries)
COUNTS_FLOOR = 2.0  # …and at least this long however busy the jobs are
CASE_SCAN = 50  # newest jobs whose requesters a requester filter that found nothing is compared with
_counts: dict = {}


def counts(store, version: float | None = None) -> dict[str, int]:
    """The jobs per status, counted again when a job has changed since (``version``: the newest
    ``updated_at``, which the live pages poll anyway), at most every COUNTS_FLOOR seconds."""
    cached = _counts.get(id(store))
    now = time.monotonic()
    if cached:
        age = now - cached[0]
        if age < COUNTS_FLOOR or (age < COUNTS_TTL and (version is None or version == cached[2])):
            return cached[1]
    values = {status.value: store.count_jobs(status) for status in JobStatus}
    _counts[id(store)] = (now, values, version)
    return values


def forget_counts() -> None:
    _counts.clear()


def _matches(row: dict, wanted: str) -> bool:
    """Whether a stored job (its document, not yet a Job: most rows a search reads are dropped,
    and building a Job took more than half of each row's time) contains the text."""
    requester = row.get("requester") or {}
    label = requester.get("display_name") or requester.get("email") or requester.get("name") or ""
    haystack = " ".join([str(row.get("id", "")), str(row.get("type", "")), label, requester.get("email") or "",
                         json.dumps(row.get("params"), ensure_ascii=False)])
    return wanted in fold(haystack)


def _search(store, query, limit: int):
    """Jobs whose id, type, requester or parameters contain the text: the filters' index is read
    newest first from ``query.after`` (a person's search, not a text index), until a page of
    matches is found or the scan budget is spent (SEARCH_SCAN jobs, SEARCH_SECONDS). Each read
    is sized to half what the time left allows at the pace so far, so the page keeps to the
    budget instead of overrunning it by a whole read (500 jobs took 80 ms on a busy machine).
    Returns the matches, how many jobs were read, and where to go on (the last job read) if any
    are left."""
    wanted = fold(query.search)
    found, after, scanned = [], query.after, 0
    started = time.monotonic()
    size = 100  # the first read is small (a recent match shows at once) and always made
    while True:
        rows = store.job_rows(query.filters, size + 1, after)
        for number, row in enumerate(rows[:size], 1):
            scanned, after = scanned + 1, (row["created_at"], row["id"])
            if _matches(row, wanted):
                found.append(Job.from_dict(row))
            if len(found) == limit:
                return found, scanned, after if number < len(rows) else None
        if len(rows) <= size:
            return found, scanned, None  # read to the oldest
        spent = time.monotonic() - started
        left = SEARCH_SCAN - scanned
        affordable = int((SEARCH_SECONDS - spent) / 2 / max(spent / scanned, 1e-6))  # half the time left
        if left <= 0 or affordable < min(50, left):
            return found, scanned, after
        size = min(500, left, affordable)


def _requester_in_other_case(store, filters: JobFilter, search: str = "") -> str | None:
    """A stored requester address that differs from the typed one only in upper and lower case (or
    width), for a requester filter that found nothing. The filter finds a job's address in any case
    through the lowercase copy stored with it, which jobs stored before that copy lack (they are
    found by their exact address): this names such an address, of a job the filter did not read (one
    stored before the copy; one whose lowercase is not the typed address's: straße, STRASSE) which
    the other filters and the search keep (naming a job's address that the filter read led to "no
    jobs" again), where it costs little on either store and no new index: the lowercase address (as Chat
    sends them), one read of its exact index; else the requesters of the newest CASE_SCAN jobs the
    other filters keep."""
    typed = filters.requester_email
    lower = requester_key(typed)  # what the filter read the lowercase copies by
    wanted = fold(search) if search else ""

    def unread(row: dict) -> bool:  # a job the filter (and the search) did not read, which it would keep
        return row.get(REQUESTER_LOWER) != lower and (not wanted or _matches(row, wanted))

    if lower != typed:
        exact = dataclasses.replace(filters, requester_email=lower).alternatives()[-1]  # requester_email ==
        if any(unread(row) for row in store.docs.query(JOBS, exact, "created_at", True, CASE_SCAN)):
            return lower
    for row in store.job_rows(dataclasses.replace(filters, requester_email=None), CASE_SCAN):
        email = row.get("requester_email") or ""
        if email != typed and fold(email) == fold(typed) and unread(row):
            return email
    return None


@blueprint.route("/jobs")
@blueprint.route("/jobs.json", endpoint="index_json")
def index():
    config = console_config()
    store = config.runtime.store
    query = parse(request.args, config.time_zone, g.speaker)
    jobs, next_cursor, scanned = [], None, None
    if query.search and ID_RE.match(query.search):
        try:
            job = store.get_job(query.search)
            if not request.path.endswith(".json"):
                return redirect(url_for("jobs.detail", job_id=job.id))
            jobs = [job]
        except JobNotFound:
            pass
    if query.search and not jobs:
        jobs, scanned, next_cursor = _search(store, query, config.page_size)
    elif not query.search:
        page = store.find_jobs(query.filters, limit=config.page_size, after=query.after)
        jobs, next_cursor = page.jobs, page.next
    other_case = None
    if not jobs and query.filters.requester_email and not query.after:
        other_case = _requester_in_other_case(store, query.filters, query.search)
    version = _latest(store)
    status_counts = counts(store, version)
    if request.path.endswith(".json"):
        return jsonify({"jobs": [j.to_dict() for j in jobs], "next": cursor_text(next_cursor),
                        "counts": status_counts, **({"requester_in_other_case": other_case} if other_case else {})})
    types = sorted(t.name for t in config.runtime.registry)
    # the live list asks for this page again: from what was understood of the query, never the raw
    # query string (its names would become url_for's own arguments: ?endpoint=x was a 500)
    fragment = url_for("jobs.index", partial=1, **query.args,
                       **({"after": cursor_text(query.after)} if query.after else {}))
    context = dict(jobs=jobs, query=query, next_cursor=cursor_text(next_cursor), counts=status_counts,
                   scanned=scanned, page_size=config.page_size, types=types, statuses=[s.value for s in JobStatus],
                   now=time.time(), version=version, fragment=fragment, rescan=bool(scanned is not None),
                   other_case=other_case)
    if request.args.get("partial"):
        return render_template("jobs_list.html", **context)
    return render_template("jobs.html", **context)


def _latest(store) -> float:
    """When the newest change to any job happened: one indexed read (what live pages poll)."""
    rows = store.docs.query("jobs", [], "updated_at", True, 1)
    return rows[0]["updated_at"] if rows else 0.0


@blueprint.route("/api/changes")
def changes():
    return jsonify({"v": _latest(console_config().runtime.store)})


@blueprint.route("/jobs/<job_id>")
@blueprint.route("/jobs/<job_id>.json", endpoint="detail_json")
def detail(job_id: str):
    if not ID_RE.match(job_id):
        abort(404, description=g.speaker._("There is no job {job}.", job=job_id))
    config = console_config()
    store = config.runtime.store
    job = store.get_job(job_id)
    if request.path.endswith(".json"):
        return jsonify(job.to_dict())
    audit = store.list_audit(job_id=job.id, limit=50)
    letters = store.dead_letters_of(job.id)
    tasks = [task_name(job.id, index, job.generation) for index in range(len(job.steps))]
    job_type = _job_type(config, job.type)
    traces = job_traces(job)  # what tells an exception's raw text from a message of the job's own
    messages = job_messages(job)  # the job's own messages, said in the reader's language
    context = dict(job=job, audit=audit, letters=letters, tasks=tasks, now=time.time(), job_type=job_type,
                   param_rows=_param_rows(job_type, job.params, g.speaker),
                   result_parts=views.result_parts(job.result, job_type, g.speaker) if job.result else ([], ()),
                   step_name=lambda index: _step_name(job_type, job, index, g.speaker),
                   error_of=lambda text: recorded_error(text, g.speaker, traces, messages),
                   letter_error=lambda letter: letter_error(letter, g.speaker, traces, messages))
    if request.args.get("partial"):
        return render_template("job_body.html", **context)
    return render_template("job.html", **context)


def _param_rows(job_type, params: dict, speaker) -> list[tuple[str, str]]:
    """The parameters as the confirmation card named them: each by its title in the person's
    language (案件番号, not case), its value as they read it (2026年12月1日(火), ¥350,000)."""
    declared = {p.name: p for p in job_type.params} if job_type else {}
    rows = []
    for key, value in params.items():
        param = declared.get(key)
        rows.append((param.field_label(speaker) if param is not None else key,
                     views.shown_value(job_type, key, value, speaker)))
    return rows


def _step_name(job_type, job: Job, index, speaker) -> str:
    if not isinstance(index, int) or not 0 <= index < len(job.steps):
        return str(index)
    return views.step_title(job_type, index, job.steps[index].name, speaker)


def _job_type(config, name: str):
    return next((t for t in config.runtime.registry if t.name == name), None)


@blueprint.route("/api/jobs/<job_id>")
def job_version(job_id: str):
    if not ID_RE.match(job_id):
        abort(404)
    job = console_config().runtime.store.get_job(job_id)
    return jsonify({"v": job.updated_at, "status": job.status.value})


# -- actions -------------------------------------------------------------------------------------
def _confirmed(title: str, question: str, back: str):
    """Every action asks first: the script asks in the page; without it, this page asks."""
    if request.form.get("confirmed") == "1":
        return None
    return render_template("confirm.html", title=title, question=question, back=back, action=request.path)


@blueprint.route("/jobs/<job_id>/retry", methods=["POST"])
def retry(job_id: str):
    config = console_config()
    speaker = g.speaker
    back = url_for("jobs.detail", job_id=job_id)
    asked = _confirmed(speaker._("Retry"), speaker._("Retry job {job} from the step that failed?", job=job_id), back)
    if asked:
        return asked
    try:
        job = operations.retry_job(config.runtime, job_id, config.operator, actor_surface(config))
    except InvalidTransition as exc:  # retried or cancelled meanwhile (another window, the chat)
        flash(speaker._("Job {job_id} is {status}; only a FAILED job can be retried.", job_id=job_id,
                        status=views.status_label(exc.current, speaker)))
        return redirect(back)
    forget_counts()
    flash(speaker._("Job {job} was sent again: now {status}.", job=job.id,
                    status=views.status_label(job.status, speaker)))
    return redirect(back)


@blueprint.route("/jobs/<job_id>/cancel", methods=["POST"])
def cancel(job_id: str):
    config = console_config()
    speaker = g.speaker
    back = url_for("jobs.detail", job_id=job_id)
    asked = _confirmed(speaker._("Cancel"), speaker._("Cancel job {job}?", job=job_id), back)
    if asked:
        return asked
    try:
        job = operations.cancel_job(config.runtime, job_id, config.operator, actor_surface(config))
    except InvalidTransition as exc:  # finished meanwhile, or cancelled from another window
        flash(speaker._("Job {job_id} is already {status}; there is nothing to cancel.", job_id=job_id,
                        status=views.status_label(exc.current, speaker)))
        return redirect(back)
    except NotCancellable as exc:
        job = config.runtime.store.get_job(job_id)
        job_type = config.runtime.registry.get(job.type) if job.type in config.runtime.registry else None
        flash(views.not_cancellable(job, job_type, exc.step, speaker))
        return redirect(back)
    forget_counts()
    flash(speaker._("Job {job} is {status}.", job=job.id, status=views.status_label(job.status, speaker)))
    return redirect(back)


def page_after(damaged: str) -> tuple[tuple[float, str] | None, list[str]]:
    """Where a page of a newest-first list starts: its link's ``after`` cursor, or the newest with
    ``damaged`` (what the page says of a link that is not one) among the page's problems."""
    if not request.args.get("after"):
        return None, []
    try:
        return parse_cursor(request.args["after"][:200]), []
    except ValueError:
        return None, [damaged]


@blueprint.route("/dead")
def dead_letters():
    config = console_config()
    after, problems = page_after(g.speaker._("the page link is damaged; showing the newest dead letters"))
    letters, next_cursor = config.runtime.store.list_dead_letters_page(limit=config.page_size, after=after)
    return render_template("dead.html", letters=letters, next_cursor=cursor_text(next_cursor), now=time.time(),
                           problems=problems)


@blueprint.route("/dead/<letter_id>/discard", methods=["POST"])
def discard(letter_id: str):
    config = console_config()
    speaker = g.speaker
    back = local_path(request.form.get("back"), url_for("jobs.dead_letters"))
    asked = _confirmed(speaker._("Discard"), speaker._("Discard dead letter {letter}? The job stays as it is.",
                                                       letter=letter_id), back)
    if asked:
        return asked
    try:
        letter = operations.discard_dead_letter(config.runtime, letter_id, config.operator, actor_surface(config))
    except DeadLetterNotFound:  # discarded meanwhile (another window): nothing left to do
        flash(speaker._("Dead letter {letter} is no longer there: it was discarded already.", letter=letter_id))
        return redirect(back)
    flash(speaker._("Dead letter {letter} discarded.", letter=letter.id))
    return redirect(back)


@blueprint.route("/audit")
def audit():
    config = console_config()
    after, problems = page_after(g.speaker._("the page link is damaged; showing the newest audit entries"))
    entries, next_cursor = config.runtime.store.list_audit_page(limit=config.page_size, after=after)
    return render_template("audit.html", entries=entries, next_cursor=cursor_text(next_cursor), problems=problems)
