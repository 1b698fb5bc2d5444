"""One running pipeline per event format (and per store), shared by the tests of a module."""

from __future__ import annotations

import os

import pytest

from ackflow_tools.devtools.stack import LocalStack, StackConfig
from tests.support.pipeline import FAST_QUEUES, ROOT, Pipeline

# Every end-to-end test runs in both event formats and on both stores.
COMBOS = [
    ("classic", "project-number", "sqlite"),
    ("addon", "endpoint-url", "sqlite"),
    ("classic", "project-number", "firestore"),
    ("addon", "endpoint-url", "firestore"),
]


def start_pipeline(workdir, fmt: str, auth: str, store: str = "sqlite", queue_backend: str = "cloudtasks",
                   mail: bool = False, storage: str = "local", accounting: str = "embedded", workers: int = 1,
                   time_zone: str = "UTC", **env) -> Pipeline:
    extra = {
        "ACKFLOW_QUEUES_FILE": str(FAST_QUEUES),
        "ACKFLOW_JOB_TYPES": "tests.support.jobtypes:build_registry",
        "ACKFLOW_SWEEP_QUEUED_AFTER": "1",
        "ACKFLOW_SWEEP_STALLED_AFTER": "1",
        "ACKFLOW_SWEEP_UNSHOWN_AFTER": "1",
        "ACKFLOW_LEASE_MARGIN": "1",
        # the checkout's own package first: an editable install may point at another checkout
        # (a git worktree's relay ran the main checkout's ackflow)
        "PYTHONPATH": os.pathsep.join((str(ROOT / "functions"), str(ROOT))),
        **env,
    }
    stack = LocalStack(StackConfig(workdir=workdir, event_format=fmt, chat_auth=auth, sweep_interval=0,
                                   workers=workers, store=store, queue_backend=queue_backend, extra_env=extra,
                                   min_dispatch_deadline=1, mail=mail, storage=storage, accounting=accounting,
                                   time_zone=time_zone))
    stack.start()
    return Pipeline(stack, fmt)


@pytest.fixture(scope="module", params=COMBOS, ids=[f"{f}-{s}" for f, _, s in COMBOS])
def pipeline(request, tmp_path_factory):
    fmt, auth, store = request.param
    if store == "firestore":
        from tests.conftest import require_tool

        require_tool("java", "the Firestore emulator runs on Java")
    running = start_pipeline(tmp_path_factory.mktemp(f"e2e-{fmt}-{store}"), fmt, auth, store)
    yield running
    running.stack.stop()
