"""The command line against a running pipeline: chat, click, jobs, sweep; and `ackflow dev` itself."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.e2e.conftest import start_pipeline


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    pipeline = start_pipeline(tmp_path_factory.mktemp("cli"), "classic", "project-number")
    yield pipeline
    pipeline.stack.stop()


def ackflow(pipeline, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, **pipeline.stack.env()}
    return subprocess.run([sys.executable, "-m", "ackflow_tools", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_chat_yes_shows_card_queued_and_result_then_exits_zero(running):
    done = ackflow(running, "chat", "echo from the terminal", "--yes", "--chat-url", running.chat_url,
                   "--space", "spaces/cli")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Run echo?" in out and "[ Run ]  [ Cancel ]" in out
    assert "Queued · job" in out and "✅ Done" in out and "from the terminal" in out
    assert re.search(r"job j\w+: SUCCEEDED", out)


def test_chat_then_click_run_and_a_failing_job_exits_nonzero(running):
    shown = ackflow(running, "chat", "fail --always", "--chat-url", running.chat_url, "--space", "spaces/cli2")
    assert shown.returncode == 0 and "ackflow click run" in shown.stdout
    pressed = ackflow(running, "click", "run", "--chat-url", running.chat_url, "--space", "spaces/cli2")
    assert pressed.returncode == 1
    assert "❌ Failed" in pressed.stdout and "FAILED" in pressed.stdout


def test_jobs_list_and_show(running):
    listed = ackflow(running, "jobs")
    assert listed.returncode == 0
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["ID", "TYPE", "STATUS", "STEPS", "REQUESTER", "AGE", "ATTEMPTS"]
    job_id = rows[0].split()[0]
    by_status = {row.split()[2]: row.split() for row in rows}
    done, total = map(int, by_status["FAILED"][3].split("/"))
    assert by_status["SUCCEEDED"][3] == "1/1" and done < total  # echo: one step; fail: stopped short
    assert int(by_status["FAILED"][-1]) > 1  # a failed job shows every attempt it took
    shown = ackflow(running, "jobs", "show", job_id)
    assert shown.returncode == 0 and f"job {job_id}" in shown.stdout and "step 1" in shown.stdout
    assert "Chat write(s)" in shown.stdout  # the writes of the job's message, counted on its record
    missing = ackflow(running, "jobs", "show", "jmissing")
    assert missing.returncode != 0 and "not found" in missing.stderr
    assert ackflow(running, "jobs", "--status", "FAILED").stdout.count("fail") >= 1
    assert "failing on purpose" in ackflow(running, "jobs", "dead").stdout


def test_operator_retry_and_cancel_act_through_the_core_and_say_why_not(running):
    failed = [row.split()[0] for row in ackflow(running, "jobs", "--status", "FAILED").stdout.splitlines()[1:]]
    assert failed, "the failing job of an earlier test"
    retried = ackflow(running, "retry", failed[0], "--by", "ops@example.com")
    assert retried.returncode == 0, retried.stderr
    assert f"job {failed[0]} retried: now QUEUED" in retried.stdout
    shown = ackflow(running, "jobs", "show", failed[0], "--json")
    history = [entry.get("note", "") for entry in json.loads(shown.stdout)["history"]]
    assert "retried by ops@example.com" in history
    done = ackflow(running, "jobs", "--status", "SUCCEEDED").stdout.splitlines()[1].split()[0]
    refused = ackflow(running, "retry", done)
    assert refused.returncode == 1 and "is SUCCEEDED; it cannot be retried" in refused.stderr
    assert "no job 'jnope'" in ackflow(running, "cancel", "jnope").stderr
    asked = ackflow(running, "chat", "sleep 60", "--chat-url", running.chat_url, "--space", "spaces/cli3")
    assert asked.returncode == 0
    ackflow(running, "click", "run", "--chat-url", running.chat_url, "--space", "spaces/cli3", "--no-follow")
    sleeping = next(row.split()[0] for row in ackflow(running, "jobs").stdout.splitlines()[1:]
                    if row.split()[1] == "sleep")
    cancelled = ackflow(running, "cancel", sleeping, "--by", "ops@example.com")
    assert cancelled.returncode == 0 and "now CANCELLED" in cancelled.stdout, cancelled.stderr


def test_sweep_command(running):
    swept = ackflow(running, "sweep")
    assert swept.returncode == 0 and '"resent"' in swept.stdout


def test_dev_starts_everything_prints_where_and_stops_cleanly(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "ackflow_tools", "dev", "--port-offset", "1300",
                             "--workdir", str(tmp_path / "dev"), "--sweep-interval", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Ctrl-C stops everything" in line:
                break
        out = "".join(lines)
        assert "chat_webhook   http://127.0.0.1:9380/" in out and "worker         http://127.0.0.1:9381/" in out
        assert requests.get("http://127.0.0.1:9424/").json()["service"] == "chat"
        state = tmp_path / "dev" / "state.json"
        assert state.exists()
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
        assert proc.returncode == 0
        assert not state.exists()
        with pytest.raises(requests.ConnectionError):
            requests.get("http://127.0.0.1:9424/", timeout=1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
