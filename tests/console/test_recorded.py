"""What the store recorded, as the console shows it to each reader.

The audit log keeps what an entry says as catalog messages with their values, so a Japanese page
says a refusal and a detail in Japanese and an English page in English; entries written before
(plain English strings) still show as stored. A job's recorded errors: the lifecycle's own words
in the reader's language, an exception's raw text shown as it is under the "Technical detail"
label (never as the message), a message of the job's own as it was recorded. Through Flask's
client over a real SQLite store; the jobs' errors recorded through the store as the worker does."""

from __future__ import annotations

import html
import re
import time

from markupsafe import escape

from ackflow.app import audit
from ackflow.errors import QueueUnavailable
from ackflow.i18n import ENGLISH, speaker_for
from ackflow.jobs.model import AuditEntry, JobStatus, Requester
from ackflow_tools.console.recorded import LIFECYCLE_TEXTS, recorded_error
from tests.console.test_japanese import QUEUE, console, fail_in_every_way, seed, visible

JA = speaker_for("ja", "Asia/Tokyo")
HANAKO = Requester("users/1", "hanako@example.com", "山田 花子")


def read(browser, path: str, language: str) -> str:
    browser.post(f"/lang/{language}", data={"csrf_token": browser.get_cookie("ackflow_csrf").value})
    response = browser.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_a_refused_action_and_a_detail_are_said_in_each_readers_language(runtime):
    seed(runtime, "jdone0000001", JobStatus.SUCCEEDED)
    fail_in_every_way(runtime, "jfail0000001", HANAKO, time.time())
    browser = console(runtime)
    act = {"csrf_token": browser.get_cookie("ackflow_csrf").value, "confirmed": "1"}
    browser.post("/jobs/jdone0000001/cancel", data=act)  # refused: it has succeeded
    browser.post("/jobs/jgone0000001/retry", data=act)  # refused: no such job
    browser.post("/periodic/echo/run", data={**act, "key": "abcdef123456"})  # refused: not periodic (a UsageError)
    [letter] = runtime.store.dead_letters_of("jfail0000001")
    browser.post(f"/dead/{letter.id}/discard", data=act)
    entries = {e.action: e for e in runtime.store.list_audit()}
    # the English texts are kept as they were (logs, the command line, what older readers read)
    assert entries["cancel"].outcome == "refused: job jdone0000001 is SUCCEEDED; it cannot become CANCELLED"
    assert entries["discard"].detail == "sleep step sleeping: 図面が見つかりません"
    assert entries["cancel"].said["outcome"] == "refused" and entries["discard"].said["outcome"] == "done"

    cancel_ja = JA._("Job {job_id} is already {status}; there is nothing to cancel.", job_id="jdone0000001",
                     status=JA._("SUCCEEDED"))
    gone_ja = JA._("There is no job {job}.", job="jgone0000001")
    periodic_ja = JA._("{name} is not a periodic job", name="echo")
    detail_ja = JA._("{job_type} step {step}: {error}", job_type="sleep", step=JA._("sleeping"),
                     error="図面が見つかりません")
    for path in ("/audit", "/jobs/jdone0000001"):
        page = visible(read(browser, path, "ja"))
        assert f"{JA._('refused')}: {cancel_ja}" in page, page
        assert "cannot become" not in page and "SUCCEEDED" not in page
    page = visible(read(browser, "/audit", "ja"))
    assert f"{JA._('refused')}: {gone_ja}" in page and f"{JA._('refused')}: {periodic_ja}" in page
    assert f"{JA._('done')} · {detail_ja}" in page and " step " not in page
    assert JA._("Technical detail") not in page  # each of these refusals says all there is to say

    page = visible(read(browser, "/audit", "en"))
    assert "refused: Job jdone0000001 is already SUCCEEDED; there is nothing to cancel." in page
    assert "refused: There is no job jgone0000001." in page and "refused: echo is not a periodic job" in page
    assert "done · sleep step sleeping: 図面が見つかりません" in page
    assert not re.search(r"[\u3040-\u30ff]", page.replace("図面が見つかりません", ""))  # no Japanese of its own


def test_a_services_answer_is_shown_as_the_technical_detail_of_a_refusal(runtime):
    """A refusal whose error is a service's answer (not one of Ackflow's person-facing messages):
    said in the reader's words, with the answer as it is under the label."""
    answer = "Cloud Tasks answered 503: The service is currently unavailable."
    audit.record(runtime, "pause", QUEUE, "ops@example.com", surface="console", error=QueueUnavailable(answer))
    [entry] = runtime.store.list_audit()
    assert entry.outcome == f"refused: {answer}" and entry.said["technical"] is True
    browser = console(runtime)
    page = read(browser, "/audit", "ja")
    said = JA._("A service did not answer: try again later.")
    assert f'{JA._("refused")}: {said} <span class="technical" data-test="technical"><span class="technical-label">' \
           f'{JA._("Technical detail")}:</span> <code>{html.escape(answer)}</code></span>' in page
    page = read(browser, "/audit", "en")
    assert "refused: A service did not answer: try again later." in visible(page)
    assert f"Technical detail:</span> <code>{html.escape(answer)}</code>" in page


def test_entries_written_before_and_damaged_ones_are_shown_as_stored(runtime):
    now = time.time()
    runtime.store.record_audit(AuditEntry("a1", now - 2, "ops@example.com", "cancel", "j1", "refused: job j1 is "
                                          "SUCCEEDED; it cannot become CANCELLED", job_id="j1", surface="console"))
    runtime.store.record_audit(AuditEntry("a2", now - 1, "ops@example.com", "redrive", QUEUE,
                                          detail="2 message(s) moved", surface="console"))
    # what no release wrote: a message that would read more than its values, values of no known
    # kind, a said that is not a mapping
    runtime.store.record_audit(AuditEntry("a3", now, "ops@example.com", "pause", QUEUE, "refused: stored text",
                                          said={"outcome": "refused", "why": {"msgid": "{x.__class__}", "values":
                                                                              {"x": "y"}},
                                                "detail": {"msgid": "{a}", "values": {"a": [1]}}},
                                          detail="stored detail"))
    runtime.store.docs.transaction(lambda tx: tx.set("audit", "a4", {
        **AuditEntry("a4", now + 1, "o", "resume", QUEUE).to_dict(), "said": "not a mapping"}))
    page = visible(read(console(runtime), "/audit", "ja"))
    assert f"{JA._('refused')}: job j1 is SUCCEEDED; it cannot become CANCELLED" in page
    assert f"{JA._('done')} · 2 message(s) moved" in page
    assert f"{JA._('refused')} {JA._('Technical detail')}: stored text · stored detail" in page
    assert "__class__" not in page and "[1]" not in page
    assert [e.said for e in runtime.store.list_audit(limit=1)] == [{}]


def test_a_jobs_recorded_errors_are_its_message_the_lifecycles_words_or_labelled_technical_detail(runtime):
    raw = fail_in_every_way(runtime, "jfail0000001", HANAKO, time.time())
    assert raw == "OSError: the printer is out of paper"
    runtime.store.note_error("jfail0000001", "queue unavailable: Cloud Tasks answered 503", time.time())
    runtime.store.record_dropped_task("t-never", "jfail0000001", 7, "job jfail0000001 has no step 7", 3, time.time())
    browser = console(runtime)
    for speaker in (JA, ENGLISH):
        page = read(browser, "/jobs/jfail0000001", speaker.language)
        label = f'<span class="technical-label">{speaker._("Technical detail")}:</span>'
        # the exception's raw text: under the label, in its attempt and in the history, never alone
        assert f'{label} <code data-test="run-error">{raw}</code>' in page
        unlabelled = re.sub(r"<pre>.*?</pre>", "", page.replace(f'{label} <code data-test="run-error">{raw}</code>', "")
                            .replace(f"{label} <code>{raw}</code>", ""), flags=re.S)  # (the traceback: folded)
        assert raw in page.replace(raw, "", 1) and raw not in unlabelled
        assert f'{speaker._("will try again after an error")} <span class="technical"' in page
        # the lifecycle's own words, in the reader's language
        for text in LIFECYCLE_TEXTS:
            assert f'<span data-test="run-error">{speaker._(text)}</span>' in page
        # a message of the job's own: as recorded (said to its requester, in Japanese), not labelled
        assert '<span data-test="run-error">図面が見つかりません</span>' in page
        # the queue that did not take it: said in the reader's words, its answer the detail
        assert escape(speaker._("The queue did not take the job's task: the sweep sends it.")) in page
        assert f"{label} <code>Cloud Tasks answered 503</code>" in page
        dead = read(browser, "/dead", speaker.language)
        assert f"{label} <code>job jfail0000001 has no step 7 (task t-never)</code>" in dead
        assert '<td data-label="' in dead and "図面が見つかりません</span></td>" in dead
    ja = visible(read(browser, "/jobs/jfail0000001", "ja"))
    assert not any(text in ja for text in LIFECYCLE_TEXTS)


def test_what_an_exceptions_raw_text_is_told_from_a_message_that_looks_like_one():
    trace = 'Traceback (most recent call last):\n  File "x.py", line 1, in f\nvendor.api.Refusal: no\n'
    assert recorded_error("OSError: the printer is out of paper", JA).technical  # the worker's form
    assert recorded_error("Refusal: no", JA, [trace]).technical  # a name the traceback confirms
    assert not recorded_error("Refusal: no", JA).technical  # a message of the job's own could read so
    assert recorded_error("freee: 接続できません", JA).message == "freee: 接続できません"
    assert recorded_error("ジョブの種類「x」はもうありません", JA).message  # the worker's own, said to the requester
    assert recorded_error("", JA) == recorded_error(None, JA) == recorded_error(3, JA)


def test_a_message_kept_in_the_store_is_said_as_it_would_have_been_in_each_language():
    """What ``said`` keeps: a message within a message, a value that names itself per language (a
    parameter), numbers with their format: said after a trip through JSON as at once."""
    import json

    from ackflow.i18n import L_, Msg

    class Named:  # as a parameter names itself in the person's language
        def render(self, speaker):
            return "数量" if speaker.language == "ja" else "Quantity"

    text = L_("Job {job_id} is {status}; it cannot become {wanted}.", job_id=Named(), status=Msg("QUEUED"),
              wanted=L_("over the {limit:,}-byte limit", limit=12345))
    kept = audit.restored(json.loads(json.dumps(audit.stored(text))))
    for speaker in (JA, ENGLISH):
        assert kept.render(speaker) == text.render(speaker)
    assert kept.render(JA) != kept.render(ENGLISH) and "12,345" in kept.render(ENGLISH)
    assert audit.restored({"msgid": "{0}", "values": {}}) is None  # only values by name
    assert audit.restored({"msgid": "{a[0]}", "values": {"a": "x"}}) is None
    assert audit.restored({"msgid": "{a}", "values": {"a": {"b": 1}}}) is None


def test_a_jobs_own_message_is_said_in_the_readers_language_not_only_the_requesters(runtime):
    """The worker tells the requester (Japanese) the job's own message in Japanese, and keeps it
    as a catalog message beside: an English reader of the console reads it in English, a Japanese
    one in Japanese. Through the worker's own handling of a failed step (the shipped ``fail``)."""
    from ackflow.app.worker import Worker
    from ackflow.jobs.model import Holder, Job, StepState, StepStatus

    now = time.time()
    runtime.store.create_job(Job(
        id="jownmessage1", type="fail", params={"times": 1, "always": False},
        requester=Requester("users/1", "hanako@example.com", "山田 花子", language="ja"), space=None, thread=None,
        queue=QUEUE, steps=(StepState("prepare", status=StepStatus.SUCCEEDED, finished_at=now), StepState("flaky")),
        created_at=now, updated_at=now, status=JobStatus.RUNNING, current=1))
    answer = Worker(runtime).run("jownmessage1", 1, Holder("jownmessage1-1-0", 0))
    assert answer.status == 503  # the queue tries again
    job = runtime.store.get_job("jownmessage1")
    told = JA._("failing on purpose (attempt {attempt})", attempt=1)
    assert job.last_error == told  # as the requester was told it
    browser = console(runtime)
    for speaker in (ENGLISH, JA):
        page = read(browser, "/jobs/jownmessage1", speaker.language)
        said = escape(speaker._("failing on purpose (attempt {attempt})", attempt=1))
        assert f'<span data-test="run-error">{said}</span>' in page
        if speaker is ENGLISH:
            assert told not in page


def test_a_step_with_nothing_to_do_is_shown_as_not_needed(runtime):
    """A job page said “Succeeded” for a step that had nothing to do (no portal order, no mail)."""
    from ackflow.jobs.context import nothing_to_do
    from ackflow.jobs.model import Job, StepState, StepStatus
    from tests.console.test_japanese import QUEUE

    now = time.time()
    steps = (StepState("echo", status=StepStatus.SUCCEEDED, attempts=1, output={"text": "図面"}),
             StepState("mail", status=StepStatus.SUCCEEDED, attempts=1, output=nothing_to_do({"text": "図面"})))
    runtime.store.create_job(Job(id="jnothing0001", type="echo", params={"text": "図面"}, requester=HANAKO,
                                 space=None, thread=None, queue=QUEUE, steps=steps, created_at=now, updated_at=now,
                                 status=JobStatus.SUCCEEDED, current=2, finished_at=now))
    browser = console(runtime)
    for speaker in (JA, ENGLISH):
        page = read(browser, "/jobs/jnothing0001", speaker.language)
        done, mail = (re.search(rf'data-step="{name}">.*?</div>', page, re.S).group(0) for name in ("echo", "mail"))
        assert 'data-status="SUCCEEDED"' in done and "NOT_NEEDED" not in done
        assert f'data-status="NOT_NEEDED">{speaker._("Not needed")}</span>' in mail and "SUCCEEDED" not in mail


def _failed_for_good(runtime, job_id: str, job_type: str = "fail") -> None:
    """A job of a Japanese requester failed for good through the worker's own handling: the
    shipped ``fail`` (its ``StepFailed``: its attempts spent), or a type this deployment lacks."""
    from ackflow.app.worker import UNKNOWN_TYPE_PATIENCE, Worker
    from ackflow.jobs.model import Holder, Job, StepState, StepStatus

    now = time.time()
    if job_type not in runtime.registry:  # a young one waits for a worker that knows it (a deploy under way)
        now -= UNKNOWN_TYPE_PATIENCE + 60
    runtime.store.create_job(Job(
        id=job_id, type=job_type, params={"times": None, "always": True},
        requester=Requester("users/1", "hanako@example.com", "山田 花子", language="ja"), space=None, thread=None,
        queue=QUEUE, steps=(StepState("prepare", status=StepStatus.SUCCEEDED, finished_at=now), StepState("flaky")),
        created_at=now, updated_at=now, status=JobStatus.RUNNING, current=1))
    Worker(runtime).run(job_id, 1, Holder(f"{job_id}-1-0", 99))  # the last retry the queue allows
    assert runtime.store.get_job(job_id).status == JobStatus.FAILED


def test_a_dead_letter_and_its_discard_say_the_jobs_own_message_in_the_readers_language(runtime):
    """The dead letter kept the error as the requester (Japanese) was told it: an English reader
    read Japanese on the dead letters, on the job's page and in the discard's audit detail. The
    letter keeps the catalog message too (the job's ``last_said``)."""
    _failed_for_good(runtime, "jdeadletter1")
    _failed_for_good(runtime, "jtypegone001", "gone")  # the worker's own words: no such type here
    told = JA._("failing on purpose (attempt {attempt})", attempt=1)
    gone_told = JA._("the job type “{name}” is no longer available", name="gone")
    [letter] = runtime.store.dead_letters_of("jdeadletter1")
    assert letter.error == told and letter.said  # as the requester was told it, and the message kept
    assert runtime.store.dead_letters_of("jtypegone001")[0].error == gone_told
    browser = console(runtime)
    for speaker in (ENGLISH, JA):
        said = str(escape(speaker._("failing on purpose (attempt {attempt})", attempt=1)))
        gone = str(escape(speaker._("the job type “{name}” is no longer available", name="gone")))
        dead = read(browser, "/dead", speaker.language)
        assert f"<span>{said}</span>" in dead and f"<span>{gone}</span>" in dead
        job = read(browser, "/jobs/jdeadletter1", speaker.language)
        letters = re.search(r'<ul class="letters">(.*?)</ul>', job, re.S).group(1)
        assert said in letters
        page = read(browser, "/jobs/jtypegone001", speaker.language)
        assert f'data-test="last-error"><span>{gone}</span>' in page
        if speaker is ENGLISH:
            assert told not in dead + job and gone_told not in dead + page
    act = {"csrf_token": browser.get_cookie("ackflow_csrf").value, "confirmed": "1"}
    browser.post(f"/dead/{letter.id}/discard", data=act)
    [entry] = [e for e in runtime.store.list_audit() if e.action == "discard"]
    assert entry.detail == "fail step flaky step: failing on purpose (attempt 1)"  # logs, the command line: English
    for speaker in (ENGLISH, JA):
        page = visible(read(browser, "/audit", speaker.language))
        assert speaker._("{job_type} step {step}: {error}", job_type="fail", step=speaker._("flaky step"),
                         error=speaker._("failing on purpose (attempt {attempt})", attempt=1)) in page, page
        if speaker is ENGLISH:
            assert told not in page


def test_a_discards_detail_shows_an_exceptions_raw_text_and_a_dropped_tasks_reason_as_technical_detail(runtime):
    raw = "OSError: the printer is out of paper"
    seed(runtime, "jraw00000001", JobStatus.RUNNING)
    runtime.store.fail_job("jraw00000001", raw, time.time())
    dropped = runtime.store.record_dropped_task("t-never", "jraw00000001", 7, "job jraw00000001 has no step 7", 3,
                                                time.time())
    browser = console(runtime)
    act = {"csrf_token": browser.get_cookie("ackflow_csrf").value, "confirmed": "1"}
    for letter in runtime.store.list_dead_letters_page(limit=10)[0]:
        browser.post(f"/dead/{letter.id}/discard", data=act)
    assert len([e for e in runtime.store.list_audit() if e.action == "discard"]) == 2
    for speaker in (JA, ENGLISH):
        page = read(browser, "/audit", speaker.language)
        label = f'<span class="technical-label">{speaker._("Technical detail")}:</span>'
        step = escape(speaker._("{job_type} step {step}", job_type="echo", step=speaker._("saying it back")))
        assert f"{step} <span class=\"technical\" data-test=\"technical\">{label} <code>{raw}</code>" in page
        assert f"{label} <code>{escape(dropped.error)}</code>" in page
        assert escape(speaker._("{job_type} step {step}", job_type=speaker._("(dropped task)"), step="7")) in page
        shown = visible(re.sub(r'<span class="technical".*?</code></span>', " ", page, flags=re.S))
        assert raw not in shown and "has no step" not in shown
