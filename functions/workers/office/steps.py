"""The steps of ``newcase`` and ``estimate`` (estimates themselves: ``estimating``). Each is safe
to run again: numbers are allocated once per job, files are created only if absent, the sheet row
is found by case number, and the case record merges by key."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ackflow.errors import PermanentError, UsageError
from ackflow.i18n import N_, Speaker, texts
from ackflow.jobs.context import StepContext, nothing_to_do
from ackflow.jobs.model import Job

from .estimating import ESTIMATE_LINKS, check_first_estimate, first_estimate, issue_estimate, split_list
from .filing import case_row
from .names import safe_component
from .portal import PortalClient, collect, load_portals, resolve_credentials

RECEIVED_STATUS = "受付"  # a case's first stage (cases.STAGES)
RECEIVED = "01_受領資料"

TEXTS = {  # English, marked for the catalog (the Japanese is in locale/ja)
    "unopened": N_("Case number {case} is taken by this job, but the case is not opened: no folder was made, and "
                   "it is not among the open cases. The retry opens it under the same number; left as it is, the "
                   "number stays unused."),
}


_say = texts(TEXTS)


def _now(ctx: StepContext) -> dt.datetime:
    return dt.datetime.fromtimestamp(ctx.clock(), ZoneInfo(ctx.services.office_settings.timezone))


def _case(ctx: StepContext) -> str:
    return ctx.outputs["number"]["case"]


def allocate_number(ctx: StepContext) -> dict:
    """The next case number of the year, once per job (a retry gets the same number). What would
    refuse the case folder for good is checked first (``check_storage``), and what would refuse its
    estimate v1 (``check_first_estimate``: a client's name the PDF cannot print), so such a refusal
    takes no number. The case is recorded as being opened by this job (``opening``) until its folder is
    made: until then it is not one of the open cases (``commands.open_cases``)."""
    created = dt.datetime.fromtimestamp(ctx.job.created_at, ZoneInfo(ctx.services.office_settings.timezone))
    counter = f"case-{created.year}"
    likely = f"{created.year}-{ctx.services.store.counter_value(counter) + 1:03d}"
    check_storage(ctx, likely)
    check_first_estimate(ctx, likely, items=ctx.params["item"], client=ctx.params["client"])
    check_portal(ctx)
    number = ctx.services.store.allocate(counter, ctx.job.id)
    case = f"{created.year}-{number:03d}"
    params = ctx.params
    ctx.services.cases.update(case, ctx.job.id, client=params["client"], title=params["title"], due=params["due"],
                              requester=ctx.job.requester.label, opened_at=ctx.job.created_at,
                              status=RECEIVED_STATUS, by=ctx.job.requester.label, opening=ctx.job.id)
    ctx.progress(ctx._("case number {case}", case=case))
    return {"case": case}


def check_portal(ctx: StepContext) -> None:
    """Before a case number is taken: ``--portal`` for a client with no portal configured fails as
    the portal step would, which comes last, after the case was made. A configuration that does not
    read is left to that step (it says what is wrong with it)."""
    params = ctx.params
    if not params.get("portal"):
        return
    try:
        portals = load_portals(ctx.services.office_settings.portals)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return
    if params["client"] not in portals:
        raise PermanentError(N_("no portal is configured for {client} (ACKFLOW_OFFICE_PORTALS)"),
                             client=params["client"])


def check_storage(ctx: StepContext, case: str) -> None:
    """Before a case number is taken, what the ``folder`` step would be refused for good: the place
    of the case folders (on Drive: the parent folder, seen by the worker, in a shared drive, not in
    the trash), the template (there, readable, no shortcut, no file too large, not too many items)
    and the paths it makes for this client and title (``case``: the number the job will most likely
    get; only its length matters). Read-only, so a retried step may run it again; a Drive that does
    not answer is a transient failure as anywhere, retried before any number is taken. What changes
    between this and the folder step fails that step as before (the case is then not opened: see
    ``opening``)."""
    storage = ctx.services.case_storage
    ctx.progress(ctx._("checking the case folders and the template"))
    storage.check()
    _, name_values, _ = _folder_values(ctx, case)
    from .template import plan_tree

    plan_tree(_template(ctx), folder_name(case, ctx.params["client"], ctx.params["title"]), name_values,
              _template_setting(ctx))


def unopened_note(job: Job, speaker: Speaker) -> str | None:
    """What the failure card of a ``newcase`` job adds when it took a number and made no folder."""
    outputs = job.outputs()
    case = (outputs.get("number") or {}).get("case")
    return _say("unopened", case=case).render(speaker) if case and "folder" not in outputs else None


def folder_name(case: str, client: str, title: str) -> str:
    client, title = safe_component(client, N_("client name")), safe_component(title, N_("title"))
    return safe_component(f"{case}_{client}_{title}")


def _folder_values(ctx: StepContext, case: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The case folder's name, and the values put into the template's names and its text files."""
    params = ctx.params
    now = _now(ctx)
    text_values = {"case": case, "client": params["client"], "title": params["title"], "due": params["due"] or "未定",
                   "date": now.date().isoformat(), "year": str(now.year), "requester": ctx.job.requester.label}
    name_values = {**text_values, "client": safe_component(params["client"], N_("client name")),
                   "title": safe_component(params["title"], N_("title")), "requester": "requester"}
    return folder_name(case, params["client"], params["title"]), name_values, text_values


def _template(ctx: StepContext):
    """The template: the Drive folder (walked and checked whole) or the local folder's path."""
    settings = ctx.services.office_settings
    if settings.drive_template_folder:
        return ctx.services.case_storage.template(settings.drive_template_folder, settings.drive_template_max_bytes)
    return settings.template_dir


def _template_setting(ctx: StepContext) -> str:
    """The setting that names the template, for a refusal of what is in it."""
    from .template import DRIVE_TEMPLATE_SETTING, LOCAL_TEMPLATE_SETTING

    return DRIVE_TEMPLATE_SETTING if ctx.services.office_settings.drive_template_folder else LOCAL_TEMPLATE_SETTING


def make_folder(ctx: StepContext) -> dict:
    from .template import render_tree

    case = _case(ctx)
    folder, name_values, text_values = _folder_values(ctx, case)
    storage = ctx.services.case_storage
    ctx.progress(ctx._("making the folder {folder}", folder=folder))
    made = render_tree(_template(ctx), storage, folder, name_values, text_values,  # checked whole first
                       _template_setting(ctx))
    link = storage.link(folder)
    ctx.services.cases.update(case, ctx.job.id, folder=folder, folder_link=link, opening=None)
    return {"folder": folder, "folder_link": link, "created": len(made["created"]), "kept": len(made["kept"])}


def register_row(ctx: StepContext) -> dict:
    case = _case(ctx)
    params = ctx.params
    ctx.progress(ctx._("writing the case sheet"))
    row = case_row(ctx, case, {
        "client": params["client"], "title": params["title"], "status": RECEIVED_STATUS,
        "due": params["due"] or "", "folder": ctx.outputs["folder"]["folder_link"],
        "requester": ctx.job.requester.label, "created": _now(ctx).strftime("%Y-%m-%d %H:%M")})
    if row:
        ctx.services.cases.update(case, ctx.job.id, **row)
    return row or nothing_to_do({"sheet": "not configured"})


def draft_estimate(ctx: StepContext) -> dict:
    """Estimate v1 from the typed lines, or the client's default lines (with neither: none)."""
    params = ctx.params
    return first_estimate(ctx, _case(ctx), items=params["item"], client=params["client"])


def collect_documents(ctx: StepContext) -> dict:
    """Documents from the client's portal (with --portal): the last step of ``newcase``."""
    case = _case(ctx)
    params = ctx.params
    estimate = ctx.outputs["estimate"]
    summary = {"case": case, "folder_link": ctx.outputs["folder"]["folder_link"],
               **({key: estimate[key] for key in ESTIMATE_LINKS if key in estimate}
                  or {"no_estimate": estimate["no_estimate"]}),
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
        try:
            order = safe_component(params["portal"], N_("order"))
        except UsageError as exc:  # a request made before the card checked it
            raise PermanentError(exc.text) from exc
        folder = f"{ctx.outputs['folder']['folder']}/{RECEIVED}/portal/{order}"
        ctx.progress(ctx._("logging in to the {client} portal", client=params["client"]))
        fetched = collect(client, username, password, params["portal"], ctx.services.case_storage, folder,
                          progress=ctx.progress, speaker=ctx.speaker)
        documents = [{"key": f["path"], **f, "order": params["portal"]} for f in fetched.files]
        summary["documents"] = ", ".join(f["name"] for f in fetched.files) or ctx._("none")
        summary["document_links"] = [{"name": f["name"], "link": f["link"]} for f in fetched.files[:10]]
        if fetched.skipped:
            summary["skipped"] = "; ".join(f"{s['name']}: {s['reason']}" for s in fetched.skipped)
    ctx.services.cases.update(case, ctx.job.id, documents=documents, documents_collected=bool(params["portal"]))
    return summary if params["portal"] else nothing_to_do(summary)


def redraft_estimate(ctx: StepContext) -> dict:
    """``estimate CASE``: a new version from the previous one's lines, the earlier ones kept."""
    from .cases import CaseNotFound

    params = ctx.params
    case = params["case"]
    try:
        record = ctx.services.cases.get(case)
    except CaseNotFound as exc:
        raise PermanentError(N_("there is no case {case}; write “cases” to see the open cases and their numbers"),
                             case=case) from exc
    if not record.get("folder"):
        raise PermanentError(N_("case {case} has no folder yet (its newcase job has not made it)"), case=case)
    result = issue_estimate(ctx, case, items=params["item"], replace=bool(params.get("replace")),
                            base=params.get("base"),
                            change=split_list(params["change"], ";"),
                            remove=[int(n) for n in split_list(params["remove"], ",")],
                            recipient=params["to"], valid_until=params["valid_until"])
    return {"case": case, **result}
