"""`ackflow mail unshown` and `show-again` over a real SQLite store: what a mail says reaches the
terminal without what could steer it, an unknown id changes nothing, and a mail asked for twice is
reopened once (the sweep's claim then takes it like a mail whose holder died)."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from ackflow.app.runtime import Runtime
from ackflow.settings import Settings
from ackflow_tools.cli.main import cli
from workers.office.mail.records import Claim, MailRecords, MailStatus, record_id

MAILBOX = "irai@office.example"
STEERING = "\x1b[2J\x1b]0;pwned\x07\u202e\x9b31m"  # clear screen, set the title, turn the line around, CSI


@pytest.fixture
def store(tmp_path, monkeypatch):
    path = tmp_path / "jobs.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACKFLOW_SQLITE_PATH", str(path))
    monkeypatch.setenv("ACKFLOW_OPERATOR", "ops@example.com")
    runtime = Runtime(Settings(sqlite_path=str(path)))
    yield MailRecords(runtime.store.docs)
    runtime.close()


def unshown(records: MailRecords, mail_id: str, subject: str) -> dict:
    now = time.time()
    _, claimed = records.claim(MAILBOX, mail_id, "push-1", now, 60)
    return records.settle(claimed["id"], "push-1", MailStatus.UNSHOWN, now, space="spaces/gone", refusals=1,
                          reason=f"404 NOT_FOUND {STEERING}", sender_name=f"山田{STEERING}",
                          sender_address="yamada@acme.co.jp", subject=subject, received_at=now)


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_the_listing_shows_a_mail_without_what_would_steer_the_terminal(store):
    record = unshown(store, "m-1", f"見積{STEERING}のお願い")
    table = run("mail", "unshown")
    assert table.exit_code == 0 and record["id"] in table.output and "見積" in table.output
    assert not any(c in table.output for c in "\x1b\x07\u202e\x9b")
    as_json = run("mail", "unshown", "--json")
    assert not any(c in as_json.output for c in "\x1b\x07\u202e\x9b")
    [listed] = json.loads(as_json.output)["unshown"]
    assert listed["subject"] == f"見積{STEERING}のお願い"  # escaped for the terminal, the same text for a program


def test_show_again_reopens_once_and_an_unknown_id_changes_nothing(store):
    record = unshown(store, "m-1", "図面の件")
    missing = run("mail", "show-again", record["id"], "mail-" + "0" * 20)
    assert missing.exit_code == 1 and "nothing was changed" in missing.output
    assert store.get(record["id"])["status"] == "UNSHOWN"
    assert run("mail", "show-again").exit_code == 2  # neither ids nor --all
    first = run("mail", "show-again", "--all")
    assert f"{record['id']}: the next sweep shows its card" in first.output
    reopened = store.get(record["id"])
    again = run("mail", "show-again", record["id"])
    assert "already waiting" in again.output and store.get(record["id"]) == reopened
    assert (reopened["status"], reopened["holder"], reopened["reshow_by"]) == ("PROPOSING", "", "ops@example.com")
    # the sweep's claim takes it at once (no lease to wait out), and only one delivery holds it
    claimed, _ = store.claim(MAILBOX, "m-1", "sweep-1", time.time(), 60)
    busy, _ = store.claim(MAILBOX, "m-1", "push-2", time.time(), 60)
    assert (claimed, busy) == (Claim.CLAIMED, Claim.BUSY)
    assert record_id(MAILBOX, "m-1") == record["id"]
    listed = run("mail", "unshown")
    assert "no unshown mails" in listed.output and f"waiting for the sweep: {record['id']}" in listed.output
