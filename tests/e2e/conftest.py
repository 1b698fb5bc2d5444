"""One running pipeline per event format (and per store), shared by the tests of a module."""

from __future__ import annotations

import pytest

from ackflow.devtools.stack import LocalStack, StackConfig
from tests.support.pipeline import FAST_QUEUES, ROOT, Pipeline

FORMATS = [("classic", "project-number"), ("addon", "endpoint-url")]


def start_pipeline(workdir, fmt: str, auth: str, store: str = "sqlite", **env) -> Pipeline:
    extra = {
        "ACKFLOW_QUEUES_FILE": str(FAST_QUEUES),
        "ACKFLOW_JOB_TYPES": "tests.support.jobtypes:build_registry",
        "ACKFLOW_SWEEP_QUEUED_AFTER": "1",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    stack = LocalStack(StackConfig(workdir=workdir, event_format=fmt, chat_auth=auth, sweep_interval=0,
                                   store=store, extra_env=extra, min_dispatch_deadline=1))
    stack.start()
    return Pipeline(stack, fmt)


@pytest.fixture(scope="module", params=FORMATS, ids=[f for f, _ in FORMATS])
def pipeline(request, tmp_path_factory):
    fmt, auth = request.param
    running = start_pipeline(tmp_path_factory.mktemp(f"e2e-{fmt}"), fmt, auth)
    yield running
    running.stack.stop()
