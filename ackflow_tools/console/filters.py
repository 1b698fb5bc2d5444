"""Reading the jobs list's filters, search and page cursor from a query string, strictly: a value
that does not parse is reported to the person, never passed to the store."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field

from ackflow.i18n import ENGLISH, N_, Speaker
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
FIELDS = {"status": N_("Status"), "type": N_("Type"), "requester": N_("Requester"), "space": N_("Space"),
          "from": N_("From"), "to": N_("To"), "q": N_("Search"), "after": N_("Page")}  # as the form names them


@dataclass
class ListQuery:
    filters: JobFilter
    search: str = ""
    after: tuple[float, str] | None = None
    problems: list[str] = field(default_factory=list)
    args: dict[str, str] = field(default_factory=dict)  # what was given, to fill the form again


def _day(value: str, zone: str, problems: list[str], label: str, speaker: Speaker, *,
         after: bool = False) -> float | None:
    """The midnight that begins the day named, in the office's zone; ``after``: the one that ends it
    (a day is 23 or 25 hours long where the clocks change)."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
        if after:
            day += dt.timedelta(days=1)
    except (ValueError, OverflowError):  # OverflowError: no day after 9999-12-31
        problems.append(speaker._("{field}: “{value}” is not a date (YYYY-MM-DD)", field=speaker._(FIELDS[label]),
                                  value=value))
        return None
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(day, dt.time(), ZoneInfo(zone)).timestamp()


def parse(args, zone: str, speaker: Speaker = ENGLISH) -> ListQuery:
    """The list's query; what cannot be read is said in the person's language (``problems``)."""
    problems: list[str] = []
    given = {k: (args.get(k) or "").strip() for k in ("status", "type", "requester", "space", "from", "to",
                                                       "q", "after")}
    for name, value in given.items():  # searched for cut short, a text would match what it does not
        if len(value) > LONGEST:
            problems.append(speaker._("{field}: longer than {count} characters; left out",
                                      field=speaker._(FIELDS[name]), count=LONGEST))
            given[name] = ""
    status = None
    if given["status"]:
        try:
            status = JobStatus(given["status"].upper())
        except ValueError:
            problems.append(speaker._("{field}: “{value}” is not one of {choices}", field=speaker._(FIELDS["status"]),
                                      value=given["status"], choices=", ".join(s.value for s in JobStatus)))
    for name in ("type", "space"):
        if given[name] and not ID_RE.match(given[name].replace("/", "")):
            problems.append(speaker._("{field}: “{value}” has characters that no {field} has",
                                      field=speaker._(FIELDS[name]), value=given[name]))
            given[name] = ""
    created_from = _day(given["from"], zone, problems, "from", speaker)
    created_to = _day(given["to"], zone, problems, "to", speaker, after=True)  # the whole day named
    if created_from is not None and created_to is not None and created_from >= created_to:
        problems.append(speaker._("{start} is after {end}: no job can match", start=given["from"],
                                  end=given["to"]))
    after = None
    if given["after"]:
        try:
            after = parse_cursor(given["after"])
        except ValueError:
            problems.append(speaker._("the page link is damaged; showing the newest jobs"))
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
