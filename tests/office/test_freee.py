"""freee as the accounting service, on the local stand-in: OAuth tokens that rotate on use and are
refreshed once across workers (on both stores), an expired or revoked grant, freee's answers as the
project's errors, a reply lost after a create, and the refresh token kept in Secret Manager."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from ackflow.errors import PermanentError, RetryLater, TransientError, Unavailable
from ackflow.i18n import Speaker
from ackflow.store.sqlite import SqliteDocuments
from tests.support.freee import StandIn
from workers.office.accounting.freee.client import FreeeRefused
from workers.office.accounting.freee.refusals import LIMIT_FOR, LIMIT_WAIT
from workers.office.accounting.freee.tokens import GRANT, GRANTS, GrantMissing, SecretVault, StoreVault
from workers.office.issuer import Issuer
from workers.office.money import TaxRules, parse_line


@pytest.fixture
def standin():
    running = StandIn()
    yield running
    running.stop()


@pytest.fixture(params=["sqlite", "firestore"])
def docs_factory(request, tmp_path):
    """Documents of one store, as separate instances would open it (a new client each time)."""
    if request.param == "sqlite":
        yield lambda: SqliteDocuments(tmp_path / "store.db")
    else:
        emulator = request.getfixturevalue("firestore_emulator")
        yield emulator.documents


def connected(standin, docs):
    tokens = standin.tokens(docs)
    tokens.exchange(standin.approve())
    return tokens


# -- the stand-in itself: freee's rules ----------------------------------------------------------
def test_the_stand_in_rotates_refresh_tokens_and_refuses_a_used_one(standin):
    token = lambda **form: requests.post(f"{standin.url}/public_api/token",  # noqa: E731
                                         data={"client_id": "local-client", "client_secret": "local-secret", **form})
    first = token(grant_type="authorization_code", code=standin.approve(), redirect_uri=standin.app.redirect_uri)
    assert first.status_code == 200 and first.json()["expires_in"] == 6 * 3600
    assert first.json()["company_id"] == "1001"  # a string in freee's reference; the API takes an integer
    second = token(grant_type="refresh_token", refresh_token=first.json()["refresh_token"])
    assert second.status_code == 200 and second.json()["refresh_token"] != first.json()["refresh_token"]
    again = token(grant_type="refresh_token", refresh_token=first.json()["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    code = standin.approve()
    assert token(grant_type="authorization_code", code=code, redirect_uri=standin.app.redirect_uri).ok
    assert token(grant_type="authorization_code", code=code, redirect_uri=standin.app.redirect_uri).status_code == 400
    refused = token(grant_type="refresh_token", refresh_token="x", client_secret="wrong")
    assert refused.json()["error"] == "invalid_client"


# -- tokens --------------------------------------------------------------------------------------
def test_an_expired_access_token_is_refreshed_and_the_new_refresh_token_kept_first(standin, tmp_path):
    docs = SqliteDocuments(tmp_path / "store.db")
    tokens = connected(standin, docs)
    accounting = standin.accounting(tokens)
    before = StoreVault(docs).read()
    requests.post(f"{standin.url}/_emulator/control", json={"expire_access_tokens": True})
    assert accounting.templates("invoice")  # a 401 (expired), one refresh, then the call again
    assert StoreVault(docs).read() != before
    assert standin.service.state.refresh_uses == [before]


def test_the_new_refresh_token_is_saved_before_the_new_access_token_is_published_or_used(standin, tmp_path):
    """freee's answer to a refresh holds the only refresh token that works from then on: it is kept
    before the new access token is offered to other workers or used. If it cannot be kept, the new
    access token is never used, the refusal says to authorize again, and the used refresh token is
    not presented to freee a second time by the next try."""
    docs = SqliteDocuments(tmp_path / "store.db")
    tokens = connected(standin, docs)
    old = tokens.grant()["access_token"]
    requests.post(f"{standin.url}/_emulator/control", json={"expire_access_tokens": True})
    tokens.invalidate(old)
    published_when_saved: list[str] = []

    class Watching(StoreVault):
        def write(self, token):
            published_when_saved.append(docs.get(GRANTS, GRANT)["access_token"])
            super().write(token)

    assert standin.accounting(standin.tokens(docs, Watching(docs))).templates("invoice")
    assert published_when_saved == [old]  # saved while the store still offered the old access token
    assert docs.get(GRANTS, GRANT)["access_token"] != old  # then published

    requests.post(f"{standin.url}/_emulator/control", json={"expire_access_tokens": True})
    tokens.invalidate(docs.get(GRANTS, GRANT)["access_token"])
    before = docs.get(GRANTS, GRANT)["access_token"]

    class Failing(StoreVault):
        def write(self, token):
            raise OSError("the vault did not answer")

    failing = standin.tokens(docs, Failing(docs), sleep=lambda s: None)
    with pytest.raises(GrantMissing, match="could not be saved.*ackflow freee authorize"):
        standin.accounting(failing).templates("invoice")
    grant = docs.get(GRANTS, GRANT)
    assert grant["access_token"] == before and grant["expires_at"] == 0  # the new one was never offered
    assert grant.get("lease_holder") is None
    for _ in range(2):  # the next tries: refused at once, saying why, without presenting the used token
        with pytest.raises(GrantMissing, match="could not be saved.*ackflow freee authorize"):
            standin.tokens(docs).access_token()
    uses = standin.service.state.refresh_uses
    assert len(uses) == 2 and len(set(uses)) == 2, uses  # each refresh token presented once
    tokens.exchange(standin.approve())  # `ackflow freee authorize`
    assert standin.accounting(tokens).templates("invoice")


def test_two_workers_refreshing_at_the_same_moment_both_succeed_with_one_refresh(standin, docs_factory):
    tokens = connected(standin, docs_factory())
    first_refresh = tokens.vault.read()
    requests.post(f"{standin.url}/_emulator/control", json={"expire_access_tokens": True})
    tokens.invalidate(tokens.grant()["access_token"])
    workers = [standin.tokens(docs_factory()) for _ in range(2)]  # two instances, each its own store client
    start = threading.Barrier(len(workers))
    got: list[str] = []
    errors: list[Exception] = []

    def work(worker):
        start.wait()
        deadline = time.monotonic() + 60
        while True:
            try:
                got.append(standin.accounting(worker).templates("invoice") and worker.access_token())
                return
            except (Unavailable, TransientError) as exc:  # the queue would deliver the step again
                if time.monotonic() > deadline:
                    errors.append(exc)
                    return
                time.sleep(0.2)
            except Exception as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)
                return

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert not errors, errors
    assert len(got) == 2 and got[0] == got[1]  # both use the one new access token
    uses = standin.service.state.refresh_uses
    assert uses == [first_refresh] and len(set(uses)) == len(uses)  # each refresh token presented once
    newest = [t for t, r in standin.service.state.refresh.items() if r["used_at"] is None]
    assert StoreVault(docs_factory()).read() == newest[-1]  # the stored refresh token is the newest


def test_a_revoked_grant_is_a_permanent_error_naming_the_command_and_is_presented_once(standin, tmp_path):
    docs = SqliteDocuments(tmp_path / "store.db")
    tokens = connected(standin, docs)
    accounting = standin.accounting(tokens)
    requests.post(f"{standin.url}/_emulator/control", json={"revoke": True})
    for _ in range(2):
        with pytest.raises(GrantMissing, match="ackflow freee authorize"):
            accounting.check()
    assert len(standin.service.state.refresh_uses) == 1  # the dead token is not presented again
    tokens.exchange(standin.approve())  # a person authorizes again
    accounting.check()


def test_without_a_grant_the_refusal_says_how_to_connect(standin, tmp_path):
    accounting = standin.accounting(standin.tokens(SqliteDocuments(tmp_path / "store.db")))
    with pytest.raises(GrantMissing, match="not connected yet.*ackflow freee authorize"):
        accounting.check()


def test_a_wrong_client_secret_is_named(standin, tmp_path):
    from workers.office.accounting.freee import FreeeTokens, OAuthApp

    tokens = FreeeTokens(OAuthApp("local-client", "wrong", standin.url), SqliteDocuments(tmp_path / "s.db"),
                         StoreVault(SqliteDocuments(tmp_path / "s.db")))
    with pytest.raises(PermanentError, match="FREEE_CLIENT_ID"):
        tokens.exchange(standin.approve())


def test_a_lease_held_by_another_worker_makes_this_one_wait_then_give_up_transiently(standin, tmp_path):
    docs = SqliteDocuments(tmp_path / "store.db")
    tokens = connected(standin, docs)
    grant = docs.get(GRANTS, GRANT)
    far = tokens.clock() + 3600
    docs.transaction(lambda tx: tx.set(GRANTS, GRANT, {**grant, "expires_at": 0, "lease_holder": "another",
                                                       "lease_until": far}))
    clock = iter(range(0, 10_000, 5))
    waiting = standin.tokens(docs, clock=lambda: tokens.clock() + next(clock), sleep=lambda s: None)
    with pytest.raises(TransientError, match="another worker is renewing"):
        waiting.access_token()
    assert standin.service.state.refresh_uses == []


# -- freee's answers as the project's errors -----------------------------------------------------
@pytest.fixture
def accounting(standin, tmp_path):
    sleeps: list[float] = []
    tokens = connected(standin, SqliteDocuments(tmp_path / "store.db"))
    service = standin.accounting(tokens, sleep=sleeps.append)
    service.sleeps = sleeps
    return service


def test_a_short_rate_limit_is_waited_out_and_a_long_one_waited_for_as_long_as_freee_says(standin, accounting):
    standin.faults({"status": 429, "path": "templates", "times": 2, "retry_after": 1})
    assert accounting.templates("invoice") and accounting.sleeps == [1.0, 1.0]
    standin.faults({"status": 429, "path": "templates", "retry_after": 60})
    with pytest.raises(RetryLater, match="rate limit.*in 60 s") as waiting:
        accounting.templates("invoice")
    assert waiting.value.after == 60 and accounting.sleeps == [1.0, 1.0]  # not slept in the step


def test_the_stand_in_limits_the_rate_itself(standin, accounting):
    requests.post(f"{standin.url}/_emulator/control", json={"rate_limit": 2, "rate_window": 60})
    accounting.templates("invoice")
    with pytest.raises(TransientError, match="rate limit"):
        for _ in range(3):
            accounting.templates("invoice")


@pytest.mark.parametrize("status, error, message", [
    (500, TransientError, "HTTP 500"), (503, TransientError, "HTTP 503"),
    (403, PermanentError, "lacks the permission"), (400, FreeeRefused, "freee refused"),
])
def test_freee_answers_become_the_projects_errors(standin, accounting, status, error, message):
    standin.faults({"status": status, "path": "templates"})
    with pytest.raises(error, match=message):
        accounting.templates("invoice")


# -- a 403: freee's access limit, or a permission the app lacks ------------------------------------
JAPANESE = Speaker("ja")


def control(standin, **settings) -> None:
    requests.post(f"{standin.url}/_emulator/control", json=settings, timeout=10).raise_for_status()


def an_invoice(number="INV-2026-0050"):
    from workers.office.accounting import Document

    return Document(kind="invoice", number=number, case="2026-001", folder="f", recipient="ACME", title="t",
                    issued="2026-11-21", lines=(parse_line("設計:1:1000"),), rules=TaxRules(), issuer=Issuer("山田"),
                    transaction_date="2026-11-21", payment_due="2026-12-31")


def test_the_stand_in_limits_access_as_freee_documents_it(tmp_path):
    """Too many calls within the window: every call answers 403 (the connection check too) for the
    lockout, which calls meanwhile do not lengthen; then freee takes the app again."""
    now = [1_000_000.0]
    standin = StandIn(clock=lambda: now[0], access_limit=3, access_window=60, access_lockout=600)
    try:
        token = connected(standin, SqliteDocuments(tmp_path / "store.db")).access_token()

        def call(path="/iv/invoices/templates"):
            return requests.get(standin.url + path, params={"company_id": 1001}, timeout=10,
                                headers={"Authorization": f"Bearer {token}"})

        assert [call().status_code for _ in range(3)] == [200, 200, 200]
        refused = call()
        assert refused.status_code == 403 and refused.json()["status_code"] == 403
        assert refused.json()["errors"][0]["messages"]
        assert call("/api/1/users/me").status_code == 403
        now[0] += 599
        assert call("/api/1/partners").status_code == 403
        now[0] += 1
        assert call().status_code == 200 and call("/api/1/users/me").json()["user"]["email"]
    finally:
        standin.stop()


def test_a_403_while_freee_limits_the_app_waits_until_the_limit_may_have_lifted(standin, accounting):
    control(standin, lock=600)
    with pytest.raises(RetryLater) as waiting:
        accounting.templates("invoice")
    assert (waiting.value.after, waiting.value.within) == (LIMIT_WAIT, LIMIT_FOR) and LIMIT_WAIT >= 600
    assert "limiting this app's access" in str(waiting.value) and "in 11 min" in str(waiting.value)
    assert "一時的に制限" in waiting.value.render(JAPANESE) and "11 分後" in waiting.value.render(JAPANESE)
    assert "Retry" in str(waiting.value.gave_up) and "再実行" in waiting.value.gave_up.render(JAPANESE)
    control(standin, lock=0)  # freee takes the app again
    assert accounting.templates("invoice")


@pytest.mark.parametrize("denial, call, needs", [
    ({"method": "POST", "path": "^/iv/invoices$"}, lambda a: a.issue(an_invoice()),
     ("write invoices (請求書) in freee請求書", "freee請求書の請求書の更新")),
    ({"method": "GET", "path": "^/api/1/partners$"}, lambda a: a.partner("ACME"),
     ("read partners (取引先) in freee会計", "freee会計の取引先の参照")),
])
def test_a_403_for_a_permission_the_app_lacks_says_which_and_fails_for_good(standin, accounting, denial, call,
                                                                            needs):
    control(standin, denials=[denial])
    with pytest.raises(PermanentError) as refused:
        call(accounting)
    assert not isinstance(refused.value, TransientError)
    english, japanese = str(refused.value), refused.value.render(JAPANESE)
    assert needs[0] in english and "権限設定" in english and "ackflow freee authorize" in english
    assert "このアプリケーションにはアクセス権限がないエンドポイントです" in english  # freee's own words
    assert needs[1] in japanese and "権限設定" in japanese and "再実行" in japanese
    assert standin.documents("invoices") == []


def test_a_403_whose_connection_check_gets_no_answer_is_tried_again_soon(standin, accounting):
    standin.faults({"status": 403, "path": "templates"}, {"status": 503, "path": "users/me"})
    with pytest.raises(TransientError, match="could not be checked") as unsure:
        accounting.templates("invoice")
    assert not isinstance(unsure.value, RetryLater)


def test_a_person_without_the_role_in_freee_is_named_and_the_grant_is_kept(standin, accounting):
    control(standin, denials=[{"path": "^/iv/invoices$", "method": "POST", "who": "user"}])
    uses = list(standin.service.state.refresh_uses)
    with pytest.raises(PermanentError) as refused:
        accounting.issue(an_invoice())
    assert not isinstance(refused.value, GrantMissing)
    assert "lacks the role" in str(refused.value) and "メンバー管理" in refused.value.render(JAPANESE)
    assert standin.service.state.refresh_uses == uses  # no refresh was spent on it
    assert accounting.templates("invoice")  # the grant still works for what the person may do


def test_widened_app_permissions_ask_for_authorization_again(standin, accounting):
    control(standin, widen_scope=True)
    with pytest.raises(GrantMissing, match="authorized again.*ackflow freee authorize"):
        accounting.check()
    assert standin.service.state.refresh_uses == []
    accounting.api.tokens.exchange(standin.approve())  # an administrator authorizes again
    accounting.check()


def test_freee_down_is_transient(accounting, standin):
    standin.stop()
    with pytest.raises(TransientError, match="did not answer"):
        accounting.templates("invoice")


def test_a_reply_lost_after_freee_created_the_invoice_never_makes_a_second(standin, accounting):
    from workers.office.accounting import Document

    invoice = Document(kind="invoice", number="INV-2026-0042", case="2026-001", folder="f", recipient="ACME",
                       title="t", issued="2026-11-21", lines=(parse_line("設計:1:1000"),), rules=TaxRules(),
                       issuer=Issuer("山田"), transaction_date="2026-11-21", payment_due="2026-12-31")
    standin.faults({"status": 502, "method": "POST", "path": "/iv/invoices$", "after": True})
    with pytest.raises(TransientError):
        accounting.issue(invoice)  # freee made it; the answer was lost
    assert len(standin.documents("invoices", "INV-2026-0042")) == 1
    issued = accounting.issue(invoice)  # the step again: found by its number
    assert issued.number == "INV-2026-0042" and len(standin.documents("invoices", "INV-2026-0042")) == 1


def test_automatic_numbering_in_freee_is_refused_with_freees_words(standin, accounting):
    from workers.office.accounting import Document

    requests.post(f"{standin.url}/_emulator/control", json={"auto_numbering": True})
    invoice = Document(kind="invoice", number="INV-2026-0043", case="c", folder="f", recipient="ACME", title="t",
                       issued="2026-11-21", lines=(parse_line("設計:1:1000"),), rules=TaxRules(), issuer=Issuer("山田"))
    with pytest.raises(FreeeRefused, match="自動採番"):
        accounting.issue(invoice)


# -- the refresh token in Secret Manager ---------------------------------------------------------
def test_the_refresh_token_can_live_in_secret_manager(standin, tmp_path):
    from tests.support.secrets import SecretManager

    manager = SecretManager()
    secret = "projects/office/secrets/freee-refresh"
    try:
        docs = SqliteDocuments(tmp_path / "store.db")
        tokens = standin.tokens(docs, SecretVault(secret, manager.url))
        tokens.exchange(standin.approve())
        assert manager.live_versions(secret) == [f"{secret}/versions/1"]
        requests.post(f"{standin.url}/_emulator/control", json={"expire_access_tokens": True})
        tokens.invalidate(tokens.grant()["access_token"])
        assert standin.accounting(tokens).templates("quotation")
        assert manager.live_versions(secret) == [f"{secret}/versions/2"]  # the used one destroyed
        assert manager.secrets[secret][1].decode() == SecretVault(secret, manager.url).read()
        assert docs.get(GRANTS, "freee-refresh") is None  # not in the store
        manager.denied.add(secret)
        requests.post(f"{standin.url}/_emulator/control", json={"expire_access_tokens": True})
        tokens.invalidate(tokens.grant()["access_token"])
        with pytest.raises(PermanentError, match="may not read"):
            tokens.access_token()
    finally:
        manager.stop()


# -- ackflow freee authorize ---------------------------------------------------------------------
def test_ackflow_freee_authorize_prints_the_url_and_keeps_the_grant(standin, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from ackflow_tools.cli.main import cli

    store = tmp_path / "store.db"
    SqliteDocuments(store).close()  # the operator's store exists (the CLI never creates one)
    for name, value in {"ACKFLOW_STORE": "sqlite", "ACKFLOW_SQLITE_PATH": str(store),
                        "ACKFLOW_OFFICE_ACCOUNTING": "freee", "ACKFLOW_OFFICE_FREEE_CLIENT_ID": "local-client",
                        "ACKFLOW_OFFICE_FREEE_CLIENT_SECRET": "local-secret",
                        "ACKFLOW_OFFICE_FREEE_ACCOUNTS_URL": standin.url,
                        "ACKFLOW_OFFICE_FREEE_API_URL": standin.url}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["freee", "authorize"], input=standin.approve() + "\n")
    assert result.exit_code == 0, result.output
    assert f"{standin.url}/public_api/authorize?client_id=local-client" in result.output
    assert "response_type=code" in result.output and "freee is connected: company 1001" in result.output
    assert StoreVault(SqliteDocuments(store)).read()
    refused = CliRunner().invoke(cli, ["freee", "authorize", "--code", "not-a-code"])
    assert refused.exit_code == 1 and "refused the authorization code" in refused.output


def test_the_invoice_command_is_refused_until_the_office_is_set_up(monkeypatch):
    from ackflow.errors import UsageError
    from ackflow.settings import Settings
    from workers.job_types import build_registry
    from workers.office.issuer import SAMPLE

    invoice = build_registry(Settings()).get("invoice")
    monkeypatch.delenv("ACKFLOW_OFFICE_REGISTRATION_NUMBER", raising=False)
    with pytest.raises(UsageError, match="until the office's own details are set.*REGISTRATION_NUMBER"):
        invoice.parse(["2026-001"])
    monkeypatch.setenv("ACKFLOW_OFFICE_NAME", SAMPLE.name)
    monkeypatch.setenv("ACKFLOW_OFFICE_BANK_ACCOUNT", SAMPLE.bank_account)
    monkeypatch.setenv("ACKFLOW_OFFICE_REGISTRATION_NUMBER", "T1234567890123")
    with pytest.raises(UsageError, match="first digit should be 9"):
        invoice.parse(["2026-001"])
    monkeypatch.setenv("ACKFLOW_OFFICE_REGISTRATION_NUMBER", SAMPLE.registration)
    assert invoice.parse(["2026-001", "--item", "設計:1:1000"])["item"] == ["設計:1:1000"]


def test_a_refresh_token_is_never_presented_when_the_lease_has_run_short(standin, tmp_path):
    """A slow vault read (Secret Manager timing out and retrying) must not eat the lease: presented
    after it ran out, another instance could take the lease and present the same refresh token,
    which freee then refuses as used and the grant is gone."""
    docs = SqliteDocuments(tmp_path / "store.db")
    tokens = connected(standin, docs)
    grant = docs.get(GRANTS, GRANT)
    docs.transaction(lambda tx: tx.set(GRANTS, GRANT, {**grant, "expires_at": 0}))
    now = [tokens.clock()]

    class SlowVault(StoreVault):
        def read(self):
            now[0] += 45  # the lease is 90 s; 45 s left is less than a refresh needs
            return super().read()

    slow = standin.tokens(docs, SlowVault(docs), clock=lambda: now[0], sleep=lambda s: None)
    with pytest.raises(TransientError, match="another worker is renewing"):
        slow.access_token()
    assert standin.service.state.refresh_uses == []
    assert docs.get(GRANTS, GRANT).get("lease_holder") is None  # released for the next try
    assert standin.tokens(docs).access_token()  # and the next try refreshes
    assert len(standin.service.state.refresh_uses) == 1


# every call of the invoice step, each of freee's failures: the project's error, then one invoice
ISSUE_CALLS = {  # what `issue` calls, in order, for a new client
    "look up the invoice": {"method": "GET", "path": "^/iv/invoices$"},
    "look up the partner": {"method": "GET", "path": "^/api/1/partners$"},
    "create the partner": {"method": "POST", "path": "^/api/1/partners$"},
    "create the invoice": {"method": "POST", "path": "^/iv/invoices$"},
}
FAILURES = {  # freee's answer → what the step raises (a retry with the queue, or a clear refusal)
    401: (GrantMissing, "ackflow freee authorize"),  # every 401, after one refresh: the grant is gone
    403: (PermanentError, "lacks the permission"),  # the connection check answers: a permission
    429: (TransientError, "rate limit"),  # a short Retry-After, waited out twice in the step, then the queue
    500: (TransientError, "HTTP 500"),
}


CASES = [(call, status, False) for call in ISSUE_CALLS for status in sorted(FAILURES)] + [
    (call, 500, True) for call, fault in ISSUE_CALLS.items() if fault["method"] == "POST"]  # done, the reply lost


@pytest.mark.parametrize("call, status, after", CASES)
def test_each_call_of_the_invoice_step_failing_ends_in_one_invoice_and_one_partner(standin, accounting, call,
                                                                                   status, after):
    """freee answers 401/403/429/500 at one call of ``issue`` (before doing it; for a create, also a
    500 after doing it, the reply lost; freee refuses with 401, 403 and 429 before doing anything):
    the step raises the project's error, and the step run again once freee answers makes exactly one
    invoice and one partner, with our number and totals."""
    document = an_invoice(f"INV-2026-{list(ISSUE_CALLS).index(call) + 60:04d}")
    standin.faults({"status": status, **ISSUE_CALLS[call], "times": 10, "after": after})
    error, message = FAILURES[status]
    with pytest.raises(error, match=message) as raised:
        accounting.issue(document)
    if error is PermanentError:
        assert not isinstance(raised.value, TransientError)
    standin.faults()  # freee answers again (an administrator allowed it, the grant renewed, the limit lifted)
    if status == 401:
        accounting.api.tokens.exchange(standin.approve())  # `ackflow freee authorize`, as the card says
    issued = accounting.issue(document)
    assert issued.number == document.number and issued.totals == document.totals
    assert len(standin.documents("invoices", document.number)) == 1
    assert [p["name"] for p in standin.service.state.partners].count("ACME") == 1
    assert accounting.issue(document) == issued  # and again: found, nothing new
    uses = standin.service.state.refresh_uses
    assert len(uses) == len(set(uses))  # no refresh token presented twice


def test_a_document_behind_a_page_of_others_is_found_by_its_number_not_made_again(standin, accounting):
    """The lookup before a create asks freee to filter by our number; if freee listed without the
    filter, the invoice could be behind the first 100 and the retried step made a second one."""
    first = accounting.issue(an_invoice("INV-2026-0100"))
    for n in range(101, 251):  # 150 more: INV-2026-0250 is listed on the second page
        standin.service.create("invoices", {**standin.documents("invoices", "INV-2026-0100")[0],
                                            "invoice_number": f"INV-2026-{n:04d}"})
    control(standin, number_filter=False)  # freee lists without the filter
    assert accounting.issue(an_invoice("INV-2026-0100")) == first
    assert accounting.issue(an_invoice("INV-2026-0250")).number == "INV-2026-0250"
    assert len(standin.documents("invoices", "INV-2026-0100")) == 1
    assert len(standin.documents("invoices", "INV-2026-0250")) == 1


# -- fidelity to freee 請求書 API's reference (github.com/freee/freee-api-schema, iv/open-api-3) -----
def a_quotation(number="2026-001-v1", delivery=None, valid_until="2026-12-21"):
    from workers.office.accounting import Document

    return Document(kind="quotation", number=number, case="2026-001", folder="f", recipient="ACME", title="t",
                    issued="2026-11-21", lines=(parse_line("設計:1:1000"),), rules=TaxRules(), issuer=Issuer("山田"),
                    version=1, valid_until=valid_until, delivery=delivery)


def test_the_stand_in_refuses_what_freees_schema_refuses(standin, accounting):
    """QuotationRequest: delivery_deadline, subject and memo have minLength 1; a line's description
    has maxLength 255; dates are not nullable. freee answers 400 to each."""
    base = {"company_id": 1001, "quotation_number": "Q-1", "quotation_date": "2026-11-21",
            "tax_entry_method": "out", "tax_fraction": "omit", "withholding_tax_entry_method": "out",
            "partner_title": "御中", "partner_id": int(accounting.partner("ACME").id),
            "lines": [{"type": "item", "description": "設計", "quantity": 1, "unit_price": "1000", "tax_rate": 10}]}
    assert standin.service.create("quotations", base)["quotation_number"] == "Q-1"
    from ackflow_tools.emulators.freee.errors import FreeeError

    for change in ({"delivery_deadline": ""}, {"subject": ""}, {"memo": ""}, {"expiration_date": None},
                   {"lines": [{**base["lines"][0], "description": "設" * 256}]}):
        with pytest.raises(FreeeError) as refused:
            standin.service.create("quotations", {**base, **change, "quotation_number": "Q-2"})
        assert refused.value.status == 400, change
    auth = {"Authorization": f"Bearer {accounting.api.tokens.access_token()}"}
    for path, limit in (("/iv/quotations", 101), ("/api/1/partners", 3001), ("/iv/invoices", 0)):
        listed = requests.get(standin.url + path, params={"company_id": 1001, "limit": limit}, headers=auth)
        assert listed.status_code == 400, path  # limit is 1–100 (請求書 API), 1–3000 (partners): not clamped


def test_a_quotation_without_a_delivery_date_is_accepted_by_freee(standin, accounting):
    """A case typed without a due date has no 納期: freee's delivery_deadline must then be left out
    (it refuses an empty one), not sent as ""."""
    issued = accounting.issue(a_quotation(delivery=None))
    assert issued.number == "2026-001-v1"
    assert "delivery_deadline" not in standin.documents("quotations", "2026-001-v1")[0]
    dated = accounting.issue(a_quotation("2026-001-v2", delivery="2027-01-31"))
    assert standin.documents("quotations", dated.number)[0]["delivery_deadline"] == "2027-01-31"


def test_the_link_on_the_card_is_the_report_url_freee_answers(standin, accounting):
    """freee answers each document's page as ``report_url`` (required in InvoiceResponse): the link
    is that, not a URL pieced together from ACKFLOW_OFFICE_FREEE_WEB_URL."""
    from workers.office.accounting.freee import FreeeAccounting

    elsewhere = FreeeAccounting(accounting.api, web_url="https://guessed.example")
    issued = elsewhere.issue(an_invoice("INV-2026-0070"))
    listed = requests.get(f"{standin.url}/iv/invoices", params={"company_id": 1001, "invoice_number": issued.number},
                          headers={"Authorization": f"Bearer {accounting.api.tokens.access_token()}"}).json()
    assert issued.link == listed["invoices"][0]["report_url"] and issued.link.startswith(standin.url)
    assert elsewhere.fetch("invoice", issued.number).link == issued.link


def test_a_429_with_only_freees_rate_limit_headers_waits_until_the_limit_resets(standin, accounting):
    """freee names no Retry-After: its 429 carries X-Ratelimit-Remaining-Minute and
    X-Ratelimit-Reset-Minute (an ISO time), and the same for the hour and the day. The step waits
    until the exhausted limit resets, not the queue's few seconds of backoff."""
    import datetime as dt

    def at(seconds: float) -> str:
        moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    standin.faults({"status": 429, "path": "templates", "times": 5, "retry_after": None,
                    "headers": {"X-Ratelimit-Limit-Minute": "30", "X-Ratelimit-Remaining-Minute": "0",
                                "X-Ratelimit-Reset-Minute": at(40), "X-RateLimit-Limit": "1500",
                                "X-RateLimit-Remaining": "1200", "X-RateLimit-Reset": at(3000)}})
    with pytest.raises(RetryLater, match="rate limit") as waiting:
        accounting.templates("invoice")
    assert 35 <= waiting.value.after <= 41 and accounting.sleeps == []
    standin.faults({"status": 429, "path": "templates", "retry_after": None,
                    "headers": {"X-RateLimit-Limit-Day": "3000", "X-RateLimit-Remaining-Day": "0",
                                "X-RateLimit-Reset-Day": at(5 * 3600)}})
    with pytest.raises(RetryLater) as waiting:
        accounting.templates("invoice")
    assert waiting.value.after > LIMIT_FOR  # past what a step waits for: the job fails, saying when to retry
    standin.faults()
    control(standin, rate_limit=1, rate_window=60)  # the stand-in's own limit answers as freee does
    accounting.templates("invoice")
    with pytest.raises(RetryLater) as waiting:
        accounting.templates("invoice")
    assert 50 <= waiting.value.after <= 61


@pytest.mark.parametrize("lost_by", ["timeout", "502"])
def test_a_refresh_freee_answered_but_whose_answer_was_lost_asks_for_authorization_saying_so(standin, tmp_path,
                                                                                             lost_by):
    """freee renewed the token (the refresh token is used up) but the answer never arrived (a read
    timeout, or a gateway's 502 after freee did it): the step is tried again (nothing is known yet),
    the retry's refusal says what happened and what to do, and the used refresh token is never
    presented a third time."""
    docs = SqliteDocuments(tmp_path / "store.db")
    connected(standin, docs)
    grant = docs.get(GRANTS, GRANT)
    docs.transaction(lambda tx: tx.set(GRANTS, GRANT, {**grant, "expires_at": 0}))

    class Lost(requests.Session):
        def post(self, *args, **kwargs):
            super().post(*args, **kwargs)  # freee renews the token...
            raise requests.ReadTimeout("read timed out")  # ...and the answer is lost

    if lost_by == "502":
        standin.faults({"status": 502, "method": "POST", "path": "^/public_api/token$", "after": True})
    lost = standin.tokens(docs, session=Lost() if lost_by == "timeout" else None, sleep=lambda s: None)
    with pytest.raises(TransientError, match="did not answer"):
        lost.access_token()
    assert docs.get(GRANTS, GRANT).get("lease_holder") is None
    retried = standin.tokens(docs, sleep=lambda s: None)
    with pytest.raises(GrantMissing, match="answer was lost.*ackflow freee authorize") as refused:
        retried.access_token()
    assert "90 days" not in str(refused.value)  # not the words for an expired grant
    with pytest.raises(GrantMissing, match="answer was lost"):
        standin.tokens(docs).access_token()
    assert len(standin.service.state.refresh_uses) == 2  # the one lost, and the retry's; never a third
    retried.exchange(standin.approve())  # `ackflow freee authorize`
    assert standin.accounting(retried).templates("invoice")


def test_what_freee_would_refuse_is_refused_before_a_number_is_taken(standin, accounting):
    """freee takes at most 255 characters for the issuer's name (company_name), the bank account
    (bank_account_to_transfer), the recipient and the subject, and tax rates 0, 8 and 10 only
    (InvoiceRequest): ``check_document``, called before the number, refuses the rest, so no number is
    taken for an invoice freee would refuse after it."""
    import dataclasses

    too_long = {"issuer": Issuer("山" * 256), "title": "t" * 256, "recipient": "A" * 256}
    for field_name, value in too_long.items():
        invoice = dataclasses.replace(an_invoice(), **{field_name: value})
        with pytest.raises(PermanentError, match="at most 255 characters") as refused:
            accounting.check_document(invoice)
        assert not isinstance(refused.value, TransientError)
    banked = dataclasses.replace(an_invoice(), issuer=Issuer("山田", bank_account="銀" * 256))
    with pytest.raises(PermanentError, match="at most 255 characters"):
        accounting.check_document(banked)
    odd_rate = dataclasses.replace(an_invoice(), rules=TaxRules(standard=9))
    with pytest.raises(PermanentError, match="9 %"):
        accounting.check_document(odd_rate)
    accounting.check_document(an_invoice())  # as the office issues them: nothing to refuse
    assert standin.documents("invoices") == []


def test_without_a_template_set_freee_uses_the_companys_default_not_the_first_listed(standin, accounting):
    """InvoiceRequest.template_id: "指定しない場合、事業所の既定のテンプレートが指定されます". The
    office's default layout need not be the first freee lists, so none is sent unless one is set
    (ACKFLOW_OFFICE_FREEE_*_TEMPLATE), and issuing costs no call to list them."""
    from ackflow_tools.emulators.freee.service import DEFAULT_TEMPLATES
    from workers.office.accounting.freee import FreeeAccounting

    assert [t.id for t in accounting.templates("invoice")][0] != str(DEFAULT_TEMPLATES["invoices"])
    accounting.issue(an_invoice("INV-2026-0080"))
    accounting.issue(a_quotation("2026-001-v1"))
    assert standin.documents("invoices", "INV-2026-0080")[0]["template_id"] == DEFAULT_TEMPLATES["invoices"]
    assert standin.documents("quotations", "2026-001-v1")[0]["template_id"] == DEFAULT_TEMPLATES["quotations"]
    chosen = FreeeAccounting(accounting.api, template_ids={"invoice": "2"})
    chosen.issue(an_invoice("INV-2026-0081"))
    assert standin.documents("invoices", "INV-2026-0081")[0]["template_id"] == 2


@pytest.mark.parametrize("status", [429, 403])
def test_a_token_endpoint_that_is_only_busy_never_ends_the_grant(standin, tmp_path, status):
    """Only ``invalid_grant`` (or freee's bare 401 for a refused refresh, per its FAQ on token
    lifetimes) means the refresh token is dead. A 429 or a 403 from the token endpoint is freee
    refusing to work just now: the step is tried again later, the refresh token is kept and
    presented again, and no one has to authorize again."""
    docs = SqliteDocuments(tmp_path / "store.db")
    connected(standin, docs)
    grant = docs.get(GRANTS, GRANT)
    docs.transaction(lambda tx: tx.set(GRANTS, GRANT, {**grant, "expires_at": 0}))
    standin.faults({"status": status, "method": "POST", "path": "^/public_api/token$", "retry_after": 30})
    with pytest.raises(TransientError) as busy:
        standin.tokens(docs, sleep=lambda s: None).access_token()
    assert not isinstance(busy.value, PermanentError)
    assert standin.tokens(docs).access_token()  # the same refresh token, presented again, works
    assert len(standin.service.state.refresh_uses) == 1


def test_ackflow_freee_authorize_with_a_deployments_settings_says_where_the_client_secret_is(tmp_path, monkeypatch):
    """docs/ja/accounting.md step 5 on a deployment: the operator loads operator_env, which holds the
    freee client id but not the secret (the worker gets it from Secret Manager). The command says
    how to fetch it, before it reads or changes anything."""
    from click.testing import CliRunner

    from ackflow_tools.cli.main import cli

    store = tmp_path / "store.db"
    SqliteDocuments(store).close()
    monkeypatch.delenv("ACKFLOW_OFFICE_FREEE_CLIENT_SECRET", raising=False)
    for name, value in {"ACKFLOW_STORE": "sqlite", "ACKFLOW_SQLITE_PATH": str(store),
                        "ACKFLOW_OFFICE_ACCOUNTING": "freee", "ACKFLOW_OFFICE_FREEE_CLIENT_ID": "1234567890",
                        "ACKFLOW_OFFICE_FREEE_TOKEN_VAULT": "store"}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["freee", "authorize", "--code", "abc"])
    assert result.exit_code == 1, result.output
    assert "ACKFLOW_OFFICE_FREEE_CLIENT_SECRET is not set" in result.output
    assert "gcloud secrets versions access latest --secret=" in result.output


def test_an_invoice_freee_prints_without_the_offices_registration_number_is_not_reported_issued(standin, accounting):
    """freee prints the registration number (登録番号) of its invoice template: InvoiceResponse's
    ``template.invoice_registration_number``; the API cannot set it per invoice. An invoice printed
    with another number, or none, is no qualified invoice of this office: the step says so, and once
    the template is put right in freee, the retry issues that same invoice (never a second one)."""
    import dataclasses

    from workers.office.issuer import SAMPLE, valid_registration

    ours = valid_registration("987654321098")
    invoice = dataclasses.replace(an_invoice("INV-2026-0080"), issuer=Issuer("山田", registration=ours))
    control = f"{standin.url}/_emulator/control"
    with pytest.raises(PermanentError) as refused:
        accounting.issue(invoice)
    said = str(refused.value)
    assert SAMPLE.registration in said and ours in said and "INV-2026-0080" in said
    created = standin.service.get("invoices", standin.documents("invoices", "INV-2026-0080")[0]["id"])
    assert created["sending_status"] == "unsent"  # made, never sent: put right before anyone sees it
    requests.post(control, json={"template_registration": ours}).raise_for_status()
    assert accounting.issue(invoice).number == "INV-2026-0080"
    assert len(standin.documents("invoices", "INV-2026-0080")) == 1

    requests.post(control, json={"template_registration": ""}).raise_for_status()
    with pytest.raises(PermanentError, match="without a registration number"):
        accounting.issue(dataclasses.replace(invoice, number="INV-2026-0081"))
    ja = Speaker("ja")
    with pytest.raises(PermanentError) as refused:
        accounting.issue(dataclasses.replace(invoice, number="INV-2026-0081"))
    assert "適格請求書になりません" in refused.value.render(ja) and "INV-2026-0081" in refused.value.render(ja)
    # a quotation needs no registration number: issued whatever the template says
    assert accounting.issue(a_quotation("2026-001-v9")).number == "2026-001-v9"


def test_the_stand_in_answers_a_documents_template_as_freee_does(standin, accounting):
    """InvoiceResponse and InvoiceShowResponse carry ``template`` (title, invoice_registration_number,
    company_name, …); the listing (InvoiceIndexResponse) does not."""
    from workers.office.issuer import SAMPLE

    issued = accounting.issue(dataclasses_replace_registration(an_invoice("INV-2026-0082"), SAMPLE.registration))
    auth = {"Authorization": f"Bearer {accounting.api.tokens.access_token()}"}
    shown = requests.get(f"{standin.url}/iv/invoices/{issued.ref}", params={"company_id": 1001}, headers=auth).json()
    assert shown["invoice"]["template"]["invoice_registration_number"] == SAMPLE.registration
    listed = requests.get(f"{standin.url}/iv/invoices", params={"company_id": 1001}, headers=auth).json()
    assert "template" not in listed["invoices"][0]


def dataclasses_replace_registration(document, registration: str):
    import dataclasses

    return dataclasses.replace(document, issuer=Issuer("山田", registration=registration))


def test_a_worker_that_may_not_save_the_new_refresh_token_says_to_authorize_again_the_first_time(standin, tmp_path):
    """A worker that reads the refresh token in Secret Manager but may not add a version (no
    roles/secretmanager.secretVersionAdder) presents it, and freee answers a new one it cannot keep:
    the one presented is used up. The first refusal says both what to grant and to authorize again
    (it named the role only: granting it and retrying was refused again, then saying to authorize)."""
    from tests.support.secrets import SecretManager

    manager = SecretManager()
    secret = "projects/office/secrets/freee-refresh"
    try:
        docs = SqliteDocuments(tmp_path / "store.db")
        tokens = standin.tokens(docs, SecretVault(secret, manager.url), sleep=lambda s: None)
        tokens.exchange(standin.approve())
        manager.no_adding.add(secret)
        tokens.invalidate(tokens.grant()["access_token"])
        with pytest.raises(PermanentError) as refused:
            tokens.access_token()
        for said in (str(refused.value), refused.value.render(Speaker("ja"))):
            assert "secretVersionAdder" in said and "ackflow freee authorize" in said, said
        manager.no_adding.clear()  # the role granted; the used token is not presented again
        with pytest.raises(GrantMissing, match="could not be saved.*ackflow freee authorize"):
            standin.tokens(docs, SecretVault(secret, manager.url)).access_token()
        assert len(standin.service.state.refresh_uses) == 1
        tokens.exchange(standin.approve())  # `ackflow freee authorize`
        assert standin.accounting(tokens).templates("invoice")
    finally:
        manager.stop()


def test_a_worker_stopped_between_freees_answer_and_saving_it_leaves_a_refusal_that_says_so(standin, tmp_path):
    """freee renewed the token and the worker was stopped (Cloud Run ended the instance) before it
    kept the new refresh token: the one kept is used up. The next refresh presents it (it may never
    have reached freee) and freee refuses it: the refusal says the renewal was cut off and to
    authorize again, not that the grant expired after 90 days unused or was revoked (it did not);
    and it is never presented a third time."""
    docs = SqliteDocuments(tmp_path / "store.db")
    tokens = connected(standin, docs)
    now = [time.time()]

    class Stopped(BaseException):
        pass

    class Stopping(StoreVault):
        def write(self, token):
            raise Stopped  # the instance ends here: nothing after runs

    dying = standin.tokens(docs, Stopping(docs), clock=lambda: now[0])
    tokens.invalidate(tokens.grant()["access_token"])
    with pytest.raises(Stopped):
        dying.access_token()
    now[0] += 600  # the dead instance's lease ran out
    for _ in range(2):
        with pytest.raises(GrantMissing) as refused:
            standin.tokens(docs, clock=lambda: now[0]).access_token()
        said = str(refused.value)
        assert "90 days" not in said and "ackflow freee authorize" in said and "cut off" in said, said
        assert "90" not in refused.value.render(Speaker("ja"))
    assert len(standin.service.state.refresh_uses) == 2  # the cut one, and the next try's; never a third
    tokens.exchange(standin.approve())  # `ackflow freee authorize`
    assert standin.accounting(tokens).templates("invoice")
