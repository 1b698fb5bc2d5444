"""The console's newest-first lists a page at a time, on both stores: the audit log, the cases and
the dead letters each show a page and an "Older" link whose cursor (a time and a document id) goes
on exactly where the page ended. Rows that share a time across a page's edge are each shown once;
the last page has no link. They showed the newest 200 and nothing older (the audit log, the cases)."""

from __future__ import annotations

import html
import re

import pytest

from ackflow.app.runtime import Runtime
from ackflow.jobs.model import AuditEntry
from ackflow.settings import Settings
from ackflow_tools.console.app import ConsoleConfig, create_app

# seven rows, three a page: times shared across both pages' edges (99 at the first, 97 at the second)
TIMES = (1_700_000_100.0, 1_700_000_099.0, 1_700_000_099.0, 1_700_000_099.0, 1_700_000_098.0, 1_700_000_097.0,
         1_700_000_097.0)
PAGE = 3


@pytest.fixture(params=["sqlite", pytest.param("firestore", marks=pytest.mark.firestore)])
def runtime(request, tmp_path, monkeypatch):
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


def seed(runtime: Runtime) -> dict[str, list[str]]:
    """Seven audit entries, cases and dead letters; each kind's ids newest first (a shared time:
    the greater id first, as the store orders them)."""
    store = runtime.store
    made: dict[str, list[tuple[float, str]]] = {"audit": [], "cases": [], "dead": []}
    for number, at in enumerate(TIMES):
        entry = AuditEntry(id=f"audit{number:02d}", at=at, actor="ops@example.com", surface="console",
                           action="retry", target=f"j{number:010d}", job_id=None, outcome="done")
        store.record_audit(entry)
        made["audit"].append((at, entry.id))
        case = f"2026-{number + 1:03d}"
        store.docs.transaction(lambda tx, case=case, at=at: tx.set("cases", case, {
            "case": case, "client": "ACME", "title": f"案件 {case}", "status": "見積中", "created_at": at,
            "updated_at": at}))
        made["cases"].append((at, case))
        letter = store.record_dropped_task(f"task-{number}", None, None, "gone", 1, at)
        made["dead"].append((at, letter.id))
    return {kind: [doc_id for _, doc_id in sorted(rows, reverse=True)] for kind, rows in made.items()}


ROWS = {"audit": ("/audit", "data-entry"), "cases": ("/cases", "data-case"), "dead": ("/dead", "data-letter")}


@pytest.mark.parametrize("kind", list(ROWS))
def test_the_older_link_reaches_every_older_row_once_across_pages(runtime, kind):
    expected = seed(runtime)[kind]
    browser = create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language="ja",
                                       page_size=PAGE)).test_client()
    path, attribute = ROWS[kind]
    pages: list[list[str]] = []
    while path:
        assert len(pages) < 10, "the Older links go round"
        response = browser.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        pages.append(re.findall(rf'<tr {attribute}="([^"]+)"', page))
        older = re.search(r'data-test="older" href="([^"]+)"', page)
        path = html.unescape(older.group(1)) if older else None
    shown = [row for rows in pages for row in rows]
    assert [len(rows) for rows in pages] == [3, 3, 1], pages
    assert len(set(shown)) == len(shown), f"shown twice: {pages}"
    assert shown == expected, pages  # every row, newest first, each page older than the one before


@pytest.mark.parametrize("kind", ["audit", "cases"])
def test_a_page_of_exactly_the_rows_left_has_no_older_link(runtime, kind):
    seed(runtime)
    browser = create_app(ConsoleConfig(runtime=runtime, operator="ops@example.com", language="ja",
                                       page_size=len(TIMES))).test_client()
    page = browser.get(ROWS[kind][0]).get_data(as_text=True)
    assert len(re.findall(rf'<tr {ROWS[kind][1]}="', page)) == len(TIMES) and 'data-test="older"' not in page
