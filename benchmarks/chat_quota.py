"""Chat's write quota under load: N ``newcase`` jobs started at once in one space, W worker processes.

Runs the whole pipeline (both functions under functions-framework, the local Cloud Tasks, Chat and
Sheets services, the sweep every few seconds as Cloud Scheduler calls it) with the deployment's own
job types and queues, and the local Chat service enforcing Chat's quotas (60 message writes a
minute per space, shared by every app in it; 3,000 a minute per project). Optionally another app
writes in the same space. Reports:

  - the 429s Chat answered (to this app and to the other one) and the most writes the space saw in
    any quota window;
  - whether any result was lost: every job's message compared with what the store's final state
    renders to (a result is lost if, once everything has settled, the thread does not show it);
  - the Chat writes per job, as counted on each job's record.

    .venv/bin/python benchmarks/chat_quota.py [--jobs 10] [--workers 2] [--other-app-per-minute 0]
        [--budget-per-minute 50] [--store sqlite]

``--budget-per-minute 0`` turns the app's shared budget off (each write just goes, and backs off on
429), to compare.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ackflow.app.notify import Notifier  # noqa: E402
from ackflow_tools.devtools.stack import LocalStack, StackConfig  # noqa: E402
from ackflow_tools.emulators.chat.service import canonical_message  # noqa: E402
from ackflow_tools.emulators.chat.userside import find_button  # noqa: E402

SPACE = "spaces/office"
USER = {"name": "users/42", "displayName": "山田", "email": "yamada@example.com"}


def start_together(stack: LocalStack, count: int) -> list[str]:
    """Send ``count`` newcase commands, then press every Run button at once."""
    chat = stack.url("chat")
    http = requests.Session()
    cards = [http.post(f"{chat}/_emulator/{SPACE}:send", json={"text": f'newcase ACME "Bench {n}"', "user": USER},
                       timeout=60).json()["reply"]["message"] for n in range(count)]
    clicks = [threading.Thread(target=requests.post, args=(f"{chat}/_emulator/{SPACE}:click",),
                               kwargs={"json": {"message": card["name"], "button": "Run", "user": USER},
                                       "timeout": 60}) for card in cards]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    store = stack.runtime().store
    ids = []
    for card in cards:
        params = {p["key"]: p["value"] for p in find_button(card, "Run")["parameters"]}
        ids.append(store.get_confirmation(params["confirmation"]).job_id)
    return ids


def another_app(chat: str, per_minute: float, stop: threading.Event, counts: dict) -> None:
    while per_minute and not stop.wait(60.0 / per_minute):
        response = requests.post(f"{chat}/v1/{SPACE}/messages", json={"text": "another app's message"}, timeout=10)
        counts["written" if response.ok else "refused"] += 1


def settle(stack: LocalStack, ids: list[str], timeout: float) -> tuple[list, float, float]:
    store = stack.runtime().store
    started = time.time()
    finished_at = shown_at = None
    while time.time() - started < timeout:
        jobs = [store.get_job(job_id) for job_id in ids]
        if finished_at is None and all(job.status.finished for job in jobs):
            finished_at = time.time()
        if all(job.status.finished and not job.message_due for job in jobs):
            shown_at = time.time()
            break
        time.sleep(0.25)
    return [store.get_job(job_id) for job_id in ids], finished_at, shown_at


def most_in_a_window(chat: str, window: float) -> int:
    """The most writes of the jobs' messages (``client-…``) the space saw in any window. (The
    confirmation cards are synchronous answers to events, which Chat does not count.)"""
    stamps, after = [], 0
    while True:
        page = requests.get(f"{chat}/_emulator/{SPACE}/changes", params={"after": after}, timeout=10).json()
        if not page["changes"]:
            break
        for change in page["changes"]:
            message = change.get("message") or {}
            if message.get("clientAssignedMessageId") and change["kind"] in ("created", "updated"):
                stamp = message.get("lastUpdateTime") if change["kind"] == "updated" else message["createTime"]
                stamps.append(dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
        after = page["last"]
    stamps.sort()
    most, first = 0, 0
    for last, stamp in enumerate(stamps):
        while stamp - stamps[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


def check_results(stack: LocalStack, jobs: list) -> dict:
    runtime = stack.runtime()
    wrong = []
    for job in jobs:
        expected = canonical_message(Notifier(runtime).render(job))
        response = requests.get(f"{stack.url('chat')}/v1/{SPACE}/messages/{job.message_id}", timeout=10)
        if not response.ok or response.json().get("cardsV2") != expected["cardsV2"]:
            wrong.append(job.id)
    return {"jobs": len(jobs), "shown_as_stored": len(jobs) - len(wrong), "lost_or_wrong": wrong}


def run(args: argparse.Namespace, workdir: Path) -> dict:
    env = {"ACKFLOW_LOG_LEVEL": "WARNING", "ACKFLOW_CHAT_SPACE_WRITES_PER_MINUTE": str(args.budget_per_minute),
           "ACKFLOW_SWEEP_UNSHOWN_AFTER": "10"}
    config = StackConfig(workdir=workdir, workers=args.workers, sweep_interval=args.sweep_interval,
                         store=args.store, extra_env=env)
    with LocalStack(config) as stack:
        chat = stack.url("chat")
        requests.put(f"{chat}/_emulator/{SPACE}", json={"displayName": "設計事務所"}, timeout=10).raise_for_status()
        quota = requests.put(f"{chat}/_emulator/quota", timeout=10, json={
            "reset": True, "spaceWriteLimit": 60, "projectWriteLimit": 3000, "window": args.window}).json()
        stop, other = threading.Event(), {"written": 0, "refused": 0}
        writer = threading.Thread(target=another_app, args=(chat, args.other_app_per_minute, stop, other))
        writer.start()
        started = time.time()
        try:
            ids = start_together(stack, args.jobs)
            jobs, finished_at, shown_at = settle(stack, ids, args.timeout)
        finally:
            stop.set()
            writer.join()
        stats = requests.get(f"{chat}/_emulator/quota", timeout=10).json()["spaces"].get(SPACE, {})
        writes = {job.id: job.chat_writes for job in jobs}
        throttled = sum(job.chat_throttled for job in jobs)
        return {
            "jobs": args.jobs, "workers": args.workers, "store": args.store,
            "app_budget_per_minute": args.budget_per_minute,
            "chat_quota": {"space_writes": quota["spaceWriteLimit"], "project_writes": quota["projectWriteLimit"],
                           "window_seconds": quota["window"]},
            "seconds_until_all_finished": round(finished_at - started, 1) if finished_at else None,
            "seconds_until_all_results_shown": round(shown_at - started, 1) if shown_at else None,
            "statuses": sorted({job.status.value for job in jobs}),
            "chat_429s": {"to_this_app": throttled, "to_the_other_app": other["refused"],
                          "refused_by_chat_in_all": stats.get("refused", 0)},
            "space_writes": {"accepted": stats.get("accepted", 0), "other_app_accepted": other["written"],
                             "most_job_message_writes_in_one_window": most_in_a_window(chat, args.window)},
            "results": check_results(stack, jobs),
            "chat_writes_per_job": {"min": min(writes.values()), "max": max(writes.values()),
                                    "mean": round(statistics.fmean(writes.values()), 1), "by_job": writes},
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", choices=["sqlite", "firestore"], default="sqlite")
    parser.add_argument("--budget-per-minute", type=float, default=50.0,
                        help="the app's shared budget per space (ACKFLOW_CHAT_SPACE_WRITES_PER_MINUTE); 0: off")
    parser.add_argument("--other-app-per-minute", type=float, default=0.0,
                        help="writes another app makes in the same space, sharing its quota")
    parser.add_argument("--window", type=float, default=60.0, help="Chat's quota window in seconds")
    parser.add_argument("--sweep-interval", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "chat_quota.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        results = {"machine": {"python": platform.python_version(), "platform": platform.platform()},
                   **run(args, Path(workdir))}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
