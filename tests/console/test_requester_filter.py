"""The jobs list's requester filter finds an address in any case (through the lowercase copy each
job is stored with), on SQLite and on the Firestore emulator: each row's requester is a link to that
filter. A job stored before that copy is found by its address exactly as stored, and a typed
address that differs from such a job's only in upper and lower case is named on the page rather
than left as "no jobs"."""

from __future__ import annotations

import html
import re
import time

import pytest

from ackflow.app.runtime import Runtime
from ackflow.jobs.model import REQUESTER_LOWER, SYSTEM, Job, JobStatus, Requester, StepState
from ackflow.settings import Settings
from ackflow.store.documents import JOBS
from ackflow_tools.console.app import ConsoleConfig, create_app


def _job(job_id: str, requester: Requester, at: float, status=JobStatus.SUCCEEDED) -> Job:
    return Job(id=job_id, type="echo", params={"text": "図面"}, requester=requester, space="spaces/s", thread=None,
               queue="ackflow-default", steps=(StepState("echo"),), created_at=at, updated_at=at, status=status)


def stored_before(runtime, job: Job) -> None:
    """``job`` as a job stored before the lowercase copy of its requester's address was kept."""
    data = {k: v for k, v in job.to_dict().items() if k != REQUESTER_LOWER}
    runtime.store.docs.transaction(lambda tx: tx.create(JOBS, job.id, data))


@pytest.fixture(params=["sqlite", pytest.param("firestore", marks=pytest.mark.firestore)])
def either_store(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        settings = Settings(sqlite_path=str(tmp_path / "jobs.db"), job_types="tests.support.jobtypes:build_registry")
    else:
        emulator = request.getfixturevalue("firestore_emulator")
        for name, value in emulator.env().items():
            monkeypatch.setenv(name, value)
        settings = Settings(store="firestore", project=emulator.project,
                            job_types="tests.support.jobtypes:build_registry")
    runtime = Runtime(settings)
    yield runtime
    runtime.close()


def client(runtime, language="en"):
    return create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language=language)).test_client()


def rows(page: str) -> list[str]:
    return re.findall(r'<tr data-job="([^"]+)">', page)


def test_each_rows_requester_links_to_the_jobs_of_that_requester_keeping_the_other_filters(runtime):
    now = time.time()
    runtime.store.create_job(_job("jdev1", Requester("users/1", "dev@example.com", "開発 太郎"), now - 3,
                                  JobStatus.FAILED))
    runtime.store.create_job(_job("jdev2", Requester("users/1", "dev@example.com", "開発 太郎"), now - 2))
    runtime.store.create_job(_job("jops1", Requester("users/2", "Ops+a&b@example.com"), now - 1, JobStatus.FAILED))
    runtime.store.create_job(_job("jsched", SYSTEM, now))
    browser = client(runtime)
    page = browser.get("/jobs?status=FAILED").get_data(as_text=True)
    links = {html.unescape(href): label for href, label in
             re.findall(r'<a data-test="requester"[^>]* href="([^"]+)">([^<]*)</a>', page)}
    assert set(links.values()) == {"開発 太郎", "Ops+a&amp;b@example.com"}
    ops = next(href for href, label in links.items() if label.startswith("Ops"))
    assert rows(browser.get(ops).get_data(as_text=True)) == ["jops1"]  # its address as stored, however written
    dev = next(href for href, label in links.items() if label == "開発 太郎")
    assert rows(browser.get(dev).get_data(as_text=True)) == ["jdev1"]  # still only the FAILED ones
    every = browser.get("/jobs").get_data(as_text=True)
    assert "scheduled" in every and every.count('data-test="requester"') == 3  # a schedule has no address


def test_a_requester_is_found_however_its_address_is_typed_and_pages_keep_to_it(either_store):
    runtime, now = either_store, time.time()
    mixed, lower = Requester("users/1", "Alice@Example.com"), Requester("users/1", "alice@example.com")
    for n in range(5):
        runtime.store.create_job(_job(f"jal{n}", mixed if n % 2 else lower, now - 10 + n,
                                      JobStatus.FAILED if n == 3 else JobStatus.SUCCEEDED))
    runtime.store.create_job(_job("jbob1", Requester("users/2", "bob@example.com"), now))
    stored_before(runtime, _job("jold1", lower, now - 20))  # found by its exact address only
    browser = create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language="en",
                                       page_size=2)).test_client()
    for typed, old in (("alice@example.com", ["jold1"]), ("Alice@Example.com", []), ("ALICE@example.COM", [])):
        found, after = [], None
        while True:  # page by page, as the browser does
            answer = browser.get("/jobs.json", query_string={"requester": typed, **({"after": after} if after else {})})
            assert answer.status_code == 200
            found += [j["id"] for j in answer.get_json()["jobs"]]
            after = answer.get_json()["next"]
            if not after:
                break
        assert found == ["jal4", "jal3", "jal2", "jal1", "jal0", *old], typed
        assert rows(browser.get("/jobs", query_string={"requester": typed, "status": "FAILED"}).get_data(
            as_text=True)) == ["jal3"]
        page = browser.get("/jobs", query_string={"requester": typed, "q": "図面"}).get_data(as_text=True)
        assert set(rows(page)) <= {"jal4", "jal3", "jal2", "jal1", "jal0", *old} and rows(page)  # a search within it
    assert 'data-test="other-case"' not in browser.get("/jobs", query_string={"requester": "ALICE@example.com"}).text


def test_a_requester_typed_in_other_case_than_a_job_stored_before_is_named_as_the_stored_one(runtime):
    now = time.time()
    stored_before(runtime, _job("jdev1", Requester("users/1", "dev@example.com"), now - 1))
    stored_before(runtime, _job("jmix1", Requester("users/2", "Mixed.Case@Example.com"), now))
    browser = client(runtime)
    for typed, stored in (("Dev@Example.com", "dev@example.com"), ("mixed.case@example.com", "Mixed.Case@Example.com"),
                          ("ＤＥＶ＠ｅｘａｍｐｌｅ．ｃｏｍ", "dev@example.com"),  # a keyboard in full-width mode
                          ("ｍｉｘｅｄ.case@example.com", "Mixed.Case@Example.com")):
        page = browser.get("/jobs", query_string={"requester": typed}).get_data(as_text=True)
        assert rows(page) == []
        hint = re.search(r'data-test="other-case">(.*?)</p>', page, re.S)
        assert hint and typed in hint.group(1), page
        # the filter reads every case: the note no longer says it matches exactly as stored
        assert "in any upper and lower case" in hint.group(1) and "matches an address exactly" not in hint.group(1)
        link = re.search(r'<a href="([^"]+)">([^<]+)</a>', hint.group(1))
        assert link.group(2) == stored
        assert rows(browser.get(html.unescape(link.group(1))).get_data(as_text=True)) != []
        assert browser.get("/jobs.json", query_string={"requester": typed}).get_json()[
            "requester_in_other_case"] == stored
    nobody = browser.get("/jobs", query_string={"requester": "someone@example.com"}).get_data(as_text=True)
    assert 'data-test="other-case"' not in nobody and 'data-test="empty"' in nobody


def test_the_other_case_note_is_said_in_japanese_on_a_japanese_page(runtime):
    stored_before(runtime, _job("jdev1", Requester("users/1", "dev@example.com"), time.time()))
    page = client(runtime, "ja").get("/jobs", query_string={"requester": "DEV@example.com"}).get_data(as_text=True)
    hint = re.search(r'data-test="other-case">(.*?)<a', page, re.S).group(1)
    assert "DEV@example.com" in hint
    assert not re.search(r"[A-Za-z]{4,} [A-Za-z]{4,}", hint.replace("DEV@example.com", ""))  # no English words


def test_no_other_case_is_named_whose_jobs_the_filter_already_read(runtime):
    """With another filter (a status) that leaves a requester's jobs out, the note named the same
    person's address in another case, whose jobs the filter had already read through their
    lowercase copy: its link showed "no jobs" again. It names only an address of jobs stored before
    that copy which the other filters keep."""
    now = time.time()
    runtime.store.create_job(_job("jnew1", Requester("users/1", "alice@example.com"), now - 2))
    runtime.store.create_job(_job("jnew2", Requester("users/1", "Alice@Example.com"), now - 1))
    stored_before(runtime, _job("jold1", Requester("users/2", "carol@example.com"), now - 3))
    browser = client(runtime)
    for typed in ("Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM"):
        page = browser.get("/jobs", query_string={"requester": typed, "status": "FAILED"}).get_data(as_text=True)
        assert rows(page) == [] and 'data-test="other-case"' not in page, typed
        assert "requester_in_other_case" not in browser.get(
            "/jobs.json", query_string={"requester": typed, "status": "FAILED"}).get_json()
    # an older job's address in other case is named only where the other filters keep that job
    page = browser.get("/jobs", query_string={"requester": "Carol@Example.com", "status": "FAILED"}).text
    assert 'data-test="other-case"' not in page
    page = browser.get("/jobs", query_string={"requester": "Carol@Example.com", "status": "SUCCEEDED"}).text
    assert re.search(r'data-test="other-case">.*?>carol@example.com</a>', page, re.S)
    stored_before(runtime, _job("jold2", Requester("users/3", "Dave@Example.com"), now - 4, JobStatus.FAILED))
    page = browser.get("/jobs", query_string={"requester": "dave@example.com", "type": "other"}).text
    assert 'data-test="other-case"' not in page
    page = browser.get("/jobs", query_string={"requester": "dave@example.com", "status": "FAILED"}).text
    assert re.search(r'data-test="other-case">.*?>Dave@Example.com</a>', page, re.S)


def test_a_search_within_a_requester_that_finds_nothing_names_no_address_already_searched(runtime):
    """A search within a requester's jobs that matches none of them: the note named the same
    person's address in another case, whose jobs the search had just read (through their lowercase
    copy), and its link found nothing again. An older job's address is named where it matches."""
    now = time.time()
    runtime.store.create_job(_job("jnew1", Requester("users/1", "alice@example.com"), now - 2))
    runtime.store.create_job(_job("jnew2", Requester("users/1", "Alice@Example.com"), now - 1))
    browser = client(runtime)
    for typed in ("Alice@Example.com", "alice@example.com"):
        page = browser.get("/jobs", query_string={"requester": typed, "q": "nowhere-to-be-found"}).text
        assert rows(page) == [] and 'data-test="other-case"' not in page, typed
    old = _job("jold1", Requester("users/2", "carol@example.com"), now - 3)
    stored_before(runtime, old.replace(params={"text": "見積書"}))
    page = browser.get("/jobs", query_string={"requester": "Carol@Example.com", "q": "nowhere-to-be-found"}).text
    assert 'data-test="other-case"' not in page
    page = browser.get("/jobs", query_string={"requester": "Carol@Example.com", "q": "見積"}).text
    assert re.search(r'data-test="other-case">.*?>carol@example.com</a>', page, re.S), page


def test_an_address_whose_lowercase_is_not_the_typed_ones_is_named(runtime):
    """STRASSE@example.com's lowercase is not straße@example.com's, though they are the same in any
    case (Unicode's case folding): the filter does not find the other, and the note names it."""
    now = time.time()
    runtime.store.create_job(_job("jss1", Requester("users/1", "straße@example.com"), now))
    page = client(runtime).get("/jobs", query_string={"requester": "STRASSE@example.com"}).text
    assert rows(page) == [] and re.search(r'data-test="other-case">.*?>straße@example.com</a>', page, re.S), page
