"""The office's documents issued in freee 請求書 (the local stand-in, as ``ackflow dev --accounting
freee`` runs it): estimates and invoices created there with our numbers, the client a partner,
links in the case and the documents tab; a revoked grant fails the job with a card that says how to
re-authorize, before any number is taken, and the Retry button then finishes it."""

from __future__ import annotations

import json
import time

import pytest
import requests

from ackflow.jobs.model import JobStatus
from tests.support.office import documents_tab, run_newcase, running_office


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    with running_office(tmp_path_factory.mktemp("freee"), "embedded", accounting="freee") as pipeline:
        pipeline.freee = pipeline.stack.url("freee")
        yield pipeline


def freee_state(office) -> dict:
    return requests.get(f"{office.freee}/_emulator/state", timeout=10).json()


def run(office, text: str, status: JobStatus = JobStatus.SUCCEEDED):
    job = office.wait_job(office.start(text), JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=60)
    assert job.status == status, job.last_error
    return job


def test_estimates_and_invoices_are_issued_in_freee(office):
    opened = run_newcase(office, 'newcase "株式会社ACME" "金型 F-1" --item "金型設計:1:350000" --item "弁当:2:800:8%"')
    assert opened.status == JobStatus.SUCCEEDED, opened.last_error
    case = opened.result["case"]
    assert run(office, f'estimate {case} --change "1=::360000"').result["estimate_version"] == 2
    run(office, f"ordered {case}")
    invoice = run(office, f"invoice {case}")
    number = invoice.result["invoice"]
    state = freee_state(office)
    quotations = {q["quotation_number"]: q for q in state["quotations"]}
    assert {f"{case}-v1", f"{case}-v2"} <= set(quotations)
    created = [i for i in state["invoices"] if i["invoice_number"] == number]
    assert len(created) == 1
    freee_invoice = created[0]
    assert (freee_invoice["amount_excluding_tax_10"], freee_invoice["amount_tax_10"]) == (360000, 36000)
    assert (freee_invoice["amount_excluding_tax_8_reduced"], freee_invoice["amount_tax_8_reduced"]) == (1600, 128)
    assert freee_invoice["tax_fraction"] == "omit" and freee_invoice["partner_title"] == "御中"
    assert freee_invoice["bank_account_to_transfer"] and freee_invoice["payment_type"] == "transfer"
    assert [p["name"] for p in state["partners"]].count("株式会社ACME") == 1
    link = invoice.result["invoice_link"]
    assert link == f"{office.freee}/web/reports/invoices/{freee_invoice['id']}"
    assert documents_tab(office)[number]["service"] == "freee"
    assert office.runtime.services.cases.get(case)["status"] == "請求"


def test_a_revoked_grant_fails_before_a_number_is_taken_and_retry_finishes_after_authorizing(office):
    case = run_newcase(office, 'newcase "山田製作所" "治具 G-2" --item "設計:1:80000"').result["case"]
    run(office, f"ordered {case}")
    year = time.localtime().tm_year
    before = office.runtime.store.counter_value(f"invoice-{year}")
    requests.post(f"{office.freee}/_emulator/control", json={"revoke": True, "expire_access_tokens": True},
                  timeout=10)
    failed = run(office, f"invoice {case}", JobStatus.FAILED)
    assert "ackflow freee authorize" in failed.last_error and failed.steps[0].attempts == 1
    assert office.runtime.store.counter_value(f"invoice-{year}") == before
    card = json.dumps(office.job_message(failed), ensure_ascii=False)
    assert "ackflow freee authorize" in card and "Retry" in card

    office.stack.authorize_freee(again=True)  # an administrator runs `ackflow freee authorize`
    office.click(office.job_message(failed), "Retry")
    done = office.wait_job(failed.id, JobStatus.SUCCEEDED, timeout=60)
    assert done.result["invoice"].endswith(f"-{before + 1:04d}")
    uses = freee_state(office)["refresh_uses"]
    assert len(uses) == len(set(uses))  # no refresh token was ever presented twice
