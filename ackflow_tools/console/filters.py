"""Reading the jobs list's filters, search and page cursor from a query string, strictly: a value
that does not parse is reported to the person, never passed to the store."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field

from ackflow.ids import is_safe_id
from ackflow.jobs.model import JobStatus
from ackflow.store.jobstore import JobFilter

ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
# A parameter search reads the jobs that match the filters, newest first, from where the last one
# stopped, until it has a page of matches, has read SEARCH_SCAN jobs or has taken SEARCH_SECONDS
# (whichever comes first; at least one page is always read); the page then links to the rest.
SEARCH_SCAN = 5000
LONGEST = 200  # characters of a filter or a search text
SEARCH_SECONDS = 0.12


@dataclass
class ListQuery:
    filters: JobFilter
    search: str = ""
    after: tuple[float, str] | None = None
    problems: list[str] = field(default_factory=list)
    args: dict[str, str] = field(default_factory=dict)  # what was given, to fill the form again


def _day(value: str, zone: str, problems: list[str], label: str) -> float | None:
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        problems.append(f"{label}: {value!r} is not a date (YYYY-MM-DD)")
        return None
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(day, dt.time(), ZoneInfo(zone)).timestamp()


def parse(args, zone: str) -> ListQuery:
    problems: list[str] = []
    given = {k: (args.get(k) or "").strip() for k in ("status", "type", "requester", "space", "from", "to",
                                                       "q", "after")}
    for name, value in given.items():  # searched for cut short, a text would match what it does not
        if len(value) > LONGEST:
            problems.append(f"{name}: longer than {LONGEST} characters; left out")
            given[name] = ""
    status = None
    if given["status"]:
        try:
            status = JobStatus(given["status"].upper())
        except ValueError:
            problems.append(f"status: {given['status']!r} is not one of {', '.join(s.value for s in JobStatus)}")
    for name in ("type", "space"):
        if given[name] and not ID_RE.match(given[name].replace("/", "")):
            problems.append(f"{name}: {given[name]!r} has characters no {name} has")
            given[name] = ""
    created_from = _day(given["from"], zone, problems, "from")
    created_to = _day(given["to"], zone, problems, "to")
    if created_to is not None:
        created_to += 86400  # the whole day named
    if created_from is not None and created_to is not None and created_from >= created_to:
        problems.append(f"from {given['from']} is after to {given['to']}: no job can match")
    after = None
    if given["after"]:
        try:
            after = parse_cursor(given["after"])
        except ValueError:
            problems.append("the page link is damaged; showing the newest jobs")
    filters = JobFilter(status=status, type=given["type"] or None, requester_email=given["requester"] or None,
                        space=given["space"] or None, created_from=created_from, created_to=created_to)
    return ListQuery(filters, given["q"], after, problems, {k: v for k, v in given.items() if v and k != "after"})


def parse_cursor(text: str) -> tuple[float, str]:
    """A page link's ``after`` (a time and an id, as cursor_text wrote it); ValueError if it is
    not one. The id must be one the store could hold: a Firestore cursor names a document, and
    ``a/b`` there was a 500, ``..`` or ``__x__`` a 503."""
    stamp, _, doc_id = text.partition("~")
    value = float(stamp)
    if not math.isfinite(value) or not is_safe_id(doc_id):
        raise ValueError(text)
    return value, doc_id


def cursor_text(cursor: tuple[float, str] | None) -> str:
    return f"{cursor[0]!r}~{cursor[1]}" if cursor else ""


def fold(text: str) -> str:
    """For matching what a person typed: width, case and Japanese IME variants folded."""
    return unicodedata.normalize("NFKC", text).casefold()
