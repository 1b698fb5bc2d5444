"""The office workflow: ``newcase`` opens a case (number, folder, sheet row, estimate, portal
documents, the request mail); ``estimate`` issues a new version; ``ordered``, ``delivered``, ``invoice``, ``paid`` move
it on (``correct`` for an admin); ``case`` and ``cases`` show them. See docs/office-workflow.md."""

from __future__ import annotations

import re

from ackflow.errors import UsageError
from ackflow.i18n import N_
from ackflow.jobs.params import Param
from ackflow.jobs.registry import Command, JobType, Registry, Step

from . import invoicing, lifecycle, mail, reminders, steps
from .cases import CASE_RE
from .commands import list_cases, show_case
from .estimating import split_list
from .money import parse_line
from .names import safe_component

TEXTS = {
    "case_number": ("{case!r} is not a case number; they look like 2026-001",
                    "{case!r} は案件番号ではありません（例: 2026-001）"),
    "invoice_number": ("{number!r} is not an invoice number; they look like INV-2026-0001",
                       "{number!r} は請求書番号ではありません（例: INV-2026-0001）"),
    "line_number": ("--remove takes line numbers from 1 to 50 (2,3), got {value!r}",
                    "--remove には 1 から 50 の行番号を指定してください（例: 2,3。入力: {value!r}）"),
    "again_and_replaces": ("--again and --replaces do not go together: a correction is already another invoice",
                           "--again と --replaces は同時に指定できません"),
}


def _say(key: str, **values) -> str:
    return TEXTS[key][0].format(**values)


def _rates():
    from .settings import load_office_settings

    settings = load_office_settings()
    return settings, settings.tax_percent, settings.reduced_percent


def _check_case(values: dict) -> None:
    if not CASE_RE.fullmatch(values["case"]):
        raise UsageError(_say("case_number", case=values["case"]))


def _check_items(values: dict) -> None:
    if values.get("item"):
        _, standard, reduced = _rates()
        for item in values["item"]:
            parse_line(item, standard=standard, reduced=reduced)


def _check_newcase(values: dict) -> None:
    safe_component(values["client"], "client name")
    safe_component(values["title"], "title")
    _check_items(values)


def _check_estimate(values: dict) -> None:
    from .estimating import parse_change, rules_of

    _check_case(values)
    _check_items(values)
    if values["change"]:
        settings, _, _ = _rates()
        for text in split_list(values["change"], ";"):
            parse_change(text, rules_of(settings))


def _check_invoice(values: dict) -> None:
    _check_case(values)
    _check_items(values)
    if values["again"] and values["replaces"]:
        raise UsageError(_say("again_and_replaces"))
    if values["replaces"] and not re.fullmatch(r"\S+-\d{4}-\d{4,}", values["replaces"]):
        raise UsageError(_say("invoice_number", number=values["replaces"]))
    settings, _, _ = _rates()
    invoicing.check_invoice_settings(settings)  # refused here, before a card, when the office is not set up


def _check_paid(values: dict) -> None:
    _check_case(values)
    lifecycle.read_amount(values["amount"])


def _client_name(value: str) -> None:
    safe_component(value, "client name")


def _title(value: str) -> None:
    safe_component(value, "title")


def _item(value: str) -> None:
    parse_line(value)  # the standard rates; the job's own check reads the configured ones


def _line_numbers(value: str) -> None:
    for number in split_list(value, ","):
        if not number.isdigit() or not 1 <= int(number) <= 50:
            raise UsageError(_say("line_number", value=number))


def known_clients(runtime) -> list[str]:
    """The clients of the latest cases, most recent first (the form's client dropdown)."""
    from .cases import CASES

    records = runtime.store.docs.query(CASES, [], "updated_at", True, 200)
    return list(dict.fromkeys(r["client"] for r in records if isinstance(r.get("client"), str)))


# What the office's steps import: without the office extra, the office's job types are not offered.
OFFICE_EXTRA = {"requires": ("gspread", "fpdf", "bs4"),
                "requires_hint": "install the office extra: pip install 'ackflow[office]'"}

ITEM = Param("item", positional=False, required=False, repeated=True, metavar='"DESC:QTY:PRICE[:8%]"',
             max_length=200, help="a line: description, quantity, unit price in yen (:8% for a reduced-rate line)",
             title=N_("Line items"), parts=(N_("Description"), N_("Quantity"), N_("Unit price")), check=_item)
CASE = Param("case", metavar="CASE_NUMBER", max_length=20, title=N_("Case number"))
DATE = Param("date", kind="date", positional=False, required=False, metavar="YYYY-MM-DD")


def _office_job(name: str, help: str, params: tuple, confirm: str, steps_: tuple, *, slash: int | None = None,
                validate=_check_case, examples: tuple = (), result: tuple = (), timeout: float = 120) -> JobType:
    return JobType(name=name, help=help, params=params, confirm=confirm, queue="ackflow-office", timeout=timeout,
                   steps=steps_, validate=validate, examples=examples, slash_command_id=slash, result_fields=result,
                   **OFFICE_EXTRA)


def register(registry: Registry) -> None:
    registry.service("office_settings", lambda services: _settings())
    registry.service("case_storage", lambda services: _storage(services.office_settings))
    registry.service("case_sheet", lambda services: _sheet(services.office_settings))
    registry.service("documents_sheet", lambda services: _documents_sheet(services.office_settings))
    registry.service("accounting", _accounting)
    registry.service("cases", lambda services: _cases(services.store))
    registry.lookup("clients", known_clients)
    registry.add(JobType(
        name="newcase",
        help="Open a case: number, folder, sheet row, estimate v1 (and portal documents).",
        params=(
            Param("client", max_length=60, help="client company", title=N_("Client"), lookup="clients",
                  check=_client_name),
            Param("title", max_length=200, help="what the case is about", title=N_("Title"), check=_title),
            Param("due", kind="date", positional=False, required=False, metavar="YYYY-MM-DD", title=N_("Due date")),
            Param("portal", positional=False, required=False, metavar="ORDER_REF", max_length=60,
                  title=N_("Portal order"), help="the order on the client's portal, to collect its documents"),
            ITEM,
        ),
        confirm="Open a new case for {client}: “{title}”",
        queue="ackflow-office",
        timeout=600,
        steps=(Step("number", steps.allocate_number, "case number"),
               Step("folder", steps.make_folder, "project folder"),
               Step("sheet", steps.register_row, "case sheet"),
               Step("estimate", steps.draft_estimate, "estimate v1"),
               Step("portal", steps.collect_documents, "portal documents"),
               Step("mail", mail.save_mail, "received mail")),
        validate=_check_newcase,
        examples=('newcase ACME "プレス金型 A-12" --due 2026-12-01 --item "金型設計:1:350000"',
                  'newcase ACME "Die set" --portal PO-1042'),
        slash_command_id=20,
        result_fields=("case", "folder_link", "sheet_link", "estimate_link", "documents", "document_links", "skipped",
                       "mail", "mail_skipped"),
        **OFFICE_EXTRA,
    ))
    registry.add(_office_job(
        "estimate", "Issue a new version of a case's estimate, from the previous version's lines.",
        (CASE, ITEM,
         Param("change", positional=False, required=False, metavar='"N=DESC:QTY:PRICE[; …]"', max_length=1000,
               help="change line N of the previous version (empty fields are kept; several: separated by ;)"),
         Param("remove", positional=False, required=False, max_length=200, metavar="N[,N…]",
               help="remove these lines of the previous version", check=_line_numbers),
         Param("to", positional=False, required=False, max_length=60, metavar="RECIPIENT",
               help="the recipient (御中), when not the client's name"),
         Param("valid_until", kind="date", positional=False, required=False, metavar="YYYY-MM-DD")),
        "Issue a new estimate version for case {case}", (Step("draft", steps.redraft_estimate, "estimate"),),
        slash=22, validate=_check_estimate,
        examples=('estimate 2026-001 --item "追加設計:1:50000"',
                  'estimate 2026-001 --change "1=::380000; 2=立会い::" --remove 3'),
        result=("case", "estimate_link", "estimate_version", "total")))
    registry.add(_office_job(
        "invoice", "Issue a qualified invoice (適格請求書) for a case, from its accepted estimate or given lines.",
        (CASE, ITEM, DATE,
         Param("due", kind="date", positional=False, required=False, metavar="YYYY-MM-DD",
               help="payment due date (default: from the payment terms)"),
         Param("to", positional=False, required=False, max_length=60, metavar="RECIPIENT"),
         Param("again", kind="flag", positional=False, required=False, help="another invoice for the case"),
         Param("replaces", positional=False, required=False, max_length=30, metavar="INVOICE_NUMBER",
               help="correct an issued invoice with a new one")),
        "Issue an invoice for case {case}",
        (Step("number", invoicing.allocate, "invoice number"), Step("issue", invoicing.issue, "invoice"),
         Step("file", invoicing.file, "case sheet")),
        slash=23, validate=_check_invoice,
        examples=("invoice 2026-001", 'invoice 2026-001 --replaces INV-2026-0001'),
        result=("case", "invoice", "total", "invoice_link", "sheet_link")))
    registry.add(_office_job(
        "ordered", "Mark a case ordered (受注): the client accepted an estimate (the latest unless --estimate N).",
        (CASE, Param("estimate", kind="int", positional=False, required=False, minimum=1, maximum=999,
                     metavar="VERSION"), DATE),
        "Mark case {case} ordered (受注)", (Step("ordered", lifecycle.ordered, "order recorded"),),
        slash=24, examples=("ordered 2026-001", "ordered 2026-001 --estimate 2"),
        result=("case", "status", "accepted")))
    registry.add(_office_job(
        "delivered", "Mark a case delivered (納品).", (CASE, DATE),
        "Mark case {case} delivered (納品)", (Step("delivered", lifecycle.delivered, "delivery recorded"),),
        slash=25, examples=("delivered 2026-001 --date 2026-12-01",), result=("case", "status", "delivered_on")))
    registry.add(_office_job(
        "paid", "Record a payment received for a case (入金).",
        (CASE, Param("amount", positional=False, max_length=30, metavar="YEN", help="the amount received"), DATE),
        "Record a payment of {amount} yen received for case {case} (入金)",
        (Step("paid", lifecycle.paid, "payment recorded"),),
        slash=26, validate=_check_paid, examples=("paid 2026-001 --amount 473000 --date 2026-12-25",),
        result=("case", "status", "received", "invoiced", "outstanding")))
    registry.add(_office_job(
        "correct", "Correct a case's status (admins; recorded as a correction).",
        (CASE, Param("status", max_length=10, choices=("受付", "見積提出", "受注", "作業中", "納品", "請求", "入金",
                                                        "失注", "保留"))),
        "Correct the status of case {case} to {status}", (Step("correct", lifecycle.correct, "status corrected"),),
        examples=("correct 2026-001 作業中",), result=("case", "status")))
    registry.add(JobType(
        name="digest", help="Monday 09:00 (Asia/Tokyo): the open cases by due date, to the office's space.",
        steps=(Step("digest", reminders.digest, "open cases"),), queue="ackflow-office", timeout=60,
        schedule=reminders.DIGEST_SCHEDULE, result_fields=("week_of", "open_cases", "cases"), **OFFICE_EXTRA))
    registry.add(JobType(
        name="reminder", help="Working days 09:00 (Asia/Tokyo): the cases due on the next working day.",
        steps=(Step("reminder", reminders.reminder, "cases due"),), queue="ackflow-office", timeout=60,
        schedule=reminders.REMINDER_SCHEDULE, result_fields=("date", "due_cases", "due", "cases"), **OFFICE_EXTRA))
    mail.register(registry)
    registry.command(Command("case", "Show a case: status and history, estimates, invoices, documents, jobs.",
                             "case CASE_NUMBER", show_case, slash_command_id=21))
    registry.command(Command("cases", "List open cases by due date (filter: client=NAME status=STATUS).",
                             "cases [client=NAME] [status=STATUS]", list_cases, slash_command_id=27))


def _settings():
    from .settings import load_office_settings

    return load_office_settings()


def _storage(settings):
    from ackflow.errors import ConfigError

    if settings.drive_template_folder and settings.storage != "drive":
        raise ConfigError("ACKFLOW_OFFICE_DRIVE_TEMPLATE_FOLDER needs ACKFLOW_OFFICE_STORAGE=drive")
    if settings.storage == "drive":
        from .drive import DriveStorage

        if not settings.drive_parent_folder:
            raise ConfigError("ACKFLOW_OFFICE_DRIVE_PARENT_FOLDER is required with ACKFLOW_OFFICE_STORAGE=drive")
        return DriveStorage(settings.drive_parent_folder, endpoint=settings.drive_endpoint,
                            credentials_file=settings.drive_credentials_file)
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
