"""The fuzz suite at CI scale: validly signed hostile events and invalid tokens of every kind against
both functions running as real servers, in both event formats.

Never a 5xx, never exception text in a body, no live markup in an answer, confirmations only for
job commands, jobs only from the requester's Run, and the webhook's memory bounded. The seed is
printed (``ACKFLOW_FUZZ_SEED`` repeats a run); failing requests are saved as JSON for
``benchmarks/fuzz.py --replay``. Full scale: ``benchmarks/fuzz.py --requests 20000``.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.e2e.conftest import start_pipeline
from tests.support.fuzz.events import SPACES
from tests.support.fuzz.runner import FuzzRun

SEED = int(os.environ.get("ACKFLOW_FUZZ_SEED", "20260611"))
REQUESTS = int(os.environ.get("ACKFLOW_FUZZ_REQUESTS", "800"))  # per event format
RSS_GROWTH_KIB = 24 * 1024


@pytest.fixture(scope="module", params=[("classic", "project-number"), ("addon", "endpoint-url")],
                ids=["classic", "addon"])
def pipeline(request, tmp_path_factory):
    fmt, auth = request.param
    running = start_pipeline(tmp_path_factory.mktemp(f"fuzz-{fmt}"), fmt, auth)
    for space in SPACES:  # the spaces exist in the local Chat service, so job messages land
        running.send("help", space=space)
    yield running
    running.stack.stop()


@pytest.mark.slow
def test_hostile_requests_get_no_5xx_and_earn_nothing(pipeline, tmp_path_factory):
    failures_dir = tmp_path_factory.mktemp(f"fuzz-failures-{pipeline.fmt}")
    report = FuzzRun(pipeline.stack, pipeline.fmt, SEED, failures_dir).run(REQUESTS)
    print(json.dumps(report.summary()))
    listed = "\n".join(f"  {why}  [{path}]" for path, why in report.failures[:25])
    assert not report.failures, (f"seed {SEED} ({pipeline.fmt}): {len(report.failures)} failing requests, "
                                 f"saved under {failures_dir}:\n{listed}")
    assert 500 not in report.statuses and report.legit_runs and report.asked
    growth = report.rss_kib["after"] - report.rss_kib["before"]
    assert growth < RSS_GROWTH_KIB, f"the webhook grew by {growth} KiB over {REQUESTS} requests"
