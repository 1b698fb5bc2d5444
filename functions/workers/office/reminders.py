"""Periodic jobs of the office, reported to ACKFLOW_PERIODIC_SPACE: a digest of the open cases by
due date on the morning of each week's first working day (Monday, unless it is a holiday), and
on each working day a reminder of the cases due on the next one (the working day before a due
date; weekends, the country's public holidays and the office's closed days are not working days:
workdays.py).

Their schedules are cron read in the deployment's time zone (ACKFLOW_TIME_ZONE, Asia/Tokyo for the
office), as the sweep reads every schedule. A job's date is its slot's, in the office's time zone,
so a late or repeated run reports the day it was meant for; the sweep starts one job per slot. The
reminder's slot falls on every weekday; on a holiday it says so instead of listing cases. The
digest's also does, and its rule (``runs_on``) lets the sweep start it on the week's first working
day only.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ackflow.i18n import N_, texts
from ackflow.jobs.context import StepContext

from .commands import open_cases
from .workdays import office_workdays

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime

DIGEST_SCHEDULE = "0 9 * * 1-5"  # weekdays 09:00 in the deployment's time zone; runs on the week's first working day
REMINDER_SCHEDULE = "0 9 * * 1-5"  # weekdays 09:00 (a holiday's run says the office is closed)
MAX_LINES = 40
LINE_CLIENT, LINE_TITLE = 30, 60  # characters of a client and a title on a line: 40 lines fit one Chat message

TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "none_open": N_("No open cases."),
    "none_due": N_("Nothing is due by {date}."),
    "more": N_("… and {count} more (write “cases”)."),
    "no_due": N_("no due date"),
    "closed": N_("{date} is not a working day: no reminder. The next one comes on {next}."),
}


_say = texts(TEXTS)


def first_working_day_of_its_week(runtime: Runtime, slot: dt.datetime) -> bool:
    """The digest's rule (``JobType.runs_on``): its slot falls on the first working day of its week,
    Monday unless that is a holiday or a closed day (then Tuesday, …); a week with none has none."""
    settings = runtime.services.office_settings
    day = slot.astimezone(ZoneInfo(settings.timezone)).date()
    workdays = office_workdays(settings)
    monday = day - dt.timedelta(days=day.weekday())
    first = monday if workdays.is_working(monday) else workdays.after(monday)
    return day == first


def slot_date(ctx: StepContext) -> dt.date:
    """The office-time date the job is for: its slot's (or, run by hand, the job's creation)."""
    zone = ZoneInfo(ctx.services.office_settings.timezone)
    if ctx.job.slot and not ctx.job.slot.startswith("now-"):  # run now (console, operations): "now-<key>"
        moment = dt.datetime.strptime(ctx.job.slot, "%Y%m%d%H%M").replace(tzinfo=dt.UTC)
    else:
        moment = dt.datetime.fromtimestamp(ctx.job.created_at, dt.UTC)
    return moment.astimezone(zone).date()


def _line(record: dict, speaker) -> str:
    from .commands import status_name

    due = record.get("due")
    try:
        due_text = speaker.date(due) if due else _say("no_due").render(speaker)
    except ValueError:
        due_text = str(due)
    status = status_name(record.get("status"), speaker)
    return (f"{record['case']} · {_cut(record.get('client') or '', LINE_CLIENT)} · "
            f"{_cut(record.get('title') or '', LINE_TITLE)} · {status} · {due_text}")


def _cut(text: str, limit: int) -> str:
    text = " ".join(str(text).split())  # one line, whatever the record holds
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _lines(records: list[dict], speaker) -> str:
    text = [_line(r, speaker) for r in records[:MAX_LINES]]
    if len(records) > MAX_LINES:
        text.append(_say("more", count=len(records) - MAX_LINES).render(speaker))
    return "\n".join(text)


def digest(ctx: StepContext) -> dict:
    found = open_cases(ctx.services.store.docs)
    return {"week_of": slot_date(ctx).isoformat(), "open_cases": len(found),
            "cases": _lines(found, ctx.speaker) if found else _say("none_open").render(ctx.speaker)}


def reminder(ctx: StepContext) -> dict:
    today = slot_date(ctx)
    workdays = office_workdays(ctx.services.office_settings)
    if not workdays.is_working(today):
        closed = _say("closed", date=ctx.speaker.date(today), next=ctx.speaker.date(workdays.after(today)))
        return {"date": today.isoformat(), "due_cases": 0, "cases": closed.render(ctx.speaker), "due": ""}
    found = [r for r in open_cases(ctx.services.store.docs)
             if r.get("due") and _due_date(r["due"]) and workdays.before(_due_date(r["due"])) == today]
    days = sorted({r["due"] for r in found})
    return {"date": today.isoformat(), "due_cases": len(found),
            "cases": _lines(found, ctx.speaker) if found
            else _say("none_due", date=ctx.speaker.date(workdays.after(today))).render(ctx.speaker),
            "due": ", ".join(days)}


def _due_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:  # an old sheet's free text: listed by the digest, never reminded of
        return None
