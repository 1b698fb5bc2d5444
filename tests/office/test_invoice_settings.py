"""The invoice job run in process, on the embedded service (a local folder): the office's rounding
setting (``ACKFLOW_OFFICE_TAX_ROUNDING``, documented but only ``TaxRules(rounding=…)`` was tested)
reaches the invoice it numbers, issues and prints, once per rate, never per line; and its numbers
start again each year of the office's calendar."""

from __future__ import annotations

import io
import time

import pypdf
import pytest

from ackflow.errors import PermanentError
from ackflow.jobs.context import StepContext
from ackflow.jobs.model import Job, Requester, StepState
from workers.office import ledger
from workers.office.cases import CaseRecords
from workers.office.issuer import SAMPLE

CASE = "2026-001"
# three lines of ¥105 at 10 %, three of ¥110 at 8 %: per rate 31.5 and 26.4 of tax; per line 10.5 and 8.8
LINES = ["a:1:105", "b:1:105", "c:1:105", "弁当:1:110:8%", "茶:1:110:8%", "菓子:1:110:8%"]


@pytest.fixture
def office_runtime(tmp_path, monkeypatch):
    from ackflow.app.runtime import Runtime
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    monkeypatch.setenv("ACKFLOW_OFFICE_LOCAL_ROOT", str(tmp_path / "cases"))
    for name, value in (("NAME", SAMPLE.name), ("REGISTRATION_NUMBER", SAMPLE.registration),
                        ("BANK_ACCOUNT", SAMPLE.bank_account)):
        monkeypatch.setenv(f"ACKFLOW_OFFICE_{name}", value)

    def start(rounding: str | None):
        if rounding is None:
            monkeypatch.delenv("ACKFLOW_OFFICE_TAX_ROUNDING", raising=False)
        else:
            monkeypatch.setenv("ACKFLOW_OFFICE_TAX_ROUNDING", rounding)
        settings = Settings(sqlite_path=str(tmp_path / f"jobs-{rounding}.db"))
        runtime = Runtime(settings, registry=build_registry(settings))
        started.append(runtime)
        CaseRecords(runtime.store.docs).update(CASE, "jnew", client="ACME", title="金型", folder=f"{CASE}_ACME_金型",
                                               status="受注", by="Alice")
        return runtime

    started: list = []
    yield start
    for runtime in started:
        runtime.close()


def invoice_job(runtime, case: str = CASE, created_at: float | None = None, job_id: str = "jinvoice") -> Job:
    job_type = runtime.registry.get("invoice")
    params = job_type.parse([case, *[word for line in LINES for word in ("--item", line)]])
    now = created_at or time.time()
    return Job(id=job_id, type="invoice", requester=Requester("users/1", "a@example.com", "Alice"),
               params=params, space="spaces/s", thread=None, queue="ackflow-office", created_at=now, updated_at=now,
               steps=tuple(StepState(s.name) for s in job_type.steps))


def run_steps(runtime, job: Job) -> Job:
    """Each step in turn, its output kept on the job as the worker keeps it."""
    import dataclasses

    job_type = runtime.registry.get("invoice")
    for index, step in enumerate(job_type.steps):
        context = StepContext(job, index, 1, runtime.services, report=lambda text, fraction=None: None,
                              cancelled=lambda: False, clock=time.time)
        output = step.run(context)
        steps = list(job.steps)
        steps[index] = dataclasses.replace(steps[index], output=output)
        job = dataclasses.replace(job, steps=tuple(steps))
    return job


@pytest.mark.parametrize("rounding, tax_10, tax_8, said", [
    (None, 31, 26, "端数は切り捨て"),  # the default: floor (per line it would be 10 × 3 and 8 × 3)
    ("round", 32, 26, "端数は四捨五入"),
    ("ceil", 32, 27, "端数は切り上げ"),
])
def test_the_offices_tax_rounding_setting_is_the_invoices(office_runtime, rounding, tax_10, tax_8, said):
    runtime = office_runtime(rounding)
    job = run_steps(runtime, invoice_job(runtime))
    number = job.outputs()["number"]["invoice"]
    invoice = ledger.get(runtime.store.docs, "invoice", number)
    assert invoice.rules.rounding == (rounding or "floor")
    assert [(r.rate, r.subtotal, r.tax) for r in invoice.totals.by_rate] == [(10, 315, tax_10), (8, 330, tax_8)]
    assert job.outputs()["file"]["total"] == f"¥{315 + 330 + tax_10 + tax_8:,}"
    pdf = runtime.services.case_storage.read(f"{CASE}_ACME_金型/05_請求/請求書_{number}.pdf")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert f"¥{tax_10}" in text and f"¥{tax_8}" in text and said in text, text


def test_invoice_numbers_start_again_each_year_of_the_offices_calendar(office_runtime):
    """Consecutive per year: the year is the office's (Tokyo), the job's own date, so an invoice run
    at 23:30 on 31 December in Tokyo is the old year's and one at 00:30 on 1 January the new year's
    first, whatever the UTC date; the old year's numbers go on where they were."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    runtime = office_runtime(None)
    tokyo = ZoneInfo("Asia/Tokyo")
    cases = CaseRecords(runtime.store.docs)
    numbers = []
    for n, moment in enumerate([(2026, 12, 31, 23, 0), (2026, 12, 31, 23, 30), (2027, 1, 1, 0, 30),
                                (2027, 1, 1, 9, 0)], start=2):
        case = f"2026-{n:03d}"
        cases.update(case, "jnew", client="ACME", title="金型", folder=f"{case}_ACME_金型", status="受注", by="Alice")
        created = dt.datetime(*moment, tzinfo=tokyo).timestamp()
        job = run_steps(runtime, invoice_job(runtime, case, created, job_id=f"jinvoice{n}"))
        numbers.append(job.outputs()["number"]["invoice"])
    # 00:30 on 1 January in Tokyo is 15:30 on 31 December in UTC: still the new year's
    assert numbers == ["INV-2026-0001", "INV-2026-0002", "INV-2027-0001", "INV-2027-0002"]
    assert ledger.get(runtime.store.docs, "invoice", "INV-2027-0001").issued == "2027-01-01"


def run_step(runtime, job: Job, name: str) -> Job:
    """One step of ``job`` (the outputs of those before it already on the job), its output kept."""
    import dataclasses

    job_type = runtime.registry.get("invoice")
    index = [s.name for s in job_type.steps].index(name)
    context = StepContext(job, index, 1, runtime.services, report=lambda text, fraction=None: None,
                          cancelled=lambda: False, clock=time.time)
    steps = list(job.steps)
    steps[index] = dataclasses.replace(steps[index], output=job_type.steps[index].run(context))
    return dataclasses.replace(job, steps=tuple(steps))


def test_an_invoice_numbered_before_the_offices_details_were_corrected_is_issued_with_the_corrected_ones(
        tmp_path, monkeypatch):
    """freee refuses an invoice whose template prints another registration number than the office's
    setting and says to correct the template or ACKFLOW_OFFICE_REGISTRATION_NUMBER, then retry. The
    retry read the invoice back from the ledger as numbered, with the old number, so a corrected
    setting could never be issued: every retry was refused again. An invoice not yet issued is issued
    with the office's details as they are; one issued keeps what it was issued with."""
    from ackflow.app.runtime import Runtime
    from ackflow.settings import Settings
    from workers.job_types import build_registry
    from workers.office.issuer import valid_registration

    monkeypatch.setenv("ACKFLOW_OFFICE_LOCAL_ROOT", str(tmp_path / "cases"))
    monkeypatch.setenv("ACKFLOW_OFFICE_NAME", SAMPLE.name)
    monkeypatch.setenv("ACKFLOW_OFFICE_BANK_ACCOUNT", SAMPLE.bank_account)
    wrong, right = valid_registration("987654321098"), SAMPLE.registration
    runtimes = []

    def runtime_with(registration: str):
        monkeypatch.setenv("ACKFLOW_OFFICE_REGISTRATION_NUMBER", registration)
        runtime = Runtime(Settings(sqlite_path=str(tmp_path / "jobs.db")), registry=build_registry(Settings()))
        runtimes.append(runtime)
        return runtime

    try:
        before = runtime_with(wrong)
        CaseRecords(before.store.docs).update(CASE, "jnew", client="ACME", title="金型", folder=f"{CASE}_ACME_金型",
                                              status="受注", by="Alice")
        job = run_step(before, invoice_job(before), "number")
        number = job.outputs()["number"]["invoice"]
        assert ledger.get(before.store.docs, "invoice", number).issuer.registration == wrong

        after = runtime_with(right)  # the office corrected its setting; the job is retried
        job = run_step(after, job, "issue")
        assert ledger.get(after.store.docs, "invoice", number).issuer.registration == right
        pdf = after.services.case_storage.read(f"{CASE}_ACME_金型/05_請求/請求書_{number}.pdf")
        text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
        assert right in text and wrong not in text

        again = runtime_with(wrong)  # issued: a later change of the settings changes nothing of it
        run_step(again, job, "issue")
        assert ledger.get(again.store.docs, "invoice", number).issuer.registration == right
    finally:
        for runtime in runtimes:
            runtime.close()


@pytest.fixture
def office_with(tmp_path, monkeypatch):
    """A runtime per call, on one store, with the office's details as given (the settings a new
    revision of the worker starts with)."""
    from ackflow.app.runtime import Runtime
    from ackflow.settings import Settings
    from workers.job_types import build_registry

    monkeypatch.setenv("ACKFLOW_OFFICE_LOCAL_ROOT", str(tmp_path / "cases"))
    runtimes = []

    def start(**office):
        for name, value in {"NAME": SAMPLE.name, "REGISTRATION_NUMBER": SAMPLE.registration,
                            "BANK_ACCOUNT": SAMPLE.bank_account, **office}.items():
            monkeypatch.setenv(f"ACKFLOW_OFFICE_{name}", value)
        runtime = Runtime(Settings(sqlite_path=str(tmp_path / "jobs.db")), registry=build_registry(Settings()))
        runtimes.append(runtime)
        return runtime

    yield start
    for runtime in runtimes:
        runtime.close()


def pdf_text(runtime, number: str) -> str:
    pdf = runtime.services.case_storage.read(f"{CASE}_ACME_金型/05_請求/請求書_{number}.pdf")
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize("crash", ["before_noted", "before_indexed"])
def test_an_invoice_whose_pdf_was_filed_before_a_crash_keeps_the_issuer_it_was_printed_with(office_with, monkeypatch,
                                                                                             crash):
    """The issue step files the PDF, then notes the invoice issued in the ledger. Killed between the
    two, then retried by a worker whose settings name the office otherwise: the retry finds the PDF
    filed (an issued document never changes) and must not write the new details into the ledger's
    copy of it, or the ledger (and what is read from it) says another issuer than the PDF sent."""
    from workers.office import invoicing

    before = office_with(NAME="旧設計事務所", BANK_ACCOUNT="旧銀行 本店 普通 1111111")
    CaseRecords(before.store.docs).update(CASE, "jnew", client="ACME", title="金型", folder=f"{CASE}_ACME_金型",
                                          status="受注", by="Alice")
    job = run_step(before, invoice_job(before), "number")
    number = job.outputs()["number"]["invoice"]

    class Killed(BaseException):
        pass

    def killed(*args, **kwargs):
        raise Killed

    with monkeypatch.context() as patch, pytest.raises(Killed):
        if crash == "before_noted":  # the PDF filed and indexed, the ledger not told
            patch.setattr(invoicing, "file_issued", killed)
        else:  # the PDF filed, killed before the index was written
            original = before.services.accounting.docs.transaction
            patch.setattr(before.services.accounting.docs, "transaction",
                          lambda apply: killed() if apply.__name__ == "record" else original(apply))
        run_step(before, job, "issue")
    assert "旧設計事務所" in pdf_text(before, number)

    after = office_with(NAME="新設計事務所", BANK_ACCOUNT="新銀行 本店 普通 2222222")  # the office renamed
    run_step(after, job, "issue")
    assert "旧設計事務所" in pdf_text(after, number)  # filed once, never replaced
    kept = ledger.get(after.store.docs, "invoice", number)
    assert (kept.issuer.name, kept.issuer.bank_account) == ("旧設計事務所", "旧銀行 本店 普通 1111111")


def test_a_new_name_the_pdf_cannot_print_leaves_a_numbered_invoice_as_it_was_numbered(office_with):
    """An invoice numbered with details the PDF prints, issued after the office set a name its font
    cannot print: issued as numbered. It was refused saying “Nothing was numbered”, untrue: the
    number was taken, and every retry was refused the same way."""
    before = office_with(NAME="旧設計事務所")
    CaseRecords(before.store.docs).update(CASE, "jnew", client="ACME", title="金型", folder=f"{CASE}_ACME_金型",
                                          status="受注", by="Alice")
    job = run_step(before, invoice_job(before), "number")
    number = job.outputs()["number"]["invoice"]
    after = office_with(NAME="\U000f0000設計事務所")  # a character of a private use plane: no font has it
    run_step(after, job, "issue")
    assert "旧設計事務所" in pdf_text(after, number)
    assert ledger.get(after.store.docs, "invoice", number).issuer.name == "旧設計事務所"


def test_an_invoice_freee_holds_keeps_the_name_and_bank_account_freee_printed_when_retried(office_with):
    """freee refused an invoice it printed with its template's registration number, not the office's;
    the office corrects ACKFLOW_OFFICE_REGISTRATION_NUMBER, as the refusal says, and renames itself
    and its bank account at the same time. The retry issues the invoice freee holds, made with the
    name and bank account as they were: the ledger keeps those (the registration number is the
    template's, the corrected one), not the new ones freee's invoice does not carry."""
    from tests.support.freee import StandIn
    from workers.office.accounting.factory import freee_tokens
    from workers.office.issuer import valid_registration

    standin = StandIn()
    try:
        freee = {"ACCOUNTING": "freee", "FREEE_CLIENT_ID": "local-client", "FREEE_CLIENT_SECRET": "local-secret",
                 "FREEE_API_URL": standin.url, "FREEE_ACCOUNTS_URL": standin.url, "FREEE_TOKEN_VAULT": "store"}
        before = office_with(NAME="旧設計事務所", BANK_ACCOUNT="旧銀行 本店 普通 1111111",
                             REGISTRATION_NUMBER=valid_registration("987654321098"), **freee)
        freee_tokens(before.services.office_settings, before.store.docs).exchange(standin.approve())
        CaseRecords(before.store.docs).update(CASE, "jnew", client="ACME", title="金型", folder=f"{CASE}_ACME_金型",
                                              status="受注", by="Alice")
        job = run_step(before, invoice_job(before), "number")
        number = job.outputs()["number"]["invoice"]
        with pytest.raises(PermanentError, match="ACKFLOW_OFFICE_REGISTRATION_NUMBER"):
            run_step(before, job, "issue")

        after = office_with(NAME="新設計事務所", BANK_ACCOUNT="新銀行 本店 普通 2222222",
                            REGISTRATION_NUMBER=SAMPLE.registration, **freee)  # the template's
        run_step(after, job, "issue")
        [held] = standin.documents("invoices", number)
        held = standin.service.get("invoices", held["id"])
        kept = ledger.get(after.store.docs, "invoice", number).issuer
        assert (kept.name, kept.bank_account, kept.registration) == (
            held["company_name"], held["bank_account_to_transfer"], SAMPLE.registration)
    finally:
        standin.stop()
