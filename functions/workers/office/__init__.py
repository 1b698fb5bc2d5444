"""The office workflow: ``newcase`` opens a case (number, folder, sheet row, estimate, portal
documents, the request mail); ``estimate`` issues a new version; ``ordered``, ``started``, ``delivered``,
``invoice``, ``paid`` move it on, ``lost`` and ``hold`` set it aside, ``resume`` takes a held case back
(``correct`` for an admin); ``case`` and ``cases`` show them. See docs/office-workflow.md."""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from ackflow.errors import UsageError
from ackflow.i18n import L_, N_
from ackflow.jobs.params import Param
from ackflow.jobs.registry import Command, JobType, Registry, Step

from . import dates, invoicing, lifecycle, mail, precheck, reminders, steps, unissued
from .cases import CASE_RE
from .commands import list_cases, show_case
from .estimating import split_list
from .money import PART_CHECKS, join_item, parse_line, show_added_items, show_items, split_item
from .names import safe_component

if TYPE_CHECKING:
    from ackflow.app.runtime import Runtime


def _rates():
    from .settings import load_office_settings

    settings = load_office_settings()
    return settings, settings.tax_percent, settings.reduced_percent


def _check_case(values: dict) -> None:
    if not CASE_RE.fullmatch(values["case"]):
        raise UsageError(L_("“{case}” is not a case number; they look like 2026-001", case=values["case"][:30]))


def _check_items(values: dict) -> None:
    """Each typed line, and what they hold together: more lines than a document takes, or a total
    past its limit, is refused here, before a confirmation (lines are never negative, so what the
    typed lines alone give only grows with an earlier version's), not after a job took a number."""
    if values.get("item"):
        from .estimating import rules_of

        settings, standard, reduced = _rates()
        lines = [parse_line(item, standard=standard, reduced=reduced) for item in values["item"]]
        rules_of(settings).totals(lines)


def _check_newcase(values: dict) -> None:
    safe_component(values["client"], N_("client name"))
    safe_component(values["title"], N_("title"))
    _check_items(values)


def _check_estimate(values: dict) -> None:
    from .estimating import parse_change, rules_of

    _check_case(values)
    _check_items(values)
    if values.get("replace") and (values["change"] or values["remove"]):
        raise UsageError(L_("--replace gives every line of the new version: leave out --change and --remove"))
    if values.get("replace") and not values["item"]:
        raise UsageError(L_("--replace needs the lines of the new version (--item)"))
    if values["change"]:
        settings, _, _ = _rates()
        for text in split_list(values["change"], ";"):
            parse_change(text, rules_of(settings))


def _check_invoice(values: dict) -> None:
    _check_case(values)
    _check_items(values)
    if values["again"] and values["replaces"]:
        raise UsageError(L_("--again and --replaces do not go together: a correction is already another invoice"))
    if values["replaces"] and not re.fullmatch(r"\S+-\d{4}-\d{4,}", values["replaces"]):
        raise UsageError(L_("“{number}” is not an invoice number; they look like INV-2026-0001",
                              number=values["replaces"][:30]))
    settings, _, _ = _rates()
    invoicing.check_invoice_settings(settings)  # refused here, before a card, when the office is not set up


def _check_paid(values: dict) -> None:
    _check_case(values)
    lifecycle.read_amount(values["amount"])


def _today(now: float):
    """Today in the office's time zone (ACKFLOW_OFFICE_TIMEZONE), at the runtime's clock's ``now``."""
    return dates.office_today(now, _settings().timezone)


def _dates_of_newcase(values: dict, now: float) -> None:
    """newcase: the case's due date (納期) is a deadline, as an invoice's payment due date is."""
    if values.get("due"):
        dates.check_deadline(values, CASE_DUE, _today(now))


def _dates_of_estimate(values: dict, now: float) -> None:
    if values.get("valid_until"):  # the office's settings are read only when there is a date to check
        dates.check_deadline(values, VALID_UNTIL, _today(now))


def _dates_of_invoice(values: dict, now: float) -> None:
    if values.get("date") or values.get("due"):
        today = _today(now)
        dates.check_happened(values, DATE, today)
        dates.check_deadline(values, INVOICE_DUE, today)


def _dates_of_event(values: dict, now: float) -> None:
    """ordered, delivered, paid: the day it happened."""
    if values.get("date"):
        dates.check_happened(values, DATE, _today(now))


def _client_name(value: str) -> None:
    safe_component(value, N_("client name"))


def _title(value: str) -> None:
    safe_component(value, N_("title"))


def _order(value: str) -> None:
    """The portal's order reference names the folder its documents go in: checked before the card,
    not at the job's last step (``--portal ..`` failed it after the case was made, retried, in English)."""
    safe_component(value, N_("order"))


def _item(value: str) -> None:
    parse_line(value)  # the standard rates; the job's own check reads the configured ones


def _line_numbers(value: str) -> None:
    for number in split_list(value, ","):
        if not number.isdigit() or not 1 <= int(number) <= 50:
            raise UsageError(L_("--remove takes line numbers from 1 to 50 (2,3), got “{value}”", value=number[:20]))


def known_clients(runtime: Runtime) -> list[str]:
    """The clients of the latest cases, most recent first (the form's client dropdown)."""
    from .cases import CASES

    records = runtime.store.docs.query(CASES, [], "updated_at", True, 200)
    return list(dict.fromkeys(r["client"] for r in records if isinstance(r.get("client"), str)))


# What the office's steps import: without the office extra, the office's job types are not offered.
OFFICE_EXTRA = {"requires": ("gspread", "fpdf", "bs4"),
                "requires_hint": N_("install the office extra: pip install 'ackflow[office]'")}

ITEM = Param("item", positional=False, required=False, repeated=True, metavar=N_('"DESC:QTY:PRICE[:8%]"'),
             max_length=200, help=N_("a line: description, quantity, unit price in yen (:8% for a reduced-rate line)"),
             title=N_("Line items"),
             parts=(N_("Description"), N_("Quantity"), N_("Unit price"), N_("Tax rate (8% if reduced)")),
             split=split_item, join=join_item, optional_parts=1, check=_item, aliases=("明細",),
             part_checks=PART_CHECKS, show=show_items)
# an estimate's lines are added to the previous version's: shown without a subtotal of their own
ESTIMATE_ITEM = dataclasses.replace(ITEM, show=show_added_items)
CASE = Param("case", metavar=N_("CASE_NUMBER"), max_length=20, title=N_("Case number"))
# the day something happened: 12月1日 is the latest such day (a payment typed 11月25日 on 28 November is
# this year's, not next year's), at most a week ahead
DATE = Param("date", kind="date", positional=False, required=False, metavar=N_("YYYY-MM-DD"), title=N_("Date"),
             aliases=("日付",), recent=dates.FUTURE_DAYS)
CASE_DUE = Param("due", kind="date", positional=False, required=False, metavar=N_("YYYY-MM-DD"), title=N_("Due date"),
                 aliases=("納期",))
VALID_UNTIL = Param("valid_until", kind="date", positional=False, required=False, metavar=N_("YYYY-MM-DD"),
                    title=N_("Valid until"), aliases=("有効期限",))
INVOICE_DUE = Param("due", kind="date", positional=False, required=False, metavar=N_("YYYY-MM-DD"),
                    help=N_("payment due date (default: from the payment terms)"), title=N_("Payment due"),
                    aliases=("支払期限",))
# what a person reads for each part of a result (the links are buttons with their own labels)
RESULT_LABELS = {"case": N_("case"), "documents": N_("documents"), "skipped": N_("not collected"),
                 "mail": N_("mail"), "mail_skipped": N_("mail not saved"), "estimate_version": N_("estimate version"),
                 "no_estimate": N_("estimate"),
                 "total": N_("total"), "invoice": N_("invoice"), "status": N_("status"),
                 "accepted": N_("accepted estimate"), "delivered_on": N_("delivered on"), "received": N_("received"),
                 "invoiced": N_("invoiced"), "outstanding": N_("outstanding"), "week_of": N_("week of"),
                 "open_cases": N_("open cases"), "cases": N_("cases"), "date": N_("date"), "due_cases": N_("cases due"),
                 "due": N_("due"),
                 # a link to freee's page of the document, not to a PDF (the embedded service's: links.LABELS)
                 "freee_estimate_link": N_("Open the estimate in freee"),
                 "freee_invoice_link": N_("Open the invoice in freee")}


def _marking(*steps_: Step) -> tuple[Step, ...]:
    """The steps, each running with its name as the mark of what it makes in the case folders
    (``storage.marked``: Drive's ``ackflowStep``)."""
    from functools import wraps

    def marked_run(step: Step):
        @wraps(step.run)
        def run(ctx):
            from .storage import marked

            with marked(step=step.name):
                return step.run(ctx)

        return run

    return tuple(Step(step.name, marked_run(step), step.title) for step in steps_)


def _office_job(name: str, help: str, params: tuple, confirm: str, steps_: tuple, *, slash: int | None = None,
                validate=_check_case, validate_at=None, examples: tuple = (), result: tuple = (),
                timeout: float = 120,
                aliases: tuple[str, ...] = (), readings: tuple[str, ...] = (), admins_only: bool = False, prefill=None,
                no_cancel_after: str = "", on_failed=None, failure_note=None, precheck=None) -> JobType:
    return JobType(name=name, help=help, params=params, confirm=confirm, queue="ackflow-office", timeout=timeout,
                   steps=_marking(*steps_), validate=validate, validate_at=validate_at, precheck=precheck,
                   examples=examples,
                   slash_command_id=slash, result_fields=result,
                   result_labels=RESULT_LABELS, aliases=aliases, readings=readings, admins_only=admins_only,
                   prefill=prefill,
                   no_cancel_after=no_cancel_after, on_failed=on_failed, failure_note=failure_note, **OFFICE_EXTRA)


def _estimate_form(runtime: Runtime, event, values: dict, bound: dict) -> dict:
    from .forms import estimate_form

    return estimate_form(runtime, values, bound)


def _newcase_form(runtime: Runtime, event, values: dict, bound: dict) -> dict:
    if not bound.get("mail"):
        return values
    from .mail.actions import form_values

    return form_values(runtime, event, bound["mail"], values)


def _newcase_submit(runtime: Runtime, event, values: dict, bound: dict):
    if bound.get("mail"):
        from .mail.actions import ask_bound

        return ask_bound(runtime, event, bound["mail"], values)
    from ackflow.app.confirm import ask

    return ask(runtime, event, runtime.registry.get("newcase"), values)


# the words of the cases command's usage line, translated where it is shown (Command.usage_for)
CASES_USAGE = (N_("[client=NAME]"), N_("[status=STATUS]"))


def register(registry: Registry) -> None:
    registry.service("office_settings", lambda services: _settings())
    registry.service("case_storage", lambda services: _storage(services.office_settings, services.store.docs))
    registry.service("case_sheet", lambda services: _sheet(services.office_settings))
    registry.service("documents_sheet", lambda services: _documents_sheet(services.office_settings))
    registry.service("accounting", _accounting)
    registry.service("cases", lambda services: _cases(services.store))
    registry.lookup("clients", known_clients)
    registry.add(JobType(
        name="newcase",
        help=N_("Open a case: number, folder, sheet row, estimate v1 (and portal documents)."),
        aliases=("新規案件",), readings=("しんきあんけん",),
        params=(
            Param("client", max_length=60, help=N_("client company"), title=N_("Client"), lookup="clients",
                  check=_client_name),
            Param("title", max_length=200, help=N_("what the case is about"), title=N_("Title"), check=_title),
            CASE_DUE,
            Param("portal", positional=False, required=False, metavar=N_("ORDER_REF"), max_length=60,
                  title=N_("Portal order"), help=N_("the order on the client's portal, to collect its documents"),
                  aliases=("ポータル",), check=_order),
            ITEM,
        ),
        confirm=N_("Open a new case for {client}: “{title}”"),
        queue="ackflow-office",
        timeout=600,
        steps=_marking(Step("number", steps.allocate_number, N_("case number")),
                       Step("folder", steps.make_folder, N_("project folder")),
                       Step("sheet", steps.register_row, N_("case sheet")),
                       Step("estimate", steps.draft_estimate, N_("estimate v1")),
                       Step("portal", steps.collect_documents, N_("portal documents")),
                       Step("mail", mail.save_mail, N_("received mail"))),
        validate=_check_newcase, validate_at=_dates_of_newcase,
        failure_note=steps.unopened_note,  # a number taken and no folder: the retry opens the case under it
        examples=('newcase ACME "プレス金型 A-12" --due 2026-12-01 --item "金型設計:1:350000"',
                  'newcase ACME "Die set" --portal PO-1042', '新規案件 ACME「プレス金型 A-12」 納期：12月1日'),
        slash_command_id=20,
        result_fields=("case", "folder_link", "sheet_link", "estimate_link", "freee_estimate_link", "no_estimate",
                       "documents",
                       "document_links", "skipped", "mail", "mail_skipped"),
        result_labels=RESULT_LABELS,
        prefill=_newcase_form, form_submit=_newcase_submit, form_context=("mail",),  # "open a case" of a mail
        **OFFICE_EXTRA,
    ))
    registry.add(_office_job(
        "estimate", N_("Issue a new version of a case's estimate, from the previous version's lines."),
        (CASE, ESTIMATE_ITEM,
         Param("change", positional=False, required=False, metavar=N_('"N=DESC:QTY:PRICE[; …]"'), max_length=1000,
               help=N_("change line N of the previous version (empty fields are kept; several: separated by ;)"),
               title=N_("Change lines"), aliases=("変更",), in_form=False),
         Param("remove", positional=False, required=False, max_length=200, metavar="N[,N…]",
               help=N_("remove these lines of the previous version"), check=_line_numbers, title=N_("Remove lines"),
               aliases=("削除",), in_form=False),
         Param("base", kind="int", positional=False, required=False, in_form=False, minimum=1,
               title=N_("Edited from version"), metavar=N_("VERSION"), aliases=("元の版",), prefix="v",
               help=N_("the version the lines were edited from (the form sends it): "
                       "refused if another was issued since")),
         Param("replace", kind="flag", positional=False, required=False, in_form=False, title=N_("Replace the lines"),
               help=N_("the lines given (--item) are the whole new version, in place of the previous version's"),
               aliases=("置換",)),
         Param("to", positional=False, required=False, max_length=60, metavar=N_("RECIPIENT"),
               help=N_("the recipient (御中), when not the client's name"), title=N_("Recipient"), aliases=("宛先",)),
         VALID_UNTIL),
        N_("Issue a new estimate version for case {case}"), (Step("draft", steps.redraft_estimate, N_("estimate")),),
        slash=22, validate=_check_estimate, validate_at=_dates_of_estimate, precheck=precheck.estimate,
        aliases=("見積",), readings=("みつもり",), prefill=_estimate_form,
        examples=('estimate 2026-001 --item "追加設計:1:50000"',
                  'estimate 2026-001 --change "1=::380000; 2=立会い::" --remove 3',
                  '見積 2026-001 明細：追加設計:1:5万円'),
        result=("case", "estimate_link", "freee_estimate_link", "estimate_version", "total")))
    registry.add(_office_job(
        "invoice", N_("Issue a qualified invoice (適格請求書) for a case, from its accepted estimate or given lines."),
        (CASE, ITEM, DATE, INVOICE_DUE,
         Param("to", positional=False, required=False, max_length=60, metavar=N_("RECIPIENT"), title=N_("Recipient"),
               aliases=("宛先",)),
         Param("again", kind="flag", positional=False, required=False, help=N_("another invoice for the case"),
               title=N_("Another invoice"), aliases=("追加発行",)),
         Param("replaces", positional=False, required=False, max_length=30, metavar=N_("INVOICE_NUMBER"),
               help=N_("correct an issued invoice with a new one"), title=N_("Replaces"), aliases=("訂正元",))),
        N_("Issue an invoice for case {case}"),
        (Step("number", invoicing.allocate, N_("invoice number")), Step("issue", invoicing.issue, N_("invoice")),
         Step("file", invoicing.file, N_("case sheet"))),
        slash=23, validate=_check_invoice, validate_at=_dates_of_invoice, precheck=precheck.invoice,
        aliases=("請求",), readings=("せいきゅう",), no_cancel_after="number",
        on_failed=unissued.on_failed, failure_note=unissued.failure_note,  # a number taken is never lost silently
        examples=("invoice 2026-001", 'invoice 2026-001 --replaces INV-2026-0001', "請求 2026-001"),
        result=("case", "invoice", "total", "invoice_link", "freee_invoice_link", "sheet_link")))
    registry.add(_office_job(
        "ordered", N_("Mark a case ordered (受注): the client accepted an estimate (the latest unless --estimate N)."),
        (CASE, Param("estimate", kind="int", positional=False, required=False, minimum=1, maximum=999,
                     metavar=N_("VERSION"), title=N_("Estimate version"), aliases=("見積版",), prefix="v"),
               DATE),
        N_("Mark case {case} ordered (受注)"), (Step("ordered", lifecycle.ordered, N_("order recorded")),),
        slash=24, aliases=("受注",), readings=("じゅちゅう",), validate_at=_dates_of_event, precheck=precheck.ordered,
        examples=("ordered 2026-001", "ordered 2026-001 --estimate 2", "受注 2026-001 見積版：2"),
        result=("case", "status", "accepted", "total")))
    registry.add(_office_job(
        "started", N_("Mark a case started (作業中): the work began."), (CASE,),
        N_("Mark case {case} started (作業中)"), (Step("started", lifecycle.started, N_("work start recorded")),),
        slash=28, aliases=("着手",), readings=("ちゃくしゅ",), precheck=precheck.moving_to("作業中"),
        examples=("started 2026-001", "着手 2026-001"), result=("case", "status")))
    registry.add(_office_job(
        "delivered", N_("Mark a case delivered (納品)."), (CASE, DATE),
        N_("Mark case {case} delivered (納品)"), (Step("delivered", lifecycle.delivered, N_("delivery recorded")),),
        slash=25, aliases=("納品",), readings=("のうひん",), validate_at=_dates_of_event,
        precheck=precheck.moving_to("納品"),
        examples=("delivered 2026-001 --date 2026-12-01", "納品 2026-001 日付：昨日"),
        result=("case", "status", "delivered_on")))
    registry.add(_office_job(
        "paid", N_("Record a payment received for a case (入金)."),
        (CASE, Param("amount", kind="yen", positional=False, max_length=30, minimum=1, metavar=N_("YEN"),
                     help=N_("as written: 47万3000円, ¥473,000 or 473000"),
                     title=N_("Amount received"), aliases=("金額",)), DATE),
        N_("Record a payment of {amount} received for case {case} (入金)"),
        (Step("paid", lifecycle.paid, N_("payment recorded")),),
        slash=26, validate=_check_paid, validate_at=_dates_of_event, precheck=precheck.paid, aliases=("入金",),
        readings=("にゅうきん",),
        examples=("paid 2026-001 --amount 473000 --date 2026-11-25", "入金 2026-001 金額：47万3000円"),
        result=("case", "status", "received", "invoiced", "outstanding")))
    registry.add(_office_job(
        "lost", N_("Mark a case lost (失注): the client went elsewhere (before delivery)."), (CASE,),
        N_("Mark case {case} lost (失注)"), (Step("lost", lifecycle.lost, N_("loss recorded")),),
        slash=29, aliases=("失注",), readings=("しっちゅう",), precheck=precheck.moving_to("失注"),
        examples=("lost 2026-001", "失注 2026-001"), result=("case", "status")))
    registry.add(_office_job(
        "hold", N_("Put a case on hold (保留); “resume” takes it back to the stage it was at."), (CASE,),
        N_("Put case {case} on hold (保留)"), (Step("hold", lifecycle.hold, N_("hold recorded")),),
        slash=30, aliases=("保留",), readings=("ほりゅう",), precheck=precheck.moving_to("保留"),
        examples=("hold 2026-001", "保留 2026-001"), result=("case", "status")))
    registry.add(_office_job(
        "resume", N_("Take a case on hold (保留) back to the stage it was held at."), (CASE,),
        N_("Resume case {case} from hold (保留)"), (Step("resume", lifecycle.resume, N_("resumed")),),
        slash=31, aliases=("再開",), readings=("さいかい",), precheck=precheck.resume,
        examples=("resume 2026-001", "再開 2026-001"), result=("case", "status")))
    registry.add(_office_job(
        "correct", N_("Correct a case's status (admins; recorded as a correction)."),
        (CASE, Param("status", max_length=10, choices=("受付", "見積提出", "受注", "作業中", "納品", "請求", "入金",
                                                        "失注", "保留"), title=N_("Case status"))),
        N_("Correct the status of case {case} to {status}"),
        (Step("correct", lifecycle.correct, N_("status corrected")),), aliases=("訂正",), readings=("ていせい",),
        admins_only=True,
        precheck=precheck.exists,
        examples=("correct 2026-001 作業中", "訂正 2026-001 作業中"), result=("case", "status")))
    registry.add(JobType(
        name="digest", aliases=("週次まとめ",),
        help=N_("The first working day of each week, 09:00 (the office's time zone): the open cases by due "
                "date, to the office's space."),
        steps=(Step("digest", reminders.digest, N_("open cases")),), queue="ackflow-office", timeout=60,
        schedule=reminders.DIGEST_SCHEDULE, runs_on=reminders.first_working_day_of_its_week,
        result_fields=("week_of", "open_cases", "cases"), long_results=("cases",),
        result_labels=RESULT_LABELS, **OFFICE_EXTRA))
    registry.add(JobType(
        name="reminder", aliases=("納期リマインダー",),
        help=N_("Working days 09:00 (the office's time zone): the cases due on the next working day."),
        steps=(Step("reminder", reminders.reminder, N_("cases due")),), queue="ackflow-office", timeout=60,
        schedule=reminders.REMINDER_SCHEDULE, result_fields=("date", "due_cases", "due", "cases"),
        long_results=("cases",),
        result_labels=RESULT_LABELS, **OFFICE_EXTRA))
    registry.sweep_task("unissued_invoices", unissued.sweep)
    mail.register(registry)
    registry.command(Command("case", N_("Show a case: status and history, estimates, invoices, documents, jobs."),
                             "case CASE_NUMBER", show_case, slash_command_id=21, aliases=("案件",),
                             readings=("あんけん",)))
    registry.command(Command("cases", N_("List open cases by due date (filter: client=NAME status=STATUS)."),
                             "cases [client=NAME] [status=STATUS]", list_cases, slash_command_id=27,
                             aliases=("案件一覧",), readings=("あんけんいちらん",)))


def _settings():
    from .settings import load_office_settings

    return load_office_settings()


def _storage(settings, docs=None):
    """The CaseStorage the settings name; on Drive, ``docs`` (the job store) reserves each item's id."""
    from ackflow.errors import ConfigError

    if settings.drive_template_folder and settings.storage != "drive":
        raise ConfigError("ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER needs ACKFLOW_OFFICE_STORAGE=drive")
    if settings.storage == "drive":
        from .drive import DriveStorage

        if not settings.drive_parent_folder:
            raise ConfigError("ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER is required with ACKFLOW_OFFICE_STORAGE=drive")
        return DriveStorage(settings.drive_parent_folder, endpoint=settings.drive_endpoint,
                            credentials_file=settings.drive_credentials_file, docs=docs)
    if settings.storage == "gcs":
        from .storage import GcsStorage

        if not settings.gcs_bucket:
            raise ConfigError("ACKFLOW_OFFICE_GCS_BUCKET is required with ACKFLOW_OFFICE_STORAGE=gcs")
        return GcsStorage(settings.gcs_bucket, settings.gcs_prefix)
    from .storage import LocalStorage

    return LocalStorage(settings.local_root, settings.local_link_base)


def _sheet(settings):
    if not settings.sheet_id:
        return None
    from .sheet import CaseSheet

    return CaseSheet(settings.sheet_id, settings.sheet_tab, endpoint=settings.sheets_endpoint,
                     credentials_file=settings.sheets_credentials_file)


def _documents_sheet(settings):
    if not settings.sheet_id:
        return None
    from .sheet import DOCUMENT_COLUMNS, CaseSheet

    return CaseSheet(settings.sheet_id, settings.documents_tab, endpoint=settings.sheets_endpoint,
                     credentials_file=settings.sheets_credentials_file, columns=DOCUMENT_COLUMNS, key="number")


def _accounting(services):
    from .accounting.factory import accounting_from_settings

    return accounting_from_settings(services.office_settings, services.store.docs, services.case_storage)


def _cases(store):
    from .cases import CaseRecords

    return CaseRecords(store.docs)
