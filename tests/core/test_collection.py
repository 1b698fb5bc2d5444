"""pytest-xdist's workers each collect the suite and must find the same tests, or the run stops
before any test runs. A parameter made at collection from the clock, a random source or a set's
order (Python's hash seed differs per process) breaks that only now and then; this finds it every
time: two collections, a second apart, with different hash seeds."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _collected(seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", "-n", "0",
                             "-p", "no:cacheprovider"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=240)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_two_collections_find_the_same_tests():
    first = _collected("1")
    time.sleep(1.1)
    second = _collected("2")
    assert len(first) > 1000
    assert first == second, sorted(set(first) ^ set(second))[:10]
