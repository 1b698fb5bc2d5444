"""Periodic jobs of the office, reported to ACKFLOW_PERIODIC_SPACE: a Monday-morning digest of the
open cases by due date, and on each working day a reminder of the cases due on the next one (the
working day before a due date; weekends are skipped, public holidays are not known).

Their schedules are cron in UTC, as the sweep reads them: 00:00 UTC is 09:00 in Asia/Tokyo (which
has no daylight saving time). A job's date is its slot's, in the office's time zone, so a late or
repeated run reports the day it was meant for; the sweep starts one job per slot.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ackflow.i18n import N_, Msg
from ackflow.jobs.context import StepContext

from .commands import open_cases

DIGEST_SCHEDULE = "0 0 * * 1"  # Mondays 09:00 Asia/Tokyo
REMINDER_SCHEDULE = "0 0 * * 1-5"  # weekdays 09:00 Asia/Tokyo
MAX_LINES = 40

TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "none_open": N_("No open cases."),
    "none_due": N_("Nothing is due by {date}."),
    "more": N_("… and {count} more (write “cases”)."),
    "no_due": N_("no due date"),
}


def _say(key: str, **values) -> Msg:
    """The text of ``key`` with ``values``, said later in the language of whoever it reaches."""
    return Msg(TEXTS[key], **values)


def slot_date(ctx: StepContext) -> dt.date:
    """The office-time date the job is for: its slot's (or, run by hand, the job's creation)."""
    zone = ZoneInfo(ctx.services.office_settings.timezone)
    if ctx.job.slot:
        moment = dt.datetime.strptime(ctx.job.slot, "%Y%m%d%H%M").replace(tzinfo=dt.UTC)
    else:
        moment = dt.datetime.fromtimestamp(ctx.job.created_at, dt.UTC)
    return moment.astimezone(zone).date()


def working_day_before(day: dt.date) -> dt.date:
    day -= dt.timedelta(days=1)
    while day.weekday() >= 5:  # Saturday, Sunday
        day -= dt.timedelta(days=1)
    return day


def _line(record: dict, speaker) -> str:
    from .commands import status_name

    due = record.get("due")
    try:
        due_text = speaker.date(due) if due else _say("no_due").render(speaker)
    except ValueError:
        due_text = str(due)
    return (f"{record['case']} · {record.get('client') or ''} · {record.get('title') or ''} · "
            f"{status_name(record.get('status'), speaker)} · {due_text}")


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
    found = [r for r in open_cases(ctx.services.store.docs)
             if r.get("due") and working_day_before(dt.date.fromisoformat(r["due"])) == today]
    days = sorted({r["due"] for r in found})
    return {"date": today.isoformat(), "due_cases": len(found),
            "cases": _lines(found, ctx.speaker) if found
            else _say("none_due", date=ctx.speaker.date(_next_working_day(today))).render(ctx.speaker),
            "due": ", ".join(days)}


def _next_working_day(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day
