"""Estimates (見積書) in numbered versions: v1 when a case opens, then each ``estimate CASE`` starts
from the previous version's lines and adds (``--item``), changes (``--change "2=::380000"``) or
removes (``--remove 3``) lines. A version is decided once in the ledger with its number, then issued
through the Accounting port (an embedded PDF is never overwritten), then filed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from decimal import Decimal
from pathlib import Path

from ackflow.errors import PermanentError, UsageError
from ackflow.i18n import N_, Day, texts
from ackflow.jobs.context import StepContext, nothing_to_do

from .accounting import Document, link_key, service_name
from .filing import case_row, file_issued, job_date
from .issuer import Issuer
from .ledger import estimate_number, new_estimate_version
from .money import (
    MAX_LINES,
    Line,
    TaxRules,
    check_description,
    check_line,
    check_unmarked_rate,
    is_negative,
    parse_line,
    priced,
    read_quantity,
    read_yen,
    say,
    yen,
)

ESTIMATED = "見積提出"  # the stage an issued estimate brings a case to (cases.STAGES)

TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "change_format": N_("write --change \"N=description:quantity:unit price\", leaving a field empty to "
                        "keep it (e.g. --change \"2=::380000\"), got “{text}”"),
    "no_line": N_("v{version} has no line {number} (it has {count}); write “case {case}” to see the lines"),
    "twice": N_("line {number} is both changed and removed"),
    "no_base": N_("case {case} has no earlier estimate to change lines of; give the lines with --item"),
    "empty": N_("the new version would have no lines; keep at least one"),
    "stale": N_("v{latest} of case {case} was issued while the form was open (it showed v{base}); open the "
                "estimate form again to start from v{latest}"),
    "validity": N_("the validity date {date} is before the issue date {issued}"),
    "issuing": N_("issuing estimate v{version} ({service})"),
    "defaults": N_("ACKFLOW_OFFICE_CLIENT_ITEMS is not valid JSON of [description, quantity, price] "
                   "rows: {detail}"),
    "no_lines": N_("case {case} has no estimate yet and {client} has no default lines: give the lines with "
                   "--item \"description:quantity:unit price\", e.g. estimate {case} --item \"設計:1:350000\""),
    "not_issued": N_("none issued: no line items were given and {client} has no default lines. To issue v1, "
                     "write: estimate {case} --item \"description:quantity:unit price\""),
}


_say = texts(TEXTS)


def rules_of(settings) -> TaxRules:
    return TaxRules(settings.tax_percent, settings.reduced_percent, settings.tax_rounding, settings.line_rounding)


def split_list(value: str | None, separator: str) -> list[str]:
    """``"1=::5; 2=x::"`` → two changes; ``"2, 3"`` → two line numbers (full-width forms too)."""
    text = unicodedata.normalize("NFKC", value or "").replace("、", ",")
    return [part.strip() for part in text.split(separator) if part.strip()]


def parse_change(text: str, rules: TaxRules) -> tuple[int, str | None, Decimal | None, int | None, bool | None]:
    """``N=description:quantity:unit price[:8%]``, each field optional: (line, new values or None)."""
    number, equals, rest = unicodedata.normalize("NFKC", text).partition("=")
    if not equals or not number.strip().isdigit() or rest.count(":") < 2:
        raise UsageError(_say("change_format", text=text))
    reduced = None
    found = re.search(r":\s*(\d+)\s*%\s*$", rest)
    if found:
        if int(found.group(1)) not in (rules.standard, rules.reduced):
            raise UsageError(say("rate", text=text, standard=rules.standard, reduced=rules.reduced))
        reduced = int(found.group(1)) == rules.reduced
        rest = rest[:found.start()]
    description, quantity, price = rest.rsplit(":", 2)
    if not found:
        check_unmarked_rate(text, description, price)
    check_description(text, description.strip())
    if is_negative(price):
        raise UsageError(say("negative_price", text=text))
    try:
        qty = read_quantity(quantity) if quantity.strip() else None
        unit = read_yen(price) if price.strip() else None
    except ValueError as exc:
        raise UsageError(_say("change_format", text=text)) from exc
    check_line(text, qty if qty is not None else Decimal(1), unit if unit is not None else 1)
    return int(number), description.strip() or None, qty, unit, reduced


def edit_lines(base: tuple[Line, ...], *, add: list[Line], change: list[str], remove: list[int],
               rules: TaxRules, version: int, case: str) -> tuple[Line, ...]:
    """The previous version's lines with the changes and removals (numbered as in that version),
    then the added lines."""
    result = kept_lines(base, change=change, remove=remove, rules=rules, version=version, case=case) + tuple(add)
    if not result:
        raise UsageError(_say("empty"))
    return result


def kept_lines(base: tuple[Line, ...], *, change: list[str], remove: list[int], rules: TaxRules, version: int,
               case: str) -> tuple[Line, ...]:
    """The previous version's lines with the changes and removals (perhaps none left)."""
    lines: list[Line | None] = list(base)
    changed = set()
    for text in change:
        number, description, quantity, price, reduced = parse_change(text, rules)
        if not 1 <= number <= len(base):
            raise UsageError(_say("no_line", version=version, number=number, count=len(base), case=case))
        old = base[number - 1]
        lines[number - 1] = Line(description or old.description, quantity if quantity is not None else old.quantity,
                                 price if price is not None else old.unit_price,
                                 old.reduced if reduced is None else reduced)
        changed.add(number)
    for number in remove:
        if not 1 <= number <= len(base):
            raise UsageError(_say("no_line", version=version, number=number, count=len(base), case=case))
        if number in changed:
            raise UsageError(_say("twice", number=number))
        lines[number - 1] = None
    return tuple(line for line in lines if line is not None)


def line_text(line: Line, rules: TaxRules) -> str:
    """A line as it is typed (``parse_line`` reads it back), at the configured reduced rate."""
    rate = f":{rules.reduced}%" if line.reduced else ""
    return f"{line.description}:{line.quantity.normalize():f}:{priced(line.description, str(line.unit_price))}{rate}"


def read_client_items(config: str, standard: int = 10, reduced: int = 8) -> dict[str, list[Line]]:
    """ACKFLOW_OFFICE_CLIENT_ITEMS (JSON, or a path to a file of it): each client's default lines, a
    row being [description, quantity, unit price(, "8%")]; ``"*"`` is for clients without their own.
    A row is checked as a typed line is (a priced line, a known rate): ValueError says which is wrong."""
    if not config.strip():
        return {}
    try:
        text = config if config.lstrip()[:1] in ("{", "[") else Path(config).read_text()
        table = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read it as JSON or as a JSON file: {exc}") from exc
    if not isinstance(table, dict):
        raise ValueError('write an object of clients, {"ACME": [["金型設計", 1, 350000]]}')
    return {str(client): _client_rows(str(client), rows, standard, reduced) for client, rows in table.items()}


def _client_rows(client: str, rows, standard: int, reduced: int) -> list[Line]:
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{client!r}: give a list of rows [description, quantity, unit price(, \"8%\")]")
    if len(rows) > MAX_LINES:  # every estimate v1 of the client would fail, after its case took a number
        raise ValueError(f"{client!r}: {len(rows)} rows; a document has at most {MAX_LINES} lines")
    lines = []
    for number, row in enumerate(rows, 1):
        where = f"{client!r} row {number} {json.dumps(row, ensure_ascii=False)[:80]}"
        if not isinstance(row, list) or len(row) not in (3, 4) or not all(isinstance(v, (str, int, float))
                                                                           and not isinstance(v, bool) for v in row):
            raise ValueError(f"{where}: a row is [description, quantity, unit price(, \"8%\")]")
        rate = f":{row[3]}" + ("" if str(row[3]).endswith("%") else "%") if len(row) == 4 else ""
        try:
            price = priced(str(row[0]), str(row[2])) if not rate else str(row[2])
            lines.append(parse_line(f"{row[0]}:{row[1]}:{price}{rate}", standard=standard, reduced=reduced))
        except UsageError as exc:
            raise ValueError(f"{where}: {exc}") from exc
    return lines


def default_lines(client: str, config: str, rules: TaxRules) -> list[Line]:
    """The client's default lines (or the ``"*"`` ones); none when neither is configured."""
    try:
        table = read_client_items(config, rules.standard, rules.reduced)
    except ValueError as exc:
        raise PermanentError(_say("defaults", detail=exc)) from exc
    return table.get(client) or table.get("*") or []


# the keys an issued estimate's link is under: its PDF, or freee's page of it (accounting.link_key)
ESTIMATE_LINKS = ("estimate_link", "freee_estimate_link")


def typed_lines(items: list[str], rules: TaxRules) -> list[Line]:
    try:
        return [parse_line(text, standard=rules.standard, reduced=rules.reduced) for text in items]
    except UsageError as exc:
        raise PermanentError(exc.text) from exc


def first_estimate(ctx: StepContext, case: str, *, items: list[str], client: str) -> dict:
    """newcase's estimate v1, from the typed lines or the client's default lines. With neither, none
    is issued (an estimate of ¥0 is no estimate): the result says so, in the requester's language,
    and how to issue v1; the case stays 受付."""
    settings = ctx.services.office_settings
    if not items and not default_lines(client, settings.client_items, rules_of(settings)):
        return nothing_to_do({"no_estimate": _say("not_issued", case=case, client=client).render(ctx.speaker)})
    return issue_estimate(ctx, case, items=items)


def check_first_estimate(ctx: StepContext, case: str, *, items: list[str], client: str) -> None:
    """What the accounting service would refuse newcase's estimate v1 for, checked before the case
    number is taken (``steps.allocate_number``): a character of the client's name the PDF's font
    cannot print (𠮷野家, a name with an emoji), a rate freee does not take. Found at the estimate
    step, it failed the job after the case had its number, folder and sheet row: a case half made,
    which no retry could finish (the client's name is the case's). ``case``: the number the job
    will most likely get (the document's own number is no part of what is checked)."""
    settings = ctx.services.office_settings
    rules = rules_of(settings)
    lines = typed_lines(items, rules) or default_lines(client, settings.client_items, rules)
    if not lines:
        return  # no estimate v1 is issued (first_estimate)
    issued_on = job_date(ctx)
    ctx.services.accounting.check_document(Document(
        kind="quotation", number=estimate_number(case, 1), case=case, folder="", recipient=client,
        title=ctx.params["title"], issued=issued_on.isoformat(), lines=tuple(lines), rules=rules,
        issuer=Issuer.from_settings(settings), version=1, delivery=ctx.params.get("due")))


def issue_estimate(ctx: StepContext, case: str, *, items: list[str], change: list[str] | None = None,
                   remove: list[int] | None = None, recipient: str | None = None, valid_until: str | None = None,
                   delivery: str | None = None, replace: bool = False, base: int | None = None) -> dict:
    """Decide the job's version in the ledger, issue it, file it; the same again on a retry.
    ``replace``: ``items`` are the whole new version (the estimate form sends every line);
    ``base``: the version they were edited from, refused when another has been issued since."""
    services = ctx.services
    settings = services.office_settings
    rules = rules_of(settings)
    issued_on = job_date(ctx)
    added = typed_lines(items, rules)
    services.accounting.check()

    def make(record: dict, previous: Document | None, version: int) -> Document:
        latest = (previous.version or version - 1) if previous is not None else 0
        if base is not None and latest != base:
            raise PermanentError(_say("stale", case=case, base=base, latest=latest))
        if previous is None:
            if change or remove:
                raise PermanentError(_say("no_base", case=case))
            lines = tuple(added) or tuple(default_lines(record["client"], settings.client_items, rules))
            if not lines:
                raise PermanentError(_say("no_lines", case=case, client=record["client"]))
        elif replace:
            lines = tuple(added)
            if not lines:
                raise PermanentError(_say("empty"))
        else:
            try:
                lines = edit_lines(previous.lines, add=added, change=change or [], remove=remove or [], rules=rules,
                                   version=previous.version or version - 1, case=case)
            except UsageError as exc:
                raise PermanentError(exc.text) from exc
        until = valid_until or (issued_on + dt.timedelta(days=settings.estimate_validity_days)).isoformat()
        if until < issued_on.isoformat():
            raise PermanentError(_say("validity", date=Day(until), issued=Day(issued_on)))
        try:
            rules.totals(lines)
        except UsageError as exc:
            raise PermanentError(exc.text) from exc
        document = Document(kind="quotation", number=estimate_number(case, version), case=case,
                            folder=record["folder"],
                            recipient=recipient or (previous.recipient if previous else record["client"]),
                            title=record["title"], issued=issued_on.isoformat(), lines=lines, rules=rules,
                            issuer=Issuer.from_settings(settings), version=version, valid_until=until,
                            delivery=delivery if delivery is not None else record.get("due"))
        services.accounting.check_document(document)  # e.g. a character the PDF cannot print: no version taken
        return document

    document = new_estimate_version(services.store.docs, case, ctx.job.id, make)
    ctx.progress(_say("issuing", version=document.version, service=service_name(services.accounting.service)))
    issued = services.accounting.issue(document)
    file_issued(ctx, document, issued)
    entry = {"key": f"v{document.version:03d}", "version": document.version, "link": issued.link,
             "path": issued.path, "total": issued.totals.total, "at": ctx.clock(), "by": ctx.job.requester.label,
             "job": ctx.job.id}
    row = case_row(ctx, case, {"estimate": issued.link, "status": ESTIMATED}, estimate=entry)
    services.cases.update(case, ctx.job.id, estimates=[entry], status=ESTIMATED, by=ctx.job.requester.label, **row)
    return {"estimate": issued.path or issued.ref, link_key(issued): issued.link, "estimate_version": document.version,
            "total": yen(issued.totals.total)}
