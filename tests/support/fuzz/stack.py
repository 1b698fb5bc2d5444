"""The pipeline the fuzz runs against: both functions as real servers on the embedded default
(SQLite, the local Cloud Tasks and Chat services), with an admin (Carol) and the request mailbox:
the Gmail stand-in on a thread of this process, without Pub/Sub (the fuzz posts the pushes to
``/mail`` itself, one at a time, so no real notification races them; no Java needed). Chat's write
quotas are off, in the local Chat service and in the app's own budget: the cases the presses on
the mail cards open write their messages in the office space, and a new mail's card meeting a
spent budget rightly gets a 503 (Chat cannot take it now), then every push after it until the
mail's lease ends; quotas are benchmarks/chat_quota.py's and tests/notify's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from ackflow_tools.devtools.stack import MAIL_SPACE, MAILBOX
from tests.support.mail import GmailStandIn

from .events import CAROL, SPACES


@contextmanager
def fuzz_pipeline(workdir: Path, fmt: str, auth: str, store: str = "sqlite") -> Iterator:
    """A running pipeline (``tests.support.pipeline.Pipeline``) with ``gmail``, the stand-in; its
    store the embedded SQLite or (``store="firestore"``) the Firestore emulator (Java)."""
    from tests.e2e.conftest import start_pipeline

    (workdir / "gmail").mkdir(parents=True, exist_ok=True)
    gmail = GmailStandIn(workdir / "gmail")
    env = {"ACKFLOW_ADMINS": CAROL["email"], "ACKFLOW_OFFICE_MAILBOX": MAILBOX,
           "ACKFLOW_OFFICE_MAIL_SPACE": MAIL_SPACE, "ACKFLOW_OFFICE_MAIL_EVENT_FORMAT": fmt,
           "ACKFLOW_OFFICE_GMAIL_ENDPOINT": gmail.url, "ACKFLOW_OFFICE_GMAIL_CREDENTIALS_FILE": str(gmail.key),
           "ACKFLOW_CHAT_SPACE_WRITES_PER_MINUTE": "0",
           # glibc gives each thread an arena of its own and keeps what is freed there: the webhook's
           # RSS then climbs in steps to a bound of the arenas', which the memory check would read as
           # a leak (docs/reliability.md); two arenas leave the check to what the requests keep
           "MALLOC_ARENA_MAX": "2"}
    try:
        pipeline = start_pipeline(workdir / "stack", fmt, auth, store, **env)
    except BaseException:
        gmail.stop()
        raise
    try:
        pipeline.gmail = gmail
        requests.put(f"{pipeline.stack.url('chat')}/_emulator/quota", json={"spaceWriteLimit": 0},
                     timeout=10).raise_for_status()
        requests.put(f"{pipeline.stack.url('chat')}/_emulator/{MAIL_SPACE}", json={"displayName": "事務所"},
                     timeout=10).raise_for_status()  # the office space, the app a member of it
        for space in SPACES:  # the spaces exist in the local Chat service, so job messages land
            pipeline.send("help", space=space)
        report = pipeline.stack.sweep_once()  # notes where the mailbox's history is: later mail is new
        assert "error" not in report and "error" not in report["tasks"].get("mail", {}), report
        yield pipeline
    finally:
        pipeline.stack.stop()
        gmail.stop()
