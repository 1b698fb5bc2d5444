"""Pipeline benchmark on the embedded default (SQLite, local Cloud Tasks and Chat services).

Measures, through the real HTTP servers:
  - the webhook's answer to a job command (p50/p99), as timed by the local Chat service;
  - the webhook's answer to a Run click (p50/p99);
  - click → SUCCEEDED for a no-op job (p50/p99): from the click to the job's finish time in the store;
  - throughput: N no-op jobs queued at once, drained by W worker processes.

Targets (docs/performance.md): command p99 ≤ 10 ms, click p99 ≤ 20 ms, click → SUCCEEDED p50 ≤ 15 ms,
≥ 300 jobs/s with 2 worker processes.

Every job here reports in one space, far beyond Chat's write quota (60 a minute per space): this
measures the pipeline, so the local Chat service's quotas and the app's per-space budget are off
(benchmarks/chat_quota.py measures the quota). The message's ordering (its write log in the store)
stays on.

    .venv/bin/python benchmarks/pipeline.py [--samples 200] [--jobs 2000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ackflow.app.confirm import new_job  # noqa: E402
from ackflow.app.dispatch import send_step  # noqa: E402
from ackflow.jobs.model import Confirmation, JobStatus, Requester  # noqa: E402
from ackflow_tools.devtools.stack import LocalStack, StackConfig  # noqa: E402

SPACE = "spaces/bench"
USER = {"name": "users/42", "displayName": "Bench", "email": "bench@example.com"}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict:
    return {"p50": round(pct(values, 50), 2), "p99": round(pct(values, 99), 2),
            "mean": round(statistics.fmean(values), 2), "n": len(values)}


def interactive(stack: LocalStack, samples: int) -> dict:
    chat = stack.url("chat")
    http = requests.Session()
    store = stack.runtime().store
    commands, clicks, done = [], [], []
    for number in range(samples + 10):
        sent = http.post(f"{chat}/_emulator/{SPACE}:send", json={"text": f"echo bench {number}", "user": USER}).json()
        card = sent["reply"]["message"]
        started = time.time()
        clicked = http.post(f"{chat}/_emulator/{SPACE}:click",
                            json={"message": card["name"], "button": "Run", "user": USER}).json()
        queued = json.dumps(clicked["reply"]["message"], ensure_ascii=False)
        job_id = queued.split("Queued · job ")[1].split('"')[0]
        while True:
            job = store.get_job(job_id)
            if job.status == JobStatus.SUCCEEDED:
                break
            time.sleep(0.0005)
        if number >= 10:  # the first few warm up connections and caches
            commands.append(sent["latencyMs"])
            clicks.append(clicked["latencyMs"])
            done.append((job.finished_at - started) * 1000)
    return {"command_ms": summary(commands), "click_ms": summary(clicks), "click_to_succeeded_ms": summary(done)}


def _queue_admin(stack: LocalStack):
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import tasks_v2

    client = tasks_v2.CloudTasksClient(transport="rest", credentials=AnonymousCredentials(),
                                       client_options=ClientOptions(api_endpoint=stack.url("tasks")))
    return client, "projects/local-project/locations/local/queues/ackflow-default"


def throughput(stack: LocalStack, count: int, drain: bool = False) -> dict:
    """``count`` no-op jobs. Drain: queued while the queue is paused, then released at once, so
    only the dispatch → worker → store → Chat path is timed (not the enqueueing)."""
    runtime = stack.runtime()
    requests.put(f"{stack.url('chat')}/_emulator/{SPACE}", json={}).raise_for_status()
    job_type = runtime.registry.get("echo")
    requester = Requester(USER["name"], USER["email"], USER["displayName"])
    now = time.time()
    jobs = []
    for number in range(count):
        confirmation = Confirmation(f"c{number}", "t", "echo", {"text": f"n{number}"}, requester, SPACE, None,
                                    now, now + 600)
        jobs.append(runtime.store.create_job(new_job(runtime, confirmation, job_type, now)))
    if drain:
        admin, queue = _queue_admin(stack)
        admin.pause_queue(name=queue)
    started = time.time()
    local = threading.local()

    def enqueue(job):
        if not hasattr(local, "runtime"):
            local.runtime = stack.runtime()
        send_step(local.runtime, job, 0)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(enqueue, jobs))
    enqueued = time.time()
    if drain:
        started = time.time()
        admin.resume_queue(name=queue)
    # Poll cheaply (two indexed queries) so the benchmark itself takes no CPU from the pipeline.
    deadline = time.time() + 600
    while time.time() < deadline:
        pending = (runtime.store.list_jobs(status=JobStatus.QUEUED, limit=1)
                   + runtime.store.list_jobs(status=JobStatus.RUNNING, limit=1))
        if not pending:
            break
        time.sleep(0.25)
    finished_at = []
    for job in jobs:
        done = runtime.store.get_job(job.id)
        if done.status != JobStatus.SUCCEEDED:
            raise SystemExit(f"job {job.id} ended {done.status.value}")
        finished_at.append(done.finished_at)
    elapsed = max(finished_at) - started
    return {"jobs": count, "seconds": round(elapsed, 2), "jobs_per_second": round(count / elapsed, 1),
            "enqueue_seconds": round(enqueued - started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "pipeline.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        config = StackConfig(workdir=Path(workdir), workers=args.workers, sweep_interval=0,
                             extra_env={"ACKFLOW_LOG_LEVEL": "WARNING", "ACKFLOW_PROGRESS_INTERVAL": "1",
                                        "ACKFLOW_CHAT_SPACE_WRITES_PER_MINUTE": "0"})
        with LocalStack(config) as stack:
            requests.put(f"{stack.url('chat')}/_emulator/quota", json={"spaceWriteLimit": 0, "projectWriteLimit": 0},
                         timeout=10).raise_for_status()
            results = {
                "machine": {"python": platform.python_version(), "platform": platform.platform(),
                            "cpus": __import__("os").cpu_count()},
                "workers": args.workers,
                **interactive(stack, args.samples),
                "throughput": throughput(stack, args.jobs),
                "drain": throughput(stack, args.jobs, drain=True),
            }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
