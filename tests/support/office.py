"""Running the office workflow for the end-to-end tests, and looking at what a case left behind."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
from pathlib import Path

import pypdf

from ackflow.errors import PermanentError
from ackflow.jobs.model import JobStatus
from ackflow_tools.devtools.procs import ManagedProcess, free_port
from tests.e2e.conftest import start_pipeline
from tests.support import portal as portal_site
from tests.support.pipeline import FAST_QUEUES
from workers.office.sheet import CaseSheet


class GcsEmulator:
    def __init__(self, workdir: Path):
        self.port = free_port()
        self.proc = ManagedProcess(
            "gcs", [sys.executable, str(Path(__file__).with_name("gcs_emulator.py")), "start", "--host", "127.0.0.1",
                    "--port", str(self.port), "--in-memory", "--default-bucket", "office-cases"],
            ready_url=f"http://127.0.0.1:{self.port}/", log_path=workdir / "gcs.log").start()
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.stop()


KINDS = {  # kind → (store, case storage)
    "embedded": ("sqlite", "local"),
    "emulators": ("firestore", "gcs"),
    "drive": ("sqlite", "drive"),
    "drive-firestore": ("firestore", "drive"),
}


@contextlib.contextmanager
def running_office(workdir: Path, kind: str, fmt: str = "classic", accounting: str = "embedded",
                   time_zone: str | None = None, language: str | None = None):
    """The office workflow on a running pipeline: ``embedded`` (SQLite, a local folder),
    ``emulators`` (Firestore, a Cloud Storage emulator), ``drive`` and ``drive-firestore`` (the local
    Drive stand-in, on each store); the local Sheets service and a test portal; estimates and
    invoices as PDFs, or through the freee stand-in (``accounting="freee"``). ``time_zone``: the
    deployment's and the office's (both, as Terraform sets them; otherwise the deployment's is UTC
    and the office's its default, Asia/Tokyo). ``language``: the deployment's (ACKFLOW_LANGUAGE; the
    test stack's is English), which periodic jobs speak."""
    site = portal_site.Portal()
    env = {
        "ACKFLOW_JOB_TYPES": "tests.support.jobtypes:office_with_pause_points",
        "ACKFLOW_TEST_PAUSE_FILE": str(workdir / "pause"),
        "ACKFLOW_OFFICE_NAME": "山田金型設計事務所",
        "ACKFLOW_PERIODIC_SPACE": "spaces/office",  # the digest and the reminder report here
        "ACKFLOW_ADMINS": "bob@example.com",  # who may correct a case's status
        "ACKFLOW_OFFICE_ADDRESS": "東京都大田区",
        "ACKFLOW_OFFICE_PORTALS": json.dumps({"ACME": {"url": site.url, "credentials": "env:ACME_PORTAL"}}),
        "ACME_PORTAL": json.dumps({"username": portal_site.USERNAME, "password": portal_site.PASSWORD}),
        "ACKFLOW_OFFICE_PORTAL_ALLOWED_HOSTS": site.host,
        "ACKFLOW_OFFICE_PORTAL_MAX_BYTES": "100000",
        "ACKFLOW_OFFICE_CLIENT_ITEMS": json.dumps({"ACME": [["金型設計", 1, 350000], ["試作立会い", 2, 40000]]}),
    }
    if time_zone:
        env["ACKFLOW_OFFICE_TIMEZONE"] = time_zone
    if language:
        env["ACKFLOW_LANGUAGE"] = language
    gcs = None
    store, storage = KINDS[kind]
    if store == "firestore":
        from tests.conftest import require_tool

        require_tool("java", "the Firestore emulator runs on Java")
        env["ACKFLOW_QUEUES_FILE"] = str(_queues_for_the_firestore_emulator(workdir))
    if storage == "gcs":
        gcs = GcsEmulator(workdir)
        env.update({"ACKFLOW_OFFICE_STORAGE": "gcs", "ACKFLOW_OFFICE_GCS_BUCKET": "office-cases",
                    "ACKFLOW_OFFICE_GCS_PREFIX": "cases/", "STORAGE_EMULATOR_HOST": gcs.url,
                    "GOOGLE_CLOUD_PROJECT": "local-project"})
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)  # this process loads the same job types and reads the same storage
    auth = "project-number" if fmt == "classic" else "endpoint-url"
    pipeline = start_pipeline(workdir, fmt, auth, store, storage=storage, accounting=accounting,
                              time_zone=time_zone or "UTC", **env)
    pipeline.site = site
    pipeline.kind = kind
    try:
        yield pipeline
    finally:
        pipeline.stack.stop()
        site.stop()
        if gcs:
            gcs.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    site.stop()
    if gcs:
        gcs.stop()


# The Firestore emulator has no deadlock detection: two transactions that read the case or invoice
# counter and both write it wait out its lock timeout (2 s), and a handful at once keep timing each
# other out past the queue's attempts, the more so on a loaded machine (twenty at once: none commits;
# the emulator is not meant for parallel use, firebase-tools issues 6758 and 8300). So the office
# queue of a Firestore stack runs two steps at a time (production's runs five): the jobs still all
# start at once, and two allocations may still meet.
FIRESTORE_OFFICE_CONCURRENCY = 2


def _queues_for_the_firestore_emulator(workdir: Path) -> Path:
    definitions = json.loads(FAST_QUEUES.read_text())
    definitions["queues"]["ackflow-office"]["rate_limits"]["max_concurrent_dispatches"] = FIRESTORE_OFFICE_CONCURRENCY
    path = workdir / "queues.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(definitions, indent=2))
    return path


def storage_of(office):
    from workers.office import _storage
    from workers.office.settings import OfficeSettings

    env = office.stack.env()
    values = {k[len("ACKFLOW_OFFICE_"):].lower(): v for k, v in env.items() if k.startswith("ACKFLOW_OFFICE_")}
    return _storage(OfficeSettings(**values))


def drive_tree(office, case: str) -> dict[str, list[dict]]:
    """What the Drive stand-in holds for a case (path → items: Drive allows two of one name)."""
    from ackflow_tools.devtools.drive import PARENT_FOLDER
    from tests.support.drive import tree

    everything = tree(office.stack.url("drive"), PARENT_FOLDER)
    return {path: items for path, items in everything.items() if path.startswith(case + "_")}


def sheet_of(office) -> CaseSheet:
    env = office.stack.env()
    return CaseSheet(env["ACKFLOW_OFFICE_SHEET_ID"], "Cases", endpoint=env["ACKFLOW_OFFICE_SHEETS_ENDPOINT"],
                     credentials_file=env["ACKFLOW_OFFICE_SHEETS_CREDENTIALS_FILE"])


def run_newcase(office, text: str, timeout: float = 60):
    return office.wait_job(office.start(text), JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=timeout)


# Two runs compared may straddle midnight in the office's time zone (CI at 15:00 UTC is 00:00 in
# Tokyo), so the dates written into README.txt and the PDFs are replaced as the case number is.
DATES = re.compile(r"\d{4}-\d{2}-\d{2}|\d{4}年\d{1,2}月\d{1,2}日")


def snapshot(office, case: str) -> dict:
    """Everything a case left behind, with its number and dates replaced, to compare two runs."""
    storage = storage_of(office)
    record = office.runtime.services.cases.get(case)
    folder = record["folder"]
    files = {}
    listed = storage.list(folder)
    duplicates = sorted({path for path in listed if listed.count(path) > 1})  # Drive allows two of a name
    for path in listed:
        try:
            data = storage.read(path)
        except PermanentError:  # a Google Docs file (on Drive) has no bytes to read
            data = b"<google docs file>"
        if ("/03_見積/" in path or "/05_請求/" in path) and path.endswith(".pdf"):
            data = DATES.sub("DATE", pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text().replace(case, "CASE"))
        else:
            data = data.replace(case.encode(), b"CASE")
            if path.endswith(".txt"):
                data = DATES.sub("DATE", data.decode()).encode()
        files[path[len(folder):].replace(case, "CASE")] = data
    rows = [r for r in office.runtime.store.docs.query("cases", [], "created_at", False, 1000)]
    sheet = sheet_of(office)
    row = sheet.find(case)
    sheet_values = {k: v for k, v in row.values.items()
                    if k not in ("case", "created", "updated", "folder", "estimate")}
    if "history" in sheet_values:  # the moves and who made them, not when
        sheet_values["history"] = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "WHEN", sheet_values["history"])
    return {"files": files, "duplicates": duplicates, "sheet": sheet_values, "estimates": len(record["estimates"]),
            "documents": sorted(d["name"] for d in record["documents"]), "cases": len(rows)}




def documents_rows(office) -> list[dict]:
    """Every row of the case sheet's documents tab, in order (a number written twice shows twice)."""
    from workers.office.sheet import DOCUMENT_COLUMNS

    env = office.stack.env()
    sheet = CaseSheet(env["ACKFLOW_OFFICE_SHEET_ID"], "Documents", endpoint=env["ACKFLOW_OFFICE_SHEETS_ENDPOINT"],
                      credentials_file=env["ACKFLOW_OFFICE_SHEETS_CREDENTIALS_FILE"], columns=DOCUMENT_COLUMNS,
                      key="number")
    rows = sheet.worksheet().get_all_values()
    header = rows[0]
    labels = {label: key for key, (label, _) in DOCUMENT_COLUMNS.items()}
    return [{labels.get(h, h): v for h, v in zip(header, row, strict=False)} for row in rows[1:] if row]


def documents_tab(office) -> dict[str, dict]:
    """The case sheet's documents tab, by document number."""
    return {row["number"]: row for row in documents_rows(office)}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
