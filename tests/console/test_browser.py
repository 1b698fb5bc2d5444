"""The console and the browser chat in Debian's chromium (Playwright), against a whole local
pipeline: the functions, the local Cloud Tasks and Chat services, the store. Screenshots at phone
and desktop widths go to .ackflow/screenshots/, or to docs/console/ (shown in docs/console.md) with
ACKFLOW_UPDATE_DOC_SCREENSHOTS=1."""

from __future__ import annotations

import json
import time
import warnings

import pytest
import requests

from ackflow.jobs.model import Job, JobStatus, Requester, StepState, StepStatus
from ackflow.store.jobstore import JobFilter
from ackflow.taskqueue.base import task_name
from ackflow_tools.console.app import ConsoleConfig, create_app
from ackflow_tools.emulators.web import ServerThread
from tests.e2e.conftest import start_pipeline
from tests.support.browser import DESKTOP, PHONE, browser, require_chromium, shoot

pytestmark = pytest.mark.slow
OPERATOR = "ops@example.com"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    require_chromium()
    # The app's format is classic; its audience the endpoint URL, so that Chat's tokens for both
    # formats verify and the browser chat can speak either (test_…_in_the_add_on_format).
    running = start_pipeline(tmp_path_factory.mktemp("console"), "classic", "endpoint-url")
    yield running
    running.stack.stop()


@pytest.fixture(scope="module")
def console(pipeline):
    config = ConsoleConfig(runtime=pipeline.stack.runtime(), operator=OPERATOR, language="en",
                           chat_url=pipeline.chat_url, chat_space="spaces/browser", poll_seconds=0.5)
    server = ServerThread(create_app(config)).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def context():
    with browser() as opened:
        yield opened


@pytest.fixture
def page(context):
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # every action asks first; the person agrees
    yield page
    close(page)


def close(page) -> None:
    """Chromium can acknowledge closing a page whose navigation is mid-commit and never close it
    (microsoft/playwright#42366), and ``page.close()`` then waits forever (a CI run lost 300 s and
    the test): tests end on a settled page, and the close is asked for without waiting, then
    waited for a bounded time. A page that stays open goes with the browser at the module's end."""
    page.wait_for_load_state()
    page.close(run_before_unload=True)  # asks Chromium to close it; does not wait (no page here has unload handlers)
    if not page.is_closed():
        try:
            page.wait_for_event("close", timeout=10_000)
        except Exception as exc:  # playwright's TimeoutError; the page may also be gone meanwhile
            warnings.warn(f"a browser page did not close within 10 s: {exc}", stacklevel=1)


def _japanese(page, console: str) -> None:
    page.goto(console + "/jobs")
    page.click("button[lang=ja]")


def test_filter_to_failed_open_retry_and_see_it_succeed_without_reloading(pipeline, console, page):
    job_id = pipeline.start("flaky A-12 金型 図面")
    pipeline.wait_job(job_id, JobStatus.FAILED)
    page.set_viewport_size(DESKTOP)
    page.goto(console + "/jobs")
    page.select_option("[data-test=status-filter]", "FAILED")
    page.click("[data-test=apply]")
    row = page.locator(f"tr[data-job={job_id}]")
    assert row.locator("[data-status]").inner_text() == "Failed"
    assert page.locator("tr[data-job] [data-status=SUCCEEDED]").count() == 0  # only failed ones listed
    shoot(page, "jobs-desktop")
    page.set_viewport_size(PHONE)
    shoot(page, "jobs-phone")
    page.set_viewport_size(DESKTOP)
    row.get_by_role("link", name=job_id).click()  # the job, not its requester (a filter)
    assert "the printer is out of paper" in page.locator("[data-test=last-error]").inner_text()
    page.click("[data-test=retry]")
    page.wait_for_url(f"**/jobs/{job_id}")
    page.evaluate("window.__stillTheSamePage = true")
    page.locator("h1 [data-status=SUCCEEDED]").wait_for(timeout=20000)  # the live part swapped it in
    assert page.evaluate("window.__stillTheSamePage") is True
    job = pipeline.wait_job(job_id, JobStatus.SUCCEEDED)
    _the_detail_shows_both_attempts_the_tasks_the_thread_and_the_retry(page, job)
    shoot(page, "job-desktop")
    page.set_viewport_size(PHONE)
    shoot(page, "job-phone")
    page.locator("[data-test=thread] a").click()  # the thread: the job's own message, in the browser chat
    page.locator(".gc-bot .gc-title", has_text=f"job {job.id}").first.wait_for()
    [entry] = pipeline.store.list_audit(job_id=job_id)
    assert (entry.actor, entry.action, entry.surface, entry.outcome) == (OPERATOR, "retry", "console", "done")


def _the_detail_shows_both_attempts_the_tasks_the_thread_and_the_retry(page, job: Job) -> None:
    """The step timeline after a failed attempt and its retry: two attempts, each with its start,
    duration, outcome and task; the failed one with its error and a traceback excerpt; the step's
    task now; the chat thread; the audit entry of the retry, with who did it."""
    [step] = job.steps
    assert [run["outcome"] for run in step.runs] == ["failed", "succeeded"]
    runs = page.locator("[data-step=print] [data-test=runs] tr[data-run]")
    assert runs.count() == 2
    failed, succeeded = runs.nth(0), runs.nth(1)
    assert (failed.get_attribute("data-outcome"), succeeded.get_attribute("data-outcome")) == ("failed", "succeeded")
    for row, run in ((failed, step.runs[0]), (succeeded, step.runs[1])):
        assert row.locator("[data-test=started] time").get_attribute("datetime") == str(run["started_at"])
        assert row.locator("[data-test=duration]").inner_text().strip().endswith(("ms", "s"))
        assert row.locator("[data-test=run-task]").inner_text() == run["task"]
    assert step.runs[0]["task"] != step.runs[1]["task"]  # the retry ran under a new task name
    assert failed.locator("[data-test=outcome]").inner_text().startswith("failed for good")
    assert failed.locator("[data-test=run-error]").inner_text() == "OSError: the printer is out of paper"
    trace = failed.locator("[data-test=trace]")
    trace.locator("summary").click()  # the excerpt is folded until asked for
    excerpt = trace.locator("pre").inner_text()
    assert excerpt.startswith("Traceback (most recent call last)") and ", in flaky" in excerpt
    assert excerpt.rstrip().endswith("OSError: the printer is out of paper")
    assert succeeded.locator("[data-test=trace], [data-test=run-error]").count() == 0
    assert page.locator("[data-step=print] [data-test=task]").inner_text() == task_name(job.id, 0, job.generation)
    thread = page.locator("[data-test=thread]")
    assert job.space and job.message_id and job.message_id in thread.inner_text()
    assert thread.locator("a").inner_text() == job.space
    assert thread.locator("a").get_attribute("href") == "/chat?space=" + job.space
    retried = page.locator("[data-test=audit] li[data-audit=retry]")
    assert retried.count() == 1
    assert [part.strip() for part in retried.inner_text().split("·")][1:] == [OPERATOR, "retry", "console", "done"]


def test_pause_a_queue_and_new_jobs_wait_until_it_resumes(pipeline, console, page):
    page.set_viewport_size(DESKTOP)
    page.goto(console + "/queues")
    queue = page.locator("[data-queue=ackflow-default]")
    queue.locator("[data-test=pause]").click()
    page.locator("[data-queue=ackflow-default] h2 [data-status=PAUSED]").wait_for()
    try:
        job_id = pipeline.start("echo held back")
        time.sleep(2)
        assert pipeline.store.get_job(job_id).status == JobStatus.QUEUED
        page.goto(console + "/queues")
        assert int(page.locator("[data-queue=ackflow-default] [data-test=waiting]").inner_text()) >= 1
        shoot(page, "queues-desktop")
        page.goto(console + f"/jobs/{job_id}")
        assert page.locator("h1 [data-status]").inner_text() == "Queued"
        page.goto(console + "/queues")
    finally:
        page.locator("[data-queue=ackflow-default] [data-test=resume]").click()
    page.locator("[data-queue=ackflow-default] h2 [data-status=RUNNING]").wait_for()
    assert pipeline.wait_job(job_id, JobStatus.SUCCEEDED).status == JobStatus.SUCCEEDED
    actions = [e.action for e in pipeline.store.list_audit(limit=10) if e.target == "ackflow-default"]
    assert actions[:2] == ["resume", "pause"]


def test_the_browser_chat_sends_a_command_opens_and_submits_a_dialog_runs_and_shows_progress_and_result(
        pipeline, console, page):
    page.set_viewport_size(PHONE)
    page.goto(console + "/chat?space=spaces/browser")
    page.fill("[data-test=composer]", "/sleep")  # set to open a dialog: the app's form for sleep
    page.click("[data-test=send]")
    dialog = page.locator("#gc-dialog[open]")
    dialog.wait_for()
    assert "Seconds" in dialog.inner_text()  # the test stack's people read English (the office's: Japanese)
    dialog.locator("input[name=seconds]").fill("たくさん")
    dialog.locator("button[data-dialog-submit]").last.click()
    dialog.locator(".gc-text", has_text="たくさん").wait_for()  # the error, in the dialog, by its field
    shoot(page, "chat-dialog-phone")
    dialog.locator("input[name=seconds]").fill("２")  # full width, as a Japanese keyboard types it
    dialog.locator("button[data-dialog-submit]").last.click()
    page.locator("#gc-dialog[open]").wait_for(state="detached")
    run = page.locator("button[data-click=Run]").last
    run.wait_for()
    run.click()
    page.get_by_text("of 2 s").first.wait_for(timeout=15000)  # progress, edited into the message
    shoot(page, "chat-progress-phone")
    page.get_by_text("slept").first.wait_for(timeout=20000)  # the result card
    shoot(page, "chat-result-phone")
    page.set_viewport_size(DESKTOP)
    shoot(page, "chat-desktop")
    page.fill("[data-test=composer]", "/help")  # a slash command the app itself answers
    page.click("[data-test=send]")
    page.get_by_text("sleep SECONDS").first.wait_for(timeout=10000)


def test_the_browser_chat_in_the_add_on_format_sends_a_command_submits_its_dialog_runs_and_shows_the_result(
        pipeline, console, page):
    page.set_viewport_size(PHONE)
    page.goto(console + "/chat?space=spaces/browseraddon&format=addon")
    assert page.locator("[data-test=format]").input_value() == "addon"
    page.fill("[data-test=composer]", "/echo アドオンの金型")  # an APP_COMMAND event, asking for the form
    page.click("[data-test=send]")
    dialog = page.locator("#gc-dialog[open]")
    dialog.wait_for()  # the add-on's pushCard
    assert dialog.locator("[name=text]").input_value() == "アドオンの金型"
    dialog.locator("button[data-dialog-submit]").last.click()
    page.locator("#gc-dialog[open]").wait_for(state="detached")
    run = page.locator("button[data-click=Run]").last
    run.wait_for()
    action = json.loads(run.get_attribute("data-action"))
    assert action["function"].startswith("http") and {"key": "actionName", "value": "run"} in action["parameters"]
    run.click()  # an add-on's buttonClickedPayload
    result = page.locator(".gc-bot .gc-card", has_text="アドオンの金型").filter(has_text="Done in").last  # the result
    result.wait_for(timeout=20000)
    assert page.locator(".gc-unknown").count() == 0 and page.locator("[data-test=chat-error]").is_hidden()
    shoot(page, "chat-addon-phone")
    [job] = [j for j in pipeline.store.find_jobs(JobFilter(type="echo"), limit=20).jobs
             if j.params.get("text") == "アドオンの金型"]
    assert (job.status, job.event_format) == (JobStatus.SUCCEEDED, "addon")  # the events were the add-on's


def test_the_browser_chat_fills_in_a_form_with_a_date_and_lines_and_closes_one(pipeline, console, page):
    before = pipeline.counts()
    page.set_viewport_size(PHONE)
    page.goto(console + "/chat?space=spaces/browserform")
    page.fill("[data-test=composer]", "/newcase ACME")
    page.click("[data-test=send]")
    dialog = page.locator("#gc-dialog[open]")
    dialog.wait_for()
    assert dialog.locator("input[name=client]").input_value() == "ACME"  # what was typed fills the form in
    dialog.locator("input[name=title]").fill("プレス金型 A-12")
    dialog.locator("input[name=due]").fill("2026-12-01")  # the date picker
    dialog.locator("input[name='item.1.0']").fill("金型設計")
    dialog.locator("input[name='item.1.1']").fill("1")
    dialog.locator("input[name='item.1.2']").fill("350000")
    dialog.locator("button[data-dialog-submit='Add a line']").click()
    dialog.locator("input[name='item.2.0']").wait_for()
    assert dialog.locator("input[name='item.1.0']").input_value() == "金型設計"  # kept across the redraw
    dialog.locator("input[name='item.2.0']").fill("試作立会い")
    dialog.locator("input[name='item.2.1']").fill("2")
    dialog.locator("input[name='item.2.2']").fill("40,000")
    shoot(page, "chat-form-phone")
    dialog.locator("button[data-dialog-submit=Next]").click()
    page.locator("#gc-dialog[open]").wait_for(state="detached")
    page.get_by_text("プレス金型 A-12").last.wait_for()  # the confirmation card
    assert pipeline.counts() == (before[0], before[1] + 1)
    page.fill("[data-test=composer]", "/echo")
    page.click("[data-test=send]")
    page.locator("#gc-dialog[open]").wait_for()
    # Chat's close icon: the dialog closes at once and the app hears CANCEL_DIALOG after (the
    # console's /chat/cancel answers once the Chat service has it), so wait for that answer.
    with page.expect_response(lambda response: response.url.endswith("/chat/cancel")) as cancelled:
        page.click("[data-test=dialog-close]")
    assert cancelled.value.ok
    page.locator("#gc-dialog[open]").wait_for(state="detached")
    opened = requests.get(pipeline.chat_url + "/_emulator/spaces/browserform/dialog",
                          params={"user": "users/100000000000000000001"}, timeout=5)
    assert opened.status_code == 404 and pipeline.counts() == (before[0], before[1] + 1)


def _in_view(page, locator) -> bool:
    """Whether the element is drawn wholly inside the window (not scrolled away, not cut off)."""
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["x"] >= 0 and box["y"] + box["height"] <= size["height"] \
        and box["x"] + box["width"] <= size["width"]


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_long_dialog_keeps_its_close_icon_at_the_top_and_its_fixed_footer_in_view(pipeline, console, page, size):
    """Google Chat draws a dialog's ``fixedFooter`` as "a persistent (sticky) footer that appears at
    the bottom of the card", and its close icon (CANCEL_DIALOG) "in the top right corner of the
    dialog": a long form scrolls between them, both always within reach. (They scrolled away with
    the form: at phone width neither Next nor Close could be seen until the end was reached.)"""
    page.set_viewport_size(size)
    page.goto(console + "/chat?space=spaces/browserlong")
    page.fill("[data-test=composer]", "/newcase")  # the longest form: the case, its dates, its lines
    page.click("[data-test=send]")
    dialog = page.locator("#gc-dialog[open]")
    dialog.wait_for()
    dialog.locator("button[data-dialog-submit='Add a line']").click()  # longer still
    dialog.locator("input[name='item.2.0']").wait_for()
    body = page.locator("#gc-dialog-body")
    assert body.evaluate("(el) => el.scrollHeight") > size["height"], "the form should be longer than the window"
    footer = dialog.locator(".gc-footer button[data-dialog-submit=Next]")
    close = page.locator("[data-test=dialog-close]")
    title = dialog.locator(".gc-title")
    for where in ("top", "middle", "bottom"):
        for scrolled in (dialog, body):  # whichever of them scrolls
            scrolled.evaluate("(el, where) => { el.scrollTop = {top: 0, middle: el.scrollHeight / 2, "
                              "bottom: el.scrollHeight}[where]; }", where)
        page.wait_for_timeout(100)
        assert _in_view(page, footer), (where, footer.bounding_box())
        assert _in_view(page, close), (where, close.bounding_box())
        frame = dialog.bounding_box()
        shut = close.bounding_box()
        assert shut["y"] - frame["y"] < 60 and frame["x"] + frame["width"] - (shut["x"] + shut["width"]) < 60, \
            (where, frame, shut)  # the top right corner of the dialog
        assert shut["y"] + shut["height"] <= body.bounding_box()["y"] + 1, where  # above what scrolls: covers none
        if where == "top":  # the icon does not cover the dialog's title
            named = title.bounding_box()
            assert named["x"] + named["width"] <= shut["x"] or named["y"] >= shut["y"] + shut["height"], (named, shut)
    shoot(page, "chat-long-dialog-" + ("phone" if size is PHONE else "desktop"))
    with page.expect_response(lambda response: response.url.endswith("/chat/cancel")) as cancelled:
        close.click()
    assert cancelled.value.ok
    page.locator("#gc-dialog[open]").wait_for(state="detached")
    # A click outside the dialog closes it too and, as in Chat, tells the app nothing
    cancels: list[str] = []
    page.on("request", lambda request: cancels.append(request.url) if request.url.endswith("/chat/cancel") else None)
    page.fill("[data-test=composer]", "/echo")
    page.click("[data-test=send]")
    dialog.wait_for()
    page.mouse.click(3, 3)
    page.locator("#gc-dialog[open]").wait_for(state="detached")
    assert cancels == []


def test_markup_in_parameters_and_messages_is_shown_as_text(pipeline, console, page):
    hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>bold?</b>'
    now = time.time()
    pipeline.store.create_job(Job(id="jhostile2345", type="echo", params={"text": hostile},
                                  requester=Requester("users/9", "eve@example.com", "<i>Eve</i>"),
                                  space="spaces/browser", thread=None, queue="ackflow-default",
                                  steps=(StepState("echo"),), created_at=now, updated_at=now,
                                  status=JobStatus.FAILED, last_error=hostile))
    page.set_viewport_size(DESKTOP)
    page.goto(console + "/jobs/jhostile2345")
    assert json.loads(page.locator("[data-test=params]").text_content()) == {"text": hostile}  # as stored, folded
    assert hostile in page.locator("[data-test=param-list] dd").inner_text()  # as a person reads it: text
    assert hostile in page.locator("[data-test=last-error]").inner_text()
    assert "<i>Eve</i>" in page.locator(".facts").first.inner_text()
    page.goto(console + "/jobs?q=onerror")
    assert page.locator("tr[data-job=jhostile2345]").count() == 1
    page.goto(console + "/chat?space=spaces/browser")
    page.fill("[data-test=composer]", hostile)
    page.click("[data-test=send]")
    page.get_by_text("window.__pwned = 1").first.wait_for()
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".conversation b").filter(has_text="bold?").count() == 0


@pytest.mark.parametrize(("language", "title", "label"),
                         [("ja", "できること", "秒数"), ("en", "What I can do", "Seconds")])
def test_the_browser_chats_person_reads_the_pages_language(pipeline, console, page, language, title, label):
    """The person in the browser chat is the one reading the page: their Chat client's language
    (``userLocale``) is the page's, so the app answers as it would answer them. (It was the local
    Chat service's default whatever the page: a Japanese page showed the app speaking English.)"""
    page.set_viewport_size(PHONE)
    page.goto(console + "/jobs")
    page.context.add_cookies([{"name": "ackflow_lang", "value": language, "url": console}])
    try:
        page.goto(console + f"/chat?space=spaces/browserlang{language}")
        page.fill("[data-test=composer]", "help")
        page.click("[data-test=send]")
        page.locator(".gc-bot .gc-title", has_text=title).first.wait_for(timeout=10000)
        page.fill("[data-test=composer]", "/sleep")  # a dialog, in the same language
        page.click("[data-test=send]")
        page.locator("#gc-dialog[open] .gc-label", has_text=label).first.wait_for()
        with page.expect_response(lambda response: response.url.endswith("/chat/cancel")):
            page.click("[data-test=dialog-close]")
    finally:
        page.context.clear_cookies(name="ackflow_lang")


def test_the_browser_chat_can_be_a_phone_and_shows_the_cards_a_phone_gets(pipeline, console, page):
    """The browser chat is a phone-width column, but its person's client said WEB: the app's
    answers were the desktop's (a phone's leave out what only a wide screen needs, e.g. the help's
    last section). The client is chosen in the page's header, as the format is, and kept."""
    footer = "Write a command as a message"
    page.set_viewport_size(PHONE)
    for client, shown in (("", True), ("IOS", False), ("ANDROID", False)):
        space = f"spaces/browserclient{client.lower() or 'web'}"
        page.goto(console + f"/chat?space={space}")
        if client:
            with page.expect_navigation():
                page.select_option("[data-test=client]", client)
            assert page.locator("[data-test=client]").input_value() == client and f"client={client}" in page.url
        page.fill("[data-test=composer]", "help")
        page.click("[data-test=send]")
        card = page.locator(".gc-bot .gc-card", has_text="What I can do").last
        card.wait_for(timeout=10000)
        assert (footer in card.inner_text()) is shown, (client, card.inner_text())
        if client:
            assert page.locator("[data-test=format]").input_value() == ""  # the other choice kept as it was


@pytest.mark.parametrize(("size", "client", "side_by_side"), [
    (DESKTOP, "", True), (PHONE, "", False), (PHONE, "IOS", True), (PHONE, "ANDROID", True),
    ({"width": 300, "height": 700}, "IOS", False), ({"width": 320, "height": 700}, "ANDROID", False)],
    ids=["web-desktop", "web-phone", "iphone", "android", "iphone-narrow", "android-narrow"])
def test_columns_wrap_where_chat_wraps_them(pipeline, console, page, size, client, side_by_side):
    """Cards v2 ``columns``: "if the user's screen width is too narrow, the second column wraps
    below the first": on web at 480 px or less, on iOS at 300 pt, on Android at 320 dp. The
    browser chat wrapped them by its inputs' widths (always, in a dialog, even at desktop width)."""
    page.set_viewport_size(size)
    page.goto(console + "/chat?space=spaces/browsercolumns" + (f"&client={client}" if client else ""))
    page.fill("[data-test=composer]", "/newcase")
    page.click("[data-test=send]")
    columns = page.locator("#gc-dialog[open] .gc-columns").first
    columns.wait_for()
    first, second = (columns.locator(".gc-column").nth(n).bounding_box() for n in (0, 1))
    beside = abs(first["y"] - second["y"]) < 2 and second["x"] >= first["x"] + first["width"]
    assert beside is side_by_side, (first, second)
    with page.expect_response(lambda response: response.url.endswith("/chat/cancel")):
        page.click("[data-test=dialog-close]")


def _cut_placeholders(page) -> list[str]:
    """The fields whose placeholder is wider than the field: the end of what it says is cut off."""
    return page.evaluate("""() => {
      const canvas = document.createElement('canvas').getContext('2d');
      return Array.from(document.querySelectorAll('input[placeholder]')).filter((el) => {
        const style = getComputedStyle(el);
        canvas.font = style.font;
        const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        return canvas.measureText(el.placeholder).width > room + 0.5;
      }).map((el) => `${el.name}: ${el.placeholder}`);
    }""")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_placeholder_is_read_whole_at_phone_width(pipeline, console, page, language):
    """A field's hint is what a person reads before typing: at phone width the browser chat's
    composer said 「アプリへのメッセージ、または /コマン」, its end cut off."""
    page.set_viewport_size(PHONE)
    page.goto(console + "/jobs")
    page.context.add_cookies([{"name": "ackflow_lang", "value": language, "url": console}])
    for path in ("/jobs", "/chat?space=spaces/browser"):
        page.goto(console + path)
        page.evaluate("document.fonts.ready.then(() => true)")
        assert page.locator("html").get_attribute("lang") == language
        assert _cut_placeholders(page) == [], (language, path)
    page.context.clear_cookies(name="ackflow_lang")


def test_the_pages_speak_japanese_at_phone_width(pipeline, console, page):
    page.set_viewport_size(PHONE)
    _japanese(page, console)
    assert page.locator("html").get_attribute("lang") == "ja"
    assert "ジョブ" in page.locator("h1").inner_text()
    shoot(page, "jobs-ja-phone")
    page.goto(console + "/periodic")
    assert page.locator("[data-periodic=tick]").count() == 1
    page.click("[data-periodic=tick] [data-test=run-now]")
    page.wait_for_url("**/jobs/tick-now-*")
    with page.expect_navigation():  # never leave a navigation mid-commit: page.close() can hang on it
        page.click("button[lang=en]")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "/jobs/tick-now-" in page.url  # back on the page the language was changed from


def _waiting_job(pipeline, job_id: str, **fields) -> Job:
    """A job put in the store as a queued one, with no task behind it: only the test moves it."""
    now = time.time()
    job = Job(id=job_id, type="echo", params={"text": "waiting"},
              requester=Requester("users/7", "kei@example.com", "Kei"), space="spaces/browser", thread=None,
              queue="ackflow-default", steps=(StepState("echo"),), created_at=now, updated_at=now,
              status=JobStatus.QUEUED, **fields)
    return pipeline.store.create_job(job)


def _asked(page) -> list[str]:
    questions: list[str] = []
    page.on("dialog", lambda dialog: questions.append(dialog.message))
    return questions


def test_the_jobs_list_shows_a_change_made_elsewhere_without_reloading(pipeline, console, page):
    job = _waiting_job(pipeline, "jlive0000001")
    page.set_viewport_size(DESKTOP)
    page.goto(console + "/jobs")
    row = page.locator("tr[data-job=jlive0000001]")
    assert row.locator("[data-status]").get_attribute("data-status") == "QUEUED"
    page.evaluate("window.__stillTheSamePage = true")
    pipeline.store.cancel_job(job.id, time.time(), "someone at the command line")  # not through this page
    page.locator("tr[data-job=jlive0000001] [data-status=CANCELLED]").wait_for(timeout=10000)
    assert page.evaluate("window.__stillTheSamePage") is True  # the row was swapped in, the page not reloaded
    shoot(page, "jobs-live-desktop")


def test_a_search_is_not_run_again_by_itself_but_offers_to_be(pipeline, console, page):
    """A parameter search reads up to thousands of jobs (each billed on Firestore): when jobs change
    it says so and searches again only when asked."""
    job = _waiting_job(pipeline, "jsearch00001")
    page.set_viewport_size(DESKTOP)
    page.goto(console + "/jobs?q=waiting")
    assert page.locator("tr[data-job=jsearch00001] [data-status]").get_attribute("data-status") == "QUEUED"
    page.evaluate("window.__stillTheSamePage = true")
    pipeline.store.cancel_job(job.id, time.time(), "someone at the command line")
    page.locator("[data-test=search-stale]").wait_for(state="visible", timeout=10000)
    page.wait_for_timeout(1500)  # several more polls: the list is left as it was searched
    assert page.locator("tr[data-job=jsearch00001] [data-status]").get_attribute("data-status") == "QUEUED"
    page.click("[data-test=search-again]")
    page.locator("tr[data-job=jsearch00001] [data-status=CANCELLED]").wait_for(timeout=10000)
    assert page.evaluate("window.__stillTheSamePage") is None  # searched again, as asked


def _lines(locator) -> int:
    """The most lines any one text of the element is drawn on (a word broken across lines: 2)."""
    return locator.evaluate("""(el) => {
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      let most = 0;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.textContent.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        const tops = Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top));
        most = Math.max(most, new Set(tops).size);
      }
      return most;
    }""")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_long_value_in_one_column_does_not_break_the_others_words_at_desktop_width(pipeline, console, page,
                                                                                     language):
    """A table at desktop width gave its long column (a requester's long name, an audit entry's
    outcome) all the room and squeezed the others until their words broke: job ids as
    jfail00000/02, echo as ech/o, ops@examp/le.com, コンソ/ール, 一時停/止."""
    from ackflow.app import audit

    now = time.time()
    long_name = "株式会社サンプル金型製作所 御中 プレス金型図面見積依頼書 第二版改訂 " * 3
    pipeline.store.create_job_once(Job(id="jwide0000001", type="echo", params={"text": "x"},
                                       requester=Requester("users/7", "wide@example.com", long_name), space=None,
                                       thread=None, queue="ackflow-default", steps=(StepState("echo"),),
                                       created_at=now, updated_at=now, status=JobStatus.FAILED, last_error="x"))
    audit.record(pipeline.stack.runtime(), "pause", "ackflow-default", OPERATOR, surface="console",
                 detail="プレス金型の図面と見積の依頼を一時停止した理由の長い説明 " * 4)
    page.set_viewport_size(DESKTOP)
    page.goto(console + "/jobs")
    page.context.add_cookies([{"name": "ackflow_lang", "value": language, "url": console}])
    try:
        page.goto(console + "/jobs?status=FAILED")
        row = page.locator("tr[data-job=jwide0000001]")
        columns = ("Job", "Type", "Status", "Steps", "Requester", "Created", "Attempts")
        for index, column in enumerate(columns, 1):
            if column != "Requester":  # the long one wraps; the others keep their words whole
                cell = row.locator(f"td:nth-child({index})")
                assert _lines(cell) == 1, (language, column, cell.inner_text())
        page.goto(console + "/audit")
        row = page.locator("tbody tr").first
        for index, column in enumerate(("When", "Who", "Action", "On", "Via"), 1):
            cell = row.locator(f"td:nth-child({index})")
            assert _lines(cell) == 1, (language, column, cell.inner_text())
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), _too_wide(page)
        shoot(page, f"audit-long-{language}-desktop")
    finally:
        page.context.clear_cookies(name="ackflow_lang")


def test_cancel_from_the_console_asks_first_and_is_audited(pipeline, console, page):
    questions = _asked(page)
    _waiting_job(pipeline, "jcancel00001")
    page.set_viewport_size(DESKTOP)
    page.goto(console + "/jobs/jcancel00001")
    assert page.locator("h1 [data-status]").get_attribute("data-status") == "QUEUED"
    page.click("[data-test=cancel]")
    page.locator("h1 [data-status=CANCELLED]").wait_for()
    assert questions == ["Cancel job jcancel00001?"]
    assert pipeline.store.get_job("jcancel00001").status == JobStatus.CANCELLED
    assert "Job jcancel00001 is CANCELLED." in page.content()  # the flash after the redirect
    assert page.locator("[data-test=cancel]").count() == 0  # a cancelled job offers no Cancel
    shoot(page, "job-cancelled-desktop")
    [entry] = pipeline.store.list_audit(job_id="jcancel00001")
    assert (entry.actor, entry.action, entry.surface, entry.outcome) == (OPERATOR, "cancel", "console", "done")


def test_discard_a_dead_letter_asks_first_is_audited_and_it_is_gone(pipeline, console, page):
    questions = _asked(page)
    letter = pipeline.store.record_dropped_task("projects/p/queues/q/tasks/browser-gone", "jgone0000001", 0,
                                                "no such job", 3, time.time())
    page.set_viewport_size(DESKTOP)
    page.goto(console + "/dead")
    button = page.locator(f"form[action$='/dead/{letter.id}/discard'] [data-test=discard]")
    assert "browser-gone" in page.locator("[data-test=dead]").inner_text()
    shoot(page, "dead-desktop")
    button.click()
    page.locator(".flash", has_text=letter.id).wait_for()
    assert questions == [f"Discard dead letter {letter.id}? The job stays as it is."]
    assert page.locator(f"form[action$='/dead/{letter.id}/discard']").count() == 0
    assert letter.id not in [d.id for d in pipeline.store.list_dead_letters(limit=500)]
    entry = next(e for e in pipeline.store.list_audit(limit=50) if e.target == letter.id)
    assert (entry.actor, entry.action, entry.surface, entry.outcome) == (OPERATOR, "discard", "console", "done")


def test_the_audit_page_lists_who_did_what(pipeline, console, page):
    _waiting_job(pipeline, "jaudit000001")
    letter = pipeline.store.record_dropped_task("projects/p/queues/q/tasks/audit-gone", "jaudit000001", 0,
                                                "no such step", 1, time.time())
    page.set_viewport_size(DESKTOP)
    page.goto(console + "/jobs/jaudit000001")
    page.click("[data-test=cancel]")
    page.locator("h1 [data-status=CANCELLED]").wait_for()
    page.click(f"form[action$='/dead/{letter.id}/discard'] [data-test=discard]")  # from the job's page
    page.locator(".flash", has_text=letter.id).wait_for()
    page.goto(console + "/audit")
    rows = {}
    for target in ("jaudit000001", letter.id):
        row = page.locator("tr", has_text=target).first
        rows[target] = [text.strip() for text in row.locator("td").all_inner_texts()][1:]
        assert row.locator("a").get_attribute("href").endswith("/jobs/jaudit000001")
    # a dropped task's reason is the worker's own (English) text: the detail says where, the reason is technical
    dropped = "done · (dropped task) step 0 Technical detail: no such step (task projects/p/queues/q/tasks/audit-gone)"
    assert rows == {"jaudit000001": [OPERATOR, "cancel", "jaudit000001", "console", "done"],
                    letter.id: [OPERATOR, "discard", letter.id, "console", dropped]}
    shoot(page, "audit-desktop")


def test_cases_list_and_case_page_show_markup_from_a_case_as_text(pipeline, console, page):
    hostile_client = '<img src=x onerror="window.__pwned = 3">ACME <b>株式会社</b>'
    hostile_title = '<script>window.__pwned = 4</script>金型 <i>A-12</i>'
    now = time.time()
    case = {"case": "C-9001", "client": hostile_client, "title": hostile_title, "status": "見積中",
            "due": "2020-01-31", "requester": "<u>kei@example.com</u>", "folder": "案件/C-9001",
            "folder_link": "javascript:alert(1)", "created_at": now, "updated_at": now, "jobs": ["jcancel00001"],
            "estimates": [{"version": 1, "total": 385000, "path": "見積/C-9001-v1.pdf",
                           "link": "https://drive.example/e1"}], "documents": []}
    pipeline.store.docs.transaction(lambda tx: tx.set("cases", "C-9001", case))
    page.set_viewport_size(DESKTOP)
    page.goto(console + "/cases")
    row = page.locator("[data-test=cases] tr", has_text="C-9001")
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == hostile_client and cells[2] == hostile_title  # the markup, as text
    assert row.locator("img, b, i, script").count() == 0
    assert row.locator("td.error").count() == 1  # overdue: due in the past
    shoot(page, "cases-desktop")
    row.locator("a").click()
    page.wait_for_url("**/cases/C-9001")
    assert page.locator("h1").inner_text() == f"C-9001 {hostile_title}"
    facts = page.locator(".facts")
    assert hostile_client in facts.inner_text() and "<u>kei@example.com</u>" in facts.inner_text()
    assert page.locator("main img, main script, .facts b, .facts u, h1 i").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0  # a link that is not http(s) is text
    assert page.locator("a[href='https://drive.example/e1']").count() == 1
    assert page.locator("a[href$='/jobs/jcancel00001']").count() == 1
    assert page.evaluate("window.__pwned") is None
    shoot(page, "case-desktop")
    page.set_viewport_size(PHONE)
    shoot(page, "case-phone")


def test_unshown_mails_are_listed_as_text_and_shown_again_after_asking(pipeline, console, page):
    from workers.office.mail.records import MailRecords, MailStatus

    questions = _asked(page)
    records = MailRecords(pipeline.store.docs)
    now = time.time()
    hostile = '<script>window.__pwned = 5</script>プレス金型 <b>A-12</b> のお見積り'
    _, claimed = records.claim("irai@office.example", "browser-m1", "push-1", now, 60)
    record = records.settle(claimed["id"], "push-1", MailStatus.UNSHOWN, now, space="spaces/gone", refusals=1,
                            retry_due=True, reason="404 NOT_FOUND: Space spaces/gone not found",
                            sender_name='<img src=x onerror="window.__pwned = 6">山田 太郎',
                            sender_address="yamada@acme.co.jp", subject=hostile, received_at=now - 7200)
    page.set_viewport_size(DESKTOP)
    page.goto(console + "/jobs")
    page.click("[data-test=mail-menu]")
    page.wait_for_url("**/mail")
    row = page.locator(f"tr[data-mail={record['id']}]")
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == '<img src=x onerror="window.__pwned = 6">山田 太郎 <yamada@acme.co.jp>'
    assert cells[2] == hostile and "spaces/gone" in cells[3]
    assert page.locator("main img, main script, main b").count() == 0 and page.evaluate("window.__pwned") is None
    shoot(page, "mail-desktop")
    page.set_viewport_size(PHONE)
    page.click("button[lang=ja]")
    assert "チャットに表示されていないメール" in page.content()
    shoot(page, "mail-ja-phone")
    page.click("button[lang=en]")
    page.set_viewport_size(DESKTOP)
    row.locator("[data-test=show-again]").click()
    page.locator(".flash", has_text="will be shown again by the next sweep").wait_for()
    assert questions == [f"Show mail {record['id']} again? The next sweep posts its card in the office space."]
    assert records.get(record["id"])["status"] == "PROPOSING"
    assert page.locator(f"[data-test=waiting] tr[data-mail={record['id']}]").count() == 1
    entry = next(e for e in pipeline.store.list_audit(limit=50) if e.action == "show-mail-again")
    assert (entry.actor, entry.surface, entry.outcome) == (OPERATOR, "console", "done")


# -- every page: nothing from another host, a policy that forbids it, a phone's width, Japanese --
PAGES = {"jobs": "/jobs", "job": "/jobs/jpages000001", "dead": "/dead", "queues": "/queues", "periodic": "/periodic",
         "cases": "/cases", "case": "/cases/C-9100", "audit": "/audit", "mail": "/mail",
         "chat": "/chat?space=spaces/browserpages"}
OUTBOUND = {"https://drive.example/cases/C-9100/見積書.pdf"}  # the case's own document: a link a person follows
SOURCES_ALLOWED = {"'self'", "'none'"}


def _seed_every_page(pipeline) -> None:
    """A job whose step failed with a long traceback, ran again and is running (long task names, a
    long Japanese parameter), a dead letter, a case with a document, a conversation with cards."""
    now = time.time()
    trace = "Traceback (most recent call last):\n" + "".join(
        f'  File "/workspace/workers/office/見積/estimate_renderer_with_a_long_name.py", line {n}, in render\n'
        for n in range(20)) + "OSError: プリンターの用紙がありません " + "x" * 300
    long_task = "projects/ackflow-local/locations/asia-northeast1/queues/ackflow-default/tasks/" + "e" * 64
    runs = ({"n": 1, "task": long_task, "retry": 0, "started_at": now - 60, "finished_at": now - 59,
             "outcome": "retrying", "error": "OSError: プリンターの用紙がありません" * 10, "trace": trace},
            {"n": 2, "task": long_task, "retry": 1, "started_at": now - 30})
    step = StepState("print", status=StepStatus.RUNNING, attempts=2, runs=runs)
    pipeline.store.create_job(Job(id="jpages000001", type="echo", params={"text": "プレス金型の図面" * 40},
                                  requester=Requester("users/8", "hanako@example.com", "山田 花子"),
                                  space="spaces/browserpages", thread="spaces/browserpages/threads/t" + "1" * 40,
                                  queue="ackflow-default", steps=(step,), created_at=now, updated_at=now,
                                  status=JobStatus.RUNNING, last_error="OSError: プリンターの用紙がありません"))
    pipeline.store.record_dropped_task(long_task, "jpages000001", 0, "no such step " + "y" * 200, 3, now)
    case = {"case": "C-9100", "client": "株式会社 サンプル金型製作所", "title": "プレス金型 A-12 の図面と見積",
            "status": "見積中", "due": "2030-01-31", "requester": "hanako@example.com", "folder": "案件/C-9100",
            "created_at": now, "updated_at": now, "jobs": ["jpages000001"],
            "estimates": [], "documents": [{"name": "見積書.pdf", "key": "d1",
                                            "link": "https://drive.example/cases/C-9100/見積書.pdf"}]}
    pipeline.store.docs.transaction(lambda tx: tx.set("cases", "C-9100", case))
    pipeline.send("help", "spaces/browserpages")  # a card with every kind of line the help has


def _policy(header: str) -> dict[str, list[str]]:
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {words[0]: words[1:] for words in directives}


def _outbound(html: str, origin: str) -> tuple[set[str], set[str]]:
    """What the page's HTML points at on another host: what it would load (src, srcset, a
    stylesheet's or icon's href, a form's action…) and the links a person may follow (<a href>)."""
    from html.parser import HTMLParser
    from urllib.parse import urljoin, urlsplit

    here = urlsplit(origin).netloc
    loads, links = set(), set()

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if name not in ("src", "srcset", "href", "action", "formaction", "poster", "data") or not value:
                    continue
                url = urljoin(origin + "/", value.split()[0])
                if url.startswith("data:") or urlsplit(url).netloc == here:
                    continue
                (links if tag == "a" and name == "href" else loads).add(url)

    Parser().feed(html)
    return loads, links


def test_every_page_forbids_other_hosts_loads_nothing_from_one_fits_a_phone_and_renders_japanese(
        pipeline, console, page):
    _seed_every_page(pipeline)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.add_init_script("window.__violations = [];"
                         "document.addEventListener('securitypolicyviolation', (e) => "
                         "window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));")
    page.set_viewport_size(PHONE)
    _japanese(page, console)
    try:
        for name, path in PAGES.items():
            response = page.goto(console + path)
            assert response.ok, (path, response.status)
            policy = _policy(response.headers["content-security-policy"])
            assert policy["default-src"] == ["'self'"] and policy["script-src"] == ["'self'"], path
            assert policy["base-uri"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], path
            for directive, sources in policy.items():  # no host, scheme or wildcard anywhere but data: images
                allowed = SOURCES_ALLOWED | ({"data:"} if directive == "img-src" else set())
                assert set(sources) <= allowed, (path, directive, sources)
            loads, links = _outbound(response.text(), console)
            assert loads == set() and links <= OUTBOUND, (path, loads, links)
            for link in page.locator("a[href^='http']").all():  # a link out opens apart, and tells nothing
                assert link.get_attribute("target") == "_blank", path
                assert {"noopener", "noreferrer"} <= set(link.get_attribute("rel").split()), path
            if name == "chat":
                page.locator(".gc-bot .gc-card").first.wait_for()
            else:  # (not "networkidle": the live pages poll every half second here, so it may never come)
                page.wait_for_load_state("load")
                page.evaluate("document.fonts.ready.then(() => true)")
            width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1], (path, width, _too_wide(page))  # no sideways scrolling on a phone
            assert page.evaluate("window.__violations") == [], path  # the page's own script and styles all ran
            japanese = {"job": "[data-test=param-list] dd", "chat": ".top nav a"}.get(name, "h1")
            assert _cjk_font_draws(page, japanese), (path, japanese)
            shoot(page, f"page-{name}-ja-phone")
            if name == "job":  # the attempts, stacked at this width, with the traceback open
                page.locator("[data-test=trace] summary").first.click()
                page.locator("[data-test=runs]").first.scroll_into_view_if_needed()
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), _too_wide(page)
                shoot(page, "page-job-steps-ja-phone")
        page.goto(console + PAGES["case"])
        assert page.locator("li", has_text="見積書.pdf").locator("a").get_attribute("href") in OUTBOUND
    finally:
        page.goto(console + "/jobs")
        page.click("button[lang=en]")
    hosts = {url.split("/")[2] for url in requested if url.startswith("http")}
    assert hosts == {console.split("/")[2]}, hosts  # the browser asked nothing of any other host


def _too_wide(page) -> list[str]:
    """The elements whose content reaches past the window's right edge (what a failure names)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('body *')).filter((el) => {
        const box = el.getBoundingClientRect();
        return box.right > window.innerWidth + 0.5 || box.left + el.scrollWidth > window.innerWidth + 0.5;
      }).slice(-5).map((el) => `${el.tagName}.${el.className} ${el.scrollWidth}px: ${el.textContent.slice(0, 40)}`)""")


def _cjk_font_draws(page, selector: str) -> bool:
    """Whether the element's Japanese text is drawn with a CJK font (Chromium's own account of the
    fonts it used for the node), not with boxes of a font without those glyphs."""
    session = page.context.new_cdp_session(page)
    try:
        session.send("DOM.enable")
        session.send("CSS.enable")
        root = session.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = session.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = session.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        session.detach()
    return any("CJK" in font["familyName"] and font["glyphCount"] > 0 for font in fonts)


def test_a_sent_message_is_shown_after_scrolling_up_and_a_new_dialog_opens_at_its_top(pipeline, console, page):
    """At 390 px, a person who had scrolled up the conversation (to read a mail's card) and sent a
    command saw neither their message nor the answer: the conversation stayed where it was, and
    they thought nothing had happened; in Chat, sending shows the end of the conversation. And a
    dialog opened after a long one kept its scroll: the estimate's form opened with 案件番号 out of
    sight above."""
    page.set_viewport_size(PHONE)
    page.goto(console + "/chat?space=spaces/browserscroll")
    conversation = page.locator("#conversation")
    for sent in range(1, 3):  # two long answers: more than a phone's height
        page.fill("[data-test=composer]", "help")
        page.click("[data-test=send]")
        page.wait_for_function("(n) => document.querySelectorAll('#conversation .gc-message').length >= n",
                               arg=sent * 2)
    assert conversation.evaluate("(c) => c.scrollHeight > 2 * c.clientHeight")
    conversation.evaluate("(c) => { c.scrollTop = 0; }")
    page.fill("[data-test=composer]", "status jnosuchjob1")
    page.click("[data-test=send]")
    page.wait_for_function("() => document.querySelectorAll('#conversation .gc-message').length >= 6")
    page.wait_for_timeout(300)
    sent = page.locator("#conversation .gc-message", has_text="status jnosuchjob1").last
    answer = page.locator("#conversation .gc-message").last
    assert _in_view(page, sent) and _in_view(page, answer), (sent.bounding_box(), answer.bounding_box())
    page.set_viewport_size({"width": 375, "height": 667})  # a smaller phone: even a one-line form scrolls
    page.fill("[data-test=composer]", "/newcase ACME 金型")  # a long form, filled in to its end and sent
    page.click("[data-test=send]")
    dialog = page.locator("#gc-dialog[open]")
    dialog.wait_for()
    dialog.locator("button[data-dialog-submit='Add a line']").click()  # longer than the window
    dialog.locator("input[name='item.2.0']").wait_for()
    for line in (1, 2):
        dialog.locator(f"input[name='item.{line}.0']").fill("設計")
        dialog.locator(f"input[name='item.{line}.1']").fill("1")
        dialog.locator(f"input[name='item.{line}.2']").fill("1000")
    assert not _in_view(page, dialog.locator("select[name=client], input[name=client]").first)  # scrolled down
    dialog.locator("button[data-dialog-submit=Next]").click()
    page.locator("#gc-dialog[open]").wait_for(state="detached")
    page.fill("[data-test=composer]", "/newcase ACME")
    page.click("[data-test=send]")
    dialog.wait_for()
    assert page.locator("#gc-dialog-body").evaluate("(el) => el.scrollHeight > el.clientHeight")  # it could scroll
    assert _in_view(page, dialog.locator("select[name=client], input[name=client]").first)  # its first input


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_space_not_made_yet_is_said_inside_the_phone_with_its_margins(pipeline, console, page, size):
    """The note that the space is not made yet, and its button, sit inside the phone's column with the
    margins its messages have: the text ran against the column's left border."""
    page.set_viewport_size(size)
    page.goto(console + f"/chat?space=spaces/unmade{size['width']}")
    phone = page.locator(".phone").bounding_box()
    for part in ("[data-test=no-space] p", "[data-test=create-space]"):
        box = page.locator(part).bounding_box()
        assert box["x"] - phone["x"] >= 10, (part, box, phone)
        assert phone["x"] + phone["width"] - (box["x"] + box["width"]) >= 10, (part, box, phone)
    shoot(page, f"chat-unmade-{'phone' if size is PHONE else 'desktop'}")
