"""The command line against a running pipeline: chat, click, jobs, sweep; and `ackflow dev` itself."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from ackflow_tools.cli.dev import DEFAULT_PORTS
from ackflow_tools.devtools.procs import PORTS_BELOW_EPHEMERAL, ephemeral_ports_start, port_free
from tests.e2e.conftest import start_pipeline

pytestmark = pytest.mark.slow  # started first by scripts/test (tests/conftest.py)


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


def test_click_on_the_japanese_label_of_run_follows_the_job_as_click_run_does(running):
    """The office types the button as its card shows it (実行): the job is followed to its result, as
    with `click run` (the label once pressed the button and returned before the job had run)."""
    where = ("--chat-url", running.chat_url, "--space", "spaces/cli-ja", "--locale", "ja")
    shown = ackflow(running, "chat", "echo 実行ボタン", *where)
    assert shown.returncode == 0 and "[ 実行 ]" in shown.stdout, shown.stdout
    pressed = ackflow(running, "click", "実行", *where)
    assert pressed.returncode == 0, pressed.stderr
    assert "✅ 完了" in pressed.stdout and re.search(r"job j\w+: SUCCEEDED", pressed.stdout), pressed.stdout


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
    # every action is in the audit log, with who did it, from where, and how it ended
    store = running.stack.runtime().store
    [retry_entry] = store.list_audit(job_id=failed[0])
    assert (retry_entry.actor, retry_entry.action, retry_entry.surface, retry_entry.outcome) == (
        "ops@example.com", "retry", "cli", "done")
    [refusal] = store.list_audit(job_id=done)
    assert refusal.action == "retry" and refusal.outcome.startswith("refused:") and "SUCCEEDED" in refusal.outcome
    assert store.list_audit(job_id=sleeping)[0].action == "cancel"


def test_sweep_command(running):
    swept = ackflow(running, "sweep")
    assert swept.returncode == 0 and '"resent"' in swept.stdout


def test_dev_starts_everything_prints_where_and_stops_cleanly(tmp_path):
    # a fresh machine's shell after ./scripts/dev: the virtualenv is not on PATH, no setting is set
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env = no_settings_env(PATH=path)
    offset = free_offset()
    port = {name: number + offset for name, number in DEFAULT_PORTS.items()}
    proc = subprocess.Popen([sys.executable, "-m", "ackflow_tools", "dev", "--port-offset", str(offset),
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
        assert f"chat_webhook   http://127.0.0.1:{port['webhook']}/" in out
        assert f"worker         http://127.0.0.1:{port['worker']}/" in out
        assert requests.get(f"http://127.0.0.1:{port['chat']}/").json()["service"] == "chat"
        # the console, reading this pipeline
        assert f"console        http://127.0.0.1:{port['console']}/jobs" in out
        assert requests.get(f"http://127.0.0.1:{port['console']}/jobs").status_code == 200
        # the request mailbox, where a mail is dropped (it needs Java and the Pub/Sub emulator)
        mail_on = "mail off:" not in out
        assert mail_on or os.environ.get("CI") != "true", out
        if mail_on:
            assert f"Gmail          http://127.0.0.1:{port['gmail']}" in out and "irai@office.example" in out
            assert f"Pub/Sub        http://127.0.0.1:{port['pubsub']}" in out and "ackflow mail receive" in out
        # it shows a first job going through the whole pipeline, then says what to type next
        assert "Dev User:\n    echo hello" in out and re.search(r"job j\w+: SUCCEEDED in [\d.]+ s", out), out
        tried = try_lines(out)
        assert len(tried) >= 6 and all("ACKFLOW_DEV_DIR=" in command for command in tried)
        for command in tried:  # each works as printed, in the order printed
            # "in this folder": the one ackflow dev was started in, where .venv/bin/ackflow is when the
            # virtualenv is the clone's own (as after ./scripts/dev)
            done = subprocess.run(["bash", "-c", command], cwd=Path.cwd(), env=env, capture_output=True, text=True,
                                  timeout=150)
            assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
            if "chat '請求 " in command:  # the invoice of the case the newcase above made
                assert "請求書: INV-" in done.stdout, done.stdout
        # the office space, where the Monday digest reports: run now from the console, as the banner says
        console = f"http://127.0.0.1:{port['console']}"
        assert f"office space   {console}/chat?space=spaces/office" in out and f"{console}/periodic" in out
        assert digest_in_the_office_space(console, f"http://127.0.0.1:{port['chat']}", case_in(tried))
        state = tmp_path / "dev" / "state.json"
        assert state.exists()
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
        assert proc.returncode == 0
        assert not state.exists()
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port['chat']}/", timeout=1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def case_in(commands: list[str]) -> str:
    """The case number the banner's commands use (``受注 2026-001``)."""
    return next(re.search(r"受注 (\d{4}-\d{3})", c).group(1) for c in commands if "受注 " in c)


def digest_in_the_office_space(console: str, chat: str, case: str, timeout: float = 60) -> str:
    """Run the digest now from the console's periodic page (its form and confirmation, as a person
    does) and return the digest's text once it is in the office space, naming ``case``."""
    from ackflow_tools.emulators.chat.feed import changes

    http = requests.Session()
    page = http.get(f"{console}/periodic").text
    form = {name: re.search(rf'name="{name}" value="([^"]+)"', page).group(1) for name in ("csrf_token", "key")}
    ran = http.post(f"{console}/periodic/digest/run", data={**form, "confirmed": "1"}, timeout=30)
    assert ran.status_code == 200 and "/jobs/digest-now-" in ran.url, (ran.status_code, ran.url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        said = [json.dumps(c["message"], ensure_ascii=False) for c in changes(http, chat, "spaces/office")
                if "message" in c and case in json.dumps(c["message"], ensure_ascii=False)]
        if said:
            return said[-1]
        time.sleep(0.5)
    raise AssertionError(f"no digest naming {case} in spaces/office")


def try_lines(banner: str) -> list[str]:
    """The commands of the banner's "Try, in another terminal" (``A   then   B``: two commands)."""
    block = banner.split("Try, in another terminal", 1)[1].split("\n\n", 1)[0]
    return [command.strip() for line in block.splitlines()[1:] for command in line.split("   then   ")]


def test_a_user_of_ackflow_chat_is_the_same_chat_user_on_every_run(running):
    for _ in range(2):
        sent = ackflow(running, "chat", "help", "--chat-url", running.chat_url, "--space", "spaces/cli-users",
                       "--user", "bob@example.com")
        assert sent.returncode == 0, sent.stderr
    senders = {m["sender"]["name"] for m in running.messages("spaces/cli-users").values()
               if m["sender"].get("email") == "bob@example.com"}
    assert len(senders) == 1, senders


def test_following_with_the_chat_url_of_a_pipeline_the_cli_cannot_read_is_refused(running, tmp_path):
    no_settings = {k: v for k, v in os.environ.items() if not k.upper().startswith("ACKFLOW_")}
    before = len(running.messages("spaces/cli-other"))
    refused = subprocess.run([sys.executable, "-m", "ackflow_tools", "chat", "echo lost", "--yes", "--chat-url",
                              running.chat_url, "--space", "spaces/cli-other"], cwd=tmp_path, env=no_settings,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "cannot follow" in refused.stderr and "ACKFLOW_DEV_DIR" in refused.stderr
    assert len(running.messages("spaces/cli-other")) == before  # nothing was sent
    assert not (tmp_path / ".ackflow").exists()
    # a store that exists but is another pipeline's: pressed, then a clear error instead of silence
    from ackflow.app.runtime import Runtime
    from ackflow.settings import Settings

    other = tmp_path / "other.db"
    Runtime(Settings(sqlite_path=str(other))).store.close()
    lost = subprocess.run([sys.executable, "-m", "ackflow_tools", "chat", "echo lost", "--yes", "--chat-url",
                           running.chat_url, "--space", "spaces/cli-other"], cwd=tmp_path,
                          env={**no_settings, "ACKFLOW_SQLITE_PATH": str(other)},
                          capture_output=True, text=True, timeout=60)
    assert lost.returncode == 1 and "does not know it" in lost.stderr, lost.stdout + lost.stderr


# -- `ackflow dev` as a person runs it -----------------------------------------------------------

def free_offset() -> int:
    """A --port-offset whose ports are all free (other runs share this machine), below the kernel's
    ephemeral range (where every outgoing connection takes its port; one took a port of a dev
    between its kill and the next start) and below the ports free_port hands out to other tests."""
    top = ephemeral_ports_start() - PORTS_BELOW_EPHEMERAL - max(DEFAULT_PORTS.values())
    for _ in range(200):
        offset = random.randrange(10000, top, 10)
        if all(port_free("127.0.0.1", port + offset) for port in DEFAULT_PORTS.values()):
            return offset
    raise AssertionError("no free --port-offset")


def no_settings_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ACKFLOW_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def start_dev(workdir, offset: int, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ackflow_tools", "dev", "--port-offset", str(offset),
                             "--workdir", str(workdir), "--sweep-interval", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=no_settings_env(),
                            start_new_session=True)


def read_until(proc: subprocess.Popen, marker: str, timeout: float = 90) -> str:
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        if marker in line:
            return "".join(lines)
    raise AssertionError(f"no {marker!r} from ackflow dev:\n{''.join(lines)}")


def answering(port: int) -> bool:
    try:
        requests.get(f"http://127.0.0.1:{port}/", timeout=1)
        return True
    except requests.ConnectionError:
        return False


def wait_ports_free(ports, timeout: float = 15) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = [port for port in ports if not port_free("127.0.0.1", port)]
        if not held:
            return []
        time.sleep(0.2)
    return held


def end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_dev_with_addon_events_runs_a_job_end_to_end(tmp_path):
    offset = free_offset()
    proc = start_dev(tmp_path / "dev", offset, "--format", "addon")
    try:
        read_until(proc, "Ctrl-C stops everything")
        chat = f"http://127.0.0.1:{DEFAULT_PORTS['chat'] + offset}"
        assert requests.get(f"{chat}/_emulator/app", timeout=5).json()["format"] == "addon"
        done = subprocess.run([sys.executable, "-m", "ackflow_tools", "chat", "echo add-on", "--yes"], cwd=tmp_path,
                              env=no_settings_env(ACKFLOW_DEV_DIR=str(tmp_path / "dev")), capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        # ackflow dev speaks the office's language unless told otherwise (--language en)
        assert "✅ 完了" in done.stdout and re.search(r"job j\w+: SUCCEEDED", done.stdout)
        refused = subprocess.run([sys.executable, "-m", "ackflow_tools", "dev", "--format", "addon", "--chat-auth",
                                  "project-number"], cwd=tmp_path, env=no_settings_env(), capture_output=True,
                                 text=True, timeout=60)
        assert refused.returncode == 2 and "--chat-auth endpoint-url" in refused.stderr
    finally:
        end(proc)


def test_dev_with_freee_runs_a_case_from_estimate_to_payment_in_the_local_freee_stand_in(tmp_path):
    offset = free_offset()
    proc = start_dev(tmp_path / "dev", offset, "--accounting", "freee")
    try:
        started = read_until(proc, "Ctrl-C stops everything")
        freee = f"http://127.0.0.1:{DEFAULT_PORTS['freee'] + offset}"
        assert f"freee          {freee}" in started
        done = subprocess.run([sys.executable, "-m", "ackflow_tools", "chat",
                               'newcase ACME "金型 Z-1" --item "金型設計:1:350000"', "--yes"], cwd=tmp_path,
                              env=no_settings_env(ACKFLOW_DEV_DIR=str(tmp_path / "dev")), capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        case = re.search(r"\b(\d{4}-\d{3})\b", done.stdout.split("SUCCEEDED")[0].split("✅")[-1]).group(1)
        # the estimate v1 was issued in freee (authorized at start), under our number, for the client
        state = requests.get(f"{freee}/_emulator/state", timeout=10).json()
        [quotation] = [q for q in state["quotations"] if q["quotation_number"] == f"{case}-v1"]
        assert quotation["amount_excluding_tax_10"] == 350000 and quotation["amount_tax_10"] == 35000
        assert [p["name"] for p in state["partners"]] == ["ACME"]
        from ackflow.app.runtime import Runtime
        from ackflow.settings import Settings

        runtime = Runtime(Settings(sqlite_path=str(tmp_path / "dev" / "ackflow.db")))  # the case, as dev keeps it
        try:
            [estimate] = runtime.store.docs.get("cases", case)["estimates"]
        finally:
            runtime.close()
        assert estimate["link"] == f"{freee}/web/reports/quotations/{quotation['id']}"  # the card's link to it
        # and the rest of the flow, as the office types it: v2 from v1, ordered, delivered, the
        # invoice in freee, paid in two parts
        number = None
        for command, said in ((f'estimate {case} --item "弁当:3:800:8%"', "estimate version: 2"),
                              (f"ordered {case}", "accepted estimate: v2"), (f"delivered {case}", "status: 納品"),
                              (f"invoice {case}", "invoice: INV-"), (f"paid {case} --amount 100,000", "status: 請求"),
                              (f"入金 {case} 金額：287,592円", "status: 入金")):
            done = subprocess.run([sys.executable, "-m", "ackflow_tools", "chat", command, "--yes", "--locale", "en"],
                                  cwd=tmp_path, env=no_settings_env(ACKFLOW_DEV_DIR=str(tmp_path / "dev")),
                                  capture_output=True, text=True, timeout=180)
            assert done.returncode == 0 and said in done.stdout, (command, done.stdout + done.stderr)
            number = re.search(r"invoice: (INV-\d{4}-\d{4})", done.stdout) or number
        state = requests.get(f"{freee}/_emulator/state", timeout=10).json()
        [invoice] = state["invoices"]  # one, with our number and totals per rate
        assert invoice["invoice_number"] == number.group(1)
        assert (invoice["amount_excluding_tax_10"], invoice["amount_tax_10"]) == (350000, 35000)
        assert (invoice["amount_excluding_tax_8_reduced"], invoice["amount_tax_8_reduced"]) == (2400, 192)
        assert {q["quotation_number"] for q in state["quotations"]} == {f"{case}-v1", f"{case}-v2"}
        assert len(state["refresh_uses"]) == len(set(state["refresh_uses"]))
        runtime = Runtime(Settings(sqlite_path=str(tmp_path / "dev" / "ackflow.db")))
        try:
            record = runtime.store.docs.get("cases", case)
        finally:
            runtime.close()
        assert [h["status"] for h in record["history"]] == ["受付", "見積提出", "受注", "納品", "請求", "入金"]
    finally:
        end(proc)


def test_dev_with_storage_drive_opens_a_case_in_the_local_shared_drive_with_links_that_open(tmp_path):
    """`ackflow dev --storage drive` (docs/running.md): the office workflow on the local Drive
    stand-in, the case folder copied from the template into the shared drive's parent folder, and
    the links of the result card (the folder, the estimate) opening in a browser."""
    from ackflow_tools.devtools.drive import PARENT_FOLDER
    from tests.support.drive import tree

    offset = free_offset()
    proc = start_dev(tmp_path / "dev", offset, "--storage", "drive", "--no-mail")
    try:
        started = read_until(proc, "Ctrl-C stops everything")
        drive = f"http://127.0.0.1:{DEFAULT_PORTS['drive'] + offset}"
        assert f"Google Drive   {drive}/drive/folders/" in started, started
        done = subprocess.run([sys.executable, "-m", "ackflow_tools", "chat",
                               'newcase ACME "ドライブ 金型 D-1" --item "金型設計:1:350000"', "--yes"], cwd=tmp_path,
                              env=no_settings_env(ACKFLOW_DEV_DIR=str(tmp_path / "dev")), capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        case = re.search(r"\b(\d{4}-\d{3})\b", done.stdout.split("SUCCEEDED")[0].split("✅")[-1]).group(1)
        from ackflow.app.runtime import Runtime
        from ackflow.settings import Settings

        runtime = Runtime(Settings(sqlite_path=str(tmp_path / "dev" / "ackflow.db")))  # the job, as dev keeps it
        try:
            [job] = [j for j in runtime.store.list_jobs(limit=20) if j.type == "newcase"]
        finally:
            runtime.close()
        folder_link, estimate_link = job.result["folder_link"], job.result["estimate_link"]
        assert folder_link.startswith(f"{drive}/drive/folders/") and estimate_link.startswith(f"{drive}/file/d/")
        folder = f"{case}_ACME_ドライブ 金型 D-1"
        made = {path: items for path, items in tree(drive, PARENT_FOLDER).items()  # under the parent folder
                if path == folder or path.startswith(f"{folder}/")}
        assert made[folder][0]["id"] == folder_link.rsplit("/", 1)[-1]
        assert all(len(items) == 1 for items in made.values()), made  # one of each
        assert made[folder][0]["mimeType"] == "application/vnd.google-apps.folder"
        assert made[f"{folder}/03_見積/見積書_{case}_v1.pdf"][0]["webViewLink"] == estimate_link
        assert f"{folder}/02_設計/{case}_打合せメモ" in made  # the template's Google Doc, copied
        page = requests.get(folder_link, timeout=10)
        assert page.status_code == 200 and "03_見積" in page.text
        pdf = requests.get(estimate_link, timeout=10)
        assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    finally:
        end(proc)


def test_children_of_a_dev_killed_during_start_up_or_stop_die_with_it(tmp_path):
    offset = free_offset()
    ports = [port + offset for port in DEFAULT_PORTS.values()]
    chat_port, tasks_port = DEFAULT_PORTS["chat"] + offset, DEFAULT_PORTS["tasks"] + offset
    workdir = tmp_path / "dev"
    # Given a dev killed (SIGKILL: no cleanup runs) while it starts, with services already up
    first = start_dev(workdir, offset)
    try:
        deadline = time.monotonic() + 60
        while not answering(chat_port) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert answering(tasks_port) and answering(chat_port)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(5)
        # Then its children end and free their ports, and the next start works
        assert wait_ports_free(ports) == []
        second = start_dev(workdir, offset)
        try:
            read_until(second, "Ctrl-C stops everything")
            # Given a dev killed while it stops
            os.killpg(second.pid, signal.SIGINT)
            read_until(second, "stopping…", timeout=10)
            os.kill(second.pid, signal.SIGKILL)
            second.wait(5)
            assert wait_ports_free(ports) == []
            # and a state file that a killed run left behind does not stop the next one
            (workdir / "state.json").write_text(json.dumps({"pid": second.pid, "urls": {}, "env": {}}))
            third = start_dev(workdir, offset)
            try:
                read_until(third, "Ctrl-C stops everything")
                # while it runs, a second dev in the same workdir is refused with the reason
                again = subprocess.run([sys.executable, "-m", "ackflow_tools", "dev", "--workdir", str(workdir),
                                        "--port-offset", str(free_offset())], env=no_settings_env(),
                                       capture_output=True, text=True, timeout=60)
                assert again.returncode == 1 and "already running in" in again.stderr, again.stderr
            finally:
                end(third)
        finally:
            end(second)
    finally:
        if first.poll() is None:
            os.kill(first.pid, signal.SIGKILL)


def _boxes(out: str) -> list[list[str]]:
    """The dialogs drawn in ``out``, each as its lines."""
    boxes, current = [], None
    for line in out.splitlines():
        if line.startswith("┌"):
            current = [line]
        elif current is not None:
            current.append(line)
            if line.startswith("└"):
                boxes.append(current)
                current = None
    return boxes


def test_chat_speaks_as_a_person_of_the_locale_time_zone_and_platform_it_is_given(running):
    """`ackflow chat --locale ja --tz ZONE --platform IOS` sends them with the event as Chat does
    (userLocale, timeZone, platform): the job is asked in Japanese on Tokyo's clock, its details
    say when on the clock of the zone given, and a phone gets the short help."""
    from ackflow.i18n import Speaker

    where = ("--locale", "ja", "--chat-url", running.chat_url, "--space", "spaces/cli-client")
    done = ackflow(running, "chat", "echo 時計", "--yes", "--tz", "Asia/Tokyo", *where)
    assert done.returncode == 0, done.stdout + done.stderr
    job = running.store.get_job(re.search(r"job (j\w+): SUCCEEDED", done.stdout)[1])
    assert (job.requester.language, job.requester.time_zone) == ("ja", "Asia/Tokyo")
    for zone in ("Asia/Tokyo", "America/New_York"):
        shown = ackflow(running, "chat", f"状況 {job.id}", "--tz", zone, *where)
        moment = Speaker("ja", zone).moment(job.created_at)
        assert shown.returncode == 0 and moment in shown.stdout, (moment, shown.stdout)
    web, phone = (ackflow(running, "chat", "ヘルプ", "--platform", platform, *where) for platform in ("WEB", "IOS"))
    assert "できること" in web.stdout and "できること" in phone.stdout
    assert "@メンション" in web.stdout and "@メンション" not in phone.stdout, phone.stdout  # the help's last section


def test_dialog_fills_in_a_form_in_japanese_on_a_phone_and_a_wrong_value_comes_back_marked(running):
    from ackflow_tools.devtools.dialogcli import cell_width

    client = ("--locale", "ja", "--tz", "Asia/Tokyo", "--platform", "IOS", "--chat-url", running.chat_url,
              "--space", "spaces/clidlg")
    wrong = ackflow(running, "dialog", "sleep", "--set", "秒数=たくさん", *client)
    assert wrong.returncode == 1 and "errors" in wrong.stderr
    box = _boxes(wrong.stdout)[-1]
    assert any(line.startswith("│ ! ") and "たくさん" in line for line in box)  # the error, marked, in the form
    assert len({cell_width(line) for line in box}) == 1, box  # a straight right edge under Japanese
    assert "[ 次へ ]" in box[-2]
    closed = ackflow(running, "dialog", "--cancel", *client)
    assert closed.returncode == 0 and "何も実行していません" in closed.stdout
    done = ackflow(running, "dialog", "sleep", "--set", "秒数=1", "--yes", *client)
    assert done.returncode == 0, done.stderr
    assert "秒数 (seconds)" in done.stdout and "1 秒待ちます" in done.stdout  # the card speaks Japanese too
    assert re.search(r"job j\w+: SUCCEEDED", done.stdout)


def test_dialog_adds_lines_for_a_repeated_parameter_and_chat_shows_an_opened_form(running):
    shown = ackflow(running, "chat", "/echo", "--locale", "en", "--chat-url", running.chat_url, "--space", "spaces/clf")
    assert shown.returncode == 0 and "ackflow dialog" in shown.stdout and _boxes(shown.stdout)
    # newcase: a form with repeated lines that needs no case to exist (an estimate's form refuses a
    # case number the store does not know before its card)
    out = ackflow(running, "dialog", "newcase", "ACME", "金型 A-12", "--line", "設計:1:350000", "--line",
                  "立会い:2:40000", "--locale", "en", "--chat-url", running.chat_url, "--space", "spaces/cll")
    assert out.returncode == 0, out.stderr + out.stdout
    boxes = _boxes(out.stdout)
    assert any("item.2.0" in line for line in boxes[-1])  # a second line was added before submitting
    assert "Open a new case for ACME: “金型 A-12”" in out.stdout


def test_dev_on_a_machine_without_java_runs_without_mail_and_says_so(tmp_path):
    """The README's quick start on a machine without Java: the mailbox (the Pub/Sub emulator needs
    Java) is left out with a note, and the rest of the pipeline runs."""
    bin_dir = tmp_path / "bin"  # the machine's programs, except java
    bin_dir.mkdir()
    system = [d for d in os.environ["PATH"].split(os.pathsep) if Path(d).resolve() == Path("/usr/bin")]
    for directory in system:
        for program in Path(directory).iterdir():
            if program.name != "java" and not (bin_dir / program.name).exists():
                (bin_dir / program.name).symlink_to(program)
    path = os.pathsep.join([d for d in os.environ["PATH"].split(os.pathsep) if d not in system] + [str(bin_dir)])
    assert shutil.which("java", path=path) is None
    offset = free_offset()
    proc = subprocess.Popen([sys.executable, "-m", "ackflow_tools", "dev", "--port-offset", str(offset),
                             "--workdir", str(tmp_path / "dev"), "--sweep-interval", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=no_settings_env(PATH=path), start_new_session=True)
    try:
        out = read_until(proc, "Ctrl-C stops everything")
        assert "mail off: java is not installed" in out
        done = subprocess.run([sys.executable, "-m", "ackflow_tools", "chat", "echo no java", "--yes"], cwd=tmp_path,
                              env=no_settings_env(ACKFLOW_DEV_DIR=str(tmp_path / "dev")), capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0 and re.search(r"job j\w+: SUCCEEDED", done.stdout), done.stdout + done.stderr
    finally:
        end(proc)
    refused = subprocess.run([sys.executable, "-m", "ackflow_tools", "dev", "--mail", "--port-offset",
                              str(free_offset()), "--workdir", str(tmp_path / "dev2")], env=no_settings_env(PATH=path),
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "java is not installed" in refused.stdout + refused.stderr


def test_dialog_without_a_command_fills_in_the_form_a_button_opened(running):
    """A form a button opened (a usage reply's Fill in here; a mail card's 案件を作成 in the office) is
    filled in and submitted by ``ackflow dialog`` without a command; with none open it says how to
    open one, and starts nothing."""
    where = ("--locale", "en", "--chat-url", running.chat_url, "--space", "spaces/clibtn")
    none = ackflow(running, "dialog", "--set", "seconds=1", *where)
    assert none.returncode == 2 and "no form is open for you in spaces/clibtn" in none.stderr, none.stderr
    usage = ackflow(running, "chat", "sleep", *where)
    assert usage.returncode == 0 and "Fill in" in usage.stdout, usage.stdout
    opened = ackflow(running, "click", "Fill in", "--no-follow", *where)
    assert opened.returncode == 0 and _boxes(opened.stdout), opened.stdout + opened.stderr
    shown = ackflow(running, "dialog", "--show", *where)
    assert shown.returncode == 0 and _boxes(shown.stdout)[-1] == _boxes(opened.stdout)[-1]
    done = ackflow(running, "dialog", "--set", "seconds=1", "--yes", *where)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"job j\w+: SUCCEEDED", done.stdout), done.stdout


def test_dev_in_another_language_and_time_zone_has_its_console_and_office_in_them(tmp_path):
    """`ackflow dev --language en --time-zone Europe/London`: the console it starts speaks English
    and shows London's times (it showed Japanese and Asia/Tokyo, the digest's “09:00 (the office's
    time zone)” beside a next run at 18:00), and the office's dates follow that zone too
    (ACKFLOW_OFFICE_TIMEZONE; `ackflow config` noted the two zones differed)."""
    offset = free_offset()
    proc = start_dev(tmp_path / "dev", offset, "--language", "en", "--time-zone", "Europe/London", "--no-mail")
    try:
        read_until(proc, "Ctrl-C stops everything")
        page = requests.get(f"http://127.0.0.1:{DEFAULT_PORTS['console'] + offset}/periodic", timeout=10).text
        assert '<html lang="en">' in page
        footer = re.search(r'<footer class="foot">(.*?)</footer>', page, re.S).group(1)
        assert footer.rstrip().endswith("Europe/London") and "Asia/Tokyo" not in footer, footer
        runs = re.findall(r"<dt>Next run</dt><dd><time[^>]*>([^<]*)</time></dd>", page)
        assert runs and all(run.endswith(", 9:00") for run in runs), runs
        config = subprocess.run([sys.executable, "-m", "ackflow_tools", "config"], cwd=tmp_path,
                                env=no_settings_env(ACKFLOW_DEV_DIR=str(tmp_path / "dev")), capture_output=True,
                                text=True, timeout=60)
        assert config.returncode == 0, config.stdout + config.stderr
        assert re.search(r"ACKFLOW_OFFICE_TIMEZONE\s+Europe/London", config.stdout), config.stdout
        assert "differs from ACKFLOW_TIME_ZONE" not in config.stdout + config.stderr
    finally:
        end(proc)
