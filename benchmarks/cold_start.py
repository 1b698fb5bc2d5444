"""Cold start of the chat_webhook, in fresh processes, for SQLite and for Firestore.

Reports:
  - the entry module's import time (functions/chat_webhook/main.py, after functions_framework
    itself is imported, since the runtime loads the framework before any function);
  - the latency of the very first request after the server starts accepting connections, for a
    `help` command and for a Run click (which creates the job and enqueues it).

Targets (docs/performance.md): import ≤ 150 ms, first help ≤ 300 ms, first Run click ≤ 1 s.

    .venv/bin/python benchmarks/cold_start.py [--runs 5] [--stores sqlite,firestore]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ackflow_tools.devtools.procs import ManagedProcess, free_port  # noqa: E402
from ackflow_tools.devtools.stack import LocalStack, StackConfig, functions_source  # noqa: E402

EVENTS = ROOT / "tests" / "data" / "events" / "classic"


def import_ms(runs: int) -> list[float]:
    code = ("import time, functions_framework; t = time.perf_counter(); import chat_webhook.main; "
            "print((time.perf_counter() - t) * 1000)")
    out = []
    for _ in range(runs):
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "functions", capture_output=True,
                                text=True, check=True)
        out.append(float(result.stdout.strip()))
    return out


def wait_for_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.005)
    raise RuntimeError(f"nothing listens on {port}")


def fresh_webhook(stack: LocalStack, workdir: Path) -> tuple[ManagedProcess, str]:
    port = free_port()
    executable = shutil.which("functions-framework", path=os.path.dirname(sys.executable))
    env = {**stack.env(), "FUNCTION_TARGET": "chat_webhook", "ACKFLOW_LOG_LEVEL": "WARNING"}
    proc = ManagedProcess("webhook", [executable, "--source", str(functions_source()), "--target", "chat_webhook",
                                      "--host", "127.0.0.1", "--port", str(port)],
                          env=env, log_path=workdir / f"cold-{port}.log").start()
    wait_for_port(port)
    return proc, f"http://127.0.0.1:{port}/"


def click_event(stack: LocalStack) -> dict:
    """A Run click on a fresh confirmation card (made by the running webhook)."""
    sent = requests.post(f"{stack.url('chat')}/_emulator/spaces/cold:send", json={"text": "echo cold"}).json()
    card = sent["reply"]["message"]
    from ackflow_tools.emulators.chat.events import build_event
    from ackflow_tools.emulators.chat.userside import find_button

    action = find_button(card, "Run")
    params = {p["key"]: p["value"] for p in action["parameters"]}
    user = sent["event"]["user"]
    return build_event("CARD_CLICKED", "classic", user=user, space={"name": "spaces/cold", "type": "ROOM",
                                                                  "spaceType": "SPACE"},
                       message=card, function="run", parameters=params)


def first_request(stack: LocalStack, workdir: Path, body: dict, users) -> float:
    token = users.token("classic")
    proc, url = fresh_webhook(stack, workdir)
    try:
        started = time.perf_counter()
        response = requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
        return elapsed
    finally:
        proc.stop()


def measure_store(store: str, runs: int) -> dict:
    with tempfile.TemporaryDirectory() as workdir:
        config = StackConfig(workdir=Path(workdir), sweep_interval=0, store=store,
                             extra_env={"ACKFLOW_LOG_LEVEL": "WARNING"})
        with LocalStack(config) as stack:
            users = stack.chat_signer()
            help_event = json.loads((EVENTS / "message.json").read_text())
            help_event["message"]["text"] = help_event["message"]["argumentText"] = "help"
            helps = [first_request(stack, Path(workdir), help_event, users) for _ in range(runs)]
            clicks = []
            for _ in range(runs):
                event = click_event(stack)
                clicks.append(first_request(stack, Path(workdir), event, users))
    return {"first_help_ms": stats(helps), "first_run_click_ms": stats(clicks)}


def stats(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 1), "max": round(max(values), 1),
            "all": [round(v, 1) for v in values]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stores", default="sqlite,firestore")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "cold_start.json")
    args = parser.parse_args()
    results = {"import_ms": stats(import_ms(args.runs))}
    for store in args.stores.split(","):
        results[store] = measure_store(store, args.runs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
