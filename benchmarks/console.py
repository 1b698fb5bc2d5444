"""The console's pages at 100,000 jobs, timed as the pages they are: each view is an HTTP GET to
the console's Flask app served on a local port (``create_app``, the server ``ackflow console``
uses), so the time includes the store's queries, the per-status counts, the templates and the
response, as a browser waits for it (less the browser's own drawing). Each view is timed several
times after one warm-up, with the counts' cache emptied before every run (each view counts
again, the most a view costs); the median and the 95th percentile are reported, with the time of
the store's query alone, and the Firestore reads each view costs (documents returned, plus one
read per 1,000 index entries counted by each aggregation, at least one). Target: the first page
and a filtered page under 200 ms on SQLite here.

A search that finds nothing reads until its budget is spent (SEARCH_SCAN jobs or SEARCH_SECONDS,
ackflow_tools/console/filters.py).

    .venv/bin/python benchmarks/console.py [--jobs 100000] [--runs 21]
    .venv/bin/python benchmarks/console.py --store firestore   # on the Firestore emulator (Java)

On the emulator the times say little about Firestore itself (the emulator keeps documents in
memory and answers a query by scanning them); the reads per view are what Firestore bills.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import requests

from ackflow.app.runtime import Runtime
from ackflow.jobs.model import Job, JobStatus, Requester, StepState, StepStatus
from ackflow.settings import Settings
from ackflow.store.jobstore import JobFilter, JobStore
from ackflow_tools.console import jobs as console_jobs
from ackflow_tools.console.app import ConsoleConfig, create_app
from ackflow_tools.console.filters import ListQuery
from ackflow_tools.emulators.web import ServerThread

TYPES = ["echo", "sleep", "newcase", "estimate", "echo"]
STATUSES = [JobStatus.SUCCEEDED] * 90 + [JobStatus.FAILED] * 5 + [JobStatus.CANCELLED] * 3 + \
           [JobStatus.QUEUED, JobStatus.RUNNING]
TRACE = "".join(f'  File "/workspace/workers/office/estimate.py", line {n}, in render\n    pdf.write(page)\n'
                for n in range(12)) + "OSError: the printer is out of paper"


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


def make_job(n: int, base: float) -> Job:
    """A job as the office's look after they ran: realistic parameters, each step with its attempt
    (a failed one with its error and traceback excerpt)."""
    status = random.choice(STATUSES)
    created = base + n * 30
    names = ("prepare", "render", "publish")
    steps = []
    for index, name in enumerate(names):
        started = created + 1 + index
        run = {"n": 1, "task": f"j{n:010d}-{index}-0", "retry": 0, "started_at": started}
        if status == JobStatus.FAILED and index == 1:
            run.update(finished_at=started + 0.8, outcome="failed", error="OSError: the printer is out of paper",
                       trace=TRACE)
            steps.append(StepState(name, StepStatus.FAILED, 1, error=run["error"], runs=(run,)))
        elif status == JobStatus.SUCCEEDED or (status == JobStatus.FAILED and index == 0):
            run.update(finished_at=started + 0.5, outcome="succeeded")
            steps.append(StepState(name, StepStatus.SUCCEEDED, 1, output={"ok": index}, runs=(run,)))
        else:
            steps.append(StepState(name))
    params = {"client": f"株式会社 サンプル{n % 300}", "title": f"プレス金型 A-{n} 図面", "due": "2026-12-01",
              "items": [{"name": "金型設計", "quantity": 1, "price": 350000}, {"name": "試作", "quantity": 2,
                                                                               "price": 40000}]}
    return Job(id=f"j{n:010d}", type=TYPES[n % len(TYPES)], params=params,
               requester=Requester(f"users/{n % 40}", f"person{n % 40}@example.com", f"Person {n % 40}"),
               space=f"spaces/s{n % 7}", thread=None, queue="ackflow-default", steps=tuple(steps),
               created_at=created, updated_at=created + 5, status=status,
               last_error="OSError: the printer is out of paper" if status == JobStatus.FAILED else None,
               finished_at=created + 5 if status.finished else None)


def fill_sqlite(docs, total: int) -> None:
    base = time.time() - total * 30
    db = docs._connect()
    db.execute("BEGIN")
    for n in range(total):
        job = make_job(n, base)
        db.execute("INSERT INTO docs(collection, id, doc) VALUES ('jobs', ?, ?)",
                   (job.id, json.dumps(job.to_dict(), ensure_ascii=False)))
    db.execute("COMMIT")


def fill_firestore(docs, total: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    base = time.time() - total * 30
    client = docs.client()
    collection = client.collection(docs.prefix + "jobs")

    def write(start: int) -> None:
        batch = client.batch()
        for n in range(start, min(start + 500, total)):
            job = make_job(n, base)
            batch.set(collection.document(job.id), job.to_dict())
        batch.commit()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(0, total, 500)))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def timed(fn, runs: int) -> list[float]:
    fn()  # warm-up (not counted)
    times = []
    for _ in range(runs):
        console_jobs.forget_counts()
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def views(base: str, store: JobStore, session: requests.Session) -> dict[str, tuple]:
    """Each view: (the page's GET, the store's own query for it, or None)."""
    page_one = store.find_jobs(limit=50)
    cursor = f"{page_one.next[0]!r}~{page_one.next[1]}"
    failed = JobFilter(status=JobStatus.FAILED, type="newcase")
    since = time.strftime("%Y-%m-%d", time.localtime(page_one.jobs[-1].created_at - 86400 * 30))
    near = JobFilter(requester_email="person3@example.com",
                     created_from=page_one.jobs[-1].created_at - 86400 * 30)
    one = page_one.jobs[0].id

    def get(path: str, marker: str):
        def fetch():
            response = session.get(base + path, timeout=60)
            if response.status_code != 200 or marker not in response.text:
                raise SystemExit(f"{path}: HTTP {response.status_code}, not the page expected:\n{response.text[:500]}")
            return response
        return fetch

    table = 'data-test="counts"'  # the jobs list, with or without rows
    return {
        "first page (/jobs)": (get("/jobs", table), lambda: store.find_jobs(limit=50)),
        "page 2 by cursor": (get(f"/jobs?after={cursor}", table),
                             lambda: store.find_jobs(limit=50, after=page_one.next)),
        "filtered: FAILED newcase": (get("/jobs?status=FAILED&type=newcase", table),
                                     lambda: store.find_jobs(failed, limit=50)),
        "filtered: requester + from": (get(f"/jobs?requester=person3@example.com&from={since}", table),
                                       lambda: store.find_jobs(near, limit=50)),
        "search: 金型 (recent matches)": (get("/jobs?q=金型", table),
                                        lambda: console_jobs._search(store, ListQuery(JobFilter(), "金型"), 50)),
        "search: FAILED + A-9 (filtered)": (get("/jobs?status=FAILED&q=A-9", table), None),
        "search: no match (budget)": (get("/jobs?q=ない", 'data-test="searched"'),
                                      lambda: console_jobs._search(store, ListQuery(JobFilter(), "ない"), 50)),
        "job detail": (get(f"/jobs/{one}", 'class="steps"'), lambda: store.get_job(one)),
        "live poll (/api/changes)": (get("/api/changes", '"v"'), None),
        "live fragment (/jobs?partial=1)": (get("/jobs?partial=1", table), None),
    }


def open_store(kind: str, folder: Path, total: int):
    """A console runtime over a store filled with ``total`` jobs; returns (runtime, stop)."""
    settings = Settings(sqlite_path=str(folder / "bench.db"))
    stop = []
    if kind == "firestore":
        from ackflow_tools.devtools.firestore_emulator import FirestoreEmulator

        emulator = FirestoreEmulator(folder / "firestore")
        emulator.start()
        stop.append(emulator.stop)
        raw = emulator.documents()
        started = time.perf_counter()
        fill_firestore(raw, total)
    else:
        from ackflow.store.sqlite import SqliteDocuments

        raw = SqliteDocuments(settings.sqlite_path)
        started = time.perf_counter()
        fill_sqlite(raw, total)
    print(f"filled {total:,} jobs ({kind}) in {time.perf_counter() - started:.1f} s")
    counting = Counting(raw)
    runtime = Runtime(settings, store=JobStore(counting))
    stop.insert(0, raw.close)
    return runtime, counting, stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=21, help="timed runs of each view (after one warm-up)")
    parser.add_argument("--store", choices=("sqlite", "firestore"), default="sqlite")
    args = parser.parse_args()
    random.seed(15)
    with tempfile.TemporaryDirectory() as folder:
        runtime, counting, stop = open_store(args.store, Path(folder), args.jobs)
        server = ServerThread(create_app(ConsoleConfig(runtime=runtime, operator="bench@example.com"))).start()
        try:
            report(server.url, runtime.store, counting, args.runs)
        finally:
            server.stop()
            for fn in stop:
                fn()


def report(base: str, store: JobStore, counting: Counting, runs: int) -> None:
    session = requests.Session()
    started = time.perf_counter()
    session.get(base + "/jobs", timeout=60).raise_for_status()
    print(f"the very first /jobs a fresh console serves: "
          f"{(time.perf_counter() - started) * 1000:.0f} ms")
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores); "
          f"{runs} runs each, counts recounted every run")
    print(f"{'view':34s} {'median':>8s} {'p95':>8s} {'store':>8s}  Firestore reads")
    for label, (page, query) in views(base, store, session).items():
        counting.reads = 0
        console_jobs.forget_counts()
        page()
        reads = counting.reads
        times = timed(page, runs)
        store_ms = f"{statistics.median(timed(query, runs)):6.1f}" if query else "     —"
        print(f"{label:34s} {statistics.median(times):6.1f} ms {percentile(times, 0.95):6.1f} ms "
              f"{store_ms} ms  {reads}")


if __name__ == "__main__":
    main()
