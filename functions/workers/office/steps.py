"""The steps of ``newcase`` and ``estimate``. Each is safe to run again: numbers are allocated
once per job, files are created only if absent, the sheet row is found by case number, and the
case record merges by key."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ackflow.errors import PermanentError
from ackflow.i18n import N_
from ackflow.jobs.context import StepContext

from .cases import STATUSES, advanced
from .estimate import Estimate, Office, default_items, parse_item, yen
from .names import safe_component
from .portal import PortalClient, collect, load_portals, resolve_credentials

STATUS = dict(zip(("registered", "estimate", "documents", "ready"), STATUSES, strict=True))
ESTIMATES = "03_見積"
RECEIVED = "01_受領資料"


def _now(ctx: StepContext) -> dt.datetime:
    return dt.datetime.fromtimestamp(ctx.clock(), ZoneInfo(ctx.services.office_settings.timezone))


def _case(ctx: StepContext) -> str:
    return ctx.outputs["number"]["case"]


def _sheet(ctx: StepContext, case: str, values: dict) -> dict:
    """Write the case's row; its status only moves forward there too, and one a person wrote stays."""
    sheet = ctx.services.case_sheet
    if sheet is None:
        return {}
    row = sheet.upsert(case, {**values, "updated": _now(ctx).strftime("%Y-%m-%d %H:%M")}, merge={"status": advanced})
    return {"sheet_row": row.number, "sheet_link": row.link}


def allocate_number(ctx: StepContext) -> dict:
    """The next case number of the year, once per job (a retry gets the same number)."""
    created = dt.datetime.fromtimestamp(ctx.job.created_at, ZoneInfo(ctx.services.office_settings.timezone))
    number = ctx.services.store.allocate(f"case-{created.year}", ctx.job.id)
    case = f"{created.year}-{number:03d}"
    params = ctx.params
    ctx.services.cases.update(case, ctx.job.id, client=params["client"], title=params["title"], due=params["due"],
                              requester=ctx.job.requester.label, opened_at=ctx.job.created_at,
                              status=STATUS["registered"])
    ctx.progress(ctx._("case number {case}", case=case))
    return {"case": case}


def folder_name(case: str, client: str, title: str) -> str:
    return safe_component(f"{case}_{safe_component(client, 'client name')}_{safe_component(title, 'title')}")


def make_folder(ctx: StepContext) -> dict:
    from .template import render_tree

    case = _case(ctx)
    params = ctx.params
    folder = folder_name(case, params["client"], params["title"])
    now = _now(ctx)
    text_values = {"case": case, "client": params["client"], "title": params["title"], "due": params["due"] or "未定",
                   "date": now.date().isoformat(), "year": str(now.year), "requester": ctx.job.requester.label}
    name_values = {**text_values, "client": safe_component(params["client"], "client name"),
                   "title": safe_component(params["title"], "title"), "requester": "requester"}
    storage = ctx.services.case_storage
    settings = ctx.services.office_settings
    ctx.progress(ctx._("making the folder {folder}", folder=folder))
    template = settings.template_dir
    if settings.drive_template_folder:  # checked whole before anything is made
        template = storage.template(settings.drive_template_folder, settings.drive_template_max_bytes)
    made = render_tree(template, storage, folder, name_values, text_values)
    link = storage.link(folder)
    ctx.services.cases.update(case, ctx.job.id, folder=folder, folder_link=link)
    return {"folder": folder, "folder_link": link, "created": len(made["created"]), "kept": len(made["kept"])}


def register_row(ctx: StepContext) -> dict:
    case = _case(ctx)
    params = ctx.params
    ctx.progress(ctx._("writing the case sheet"))
    row = _sheet(ctx, case, {
        "client": params["client"], "title": params["title"], "status": STATUS["registered"],
        "due": params["due"] or "", "folder": ctx.outputs["folder"]["folder_link"],
        "requester": ctx.job.requester.label, "created": _now(ctx).strftime("%Y-%m-%d %H:%M")})
    if row:
        ctx.services.cases.update(case, ctx.job.id, **row)
    return row or {"sheet": "not configured"}


def _draft(ctx: StepContext, case: str, folder: str, client: str, title: str, due: str | None,
           items_text: list[str]) -> dict:
    settings = ctx.services.office_settings
    items = [parse_item(text) for text in items_text] or default_items(client, settings.client_items)
    version = ctx.services.store.allocate(f"estimate-{case}", ctx.job.id)
    estimate = Estimate(case=case, version=version, client=client, title=title, items=tuple(items),
                        tax_rate=settings.tax_rate, issued=_now(ctx).date(), valid_days=settings.estimate_validity_days,
                        office=Office(settings.name, settings.address, settings.contact), due=due)
    ctx.progress(ctx._("drafting estimate v{version}", version=version))
    document = ctx.services.estimates.draft_estimate(estimate)
    storage = ctx.services.case_storage
    path = f"{folder}/{ESTIMATES}/{document.name}"
    storage.create(path, document.data, document.content_type)  # a repeat keeps the first draft
    link = storage.link(path)
    row = _sheet(ctx, case, {"estimate": link, "status": STATUS["estimate"]})
    entry = {"key": f"v{version:03d}", "version": version, "path": path, "link": link, "total": estimate.total,
             "job": ctx.job.id}
    ctx.services.cases.update(case, ctx.job.id, estimates=[entry], status=STATUS["estimate"], **row)
    return {"estimate": path, "estimate_link": link, "estimate_version": version, "total": yen(estimate.total)}


def draft_estimate(ctx: StepContext) -> dict:
    params = ctx.params
    return _draft(ctx, _case(ctx), ctx.outputs["folder"]["folder"], params["client"], params["title"],
                  params["due"], params["item"])


def collect_documents(ctx: StepContext) -> dict:
    """Documents from the client's portal (with --portal); then the case is ready."""
    case = _case(ctx)
    params = ctx.params
    summary = {"case": case, "folder_link": ctx.outputs["folder"]["folder_link"],
               "estimate_link": ctx.outputs["estimate"]["estimate_link"],
               "sheet_link": ctx.outputs["sheet"].get("sheet_link", "")}
    documents = []
    if params["portal"]:
        settings = ctx.services.office_settings
        portal = load_portals(settings.portals).get(params["client"])
        if portal is None:
            raise PermanentError(N_("no portal is configured for {client} (ACKFLOW_OFFICE_PORTALS)"),
                                 client=params["client"])
        username, password = resolve_credentials(portal.credentials, settings.portal_password.get_secret_value(),
                                                 secrets_endpoint=settings.secrets_endpoint)
        client = PortalClient(portal.url, allowed_hosts=settings.portal_allowed_hosts, timeout=settings.portal_timeout,
                              max_bytes=settings.portal_max_bytes, max_pages=settings.portal_max_pages,
                              retries=settings.portal_retries)
        folder = f"{ctx.outputs['folder']['folder']}/{RECEIVED}/portal/{safe_component(params['portal'], 'order')}"
        ctx.progress(ctx._("logging in to the {client} portal", client=params["client"]))
        fetched = collect(client, username, password, params["portal"], ctx.services.case_storage, folder,
                          progress=ctx.progress, speaker=ctx.speaker)
        documents = [{"key": f["path"], **f, "order": params["portal"]} for f in fetched.files]
        summary["documents"] = ", ".join(f["name"] for f in fetched.files) or ctx._("none")
        summary["document_links"] = [{"name": f["name"], "link": f["link"]} for f in fetched.files[:10]]
        if fetched.skipped:
            summary["skipped"] = "; ".join(f"{s['name']}: {s['reason']}" for s in fetched.skipped)
    status = STATUS["ready"]
    row = _sheet(ctx, case, {"status": status})
    ctx.services.cases.update(case, ctx.job.id, documents=documents, status=status, **row)
    return summary


def redraft_estimate(ctx: StepContext) -> dict:
    """``estimate CASE``: a new version of the estimate, the earlier ones kept."""
    from .cases import CaseNotFound

    case = ctx.params["case"]
    try:
        record = ctx.services.cases.get(case)
    except CaseNotFound as exc:
        raise PermanentError(N_("there is no case {case}; write “case {case}” to check the number"), case=case) from exc
    if not record.get("folder"):
        raise PermanentError(N_("case {case} has no folder yet (its newcase job has not made it)"), case=case)
    result = _draft(ctx, case, record["folder"], record["client"], record["title"], record.get("due"),
                    ctx.params["item"])
    return {"case": case, **result}
