"""Validly signed hostile deliveries to the worker: bodies and Cloud Tasks headers no queue sends.

Only jobs that do not exist, or steps a real job does not have, are named, so the fuzz never
runs or re-drives a real step. The worker must drop each (200 with ``"status": "dropped"`` and a
dead letter: a queue retries any other answer) or refuse an oversize body (413); never a 5xx.
"""

from __future__ import annotations

import json
import random

from .corpus import RAW, hostile_string, hostile_value
from .events import Case

TASK_STATUSES = frozenset({200, 413})


def task_case(rng: random.Random, real_jobs: list[str]) -> Case:
    job = rng.choice(real_jobs) if real_jobs and rng.random() < 0.3 else "j" + "z" * 10
    roll = rng.random()
    headers = {}
    if roll < 0.4:
        payload = {"job_id": job, "step": rng.choice((-1, -2, 99, 2**63, 10**40, "0", "x", 0.5, True, None, [0])),
                   "generation": hostile_value(rng)}
        name = f"task/step {payload['step']!r}"[:80]
    elif roll < 0.7:
        payload = {"job_id": hostile_value(rng), "step": 0}
        if isinstance(payload["job_id"], str) and payload["job_id"].startswith("j") and len(payload["job_id"]) < 30:
            payload["job_id"] += "/../x"  # never a real job
        name = "task/job_id retyped"
    else:
        payload = {"job_id": "j" + "z" * 10, "step": 0}
        headers = {"X-CloudTasks-TaskRetryCount": rng.choice(("-1", "1e999", "9" * 50, "x", "")),
                   "X-CloudTasks-TaskName": rng.choice(("", "t" * 6000, "a/b/c", "ä"))}
        name = "task/headers"
    text = json.dumps(payload)
    if rng.random() < 0.2:
        raw = rng.choice(RAW)
        text = text.replace('"step": ', f'"step": {raw}, "was": ', 1)
        name += " + raw step"
    if rng.random() < 0.05:
        text = rng.choice(("", "null", "[]", '"task"', "{", "[" * 50_000 + "]" * 50_000, hostile_string(rng)))
        name = "task/raw body"
    return Case(name, text.encode("utf-8", "surrogatepass"), statuses=TASK_STATUSES,
                headers={k: v.encode() if not v.isascii() else v for k, v in headers.items()})
