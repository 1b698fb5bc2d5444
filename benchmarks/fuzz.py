"""The fuzz suite at full scale: hostile events, tasks, Gmail notifications (``/mail``), sweeps and
tokens against both functions running as real servers on the embedded default (SQLite, local Cloud
Tasks and Chat services, the Gmail stand-in), then Cancel and Retry of real jobs by people who may
not, then presses on two fresh mail cards' buttons and open-a-case form (a script through every
state, then ``--mail-presses`` random ones; presses are in the random mix too) (tests/support/fuzz/).

Passes when no request got a 5xx, a status its case does not allow, exception text or live
markup; when the store holds only what was earned; and when the webhook's memory grew less than
``--rss-growth`` MiB after the warm-up and less than ``--late-growth`` bytes a request over the
second half of the run (a leak shows as a steady slope there; the warm-up's growth does not).
Figures go to stdout as JSON (docs/reliability.md).

    .venv/bin/python benchmarks/fuzz.py [--requests 20000] [--format classic|addon] [--seed N] [--mail-presses N]
    .venv/bin/python benchmarks/fuzz.py --store firestore --requests 3000   # on the Firestore emulator (Java)
    .venv/bin/python benchmarks/fuzz.py --replay .ackflow/fuzz/fuzz-SEED-INDEX.json --format classic
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.fuzz.runner import FuzzRun, replay  # noqa: E402
from tests.support.fuzz.stack import fuzz_pipeline  # noqa: E402

AUTH = {"classic": "project-number", "addon": "endpoint-url"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--format", choices=sorted(AUTH), default="classic")
    parser.add_argument("--seed", type=int, default=None, help="default: a random seed (printed)")
    parser.add_argument("--mail-presses", type=int, default=None,
                        help="random presses on the mail cards after the script (default: a tenth of --requests)")
    parser.add_argument("--out", type=Path, default=ROOT / ".ackflow" / "fuzz", help="where failing requests go")
    parser.add_argument("--rss-growth", type=float, default=32.0, help="MiB the webhook may grow after warm-up")
    parser.add_argument("--late-growth", type=float, default=400.0,
                        help="bytes a request the webhook may grow over the second half of the run")
    parser.add_argument("--store", choices=("sqlite", "firestore"), default="sqlite",
                        help="the store: SQLite (the default) or the Firestore emulator (needs Java)")
    parser.add_argument("--replay", type=Path, help="send one saved failing request again and show the answer")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    with tempfile.TemporaryDirectory(prefix="ackflow-fuzz-") as workdir, \
            fuzz_pipeline(Path(workdir), args.format, AUTH[args.format], args.store) as pipeline:
        if args.replay:
            answer = replay(pipeline.stack, args.replay, args.format)
            print(f"{answer.status_code}\n{answer.text[:4000]}")
            return 0
        started = time.perf_counter()
        presses = args.mail_presses if args.mail_presses is not None else max(100, args.requests // 10)
        report = FuzzRun(pipeline.stack, args.format, seed, args.out, gmail_url=pipeline.gmail.url,
                         mail_presses=presses).run(args.requests)
        whole = time.perf_counter() - started
    summary = {**report.summary(), "format": args.format, "store": args.store, "python": platform.python_version(),
               "machine": f"{platform.machine()}, {platform.system()}, {os.cpu_count()} cores",
               "seconds_with_epilogue_and_checks": round(whole, 1)}
    growth_mib = (report.rss_kib["after"] - report.rss_kib["before"]) / 1024
    summary["rss_growth_mib"] = round(growth_mib, 1)
    late = late_growth(report.rss_samples, report.rss_kib["after"], args.requests)
    summary["late_growth_bytes_per_request"] = round(late, 1)
    print(json.dumps(summary, indent=1))
    for path, why in report.failures[:50]:
        print(f"FAIL {why}  [{path}]", file=sys.stderr)
    ok = not report.failures and growth_mib < args.rss_growth and late < args.late_growth
    print(f"seed {seed}: {'PASS' if ok else 'FAIL'}", file=sys.stderr)
    return 0 if ok else 1


def late_growth(samples: list, after_kib: int, requests: int) -> float:
    """Bytes a request the webhook grew over the second half of the run: the least-squares slope of
    the RSS samples taken there (every fortieth of the run, and the end). A leak is a steady slope;
    RSS also steps by several MiB and back as large bodies pass and malloc's arenas grow and shrink,
    which a line through two samples would read as a slope (one step of 8 MiB between two samples
    turned a run of 5,000 late requests into 1,800 bytes a request)."""
    points = [(index, kib) for index, kib in samples if index >= requests // 2] + [(requests, after_kib)]
    if len(points) < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread * 1024 if spread else 0.0


if __name__ == "__main__":
    sys.exit(main())
