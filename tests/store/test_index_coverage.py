"""Every query the console can send Firestore is one its indexes can serve: the jobs list with each
combination of filters (with and without a page cursor and a search), the counts, the live poll,
one job, the dead letters, the audit log, the cases. Firestore's emulator serves any query without
an index, so only this check stands between a new filter and a FAILED_PRECONDITION in the cloud.

The rules, as Firestore documents them: a query on one field (equality, range or order) has its
built-in single-field index; equality filters alone merge their single-field indexes; equality
filters with an ``orderBy`` merge composite indexes that each hold one of the equality fields
followed by the ordered field in the query's direction ("index merging"); anything else (a range
with equality filters) needs one composite index: the equality fields (any order), then the range
and ordered field in the query's direction."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest

from ackflow.app.runtime import Runtime
from ackflow.jobs.model import AuditEntry, Job, JobStatus, Requester, StepState
from ackflow.settings import Settings
from ackflow.store.jobstore import JobFilter
from ackflow_tools.console.app import ConsoleConfig, create_app

INDEXES = Path(__file__).resolve().parents[2] / "functions" / "ackflow" / "store" / "indexes.json"
FILTERS = {"status": "FAILED", "type": "echo", "requester": "a@example.com", "space": "spaces/s"}
DAYS = {"from": "2026-01-01", "to": "2026-12-31"}


def declared() -> dict[str, list[list[tuple[str, str]]]]:
    return {collection: [[tuple(field) for field in index["fields"]] for index in indexes]
            for collection, indexes in json.loads(INDEXES.read_text())["collections"].items()}


def servable(indexes: list[list[tuple[str, str]]], where: list, order_by: str | None, descending: bool) -> bool:
    equal = {name for name, op, _ in where if op == "=="}
    ranged = {name for name, op, _ in where if op != "=="}
    direction = "DESCENDING" if descending else "ASCENDING"
    ordered = ranged | ({order_by} if order_by else set())
    if len(equal | ordered) <= 1:
        return True  # one field: its built-in index
    if len(ordered) > 1:
        return False  # the console never ranges over one field and orders by another
    if not ordered:
        return True  # equality filters alone merge the single-field indexes
    [field] = ordered
    tails = {(tuple(sorted(name for name, _ in index[:-1])), index[-1]) for index in indexes}
    if (tuple(sorted(equal)), (field, direction)) in tails:
        return True  # one composite index holds the whole query
    if ranged:
        return False  # merging is documented for equality filters and an order, not for a range
    return all(((name,), (field, direction)) in tails for name in equal)


class Recording:
    """The store's documents, noting each query and count the console sends."""

    def __init__(self, docs):
        self.docs, self.seen = docs, []

    def __getattr__(self, name):
        return getattr(self.docs, name)

    def query(self, collection, where, order_by, descending, limit, start_after=None):
        self.seen.append((collection, list(where), order_by, descending))
        return self.docs.query(collection, where, order_by, descending, limit, start_after=start_after)

    def count(self, collection, where):
        self.seen.append((collection, list(where), None, False))
        return self.docs.count(collection, where)


@pytest.fixture
def runtime(tmp_path):
    runtime = Runtime(Settings(sqlite_path=str(tmp_path / "jobs.db"),
                               job_types="tests.support.jobtypes:build_registry"))
    now = time.time()
    for n in range(3):
        runtime.store.create_job(Job(id=f"j{n:08d}", type="echo", params={"text": "x"},
                                     requester=Requester("users/1", "a@example.com"), space="spaces/s", thread=None,
                                     queue="ackflow-default", steps=(StepState("echo"),), created_at=now - n,
                                     updated_at=now - n, status=JobStatus.FAILED))
    runtime.store.record_dropped_task("t", "j00000000", 0, "gone", 1, now)
    runtime.store.record_audit(AuditEntry(id="a1", at=now, actor="o", surface="console", action="retry",
                                          target="j00000000", job_id="j00000000", outcome="done"))
    runtime.store.docs.transaction(lambda tx: tx.set("cases", "C-1", {"case": "C-1", "updated_at": now}))
    yield runtime
    runtime.close()


def combinations():
    for size in range(len(FILTERS) + 1):
        for names in itertools.combinations(FILTERS, size):
            for days in ({}, {"from": DAYS["from"]}, {"to": DAYS["to"]}, DAYS):
                yield {**{name: FILTERS[name] for name in names}, **days}


def test_the_rules_tell_a_merge_from_a_missing_index():
    indexes = [[("status", "ASCENDING"), ("created_at", "DESCENDING")],
               [("type", "ASCENDING"), ("created_at", "DESCENDING")]]
    eq = [("status", "==", "F"), ("type", "==", "echo")]
    assert servable(indexes, eq, "created_at", True)
    assert not servable(indexes, eq, "created_at", False)  # the other direction
    assert not servable(indexes, [*eq, ("space", "==", "s")], "created_at", True)  # space has no index
    assert not servable(indexes, [*eq, ("created_at", ">=", 1.0)], "created_at", True)  # a range: no merging
    assert servable(indexes, [eq[0], ("created_at", ">=", 1.0)], "created_at", True)
    assert servable([[("type", "ASCENDING"), ("status", "ASCENDING"), ("created_at", "DESCENDING")]],
                    [*eq, ("created_at", "<", 2.0)], "created_at", True)


def test_every_query_the_console_sends_has_its_indexes(runtime):
    recording = Recording(runtime.store.docs)
    runtime.store.docs = recording
    browser = create_app(ConsoleConfig(runtime=runtime, operator="o", language="en", page_size=2)).test_client()
    for args in combinations():
        # a requester typed in other case that finds nothing: the other-case note's reads as well
        other_case = {"requester": "A@Example.com", "q": "ひみつ"} if "requester" in args else {}
        for extra in ({}, {"after": "9999999999.0~j00000001"}, {"q": "ひみつ"}, other_case):
            assert browser.get("/jobs", query_string={**args, **extra}).status_code == 200
        page = JobFilter(**{k: v for k, v in {"status": JobStatus.FAILED if "status" in args else None,
                                                "type": args.get("type"), "space": args.get("space"),
                                                "requester_email": args.get("requester"),
                                                "created_from": 1.0 if "from" in args else None,
                                                "created_to": 2e10 if "to" in args else None}.items()})
        runtime.store.find_jobs(page, limit=1, after=(2e10, "j"))
    for path in ("/api/changes", "/jobs/j00000000", "/api/jobs/j00000000", "/dead", "/audit", "/cases", "/cases/C-1",
                 "/dead?after=9999999999.0~a1", "/audit?after=9999999999.0~a1", "/cases?after=9999999999.0~C-1",
                 "/mail", "/periodic", "/jobs.json", "/jobs/j00000000?partial=1"):
        assert browser.get(path).status_code == 200, path
    indexes = declared()
    missing = sorted({(c, tuple((n, op) for n, op, _ in where), order, desc) for c, where, order, desc in recording.seen
                      if not servable(indexes.get(c, []), where, order, desc)})
    assert len(recording.seen) > 64 * 3
    assert not missing, f"queries no declared index serves: {missing}"
