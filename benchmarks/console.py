"""The console's jobs pages at 100,000 jobs: time to the first page, to a filtered page and to a
search by parameter text on SQLite (target: under 200 ms), and the Firestore reads each page view
costs (documents returned, plus one read per 1,000 index entries counted by each aggregation, at
least one). A search that finds nothing reads until its budget is spent (SEARCH_SCAN jobs or
SEARCH_SECONDS, ackflow_tools/console/filters.py).

    .venv/bin/python benchmarks/console.py [--jobs 100000]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import tempfile
import time
from pathlib import Path

from ackflow.jobs.model import Job, JobStatus, Requester, StepState
from ackflow.store.jobstore import JobFilter, JobStore
from ackflow.store.sqlite import SqliteDocuments
from ackflow_tools.console.filters import ListQuery
from ackflow_tools.console.jobs import _search


class Counting:
    """Documents that count what Firestore would bill for the same calls."""

    def __init__(self, docs):
        self.docs, self.reads = docs, 0

    def __getattr__(self, name):
        return getattr(self.docs, name)

    def query(self, *args, **kwargs):
        rows = self.docs.query(*args, **kwargs)
        self.reads += max(1, len(rows))
        return rows

    def count(self, collection, where):
        found = self.docs.count(collection, where)
        self.reads += max(1, math.ceil(found / 1000))
        return found

    def get(self, collection, doc_id):
        self.reads += 1
        return self.docs.get(collection, doc_id)


def fill(docs: SqliteDocuments, total: int) -> None:
    statuses = [JobStatus.SUCCEEDED] * 90 + [JobStatus.FAILED] * 5 + [JobStatus.CANCELLED] * 3 + \
               [JobStatus.QUEUED, JobStatus.RUNNING]
    types = ["echo", "sleep", "newcase", "estimate", "fail"]
    base = time.time() - total * 30
    db = docs._connect()
    db.execute("BEGIN")
    for n in range(total):
        job = Job(id=f"j{n:010d}", type=random.choice(types), params={"text": f"case {n} 金型"},
                  requester=Requester(f"users/{n % 40}", f"person{n % 40}@example.com", f"Person {n % 40}"),
                  space=f"spaces/s{n % 7}", thread=None, queue="ackflow-default", steps=(StepState("one"),),
                  created_at=base + n * 30, updated_at=base + n * 30 + 5, status=random.choice(statuses))
        db.execute("INSERT INTO docs(collection, id, doc) VALUES ('jobs', ?, ?)",
                   (job.id, json.dumps(job.to_dict(), ensure_ascii=False)))
    db.execute("COMMIT")


def timed(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        docs = SqliteDocuments(Path(folder) / "bench.db")
        started = time.perf_counter()
        fill(docs, args.jobs)
        print(f"filled {args.jobs} jobs in {time.perf_counter() - started:.1f} s")
        counting = Counting(docs)
        store = JobStore(counting)
        failed = JobFilter(status=JobStatus.FAILED, type="newcase")
        page_one = store.find_jobs(limit=50)
        results = {
            "first page (50, newest)": lambda: store.find_jobs(limit=50),
            "page 2 by cursor": lambda: store.find_jobs(limit=50, after=page_one.next),
            "filtered: FAILED newcase": lambda: store.find_jobs(failed, limit=50),
            "filtered: requester + date range": lambda: store.find_jobs(JobFilter(
                requester_email="person3@example.com", created_from=page_one.jobs[-1].created_at - 86400 * 30),
                limit=50),
            "counts per status (5 aggregations)": lambda: [store.count_jobs(s) for s in JobStatus],
            "what changed (live poll)": lambda: counting.query("jobs", [], "updated_at", True, 1),
            "search: 50 recent matches": lambda: _search(store, ListQuery(JobFilter(), "金型"), 50),
            "search: no match (one request's budget)": lambda: _search(store, ListQuery(JobFilter(), "ない"), 50),
        }
        for label, fn in results.items():
            counting.reads = 0
            answer = fn()
            reads = counting.reads
            extra = f"   jobs read: {answer[1]}" if label.startswith("search") else ""
            print(f"{label:40s} {timed(fn):8.1f} ms   Firestore reads per view: {reads}{extra}")
        docs.close()


if __name__ == "__main__":
    main()
