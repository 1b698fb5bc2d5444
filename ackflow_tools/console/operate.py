"""Pages of the running system: the queues (state, limits, tasks waiting; pause, resume, redrive),
the periodic jobs (schedule in the office's time zone, last and next run; run now), and the
office's cases."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import TYPE_CHECKING

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from ackflow.app import audit, operations
from ackflow.errors import AckflowError
from ackflow.i18n import L_, N_
from ackflow.ids import new_id
from ackflow.store.jobstore import JobFilter

from .app import actor_surface, console_config
from .filters import cursor_text
from .jobs import _confirmed, forget_counts, page_after
from .recorded import Shown

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime

blueprint = Blueprint("operate", __name__)
KEY_RE = re.compile(r"^[a-z0-9]{6,20}$")
CASE_RE = re.compile(r"^[0-9A-Za-z-]{1,40}$")
# The queues' descriptions (functions/workers/queues.json, which Terraform reads too), for the
# catalog: the queues page shows each in the person's language (tests/console/test_japanese.py)
QUEUE_DESCRIPTIONS = (
    N_("Short jobs: echo, sleep, status-like work. Fast retries."),
    N_("Office workflow steps that touch outside services (Sheets, Storage, client portals): gentle rate, "
       "patient retries."),
)


@blueprint.route("/queues")
def queues():
    config = console_config()
    rows = []
    for definition in config.runtime.registry.queues.values():
        try:
            rows.append((definition, config.runtime.queue.state(definition.name), ""))
        except AckflowError as exc:
            rows.append((definition, None, _unread(exc, g.speaker)))
    return render_template("queues.html", rows=rows, backend=config.runtime.settings.queue_backend)


def _unread(exc: AckflowError, speaker) -> Shown:
    """A queue the service did not describe: said in the reader's words, the service's own
    (English) answer under the "Technical detail" label."""
    from .app import DEPLOY_ROLES

    if audit.denied_by_iam(exc):
        said = speaker._("The cloud refused this to your account (its IAM roles). The roles an operator needs: "
                         "{doc}", doc=DEPLOY_ROLES)
    else:
        said = speaker._("The queue service did not say how this queue is: its state and tasks are unknown for now.")
    return Shown(said, str(exc))


@blueprint.route("/queues/<name>/<verb>", methods=["POST"])
def queue_action(name: str, verb: str):
    config = console_config()
    speaker = g.speaker
    if name not in config.runtime.registry.queues or verb not in ("pause", "resume", "redrive"):
        abort(404, description=speaker._("There is no queue {queue} or action {action}.", queue=name, action=verb))
    backend = config.runtime.settings.queue_backend
    if (verb == "redrive") != (backend == "sqs"):  # SQS cannot pause; Cloud Tasks has no dead-letter queue
        abort(409, description=speaker._("Queues on {backend} cannot do this ({action}).", backend=backend,
                                          action=verb))
    questions = {"pause": speaker._("Pause queue {queue}? Its tasks wait until it is resumed.", queue=name),
                 "resume": speaker._("Resume queue {queue}?", queue=name),
                 "redrive": speaker._("Move the dead letters of {queue} back to the queue?", queue=name)}
    asked = _confirmed(speaker._("Queues"), questions[verb], url_for("operate.queues"))
    if asked:
        return asked
    queue = config.runtime.queue
    with audit.recorded(config.runtime, verb, name, config.operator, surface=actor_surface(config)) as notes:
        if verb == "redrive":
            moved = queue.redrive(name)
            notes["detail"] = L_("{count} message(s) moved", count=moved)
            flash(speaker._("{count} message(s) moved back to {queue}.", count=moved, queue=name))
        else:
            before = _state_now(queue, name)
            state = queue.pause(name) if verb == "pause" else queue.resume(name)
            if before == {"pause": "PAUSED", "resume": "RUNNING"}[verb]:  # two tabs, a form sent twice
                notes["detail"] = L_("queue {queue} was already paused; nothing changed", queue=name) \
                    if verb == "pause" else L_("queue {queue} was already running; nothing changed", queue=name)
            shown = {"PAUSED": speaker._("Paused"), "RUNNING": speaker._("Running")}.get(state.state, state.state)
            flash(speaker._("Queue {queue} is {state}.", queue=name, state=shown))
    return redirect(url_for("operate.queues"))


def _state_now(queue, name: str) -> str | None:
    """The queue's state before an action (what the audit log says of a pause of a paused queue);
    None if the service does not say (the action goes ahead all the same)."""
    try:
        return queue.state(name).state
    except AckflowError:
        return None


@blueprint.route("/periodic")
def periodic():
    from ackflow.app.sweep import last_and_next

    config = console_config()
    now = time.time()
    rows = []
    for job_type in config.runtime.registry:
        if not job_type.schedule:
            continue
        last_slot, next_slot = last_and_next(job_type, now, config.runtime.settings.time_zone, config.runtime)
        latest = config.runtime.store.find_jobs(JobFilter(type=job_type.name), limit=1).jobs
        rows.append((job_type, last_slot, next_slot, latest[0] if latest else None))
    return render_template("periodic.html", rows=rows, key=new_id("", 10), now=now)


@blueprint.route("/periodic/<name>/run", methods=["POST"])
def run_now(name: str):
    config = console_config()
    speaker = g.speaker
    key = request.form.get("key", "")
    if not KEY_RE.match(key):
        abort(400, description=speaker._("The form has no valid request key: reload the page."))
    if name not in config.runtime.registry:
        abort(404, description=speaker._("There is no job type {name}.", name=name))
    asked = _confirmed(speaker._("Run now"), speaker._("Run {name} now, outside its schedule?", name=name),
                       url_for("operate.periodic"))
    if asked:
        return asked
    job = operations.run_periodic_now(config.runtime, name, config.operator, key, actor_surface(config))
    forget_counts()
    return redirect(url_for("jobs.detail", job_id=job.id))


@blueprint.route("/cases")
def cases():
    config = console_config()
    after, problems = page_after(g.speaker._("the page link is damaged; showing the newest cases"))
    # the latest changed first; a case's document id is its number
    rows, next_cursor = config.runtime.store.newest_page("cases", "updated_at", "case", limit=config.page_size,
                                                         after=after)
    today = dt.datetime.now(dt.UTC).astimezone(_zone(config.time_zone)).date().isoformat()
    return render_template("cases.html", cases=rows, today=today, next_cursor=cursor_text(next_cursor),
                           problems=problems)


@blueprint.route("/cases/<case>")
def case(case: str):
    if not CASE_RE.match(case):
        abort(404, description=g.speaker._("There is no case {case}.", case=case))
    config = console_config()
    record = config.runtime.store.docs.get("cases", case)
    if record is None:
        abort(404, description=g.speaker._("There is no case {case}.", case=case))
    return render_template("case.html", case=record, invoices=_invoices(config.runtime, record),
                           opening=_opening(config.runtime, record))


def _opening(runtime: Runtime, record: dict) -> dict | None:
    """A case being opened: its ``newcase`` job took the number and has not made the case folder
    (``opening``), so the case is not among the open cases yet; what the chat's ``case`` says of
    it (being opened, or not opened with the retry that opens it), and the job to follow."""
    from workers.office.cases import opening_job
    from workers.office.commands import unopened_text

    job_id = opening_job(record)
    if not isinstance(job_id, str) or not job_id:
        return None
    return {"job": job_id, "text": unopened_text(runtime, job_id, g.speaker)}


def _invoices(runtime: Runtime, record: dict) -> list[dict]:
    """The case's invoices as its page lists them: each numbered one, issued (with its link) or not
    (未発行, with the job whose retry issues it: the office workflow's own words for it)."""
    from workers.office.commands import unissued_text

    issued = {d["number"]: d for d in record.get("issued", []) if isinstance(d, dict) and d.get("number")}
    shown = []
    for entry in record.get("invoices", []):
        number = entry.get("number")
        if not number:
            continue
        done = issued.get(number)
        shown.append({"number": number, "total": entry.get("total"), "issued": entry.get("issued"),
                      "link": (done or {}).get("link", ""), "job": entry.get("job", ""),
                      "replaced_by": entry.get("replaced_by", ""),
                      "state": "" if done else unissued_text(runtime, entry.get("job") or "", g.speaker)})
    return shown


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
