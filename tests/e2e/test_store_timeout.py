"""A Firestore that does not answer (a hung connection: its emulator stopped with SIGSTOP) costs each
request of a bounded store ACKFLOW_STORE_TIMEOUT, not the Google client's own retry deadline
(minutes): the store says StoreUnavailable, the webhook answers its "try again" in the person's
language inside Chat's wait, the CLI ends with an error naming the Firestore it tried. The worker's
store is not bounded (its queue's dispatch deadline is): see ``Runtime.store_timeout``.

One stack of the module's own on the Firestore emulator (never the session's: it is stopped here),
with a one-second bound."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ackflow.errors import StoreUnavailable
from tests.e2e.conftest import start_pipeline
from tests.support.pipeline import ALICE

BOUND = 1.0  # ACKFLOW_STORE_TIMEOUT here
MARGIN = 2.0  # the test's own slack (a busy machine)


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    from tests.conftest import require_tool

    require_tool("java", "the Firestore emulator runs on Java")
    pipeline = start_pipeline(tmp_path_factory.mktemp("store-timeout"), "classic", "project-number", "firestore",
                              ACKFLOW_STORE_TIMEOUT=str(BOUND))
    yield pipeline
    pipeline.stack.stop()


def warm(store) -> None:
    """The emulator's first answers take longer than the bound (its JVM warming up): wait them out."""
    for _ in range(20):
        try:
            store.docs.get("jobs", "warm")
            store.list_jobs(limit=1)
            return
        except StoreUnavailable:
            time.sleep(0.5)
    raise AssertionError("the Firestore emulator did not warm up")


@contextlib.contextmanager
def hung(pipeline):
    """The Firestore emulator's process group stopped: connections stay open, nothing answers."""
    group = pipeline.stack.firestore.proc.proc.pid
    os.killpg(group, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(group, signal.SIGCONT)


def test_each_store_call_is_unavailable_within_the_bound(running):
    from ackflow.app.runtime import Runtime

    store = Runtime(running.stack.settings(), store_timeout=BOUND).store  # as the webhook's and the CLI's
    warm(store)  # the client's channel open before the hang, the emulator answering quickly
    with hung(running):
        for call in (lambda: store.docs.get("jobs", "nothing"),
                     lambda: store.list_jobs(limit=5),
                     lambda: store.docs.transaction(lambda tx: tx.get("jobs", "j-nothing")),
                     lambda: store.docs.count("jobs", [])):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable) as raised:
                call()
            assert time.monotonic() - started < BOUND + MARGIN
            assert running.stack.firestore.host in str(raised.value)  # which Firestore, for the operator
    warm(store)  # and it answers again once Firestore does


def test_an_unreachable_firestore_is_unavailable_within_the_bound(monkeypatch):
    # nothing listens there: every attempt refused at once, tried again until the bound runs out
    from ackflow.store.firestore import FirestoreDocuments
    from ackflow_tools.devtools.procs import free_port

    host = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", host)
    docs = FirestoreDocuments(project="local-project", timeout=BOUND)
    try:
        for call in (lambda: docs.get("jobs", "nothing"),
                     lambda: docs.query("jobs", [], "created_at", True, 5),
                     lambda: docs.transaction(lambda tx: tx.get("jobs", "nothing")),
                     lambda: docs.count("jobs", [])):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable) as raised:
                call()
            assert time.monotonic() - started < BOUND + MARGIN
            assert host in str(raised.value)
    finally:
        docs.close()


def test_webhook_answers_try_again_in_the_persons_language_inside_chats_wait(running):
    with hung(running):
        for locale, reply in (("ja", "ジョブの記録先に接続できなかった"), ("en", "could not reach the job store")):
            started = time.monotonic()
            message = running.send("echo hello", user={**ALICE, "name": f"users/timeout-{locale}"},
                                   locale=locale)
            took = time.monotonic() - started
            said = json.dumps(message["reply"], ensure_ascii=False)
            assert reply in said, said
            assert took < 3 * BOUND + MARGIN + 2, took  # an event makes up to three store calls


def test_cli_ends_with_an_error_naming_the_firestore_within_the_bound(running):
    env = {**os.environ, **running.stack.env()}
    with hung(running):
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "ackflow_tools", "jobs"], env=env, capture_output=True,
                              text=True, timeout=60)
        took = time.monotonic() - started
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Error: " in done.stderr
    assert running.stack.firestore.host in done.stderr
    assert "ACKFLOW_STORE_TIMEOUT" in done.stderr
    assert took < BOUND + MARGIN + 5, took  # the interpreter's start beside the bound
