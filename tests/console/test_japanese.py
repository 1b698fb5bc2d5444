"""What a Japanese page of the console says is Japanese: the errors a person can meet, what an
action tells once done, the audit log's outcomes, the periodic jobs' and the queues' own
descriptions. And a read-only operator (Google Cloud refuses the call for their credentials) is
told so, in their language, with a 403: not a 503 that says to try again later. Through Flask's
client over a real SQLite store; the refusal through the official Cloud Tasks client, its local
service behind a proxy that answers changes as Google answers a read-only account."""

from __future__ import annotations

import contextlib
import datetime
import html
import json
import re
import time

import pytest
import requests
from werkzeug.wrappers import Request, Response

from ackflow.app.runtime import Runtime
from ackflow.i18n import speaker_for
from ackflow.jobs.model import Job, JobStatus, Requester, StepState
from ackflow.settings import Settings
from ackflow_tools.console.app import DEPLOY_ROLES, ConsoleConfig, create_app
from ackflow_tools.devtools.procs import free_port
from ackflow_tools.emulators.cloudtasks import start_server
from ackflow_tools.emulators.web import ServerThread
from tests.support.services import start_chat_emulator

JA = speaker_for("ja", "Asia/Tokyo")
PROJECT, LOCATION, QUEUE = "local-project", "asia-northeast1", "ackflow-default"


def seed(runtime: Runtime, job_id: str, status: JobStatus) -> None:
    now = time.time()
    runtime.store.create_job(Job(id=job_id, type="echo", params={"text": "図面"},
                                 requester=Requester("users/1", "hanako@example.com", "山田 花子"), space=None,
                                 thread=None, queue=QUEUE, steps=(StepState("echo"),), created_at=now,
                                 updated_at=now, status=status))


def console(runtime):
    client = create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language="ja")).test_client()
    client.get("/jobs")  # the CSRF cookie
    return client


def visible(page: str) -> str:
    main = re.search(r"<main>(.*?)</main>", page, re.S).group(1)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))).strip()


def english(text: str, *data: str) -> list[str]:
    """The English words in ``text``, once the values it quotes (ids, names) are taken out."""
    for value in data:
        text = text.replace(value, " ")
    return re.findall(r"[A-Za-z]{3,}", text)


def error_of(response) -> str:
    return html.unescape(re.search(r'data-test="error">(.*?)</p>', response.get_data(as_text=True), re.S).group(1))


def test_the_errors_a_person_can_meet_are_said_in_their_language(runtime):
    browser = console(runtime)
    token = browser.get_cookie("ackflow_csrf").value
    act = {"csrf_token": token, "confirmed": "1"}
    met = {
        "a job that is gone (its link kept)": (browser.get("/jobs/jgone0000001"), 404, ["jgone0000001"]),
        "a case that is gone": (browser.get("/cases/C-404"), 404, ["C-404"]),
        "an address that is no page": (browser.get("/nowhere"), 404, []),
        "a form whose token went stale": (browser.post("/jobs/jgone0000001/retry", data={"csrf_token": "old"}),
                                          403, ["CSRF"]),
        "a retry of a job that is gone": (browser.post("/jobs/jgone0000001/retry", data=act), 404,
                                          ["jgone0000001"]),
        "a periodic job that is gone": (browser.post("/periodic/gone/run", data={**act, "key": "abcdef123456"}),
                                        404, ["gone"]),
        "a queue that is gone": (browser.post("/queues/gone/pause", data=act), 404, ["gone", "pause"]),
        "redrive on Cloud Tasks": (browser.post(f"/queues/{QUEUE}/redrive", data=act), 409,
                                   ["cloudtasks", "redrive"]),
        "a page another host name asks for": (browser.get("/jobs", headers={"Host": "rebound.example"}), 400,
                                              ["127.0.0.1", "localhost"]),
    }
    for what, (response, status, data) in met.items():
        assert response.status_code == status, what
        message = error_of(response)
        assert message and not english(message, *data), (what, message)
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", message), (what, message)


def test_what_an_action_tells_once_done_names_states_in_the_persons_language(runtime):
    seed(runtime, "jfailed00001", JobStatus.FAILED)
    seed(runtime, "jqueued00001", JobStatus.QUEUED)
    browser = console(runtime)
    act = {"csrf_token": browser.get_cookie("ackflow_csrf").value, "confirmed": "1"}
    browser.post("/jobs/jfailed00001/retry", data=act)
    told = visible(browser.get("/jobs/jfailed00001").get_data(as_text=True))
    assert JA._("Job {job} was sent again: now {status}.", job="jfailed00001", status="待機中") in told
    browser.post("/jobs/jqueued00001/cancel", data=act)
    told = visible(browser.get("/jobs/jqueued00001").get_data(as_text=True))
    assert JA._("Job {job} is {status}.", job="jqueued00001", status="取消済") in told


def test_the_audit_logs_outcomes_are_in_the_persons_language(runtime):
    seed(runtime, "jfailed00001", JobStatus.FAILED)
    browser = console(runtime)
    act = {"csrf_token": browser.get_cookie("ackflow_csrf").value, "confirmed": "1"}
    browser.post("/jobs/jfailed00001/retry", data=act)
    for path in ("/audit", "/jobs/jfailed00001"):
        page = browser.get(path).get_data(as_text=True)
        assert JA._("done") != "done" and JA._("done") in visible(page), path
        assert not re.search(r"\bdone\b", visible(page)), path
        assert JA._("console") in visible(page) and not re.search(r"\bconsole\b", visible(page)), path


def test_the_periodic_jobs_and_the_queues_are_described_in_the_persons_language(runtime):
    digest = next(t for t in runtime.registry if t.name == "digest")
    periodic = visible(console(runtime).get("/periodic").get_data(as_text=True))
    assert JA._(digest.help) != digest.help and JA._(digest.help) in periodic
    assert digest.help not in periodic
    queues = visible(console(runtime).get("/queues").get_data(as_text=True))
    for definition in runtime.registry.queues.values():
        assert JA._(definition.description) != definition.description, definition.name  # in the catalog
        assert JA._(definition.description) in queues and definition.description not in queues


# -- the browser chat ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chat_service(tmp_path_factory):
    """The local Chat service, as ``ackflow dev`` runs it (a process of its own)."""
    proc = start_chat_emulator(tmp_path_factory.mktemp("chat-ja"))
    yield proc
    proc.stop()


def chat_console(runtime, chat_url: str):
    client = create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language="ja",
                                      chat_url=chat_url)).test_client()
    client.get("/jobs")  # the CSRF cookie
    return client


def test_the_browser_chat_and_its_refusals_are_in_the_persons_language(runtime, chat_service):
    """The page shows the app's message edited since (as a job's progress is edited into its
    message) marked so in Japanese; what the console refuses (a space that is no space name, an
    empty message, an unknown format, a damaged wait or dialog) is said in Japanese too."""
    space = "spaces/japanese"
    requests.put(f"{chat_service.url}/_emulator/{space}", json={}, timeout=10).raise_for_status()
    posted = requests.post(f"{chat_service.url}/v1/{space}/messages", json={"text": "図面を受け付けました"}, timeout=10)
    posted.raise_for_status()
    requests.patch(f"{chat_service.url}/v1/{posted.json()['name']}", params={"updateMask": "text"},
                   json={"text": "図面を発行しました"}, timeout=10).raise_for_status()
    browser = chat_console(runtime, chat_service.url)
    token = browser.get_cookie("ackflow_csrf").value
    page = browser.get(f"/chat?space={space}")
    assert page.status_code == 200
    said = visible(page.get_data(as_text=True))
    sender = posted.json().get("sender", {}).get("displayName", "")
    assert "図面を発行しました" in said and f"· {JA._('edited')}" in said, said
    # the space's name, the app's name, the formats' own names (classic, add-on) and the phones'
    # (iPhone, Android: products, named so in Japanese too) are values
    assert not english(said, space, *([sender] if sender else []), "classic", "add-on", "iPhone", "Android"), said
    refused = {
        "a space that is no space name": (browser.get("/chat?space=bad"), ["bad", "spaces/console"]),
        "a space name with a control": (browser.get("/chat", query_string={"space": "x\u202ey"}),
                                        ["U+202E", "spaces/console"]),
        "an empty message": (browser.post("/chat/send", data={"csrf_token": token, "space": space, "text": " "}),
                             []),
        "an unknown format": (browser.post("/chat/send", data={"csrf_token": token, "space": space, "text": "hi",
                                                               "format": "x"}), ["classic", "addon"]),
        "an unknown client": (browser.post("/chat/send", data={"csrf_token": token, "space": space, "text": "hi",
                                                               "client": "PDA"}), ["WEB", "IOS", "ANDROID"]),
        "a click that names no button": (browser.post("/chat/click", data={"csrf_token": token, "space": space}),
                                         []),
        "a dialog's inputs that are no JSON": (
            browser.post("/chat/click", data={"csrf_token": token, "space": space, "dialog": "1", "button": "b",
                                              "formInputs": "{"}), ["JSON"]),
        "a dialog's inputs that are no object": (
            browser.post("/chat/click", data={"csrf_token": token, "space": space, "dialog": "1", "button": "b",
                                              "formInputs": "[1]"}), ["JSON"]),
    }
    for what, (response, data) in refused.items():
        assert response.status_code == 400, what
        message = error_of(response)
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", message) and not english(message, *data), (what, message)
    absent = browser.get("/chat?space=spaces/notyet")  # offered to be made (a GET makes nothing)
    said = visible(absent.get_data(as_text=True))
    assert absent.status_code == 200 and JA._("Make the space") in said, said
    assert not english(said, "spaces/notyet", "classic", "add-on", "iPhone", "Android", "Chat"), said  # products
    waited = browser.get(f"/api/chat/wait?space={space}&after=x")
    assert waited.status_code == 400
    message = waited.get_json()["error"]
    assert re.search(r"[\u3040-\u30ff]", message) and not english(message, "after"), message


def test_what_chat_reports_of_the_app_is_said_in_the_persons_language(runtime, chat_service):
    """The app did not answer (nothing listens at its URL): the local Chat service reports it in
    English, as Google's own words are; the browser chat said only that. Now the reader's sentence
    says what happened, the service's words quoted in it, on a send and on the page."""
    config = requests.get(f"{chat_service.url}/_emulator/app", timeout=10).json()
    space = "spaces/noanswer"
    requests.put(f"{chat_service.url}/_emulator/{space}", json={}, timeout=10).raise_for_status()
    requests.put(f"{chat_service.url}/_emulator/app", json={"url": f"http://127.0.0.1:{free_port()}/"},
                 timeout=10).raise_for_status()
    try:
        browser = chat_console(runtime, chat_service.url)
        token = browser.get_cookie("ackflow_csrf").value
        sent = browser.post("/chat/send", data={"csrf_token": token, "space": space, "text": "ヘルプ"})
        page = browser.get(f"/chat?space={space}")
    finally:
        requests.put(f"{chat_service.url}/_emulator/app", json={"url": config.get("url", "")},
                     timeout=10).raise_for_status()
    prefix = "Google Chat はアプリの応答を表示しません："
    error = sent.get_json()["error"]
    assert error.startswith(prefix) and len(error) > len(prefix), error
    shown = html.unescape(re.search(r'data-test="chat-error">(.*?)</p>', page.get_data(as_text=True), re.S).group(1))
    assert shown.startswith(prefix), shown


def test_an_unreachable_chat_service_is_named_in_the_persons_language_its_details_only_logged(runtime, caplog):
    """Nothing listens where the console looks for the Chat service: the page and a send say so in
    Japanese, naming only what failed (the exception's type); the address and the connection's
    internals go to the log, not to the person (they were the page's whole text)."""
    port = free_port()
    browser = chat_console(runtime, f"http://127.0.0.1:{port}")
    token = browser.get_cookie("ackflow_csrf").value
    with caplog.at_level("WARNING", logger="ackflow_tools.console.chat"):
        page = browser.get("/chat")
        sent = browser.post("/chat/send", data={"csrf_token": token, "text": "こんにちは"})
        waited = browser.get("/api/chat/wait?after=0")
    for response, message in ((page, None), (sent, None), (waited, waited.get_json()["error"])):
        assert response.status_code == 502
        message = message or error_of(response)
        assert message == JA._("The local Chat service did not answer ({error}).", error="ConnectionError"), message
        body = response.get_data(as_text=True)
        assert str(port) not in body and "Max retries" not in body and "HTTPConnection" not in body
    logged = [r.getMessage() for r in caplog.records if r.name == "ackflow_tools.console.chat"]
    assert len(logged) == 3 and all(f"127.0.0.1:{port}" in line and "refused" in line for line in logged), logged
    unset = create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language="ja")).test_client()
    missing = unset.get("/chat")
    assert missing.status_code == 404
    message = error_of(missing)
    # (Chat: Google's product, named so in Japanese too)
    assert re.search(r"[\u3040-\u30ff]", message), message
    assert not english(message, "`ackflow dev`", "--chat-url", "Chat"), message


# -- a read-only operator ---------------------------------------------------------------------------
class ReadOnlyAccount:
    """In front of the local Cloud Tasks service: reads pass, every change is answered as Google
    answers an account with roles/cloudtasks.viewer (403 PERMISSION_DENIED, Google's error shape)."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.refused: list[str] = []
        self.server = ServerThread(self._app).start()

    def _app(self, environ, start_response):
        request = Request(environ)
        if request.method != "GET":
            self.refused.append(request.path)
            body = json.dumps({"error": {"code": 403, "status": "PERMISSION_DENIED", "message":
                                         "The principal (user or service account) lacks IAM permission "
                                         "\"cloudtasks.queues.pause\" for the resource."}})
            return Response(body, 403, content_type="application/json")(environ, start_response)
        answer = requests.get(self.upstream + request.full_path, timeout=10)
        return Response(answer.content, answer.status_code,
                        content_type=answer.headers.get("Content-Type"))(environ, start_response)


@contextlib.contextmanager
def queues_behind(tmp_path, proxy: type[ReadOnlyAccount]):
    """The local Cloud Tasks service with one queue, reached by the console through ``proxy``:
    (runtime, service, proxy, queue name)."""
    service, server = start_server(tmp_path / "tasks.db")
    parent = f"projects/{PROJECT}/locations/{LOCATION}"
    service.create_queue(parent, {"name": f"{parent}/queues/{QUEUE}"})
    account = proxy(server.url)
    runtime = Runtime(Settings(sqlite_path=str(tmp_path / "jobs.db"), project=PROJECT, location=LOCATION,
                               cloudtasks_endpoint=account.server.url, local_services=True,
                               worker_url="http://127.0.0.1:9/", job_types="tests.support.jobtypes:build_registry"))
    try:
        yield runtime, service, account, f"{parent}/queues/{QUEUE}"
    finally:
        runtime.close()
        account.server.stop()
        server.stop()
        service.stop()


@pytest.fixture
def read_only(tmp_path):
    with queues_behind(tmp_path, ReadOnlyAccount) as parts:
        yield parts


def test_a_read_only_operator_sees_the_queues_and_is_told_plainly_that_pausing_is_refused(read_only):
    runtime, service, account, queue = read_only
    browser = console(runtime)
    page = browser.get("/queues")
    assert page.status_code == 200 and f'data-queue="{QUEUE}"' in page.get_data(as_text=True)
    act = {"csrf_token": browser.get_cookie("ackflow_csrf").value, "confirmed": "1"}
    refused = browser.post(f"/queues/{QUEUE}/pause", data=act)
    assert account.refused, "the pause reached Google's stand-in"
    assert refused.status_code == 403  # refused for good: not 503 (try again later), never 500
    message = error_of(refused)
    assert not english(message, "Google Cloud", "IAM", DEPLOY_ROLES) and DEPLOY_ROLES in message, message
    assert service.get_queue(queue).state == 1  # still RUNNING
    [entry] = runtime.store.list_audit()
    assert (entry.action, entry.actor) == ("pause", "ops@example.com") and entry.outcome.startswith("refused")
    logged = visible(browser.get("/audit").get_data(as_text=True))  # said so there too, Google's answer beside it
    said = JA._("The cloud refused this to the account that asked (its IAM roles).")
    assert f"{JA._('refused')}: {said} {JA._('Technical detail')}: " in logged and "lacks IAM permission" in logged


def test_the_periodic_jobs_next_run_is_in_the_offices_time_zone_whatever_the_deployments(tmp_path):
    """The schedules are cron in the deployment's zone (here UTC); the page gives times in the
    office's (Asia/Tokyo): the digest's 09:00 UTC is 18:00 there."""
    runtime = Runtime(Settings(sqlite_path=str(tmp_path / "jobs.db"), time_zone="UTC",
                               job_types="tests.support.jobtypes:build_registry"))
    try:
        digest = next(t for t in runtime.registry if t.name == "digest")
        assert digest.schedule.split()[:2] == ["0", "9"]
        page = console(runtime).get("/periodic").get_data(as_text=True)
        section = re.search(r'data-periodic="digest">(.*?)</section>', page, re.S).group(1)
        shown = [html.unescape(re.sub(r"<[^>]+>", "", dd)) for dd in re.findall(r"<dd>(.*?)</dd>", section, re.S)]
        last_slot, next_run = shown[1], shown[2]
        assert last_slot.endswith(" 18:00") and next_run.endswith(" 18:00"), shown
        assert "UTC" in visible(page)  # the page says in which zone the cron lines are read
    finally:
        runtime.close()


def test_job_types_and_their_steps_are_named_as_the_person_calls_them(runtime):
    """新規案件, not newcase; a step's title in Japanese (the chat says both so); the filter still
    filters by the type's id."""
    newcase = runtime.registry.get("newcase")
    now = time.time()
    runtime.store.create_job(Job(id="jnewcase0001", type="newcase", params={"client": "株式会社"},
                                 requester=Requester("users/1", "hanako@example.com", "山田 花子"), space=None,
                                 thread=None, queue=QUEUE, steps=tuple(StepState(s.name) for s in newcase.steps),
                                 created_at=now, updated_at=now, status=JobStatus.QUEUED))
    runtime.store.fail_job("jnewcase0001", "OSError: 紙", now)  # failed for good: a dead letter
    runtime.store.record_dropped_task("t", "jnewcase0001", 0, "gone", 1, now)
    browser = console(runtime)
    native = newcase.native_name
    assert native and native != "newcase"
    listed = browser.get("/jobs").get_data(as_text=True)
    assert f'title="newcase">{native}</td>' in listed and f'<option value="newcase">{native}</option>' in listed
    filtered = browser.get("/jobs?type=newcase").get_data(as_text=True)
    assert 'data-job="jnewcase0001"' in filtered
    page = browser.get("/jobs/jnewcase0001").get_data(as_text=True)
    assert f'<span title="newcase">{native}</span>' in page
    titled = [s for s in newcase.steps if s.title]
    assert titled and all(JA._(s.title) in page and JA._(s.title) != s.title for s in titled)
    assert not any(re.search(rf"\b{re.escape(s.title)}\b", visible(page)) for s in titled)
    dead = browser.get("/dead").get_data(as_text=True)
    assert f'title="newcase">{native}</td>' in dead
    assert f'title="{newcase.steps[0].name}">{JA._(newcase.steps[0].title)}</td>' in dead
    assert JA._("(dropped task)") != "(dropped task)" and JA._("(dropped task)") in dead  # a task no job had
    digest = runtime.registry.get("digest")
    assert f'<h2 title="digest">{digest.native_name}</h2>' in browser.get("/periodic").get_data(as_text=True)


# -- every page ------------------------------------------------------------------------------------
def fail_in_every_way(runtime: Runtime, job_id: str, requester: Requester, now: float) -> str:
    """A job whose attempts recorded each kind of error, through the store as the worker and the
    sweep record them: a lease that expired and an attempt a later delivery took over (the
    lifecycle's own words), an exception of the job's code (its raw text and traceback), then a
    message of the job's own, said to its requester in Japanese (the job fails for good: a dead
    letter). Returns the exception's raw text."""
    from ackflow.app.worker import _trace
    from ackflow.jobs import lifecycle
    from ackflow.jobs.model import Holder

    store = runtime.store
    store.create_job(Job(id=job_id, type="sleep", params={"seconds": 3}, requester=requester,
                         space="spaces/office", thread=None, queue=QUEUE, steps=(StepState("sleep"),),
                         created_at=now - 20, updated_at=now - 20))
    store.claim_step(job_id, 0, Holder("t1", 0), now - 19, 1.0)
    store.update_job(job_id, lambda job: lifecycle.release_expired_lease(job, now - 17, 0.0))
    store.claim_step(job_id, 0, Holder("t2", 0), now - 16, 60.0, 30.0)
    store.claim_step(job_id, 0, Holder("t2", 1), now - 15, 60.0, 30.0)  # its retry: the first is gone

    def print_drawing():
        raise OSError("the printer is out of paper")

    try:
        print_drawing()
    except OSError as exc:  # as the worker records an exception of the job's code
        raw, trace = f"{type(exc).__name__}: {exc}", _trace(exc)
    store.fail_step(job_id, 0, Holder("t2", 1), raw, now - 14, final=False, retry_at=now - 12, trace=trace)
    store.claim_step(job_id, 0, Holder("t2", 2), now - 12, 60.0, 30.0)
    store.fail_step(job_id, 0, Holder("t2", 2), "図面が見つかりません", now - 11, final=True)
    return raw


def test_every_page_of_the_console_in_japanese_has_no_english_of_its_own(tmp_path):
    """The pages an operator opens, with jobs of the shipped types in every state: what they say
    themselves is Japanese; only the values they show (ids, names, parameters, queue names) may be
    in another script, and an exception's raw text, under the label that says it is the technical
    detail. The audit log has a refused action and one with a detail; a job's attempts recorded
    every kind of error."""
    from ackflow.jobs.model import Holder, StepStatus

    service, server = start_server(tmp_path / "tasks.db")
    parent = f"projects/{PROJECT}/locations/{LOCATION}"
    runtime = Runtime(Settings(sqlite_path=str(tmp_path / "jobs.db"), language="ja", time_zone="Asia/Tokyo",
                               project=PROJECT, location=LOCATION, cloudtasks_endpoint=server.url,
                               local_services=True, worker_url="http://127.0.0.1:9/",
                               chat_endpoint="http://127.0.0.1:9"))
    missing = [queue for queue in runtime.registry.queues if queue != QUEUE]  # the service does not have it
    assert missing
    for queue in runtime.registry.queues:
        if queue not in missing:
            service.create_queue(parent, {"name": f"{parent}/queues/{queue}"})
    try:
        now = time.time()
        requester = Requester("users/1", "hanako@example.com", "山田 花子")
        # values, not the page's words: addresses, ids, queue names, the zone's name, cron; and the
        # developer's demo types (echo, sleep, fail), which have no Japanese name and no step titles
        unnamed = [t.name for t in runtime.registry if t.native_name is None]
        shown = ["hanako@example.com", "ops@example.com", "users/1", "spaces/office", "Asia/Tokyo", "cron",
                 *runtime.registry.queues, *unnamed]
        for number, (kind, status) in enumerate([("echo", JobStatus.QUEUED), ("sleep", JobStatus.RUNNING),
                                                 ("echo", JobStatus.SUCCEEDED), ("sleep", JobStatus.FAILED),
                                                 ("echo", JobStatus.CANCELLED)]):
            job_id = f"jpage{number:07d}"
            step = StepState(kind, status={JobStatus.SUCCEEDED: StepStatus.SUCCEEDED,
                                           JobStatus.RUNNING: StepStatus.RUNNING,
                                           JobStatus.FAILED: StepStatus.FAILED}.get(status, StepStatus.PENDING),
                             holder=Holder("t", now + 60) if status == JobStatus.RUNNING else None)
            params = {"text": "図面"} if kind == "echo" else {"seconds": 3}
            runtime.store.create_job(Job(id=job_id, type=kind, params=params, requester=requester,
                                         space="spaces/office", thread=None, queue=QUEUE, steps=(step,),
                                         created_at=now - number, updated_at=now, status=status))
            shown += [job_id, f"client-{job_id}"]
        # how each job began, in its history: confirmed in the chat, started by its schedule, run
        # now by an operator; as written now (through the code that writes them) and as stored
        # before each entry said what it is (its English note alone)
        from ackflow.app.confirm import new_job
        from ackflow.app.sweep import scheduled_job
        from ackflow.jobs.model import Confirmation

        asked = Confirmation(id="c" * 12, token="t" * 12, job_type="echo", params={"text": "図面"}, requester=requester,
                             space="spaces/office", thread=None, created_at=now, expires_at=now + 600)
        runtime.store.create_job(new_job(runtime, asked, runtime.registry.get("echo"), now).replace(id="jbegan000001"))
        slot = datetime.datetime.fromtimestamp(now - 3600, datetime.UTC).replace(second=0, microsecond=0)
        runtime.store.create_job(scheduled_job(runtime.registry.get("digest"), slot, None, now))
        began = ["jbegan000001", f"digest-{slot:%Y%m%d%H%M}"]
        for number, note in enumerate(["confirmed", "run now by ops@example.com", "schedule 202611300000"], 2):
            runtime.store.create_job(Job(id=f"jbegan{number:06d}", type="echo", params={"text": "図面"},
                                         requester=requester, space=None, thread=None, queue=QUEUE,
                                         steps=(StepState("echo"),), created_at=now, updated_at=now,
                                         history=({"at": now, "status": "QUEUED", "note": note},)))
            began.append(f"jbegan{number:06d}")
        shown += began + [f"client-{job_id}" for job_id in began]
        runtime.store.create_job(Job(id="jflags000001", type="fail", params={"times": None, "always": True},
                                     requester=requester, space=None, thread=None, queue=QUEUE,
                                     steps=(StepState("flaky"),), created_at=now, updated_at=now))
        began.append("jflags000001")  # a flag and a parameter left out: in words, not JSON's true and null
        shown += ["jflags000001", "client-jflags000001"]
        fail_in_every_way(runtime, "jpage0000005", requester, now)
        fail_in_every_way(runtime, "jpage0000006", requester, now)  # its dead letter is discarded
        shown += ["jpage0000005", "jpage0000006", "client-jpage0000005", "client-jpage0000006"]
        browser = console(runtime)
        act = {"csrf_token": browser.get_cookie("ackflow_csrf").value, "confirmed": "1"}
        browser.post("/jobs/jpage0000003/retry", data=act)  # an audit entry
        browser.post("/jobs/jpage0000000/cancel", data=act)
        browser.post("/jobs/jpage0000002/cancel", data=act)  # refused: the job has succeeded
        [letter] = runtime.store.dead_letters_of("jpage0000006")
        browser.post(f"/dead/{letter.id}/discard", data=act)  # the detail: the letter's step and error
        ran = browser.post("/periodic/reminder/run", data={**act, "key": "abcdef123456"})  # its job's history
        began.append(ran.headers["Location"].rsplit("/", 1)[1])
        shown.append(began[-1])
        from workers.office.mail.unshown import show_again

        show_again(runtime, None, "ops@example.com", "console")  # its target: every unshown mail (in words)
        outcomes = [(e.action, e.outcome.split(":")[0], bool(e.detail)) for e in runtime.store.list_audit()]
        assert ("cancel", "refused", False) in outcomes and ("discard", "done", True) in outcomes, outcomes
        pages = ["/jobs", "/jobs?status=FAILED", "/dead", "/audit", "/queues", "/periodic", "/cases"]
        pages += [f"/jobs/jpage{number:07d}" for number in range(7)] + [f"/jobs/{job_id}" for job_id in began]
        said = {}
        for path in pages:
            response = browser.get(path)
            assert response.status_code == 200, path
            page = re.sub(r'<details class="raw">.*?</details>', " ", response.get_data(as_text=True), flags=re.S)
            # data: an exception's raw text under its label, the traceback the label folds
            page = re.sub(r'(<span class="technical-label">[^<]*</span>) <code[^>]*>.*?</code>', r"\1", page,
                          flags=re.S)
            page = re.sub(r"<pre>.*?</pre>", " ", page, flags=re.S)
            text = re.sub(r"\b[0-9a-f]{40}\b", " ", visible(page))  # (the stored JSON and task names: data)
            words = english(text, *sorted(shown, key=len, reverse=True))
            if words:
                said[path] = sorted(set(words))
        assert not said, json.dumps(said, ensure_ascii=False, indent=0)
    finally:
        runtime.close()
        server.stop()
        service.stop()


class UnavailableService(ReadOnlyAccount):
    """In front of the local Cloud Tasks service: reads pass, every change is answered as Google
    answers when the service cannot take it now (503 UNAVAILABLE, Google's error shape)."""

    def _app(self, environ, start_response):
        request = Request(environ)
        if request.method != "GET":
            self.refused.append(request.path)
            body = json.dumps({"error": {"code": 503, "status": "UNAVAILABLE",
                                         "message": "The service is currently unavailable."}})
            return Response(body, 503, content_type="application/json")(environ, start_response)
        return super()._app(environ, start_response)


def test_a_queue_service_that_cannot_act_now_is_said_in_the_persons_language_its_answer_the_detail(tmp_path):
    """A pause Cloud Tasks could not take now (503) showed the service's English answer as the
    whole message of a Japanese page."""
    with queues_behind(tmp_path, UnavailableService) as (runtime, _, down, _):
        browser = console(runtime)
        act = {"csrf_token": browser.get_cookie("ackflow_csrf").value, "confirmed": "1"}
        answer = browser.post(f"/queues/{QUEUE}/pause", data=act)
        assert down.refused and answer.status_code == 503  # try again later: it is not refused for good
        page = answer.get_data(as_text=True)
        said = html.unescape(re.search(r'data-test="error">(.*?)</p>', page, re.S).group(1))
        own = re.sub(r'<span class="technical-label">.*?</code>', " ", said, flags=re.S)
        assert re.search(r"[\u3040-\u30ff]", own) and not english(re.sub(r"<[^>]+>", " ", own), QUEUE), said
        assert JA._("Technical detail") in said and "currently unavailable" in said, said


def test_a_jobs_dead_letters_name_the_step_as_the_dead_letters_page_does(runtime):
    """The job's page lists its dead letters with the step's title in the person's language (不安定な
    手順), as /dead does: not the step's id (flaky), which a Japanese operator met there alone."""
    fail = runtime.registry.get("fail")
    now = time.time()
    runtime.store.create_job(Job(id="jfail0000001", type="fail", params={"always": True},
                                 requester=Requester("users/1", "hanako@example.com", "山田 花子"), space=None,
                                 thread=None, queue=QUEUE, steps=tuple(StepState(s.name) for s in fail.steps),
                                 created_at=now, updated_at=now, status=JobStatus.QUEUED))
    runtime.store.fail_job("jfail0000001", "わざと失敗しています", now)
    browser = console(runtime)
    letter = runtime.store.list_dead_letters()[0]
    step = next(s for s in fail.steps if s.name == letter.step)
    assert step.title and JA._(step.title) != step.name
    dead = browser.get("/dead").get_data(as_text=True)
    assert f'title="{step.name}">{JA._(step.title)}</td>' in dead
    page = browser.get("/jobs/jfail0000001").get_data(as_text=True)
    letters = re.search(r'<ul class="letters">(.*?)</ul>', page, re.S).group(1)
    assert JA._(step.title) in letters
    assert not re.search(rf"·\s*{re.escape(step.name)}\s*·", letters)
