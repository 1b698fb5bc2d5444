"""The console's safety, driven through Flask's client over a real SQLite store: CSRF on every
POST, loopback only without a token, requests addressed elsewhere refused, Chat's card HTML
rebuilt from a parse so nothing else gets through."""

from __future__ import annotations

import time

import pytest

from ackflow.app.runtime import Runtime
from ackflow.jobs.model import Job, JobStatus, Requester, StepState
from ackflow.settings import Settings
from ackflow_tools.console.app import ConsoleConfig, ConsoleRefused, create_app
from ackflow_tools.console.cards import Renderer, card_html, dialog_of, text_html


@pytest.fixture
def runtime(tmp_path):
    settings = Settings(sqlite_path=str(tmp_path / "jobs.db"), job_types="tests.support.jobtypes:build_registry")
    runtime = Runtime(settings)
    now = time.time()
    runtime.store.create_job(Job(id="jfailed23456", type="echo", params={"text": "x"}, requester=Requester("users/1"),
                                 space=None, thread=None, queue="ackflow-default", steps=(StepState("echo"),),
                                 created_at=now, updated_at=now, status=JobStatus.FAILED))
    yield runtime
    runtime.close()


def client(runtime, **options):
    app = create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language="en", **options))
    return app.test_client()


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(runtime):
    browser = client(runtime)
    browser.get("/jobs")
    refused = browser.post("/jobs/jfailed23456/cancel", data={"confirmed": "1"})
    assert refused.status_code == 403 and b"CSRF" in refused.data
    forged = browser.post("/jobs/jfailed23456/cancel", data={"confirmed": "1", "csrf_token": "guess"})
    assert forged.status_code == 403
    assert runtime.store.get_job("jfailed23456").status == JobStatus.FAILED and runtime.store.list_audit() == []


def test_an_action_asks_first_then_acts_once_confirmed(runtime):
    browser = client(runtime)
    browser.get("/jobs")
    token = browser.get_cookie("ackflow_csrf").value
    asked = browser.post("/jobs/jfailed23456/cancel", data={"csrf_token": token})
    assert asked.status_code == 200 and b'name="confirmed" value="1"' in asked.data
    assert runtime.store.get_job("jfailed23456").status == JobStatus.FAILED
    refused = browser.post("/jobs/jfailed23456/cancel", data={"csrf_token": token, "confirmed": "1"})
    assert refused.status_code == 302 and refused.headers["Location"] == "/jobs/jfailed23456"  # the job as it is
    page = browser.get("/jobs/jfailed23456").get_data(as_text=True)
    assert "Job jfailed23456 is already FAILED; there is nothing to cancel." in page
    assert runtime.store.list_audit()[0].outcome.startswith("refused")


def test_a_form_from_another_site_is_refused(runtime):
    browser = client(runtime)
    browser.get("/jobs")
    token = browser.get_cookie("ackflow_csrf").value
    answer = browser.post("/lang/ja", data={"csrf_token": token}, headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403


def test_off_loopback_the_console_refuses_to_start_without_a_token(runtime):
    with pytest.raises(ConsoleRefused):
        create_app(ConsoleConfig(runtime=runtime, operator="o", host="0.0.0.0"))
    browser = client(runtime, host="0.0.0.0", auth_token="a-long-enough-secret")
    assert browser.get("/jobs").status_code == 302  # to the sign-in page
    assert browser.get("/api/changes").status_code == 401
    assert browser.get("/jobs", headers={"Authorization": "Bearer a-long-enough-secret"}).status_code == 200


def test_on_loopback_a_request_for_another_host_name_is_refused(runtime):
    browser = client(runtime)
    assert browser.get("/jobs", headers={"Host": "attacker.example:8090"}).status_code == 400
    assert browser.get("/jobs", headers={"Host": "localhost:8090"}).status_code == 200


def test_bad_filters_are_a_clear_message_not_an_error(runtime):
    page = client(runtime).get("/jobs?status=EXPLODED&from=yesterday&after=zzz")
    assert page.status_code == 200
    assert b"is not one of" in page.data and b"is not a date" in page.data


def test_card_html_keeps_chats_subset_and_shows_the_rest_as_text():
    html = str(card_html('<b>ok</b> <script>alert(1)</script><a href="javascript:x()">l</a>'
                         '<font color="red" onclick="x">c</font><img src=x onerror=alert(1)>\n2'))
    assert "<b>ok</b>" in html and "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html and "<a " not in html
    assert 'class="gc-color" data-color="red"' in html and "onclick" not in html
    assert "<img" not in html and "<br>" in html
    assert str(text_html("<b>x</b>")) == "&lt;b&gt;x&lt;/b&gt;" and str(text_html("*bold*")) == "<b>bold</b>"
    assert 'href="https://e.example"' in str(text_html("<https://e.example|site>"))


def test_dialogs_are_read_in_both_formats_and_inputs_render_as_fields():
    card = {"sections": [{"widgets": [{"textInput": {"name": "t", "label": "<T>"}},
                                      {"selectionInput": {"name": "s", "type": "DROPDOWN",
                                                          "items": [{"text": "A", "value": "a"}]}},
                                      {"dateTimePicker": {"name": "d", "type": "DATE_ONLY"}}]}]}
    classic = {"actionResponse": {"type": "DIALOG", "dialogAction": {"dialog": {"body": card}}}}
    addon = {"action": {"navigations": [{"pushCard": card}]}}
    assert dialog_of(classic) == dialog_of(addon) == card
    html = Renderer("spaces/s/messages/m", dialog=True).card(card)
    assert 'name="t"' in html and "&lt;T&gt;" in html and "<select" in html and 'type="date"' in html


@pytest.mark.parametrize("path", ["/jobs", "/jobs/jfailed23456", "/dead", "/queues", "/periodic", "/cases", "/audit",
                                  "/login", "/jobs/nosuchjob1"])
def test_every_page_sends_a_policy_that_lets_it_load_nothing_from_another_host(runtime, path):
    answer = client(runtime).get(path)
    policy = {words[0]: set(words[1:]) for words in (p.split() for p in answer.headers["Content-Security-Policy"]
                                                       .split(";") if p.strip())}
    assert policy["default-src"] == {"'self'"} and policy["script-src"] == {"'self'"}
    for directive, sources in policy.items():  # no host, no scheme, no wildcard; data: images only
        assert sources <= {"'self'", "'none'"} | ({"data:"} if directive == "img-src" else set()), directive
