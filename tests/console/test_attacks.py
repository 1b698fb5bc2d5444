"""The console under a hostile reviewer's requests, through Flask's client over a real store
(SQLite; Firestore on its emulator where only Firestore shows the fault): links that lead away,
pages of other sites asking for console URLs, query strings that name url_for's own arguments,
damaged page links, actions on jobs that changed meanwhile, cards of the wrong shape. Each test
failed before its fix (docs/console.md, "Safety")."""

from __future__ import annotations

import html
import re
import time

import pytest

from ackflow.app.runtime import Runtime
from ackflow.jobs.model import Job, JobStatus, Requester, StepState
from ackflow.settings import Settings
from ackflow.store.jobstore import JobFilter
from ackflow_tools.console.app import LANG_COOKIE, ConsoleConfig, create_app
from ackflow_tools.console.cards import Renderer, card_html, message_html

OPERATOR = "ops@example.com"
TOKEN = "a-long-enough-secret"


def job(job_id: str, status: JobStatus, *, kind: str = "echo", text: str = "x", at: float | None = None) -> Job:
    at = time.time() if at is None else at
    return Job(id=job_id, type=kind, params={"text": text}, requester=Requester("users/1", "a@example.com"),
               space=None, thread=None, queue="ackflow-default", steps=(StepState("echo"),), created_at=at,
               updated_at=at, status=status)


def console(runtime, **options):
    options = {"language": "en", **options}
    client = create_app(ConsoleConfig(runtime=runtime, operator=OPERATOR, **options)).test_client()
    client.get("/login" if options.get("auth_token") else "/jobs")  # the CSRF cookie
    return client


def csrf(client) -> str:
    return client.get_cookie("ackflow_csrf").value


def flashed(client, path: str) -> list[str]:
    return re.findall(r'class="flash"[^>]*>([^<]*)<', client.get(path).get_data(as_text=True))


# -- links that lead away ---------------------------------------------------------------------------
ELSEWHERE = ["/\t/evil.example/", "/\n/evil.example/", "/\\evil.example/", "//evil.example/",
             "https://evil.example/", " /jobs", "/\\/evil.example/"]


@pytest.mark.parametrize("target", ELSEWHERE)
def test_signing_in_never_leads_to_another_host(runtime, target):
    """A link to the sign-in page whose next is ``/<tab>/evil.example`` led, once signed in, to
    ``//evil.example``: a browser drops the tab (and reads ``\\`` as ``/``)."""
    client = console(runtime, host="0.0.0.0", auth_token=TOKEN)
    answer = client.post("/login", query_string={"next": target}, data={"csrf_token": csrf(client), "token": TOKEN})
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


@pytest.mark.parametrize("target", ELSEWHERE)
def test_the_language_switch_and_discard_never_lead_to_another_host(runtime, target):
    client = console(runtime)
    answer = client.post("/lang/ja", data={"csrf_token": csrf(client), "next": target})
    assert answer.headers["Location"] == "/"
    answer = client.post("/dead/gone12345/discard", data={"csrf_token": csrf(client), "confirmed": "1", "back": target})
    assert answer.headers["Location"] == "/dead"


def test_switching_language_on_a_page_a_form_answered_leads_to_a_page_not_a_405(runtime):
    """The confirmation page and a refused form's page answer a POST: their language switch led
    back to the POST's address, which a browser then asked for with a GET (405: the switch looked
    broken). It leads to where the page's No leads, else the jobs."""
    runtime.store.create_job(job("jfailed00001", JobStatus.FAILED))
    client = console(runtime)
    pages = {"the confirmation": client.post("/jobs/jfailed00001/retry", data={"csrf_token": csrf(client)}),
             "a stale form": client.post("/jobs/jfailed00001/retry", data={"csrf_token": "stale"})}
    for name, page in pages.items():
        text = page.get_data(as_text=True)
        [after] = set(re.findall(r'name="next" value="([^"]*)"', text))
        switched = client.post("/lang/ja", data={"csrf_token": csrf(client), "next": html.unescape(after)})
        landed = client.get(switched.headers["Location"])
        assert landed.status_code in (200, 302), (name, after, landed.status_code)
    assert runtime.store.get_job("jfailed00001").status == JobStatus.FAILED  # nothing was retried on the way


def test_a_jobs_thread_links_to_the_browser_chat_only_when_its_space_is_a_space_name(runtime):
    """A job's space is what the event said; one that is no space name (a damaged record, another
    chat's id) was a link to the browser chat that answered 400."""
    now = time.time()
    for job_id, space in (("jspace000001", "spaces/AAAA-1_b"), ("jspace000002", 'spaces/<b>x</b>"')):
        runtime.store.create_job(job(job_id, JobStatus.QUEUED, at=now).replace(space=space))
    client = console(runtime, chat_url="http://127.0.0.1:9")
    for job_id, linked in (("jspace000001", True), ("jspace000002", False)):
        page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
        thread = re.search(r'data-test="thread">(.*?)</dd>', page, re.S).group(1)
        assert ("<a href=" in thread) is linked, thread
        for link in re.findall(r'href="([^"]*)"', thread):
            assert client.get(html.unescape(link)).status_code != 400, link


def test_a_path_of_the_console_is_still_where_sign_in_leads(runtime):
    client = console(runtime, host="0.0.0.0", auth_token=TOKEN)
    answer = client.post("/login", query_string={"next": "/jobs?status=FAILED"},
                         data={"csrf_token": csrf(client), "token": TOKEN})
    assert answer.headers["Location"] == "/jobs?status=FAILED"


# -- pages of other sites ------------------------------------------------------------------------------
FROM_ANOTHER_PAGE = {"Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}


@pytest.mark.parametrize("site", ["cross-site", "same-site"])  # same-site: another port of this machine
@pytest.mark.parametrize("path", ["/jobs?requester=a@example.com", "/jobs?q=secret", "/jobs.json", "/api/changes",
                                  "/jobs/j1234567890", "/audit", "/chat?space=spaces/other"])
def test_a_page_of_another_site_gets_nothing_from_the_console(runtime, site, path):
    """A page anywhere on the web could have the operator's browser ask for console URLs: it reads
    no answer, but the time tells (Chromium, best of 7: /jobs?requester=… 19.6 ms when that person
    has jobs, 9.1 ms when not), and every search costs the console up to 0.12 s."""
    runtime.store.create_job(job("j1234567890", JobStatus.SUCCEEDED))
    answer = console(runtime).get(path, headers={"Sec-Fetch-Site": site, **FROM_ANOTHER_PAGE})
    assert answer.status_code == 403 and b"another site" in answer.data
    assert "j1234567890" not in answer.get_data(as_text=True)


def test_the_consoles_own_pages_a_typed_address_and_a_followed_link_are_answered(runtime):
    client = console(runtime)
    assert client.get("/api/changes", headers={"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors",
                                               "Sec-Fetch-Dest": "empty"}).status_code == 200
    assert client.get("/jobs", headers={"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate",
                                        "Sec-Fetch-Dest": "document"}).status_code == 200
    assert client.get("/jobs", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
                                        "Sec-Fetch-Dest": "document"}).status_code == 200
    assert client.get("/jobs").status_code == 200  # a browser without Fetch Metadata, or curl
    framed = client.get("/jobs", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
                                          "Sec-Fetch-Dest": "iframe"})
    assert framed.status_code == 403


def test_no_page_may_be_framed_even_by_a_browser_without_frame_ancestors(runtime):
    for path in ("/jobs", "/login", "/jobs/nosuchjob1"):
        assert console(runtime).get(path).headers["X-Frame-Options"] == "DENY"


# -- the query string --------------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["endpoint=x", "_method=POST", "_external=1&_scheme=javascript", "_anchor=x",
                                   "partial=&values=1"])
def test_the_query_string_never_becomes_url_fors_arguments(runtime, query):
    """The live list's own URL was built from the raw query string: ?endpoint=x and ?_method=POST
    were 500s."""
    page = console(runtime).get(f"/jobs?status=FAILED&{query}")
    assert page.status_code == 200
    fragment = re.search(r'data-fragment="([^"]*)"', page.get_data(as_text=True)).group(1)
    assert fragment.replace("&amp;", "&") in ("/jobs?partial=1&status=FAILED", "/jobs?status=FAILED&partial=1")


def test_a_query_string_too_long_to_read_is_a_414_not_a_dropped_connection(runtime):
    """The server the console runs on (ackflow_tools/emulators/web.py) logged the refused request
    by a path it had not read yet: the log raised, and the browser got no answer at all."""
    import requests

    from ackflow_tools.emulators.web import ServerThread

    server = ServerThread(create_app(ConsoleConfig(runtime=runtime, operator=OPERATOR, language="en"))).start()
    try:
        answer = requests.get(server.url + "/jobs", params={"q": "金" * 30000}, timeout=10)
        assert answer.status_code == 414
        assert requests.get(server.url + "/jobs", params={"q": "金" * 100}, timeout=10).status_code == 200
    finally:
        server.stop()


def test_a_search_longer_than_its_field_is_refused_not_cut(runtime):
    """Cut to 200 characters, a longer text matched jobs that do not contain it."""
    runtime.store.create_job(job("j1234567890", JobStatus.SUCCEEDED, text="a" * 200 + " 見積"))
    page = console(runtime).get("/jobs", query_string={"q": "a" * 200 + " 請求"}).get_data(as_text=True)
    assert "Search: longer than 200 characters; left out" in page


def test_dates_the_wrong_way_round_are_said_to_match_nothing(runtime):
    page = console(runtime).get("/jobs?from=2026-12-01&to=2026-11-01").get_data(as_text=True)
    assert "2026-12-01 is after 2026-11-01: no job can match" in page


def test_what_the_filters_cannot_read_is_said_in_the_operators_language(runtime):
    page = console(runtime, language="ja").get(
        "/jobs?status=DONE&from=2026-13-01&type=a%20b&after=nan~x&q=" + "a" * 201).get_data(as_text=True)
    for said in ("状態: 「DONE」は", "開始日: 「2026-13-01」は日付ではありません", "種別: 「a b」には",
                 "ページのリンクが壊れています", "検索: 200 文字を超えているため"):
        assert said in page, said
    assert "is not a date" not in page and "left out" not in page


@pytest.mark.parametrize("after", ["nan~j1234567890", "inf~j1234567890", "1~..", "1~__x__", "1~a%2Fb"])
def test_a_damaged_page_link_shows_the_newest_with_a_note(runtime, after):
    client = console(runtime)
    for path, noun in (("/jobs", "jobs"), ("/dead", "dead letters"), ("/audit", "audit entries"), ("/cases", "cases")):
        page = client.get(f"{path}?after={after}")
        assert page.status_code == 200 and f"the page link is damaged; showing the newest {noun}" in page.text


@pytest.fixture
def firestore_runtime(firestore_emulator, monkeypatch):
    for name, value in firestore_emulator.env().items():
        monkeypatch.setenv(name, value)
    runtime = Runtime(Settings(store="firestore", project=firestore_emulator.project,
                               job_types="tests.support.jobtypes:build_registry"))
    yield runtime
    runtime.close()


@pytest.mark.firestore
def test_on_firestore_a_page_link_or_an_id_that_names_no_document_is_not_a_server_error(firestore_runtime):
    """A Firestore cursor names a document: ``a/b`` was a 500 (the client refused the path), ``..``
    and ``__x__`` 503s (Firestore refused them: "try later"); Retry of ``__x__`` too."""
    client = console(firestore_runtime)
    for path in ("/dead?after=1~a%2Fb", "/dead?after=1~__x__", "/jobs?after=1~..", "/jobs?after=1~__x__",
                 "/audit?after=1~__x__", "/cases?after=1~a%2Fb"):
        page = client.get(path)
        assert page.status_code == 200 and "the page link is damaged" in page.text, path
    retried = client.post("/jobs/__x__/retry", data={"csrf_token": csrf(client), "confirmed": "1"})
    assert retried.status_code == 404
    discarded = client.post("/dead/__x__/discard", data={"csrf_token": csrf(client), "confirmed": "1"})
    assert discarded.status_code == 302


# -- actions on jobs that changed meanwhile ---------------------------------------------------------------
def test_acting_on_a_job_that_changed_meanwhile_says_so_in_the_persons_language(runtime):
    """The page was opened when the job had failed; by the time the person confirms, the chat has
    retried it, it succeeded, and its dead letter was discarded from another window. Each action
    is refused (recorded so), nothing changes, and the job's page says why in Japanese (it was an
    English 409 or 404 page)."""
    runtime.store.create_job(job("j1234567890", JobStatus.FAILED))
    client = console(runtime)
    client.set_cookie(LANG_COOKIE, "ja")
    runtime.store.update_job("j1234567890", lambda j: j.replace(status=JobStatus.SUCCEEDED))
    form = {"csrf_token": csrf(client), "confirmed": "1"}
    for action in ("retry", "cancel"):
        answer = client.post(f"/jobs/j1234567890/{action}", data=form)
        assert answer.status_code == 302 and answer.headers["Location"] == "/jobs/j1234567890"
    answer = client.post("/dead/j1234567890-g0/discard", data={**form, "back": "/jobs/j1234567890"})
    assert answer.headers["Location"] == "/jobs/j1234567890"
    assert flashed(client, "/jobs/j1234567890") == [
        "ジョブ j1234567890 は「完了」です。再実行できるのは失敗したジョブだけです。",
        "ジョブ j1234567890 はすでに「完了」のため、取り消すものはありません。",
        "失敗記録 j1234567890-g0 はもうありません（破棄済みです）。"]
    assert runtime.store.get_job("j1234567890").status == JobStatus.SUCCEEDED
    assert [(e.action, e.outcome.split(":")[0]) for e in reversed(runtime.store.list_audit())] == [
        ("retry", "refused"), ("cancel", "refused"), ("discard", "refused")]


def test_a_retry_of_a_job_whose_type_is_gone_changes_nothing(runtime):
    """The store made the job QUEUED before the type was looked up: the person was told "unknown
    job type", the audit said refused, and the job waited QUEUED with no task."""
    runtime.store.create_job(job("j1234567890", JobStatus.FAILED, kind="retired"))
    client = console(runtime)
    answer = client.post("/jobs/j1234567890/retry", data={"csrf_token": csrf(client), "confirmed": "1"})
    assert answer.status_code == 404 and "unknown job type" in answer.text
    assert runtime.store.get_job("j1234567890").status == JobStatus.FAILED
    [entry] = runtime.store.list_audit()
    assert entry.outcome.startswith("refused: unknown job type")


def test_beyond_loopback_the_audit_log_says_where_an_action_came_from(runtime):
    """Anyone with the token signs in as the console's operator: the address tells them apart."""
    runtime.store.create_job(job("j1234567890", JobStatus.QUEUED))
    client = console(runtime, host="0.0.0.0", auth_token=TOKEN)
    client.post("/login", data={"csrf_token": csrf(client), "token": TOKEN})
    client.post("/jobs/j1234567890/cancel", data={"csrf_token": csrf(client), "confirmed": "1"},
                environ_base={"REMOTE_ADDR": "192.0.2.7"})
    [entry] = runtime.store.list_audit()
    assert (entry.actor, entry.surface, entry.outcome) == (OPERATOR, "console 192.0.2.7", "done")


# -- cards of the wrong shape ----------------------------------------------------------------------------
def test_a_card_of_the_wrong_shape_is_drawn_as_broken_and_the_rest_as_usual():
    """The local Chat service keeps what an app writes, unchecked: one such message was a 500 on
    every load of the browser chat."""
    good = {"textParagraph": {"text": "<b>見積</b>"}}
    message = {"name": "spaces/s/messages/m1", "sender": {"type": "BOT", "displayName": "Ackflow"},
               "cardsV2": [{"cardId": "c", "card": {"sections": [{"widgets": [
                   good, {"textParagraph": "not an object"}, {"dateTimePicker": {"name": "d", "valueMsEpoch": "soon"}},
                   {"selectionInput": {"name": "s", "items": ["a"]}}, {"image": {"imageUrl": 5}}]}]}},
                   "not a card"]}
    html = str(message_html(message))
    assert "<b>見積</b>" in html and 'data-name="spaces/s/messages/m1"' in html
    assert re.findall(r'data-broken="([^"]*)"', html) == ["textParagraph", "dateTimePicker", "selectionInput",
                                                          "image", "cardsV2"]
    for odd in ({"name": "spaces/s/messages/m2", "text": 5}, {"name": "spaces/s/messages/m3", "sender": "x"},
                {"name": "spaces/s/messages/m4", "cardsV2": [{"card": {"header": "x", "sections": ["y"]}}]}):
        assert 'data-broken="' in str(message_html(odd))


def test_a_font_colour_is_a_colour_and_nothing_after_it():
    assert 'data-color="red"' in str(card_html('<font color="red">x</font>'))
    assert "data-color" not in str(card_html('<font color="red&#10;">x</font>'))


# -- guessing the token -----------------------------------------------------------------------------
def test_an_address_that_guesses_wrong_tokens_is_made_to_wait_and_others_are_not(runtime):
    """Five wrong tokens in a minute from one address: that address waits (429), even with the
    right token then; another address still signs in (a stranger never locks the operator out)."""
    guesser = console(runtime, host="0.0.0.0", auth_token=TOKEN)
    for _ in range(5):
        wrong = guesser.post("/login", data={"csrf_token": csrf(guesser), "token": "guess"})
        assert wrong.status_code == 401
    waiting = guesser.post("/login", data={"csrf_token": csrf(guesser), "token": TOKEN})
    assert waiting.status_code == 429 and "Too many wrong tokens" in waiting.get_data(as_text=True)
    bearer = guesser.get("/jobs", headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer.status_code == 429  # the header is a guess too
    operator = guesser.application.test_client()
    operator.get("/login", environ_base={"REMOTE_ADDR": "10.0.0.7"})
    signed = operator.post("/login", data={"csrf_token": csrf(operator), "token": TOKEN},
                           environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert signed.status_code == 302


def test_wrong_bearer_tokens_count_as_guesses(runtime):
    client = console(runtime, host="0.0.0.0", auth_token=TOKEN)
    answers = [client.get("/api/changes", headers={"Authorization": "Bearer nope"}).status_code for _ in range(6)]
    assert answers == [401] * 5 + [429]


def test_signing_out_ends_the_session(runtime):
    client = console(runtime, host="0.0.0.0", auth_token=TOKEN)
    client.post("/login", data={"csrf_token": csrf(client), "token": TOKEN})
    page = client.get("/jobs")
    assert page.status_code == 200 and 'data-test="sign-out"' in page.get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf(client)}).status_code == 302
    assert client.get("/jobs").status_code == 302  # to the sign-in page again


def test_a_copy_of_the_session_cookie_no_longer_signs_in_once_its_person_signed_out(runtime):
    """Flask's session is a signed cookie: clearing it in one browser left every copy of it valid
    (for Flask's 31 days), so signing out of a shared laptop ended nothing for whoever kept it."""
    client = console(runtime, host="0.0.0.0", auth_token=TOKEN)
    client.post("/login", data={"csrf_token": csrf(client), "token": TOKEN})
    kept = client.get_cookie("ackflow_console").value
    assert client.post("/logout", data={"csrf_token": csrf(client)}).status_code == 302
    client.set_cookie("ackflow_console", kept)
    assert client.get("/jobs").status_code == 302  # to the sign-in page
    assert client.get("/api/changes").status_code == 401
    assert client.post("/lang/ja", data={"csrf_token": csrf(client)}).status_code == 401
    client.post("/login", data={"csrf_token": csrf(client), "token": TOKEN})  # signing in again works
    assert client.get_cookie("ackflow_console").value != kept and client.get("/jobs").status_code == 200


def test_every_post_the_console_takes_is_refused_without_its_csrf_token(runtime, tmp_path):
    """Every route that takes a POST (actions, the language switch, sign-in and sign-out, the
    browser chat's send, click, dialog and close), found in the app's own URL map, so a route
    added later is checked too: a POST without the token, or with another one, is a 403 and
    reaches nothing (no audit entry, no language cookie, no sign-in, the chat service not asked)."""
    runtime.store.create_job(job("jfailed00001", JobStatus.FAILED))
    chat = ServerThreadRecording().start()
    try:
        client = console(runtime, host="0.0.0.0", auth_token=TOKEN, chat_url=chat.url)
        client.post("/login", data={"csrf_token": csrf(client), "token": TOKEN})
        values = {"job_id": "jfailed00001", "letter_id": "l1", "name": "ackflow-default", "verb": "pause",
                  "language": "ja", "case": "C-1"}
        posts = sorted({rule.rule for rule in client.application.url_map.iter_rules() if "POST" in rule.methods})
        assert {"/login", "/logout", "/lang/<language>", "/chat/send", "/jobs/<job_id>/retry"} <= set(posts)
        for rule in posts:
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], rule)
            form = {"confirmed": "1", "token": TOKEN, "text": "/help", "message": "spaces/console/messages/m",
                    "button": "b", "key": "abcdef123456", "all": "1", "back": "/jobs"}
            for sent in ({}, {"csrf_token": "guess"}):
                answer = client.post(path, data={**form, **sent})
                assert answer.status_code == 403, (rule, sent, answer.status_code)
        assert client.get_cookie(LANG_COOKIE) is None and runtime.store.list_audit() == [] and chat.asked == []
        assert runtime.store.get_job("jfailed00001").status == JobStatus.FAILED
        assert client.get("/jobs").status_code == 200  # still signed in: the refused sign-out did nothing
    finally:
        chat.stop()


class ServerThreadRecording:
    """Stands where the local Chat service would be and notes every request that reaches it."""

    def __init__(self):
        from ackflow_tools.emulators.web import ServerThread

        self.asked: list[str] = []
        self.server = ServerThread(self._app)

    def _app(self, environ, start_response):
        self.asked.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    def start(self):
        self.server.start()
        return self

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()


def test_bidirectional_controls_from_a_job_a_person_a_case_or_a_card_are_shown_not_obeyed(runtime):
    """U+202E turns the rest around: a parameter or a file name "請求書\u202efdp.exe" read as
    "請求書exe.pdf". Each control is named where it stands."""
    spoof = "請求書\u202efdp.exe\u2066"
    now = time.time()
    runtime.store.create_job(Job(id="jbidi0000001", type="echo", params={"text": spoof},
                                 requester=Requester("users/1", "a@example.com", spoof), space=None, thread=None,
                                 queue="ackflow-default", steps=(StepState("echo"),), created_at=now, updated_at=now,
                                 status=JobStatus.FAILED, last_error=spoof))
    runtime.store.docs.transaction(lambda tx: tx.set("cases", "C-1", {
        "case": "C-1", "client": spoof, "title": spoof, "status": "受付", "updated_at": now, "jobs": [],
        "documents": [{"name": spoof, "key": "d", "link": "https://drive.example/d"}]}))
    client = console(runtime)
    for path in ("/jobs", "/jobs/jbidi0000001", "/cases", "/cases/C-1", "/jobs?q=" + "請求書"):
        page = client.get(path).get_data(as_text=True)
        assert "\u202e" not in page and "\u2066" not in page, path
        assert "請求書[U+202E]fdp.exe[U+2066]" in page, path
    card = message_html({"name": "spaces/s/messages/m", "text": spoof, "cardsV2": [{"cardId": "c", "card": {
        "header": {"title": spoof}, "sections": [{"widgets": [{"decoratedText": {"text": spoof}}]}]}}]})
    assert "\u202e" not in card and card.count("請求書[U+202E]fdp.exe[U+2066]") == 3
    dialog = Renderer(dialog=True).card({"sections": [{"widgets": [{"textInput": {"name": "n", "label": spoof,
                                                                                "value": spoof}}]}]})
    assert "\u202e" not in dialog and dialog.count("請求書[U+202E]fdp.exe[U+2066]") == 2


ACTIONS = ["/jobs/jfailed00001/retry", "/jobs/jqueued00001/cancel", "/dead/{letter}/discard",
           "/queues/ackflow-default/pause", "/queues/ackflow-default/resume", "/periodic/tick/run",
           "/mail/show-again"]


@pytest.mark.parametrize("path", ACTIONS)
def test_every_action_asks_first_and_changes_nothing_until_confirmed(runtime, path):
    runtime.store.create_job(job("jfailed00001", JobStatus.FAILED))
    runtime.store.create_job(job("jqueued00001", JobStatus.QUEUED))
    letter = runtime.store.record_dropped_task("t", "jfailed00001", 0, "gone", 1, time.time())
    client = console(runtime)
    path = path.format(letter=letter.id)
    asked = client.post(path, data={"csrf_token": csrf(client), "key": "abcdef123456", "all": "1"})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and 'name="confirmed" value="1"' in page, (path, asked.status_code)
    assert f'action="{path}"' in page  # the confirmation posts the same action again
    assert runtime.store.list_audit() == [] and runtime.store.find_jobs(JobFilter(), limit=10).jobs[0].id in (
        "jfailed00001", "jqueued00001")  # no job started
    assert runtime.store.get_job("jfailed00001").status == JobStatus.FAILED
    assert runtime.store.get_job("jqueued00001").status == JobStatus.QUEUED
    assert [d.id for d in runtime.store.dead_letters_of("jfailed00001")] == [letter.id]


def test_run_now_submitted_twice_from_one_form_starts_one_job(runtime):
    """A double click, or the browser sending the form again: the form's key names the request."""
    client = console(runtime)
    form = {"csrf_token": csrf(client), "confirmed": "1", "key": "abcdef123456"}
    first = client.post("/periodic/tick/run", data=form)
    again = client.post("/periodic/tick/run", data=form)
    assert first.status_code == again.status_code == 302 and first.headers["Location"] == again.headers["Location"]
    assert len(runtime.store.find_jobs(JobFilter(type="tick"), limit=10).jobs) == 1
    other = client.post("/periodic/tick/run", data={**form, "key": "ghijkl789012"})  # a new form: a new run
    assert other.headers["Location"] != first.headers["Location"]
    assert len(runtime.store.find_jobs(JobFilter(type="tick"), limit=10).jobs) == 2
    # The audit log says what happened: two runs, and the form sent again started nothing (it said
    # three runs "done", alike: a reader counted three runs by the operator)
    replayed = first.headers["Location"].rsplit("/", 1)[1]
    entries = sorted(runtime.store.list_audit(), key=lambda e: e.at)
    assert [(e.action, e.outcome, e.job_id) for e in entries] == [
        ("run-now", "done", replayed), ("run-now", "done", replayed), ("run-now", "done", other.headers[
            "Location"].rsplit("/", 1)[1])]
    assert [bool(e.detail) for e in entries] == [False, True, False]
    for language, words in (("en", "already started"), ("ja", "開始済み")):
        client.set_cookie(LANG_COOKIE, language)
        page = client.get("/audit").get_data(as_text=True)
        assert page.count(words) == 1 and replayed in page, language


def test_the_guess_count_forgets_old_guesses_and_stays_bounded():
    from ackflow_tools.console import signin

    now = [0.0]
    guesses = signin.Guesses(guesses=2, window=60, clock=lambda: now[0])
    guesses.wrong("a")
    guesses.wrong("a")
    assert guesses.wait("a") == 60
    now[0] = 30
    assert guesses.wait("a") == 30
    now[0] = 61
    assert guesses.wait("a") == 0
    for n in range(signin.ADDRESSES + 50):
        guesses.wrong(f"10.{n}")
    assert len(guesses._wrong) == signin.ADDRESSES


@pytest.mark.parametrize("due", ["next week", "2026-02-30", 20261201])
def test_a_case_whose_due_date_is_damaged_is_still_listed_and_shown(runtime, due):
    """The workflow stores ISO dates; a record damaged in the store (or written by hand) shows what
    it holds instead of failing the page."""
    now = time.time()
    runtime.store.docs.transaction(lambda tx: tx.set("cases", "2026-001", {
        "case": "2026-001", "client": "ACME", "title": "金型", "status": "受付", "due": due, "updated_at": now}))
    client = console(runtime)
    listed = client.get("/cases")
    assert listed.status_code == 200 and str(due) in listed.get_data(as_text=True)
    shown = client.get("/cases/2026-001")
    assert shown.status_code == 200 and str(due) in shown.get_data(as_text=True)


# -- the browser chat's long polls ----------------------------------------------------------------------
def test_the_browser_chat_holds_only_so_many_long_polls_and_tells_one_more_to_come_back(runtime, tmp_path):
    """Each held wait holds a thread of the console: pages left open (or a script) must not take
    them all. The first ``chat_waits`` are held by the local Chat service; one more gets 503 at once."""
    import concurrent.futures

    from ackflow_tools.emulators.chat import start_server

    chat_service, _, chat = start_server(tmp_path / "chat.db")
    try:
        app = create_app(ConsoleConfig(runtime=runtime, operator=OPERATOR, language="en", chat_url=chat.url,
                                       chat_waits=2, chat_wait_seconds=3))
        chat_service.ensure_space("spaces/waits")
        url = "/api/chat/wait?space=spaces/waits&after=999"

        def held():
            started = time.monotonic()
            answer = app.test_client().get(url)
            return answer.status_code, time.monotonic() - started

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            waiting = [pool.submit(held) for _ in range(2)]
            time.sleep(1)
            started = time.monotonic()
            refused = app.test_client().get(url)
            assert refused.status_code == 503 and refused.headers["Retry-After"] == "2"
            assert time.monotonic() - started < 1 and refused.get_json()["changed"] is False
            assert [f.result()[0] for f in waiting] == [200, 200] and min(f.result()[1] for f in waiting) > 2.5
        assert app.test_client().get(url).status_code == 200  # released: held again
    finally:
        chat.stop()


def test_opening_the_browser_chat_of_an_unknown_space_makes_nothing_until_asked_with_a_form(runtime, tmp_path):
    """A GET changes nothing: ``/chat?space=…`` of a space the local Chat service lacks made it (a
    link or an image elsewhere would make spaces). The page says it is not there and offers to
    make it: a POST, refused without the console's CSRF token."""
    from ackflow_tools.emulators.chat import start_server

    chat_service, _, chat = start_server(tmp_path / "chat.db")
    try:
        client = console(runtime, chat_url=chat.url)

        def exists() -> bool:
            with chat_service.lock:
                return chat_service.storage.get_space("spaces/fresh") is not None

        page = client.get("/chat?space=spaces/fresh&format=addon")
        assert page.status_code == 200 and not exists()
        shown = page.get_data(as_text=True)
        assert 'data-test="no-space"' in shown and 'data-test="create-space"' in shown
        assert "spaces/fresh" in shown and 'name="format" value="addon"' in shown
        assert client.get("/chat/messages?space=spaces/fresh").status_code == 200 and not exists()
        refused = client.post("/chat/space", data={"space": "spaces/fresh", "csrf_token": "stale"})
        assert refused.status_code == 403 and not exists()
        made = client.post("/chat/space", data={"space": "spaces/fresh", "format": "addon", "csrf_token": csrf(client)})
        assert made.status_code == 302 and made.headers["Location"] == "/chat?space=spaces/fresh&format=addon"
        assert exists()
        again = client.get("/chat?space=spaces/fresh").get_data(as_text=True)
        assert 'data-test="no-space"' not in again and 'data-test="composer"' in again
        assert client.post("/chat/space", data={"space": "nospace", "csrf_token": csrf(client)}).status_code == 400
    finally:
        chat.stop()


def test_no_page_shows_a_secret_setting_the_sign_in_token_or_the_session(tmp_path, monkeypatch):
    """Every page a GET can reach (found in the app's URL map, so a page added later is checked
    too), signed in beyond loopback: neither the console's token, nor its session id, nor a
    secret setting of the deployment (the relay's signing key, the office's freee client secret
    and portal password) is in a page, a JSON answer or a header but the session's own cookie."""
    secrets = {"relay key": "-----BEGIN PRIVATE KEY-----RELAYKEYSEKRIT",
               "freee client secret": "FREEECLIENTSEKRIT", "portal password": "PORTALPASSWORDSEKRIT"}
    monkeypatch.setenv("ACKFLOW_OFFICE_FREEE_CLIENT_SECRET", secrets["freee client secret"])
    monkeypatch.setenv("ACKFLOW_OFFICE_PORTAL_PASSWORD", secrets["portal password"])
    runtime = Runtime(Settings(sqlite_path=str(tmp_path / "jobs.db"), relay_signing_key=secrets["relay key"],
                               job_types="tests.support.jobtypes:build_registry"))
    try:
        runtime.store.create_job(job("jfailed00001", JobStatus.FAILED))
        letter = runtime.store.record_dropped_task("t", "jfailed00001", 0, "gone", 1, time.time())
        runtime.store.docs.transaction(lambda tx: tx.set("cases", "C-1", {"case": "C-1", "updated_at": time.time()}))
        client = console(runtime, host="0.0.0.0", auth_token=TOKEN)
        client.post("/login", data={"csrf_token": csrf(client), "token": TOKEN})
        session = client.get_cookie("ackflow_console").value
        assert session and client.get("/jobs").status_code == 200
        secrets = {**secrets, "console token": TOKEN, "session id": session}
        values = {"job_id": "jfailed00001", "case": "C-1", "letter_id": letter.id}
        gets = sorted({rule.rule for rule in client.application.url_map.iter_rules()
                       if "GET" in rule.methods and not rule.rule.startswith(("/static", "/chat", "/api/chat"))})
        assert {"/jobs", "/jobs/<job_id>", "/queues", "/periodic", "/cases/<case>", "/audit", "/mail"} <= set(gets)
        for rule in gets:
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], rule)
            answer = client.get(path)
            assert answer.status_code < 500, (path, answer.status_code)
            body = answer.get_data(as_text=True)
            headers = "\n".join(f"{k}: {v}" for k, v in answer.headers.items() if k != "Set-Cookie")
            shown = [name for name, secret in secrets.items() if secret in body or secret in headers]
            assert shown == [], (path, shown)
    finally:
        runtime.close()
