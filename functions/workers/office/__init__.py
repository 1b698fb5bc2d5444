"""The office workflow: ``newcase`` opens a case (number, folder, sheet row, estimate, portal
documents), ``estimate`` drafts a new version, ``case`` shows one. See docs/office-workflow.md."""

from __future__ import annotations

from ackflow.errors import UsageError
from ackflow.i18n import N_
from ackflow.jobs.params import Param
from ackflow.jobs.registry import Command, JobType, Registry, Step

from . import mail, steps
from .cases import CASE_RE
from .commands import show_case
from .estimate import parse_item
from .names import safe_component


def _check_newcase(values: dict) -> None:
    safe_component(values["client"], N_("client name"))
    safe_component(values["title"], N_("title"))
    for item in values["item"]:
        parse_item(item)


def _check_estimate(values: dict) -> None:
    _case_number(values["case"])
    for item in values["item"]:
        parse_item(item)


def _case_number(value: str) -> None:
    if not CASE_RE.fullmatch(value):
        raise UsageError(N_("“{case}” is not a case number; they look like 2026-001"), case=value[:30])


def _client_name(value: str) -> None:
    safe_component(value, N_("client name"))


def _title(value: str) -> None:
    safe_component(value, N_("title"))


def known_clients(runtime) -> list[str]:
    """The clients of the latest cases, most recent first (the form's client dropdown)."""
    from .cases import CASES

    records = runtime.store.docs.query(CASES, [], "updated_at", True, 200)
    return list(dict.fromkeys(r["client"] for r in records if isinstance(r.get("client"), str)))


# What the office's steps import: without the office extra, newcase and estimate are not offered.
OFFICE_EXTRA = {"requires": ("gspread", "fpdf", "bs4"),
                "requires_hint": N_("install the office extra: pip install 'ackflow[office]'")}

ITEM = Param("item", positional=False, required=False, repeated=True, metavar=N_('"DESC:QTY:PRICE"'),
             max_length=200, help=N_("a line item of the estimate"), title=N_("Line items"),
             parts=(N_("Description"), N_("Quantity"), N_("Unit price")), check=parse_item, aliases=("明細",))
# what a person reads for each part of a result (the links are buttons with their own labels)
RESULT_LABELS = {"case": N_("case"), "documents": N_("documents"), "skipped": N_("not collected"),
                 "mail": N_("mail"), "mail_skipped": N_("mail not saved"), "estimate_version": N_("estimate version"),
                 "total": N_("total")}


def register(registry: Registry) -> None:
    registry.service("office_settings", lambda services: _settings())
    registry.service("case_storage", lambda services: _storage(services.office_settings))
    registry.service("case_sheet", lambda services: _sheet(services.office_settings))
    registry.service("estimates", lambda services: _estimates(services.office_settings))
    registry.service("cases", lambda services: _cases(services.store))
    registry.lookup("clients", known_clients)
    registry.add(JobType(
        name="newcase",
        help=N_("Open a case: number, folder, sheet row, draft estimate (and portal documents)."),
        aliases=("新規案件",),
        params=(
            Param("client", max_length=60, help=N_("client company"), title=N_("Client"), lookup="clients",
                  check=_client_name),
            Param("title", max_length=200, help=N_("what the case is about"), title=N_("Title"), check=_title),
            Param("due", kind="date", positional=False, required=False, metavar=N_("YYYY-MM-DD"), title=N_("Due date"),
                  aliases=("納期",)),
            Param("portal", positional=False, required=False, metavar=N_("ORDER_REF"), max_length=60,
                  title=N_("Portal order"), help=N_("the order on the client's portal, to collect its documents"),
                  aliases=("ポータル",)),
            ITEM,
        ),
        confirm=N_("Open a new case for {client}: “{title}”"),
        queue="ackflow-office",
        timeout=600,
        steps=(Step("number", steps.allocate_number, N_("case number")),
               Step("folder", steps.make_folder, N_("project folder")),
               Step("sheet", steps.register_row, N_("case sheet")),
               Step("estimate", steps.draft_estimate, N_("draft estimate")),
               Step("portal", steps.collect_documents, N_("portal documents")),
               Step("mail", mail.save_mail, N_("received mail"))),
        validate=_check_newcase,
        examples=('newcase ACME "プレス金型 A-12" --due 2026-12-01', 'newcase ACME "Die set" --portal PO-1042',
                  '新規案件 ACME「プレス金型 A-12」 納期：12月1日'),
        slash_command_id=20,
        result_fields=("case", "folder_link", "sheet_link", "estimate_link", "documents", "document_links", "skipped",
                       "mail", "mail_skipped"),
        result_labels=RESULT_LABELS,
        **OFFICE_EXTRA,
    ))
    registry.add(JobType(
        name="estimate",
        help=N_("Draft a new version of a case's estimate (earlier versions are kept)."),
        aliases=("見積",),
        params=(Param("case", metavar=N_("CASE_NUMBER"), max_length=20, title=N_("Case number")), ITEM),
        confirm=N_("Draft a new estimate for case {case}"),
        queue="ackflow-office",
        timeout=120,
        steps=(Step("draft", steps.redraft_estimate, N_("estimate")),),
        validate=_check_estimate,
        examples=('estimate 2026-001 --item "金型設計:1:350000"', '見積 2026-001 明細：金型設計:1:35万円'),
        slash_command_id=22,
        result_fields=("case", "estimate_link", "estimate_version", "total"),
        result_labels=RESULT_LABELS,
        **OFFICE_EXTRA,
    ))
    mail.register(registry)
    registry.command(Command("case", N_("Show a case: its row, folder, estimates, documents, jobs."),
                             "case CASE_NUMBER", show_case, slash_command_id=21, aliases=("案件",)))


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


def _estimates(settings):
    from .estimate import PdfEstimates

    return PdfEstimates(settings.estimate_font)


def _cases(store):
    from .cases import CaseRecords

    return CaseRecords(store.docs)
