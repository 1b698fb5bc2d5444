"""The CLI's choice of pipeline: which settings it reads, and what it says when there is none.

Each test runs the real ``ackflow`` command in a fresh folder with no ``ackflow dev`` around,
except the state file a test writes itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import click
import pytest

from ackflow.app.runtime import Runtime
from ackflow.jobs.model import Job, JobStatus, Requester, StepState
from ackflow.settings import Settings
from ackflow_tools.cli.common import setting_variables
from ackflow_tools.cli.main import cli
from tests.support.console import console_process
from tests.support.pipeline import ROOT


def ackflow(cwd, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("ACKFLOW_")}
    return subprocess.run([sys.executable, "-m", "ackflow_tools", *args], cwd=cwd, capture_output=True, text=True,
                          env={**clean, "PYTHONPATH": str(ROOT), **env}, timeout=60)


def dev_state(workdir, *, pid: int, chat: str = "http://127.0.0.1:1/", **env: str) -> None:
    """A state file as `ackflow dev` writes it, with a SQLite store holding one job."""
    db = workdir / "ackflow.db"
    store = Runtime(Settings(sqlite_path=str(db))).store
    now = time.time()
    store.create_job(Job(id="jdev1", type="echo", params={"text": "hi"}, requester=Requester("users/1", "a@x.jp"),
                         space="spaces/s", thread=None, queue="ackflow-default", steps=(StepState("echo"),),
                         created_at=now, updated_at=now))
    store.close()
    (workdir / "state.json").write_text(json.dumps({
        "urls": {"chat": chat}, "pid": pid,
        "env": {"ACKFLOW_SQLITE_PATH": str(db), "ACKFLOW_STORE": "sqlite", **env}}))


def _option_variables(command: click.Command, prefix: str):
    for param in command.params:
        if isinstance(param, click.Option):
            yield f"{prefix}_{param.name.upper()}"
    for name, sub in getattr(command, "commands", {}).items():
        yield from _option_variables(sub, f"{prefix}_{name.replace('-', '_').upper()}")


def test_only_settings_choose_the_environment_over_the_running_dev():
    assert setting_variables({"ACKFLOW_JOBS_LIMIT": "5", "ACKFLOW_OPERATOR": "me", "ACKFLOW_DEV_DIR": "d"}) == []
    assert setting_variables({"ACKFLOW_STORE": "firestore", "ACKFLOW_JOBS_LIMIT": "5"}) == ["ACKFLOW_STORE"]


def shown_settings(output: str) -> dict[str, str]:
    """``ackflow config``'s settings: a variable and its value on a line, its description below."""
    return {(line.split(None, 1) + [""])[0]: (line.split(None, 1) + [""])[1]
            for line in output.splitlines() if line.startswith("ACKFLOW_")}


def test_the_office_settings_are_settings_too():
    assert setting_variables({"ACKFLOW_OFFICE_NAME": "x", "ACKFLOW_JOBS_LIMIT": "5"}) == ["ACKFLOW_OFFICE_NAME"]


def test_config_shows_the_running_devs_office_settings_never_a_mix(tmp_path):
    # docs/running.md: the settings of the shell, or else the running `ackflow dev`'s, never a mix; the
    # office's were read from the shell, so `ackflow config` denied the sample issuer dev runs with
    workdir = tmp_path / ".ackflow" / "dev"
    workdir.mkdir(parents=True)
    dev_state(workdir, pid=os.getpid(), ACKFLOW_OFFICE_NAME="サンプル設計事務所",
              ACKFLOW_OFFICE_REGISTRATION_NUMBER="T7123456789012", ACKFLOW_OFFICE_BANK_ACCOUNT="見本銀行 普通 1",
              ACKFLOW_OFFICE_LOCAL_ROOT=str(workdir / "cases"))
    shown = ackflow(tmp_path, "config")
    assert shown.returncode == 0, shown.stderr
    settings = shown_settings(shown.stdout)
    assert settings["ACKFLOW_SQLITE_PATH"] == str(workdir / "ackflow.db")
    assert settings["ACKFLOW_OFFICE_NAME"] == "サンプル設計事務所"
    assert settings["ACKFLOW_OFFICE_LOCAL_ROOT"] == str(workdir / "cases")
    assert "invoices cannot be issued" not in shown.stderr
    # an office setting in the shell is the shell's choice: all of its settings, none of dev's
    own = ackflow(tmp_path, "config", ACKFLOW_OFFICE_NAME="山田金型設計事務所")
    settings = shown_settings(own.stdout)
    assert settings["ACKFLOW_OFFICE_NAME"] == "山田金型設計事務所"
    assert settings["ACKFLOW_SQLITE_PATH"] == ".ackflow/ackflow.db"
    assert settings["ACKFLOW_OFFICE_LOCAL_ROOT"] == ".ackflow/cases"


def test_no_cli_option_reads_a_variable_that_is_a_setting():
    clashes = [name for name in _option_variables(cli, "ACKFLOW") if setting_variables({name: "x"})]
    assert clashes == []


def test_a_cli_option_variable_does_not_hide_the_running_dev(tmp_path):
    workdir = tmp_path / "dev"
    workdir.mkdir()
    dev_state(workdir, pid=os.getpid())
    listed = ackflow(tmp_path, "jobs", ACKFLOW_DEV_DIR=str(workdir), ACKFLOW_JOBS_LIMIT="5",
                     ACKFLOW_OPERATOR="ops@example.com")
    assert listed.returncode == 0, listed.stderr
    assert "jdev1" in listed.stdout
    assert not (tmp_path / ".ackflow").exists()


def test_jobs_with_no_dev_running_says_so_and_creates_no_store(tmp_path):
    listed = ackflow(tmp_path, "jobs")
    assert listed.returncode == 1
    assert "no `ackflow dev` is running here" in listed.stderr and "ACKFLOW_DEV_DIR" in listed.stderr
    assert not (tmp_path / ".ackflow").exists()
    named = ackflow(tmp_path, "jobs", "dead", ACKFLOW_SQLITE_PATH=str(tmp_path / "nothing.db"))
    assert named.returncode == 1 and "no job store at" in named.stderr and "ACKFLOW_SQLITE_PATH" in named.stderr
    assert not (tmp_path / "nothing.db").exists()


def test_a_state_left_by_a_killed_dev_is_not_followed(tmp_path):
    workdir = tmp_path / ".ackflow" / "dev"
    workdir.mkdir(parents=True)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dev_state(workdir, pid=gone.pid)
    listed = ackflow(tmp_path, "jobs")
    assert listed.returncode == 1 and "no longer running" in listed.stderr


def test_following_a_job_of_another_pipelines_chat_service_is_refused_before_anything_is_sent(tmp_path):
    workdir = tmp_path / ".ackflow" / "dev"
    workdir.mkdir(parents=True)
    dev_state(workdir, pid=os.getpid(), chat="http://127.0.0.1:1/")
    # no service listens at :2; the refusal comes first, so nothing is sent or pressed
    asked = ackflow(tmp_path, "chat", "echo hi", "--yes", "--chat-url", "http://127.0.0.1:2")
    assert asked.returncode == 1
    assert "is not the Chat service of the `ackflow dev`" in asked.stderr, asked.stderr
    pressed = ackflow(tmp_path, "click", "run", "--chat-url", "http://127.0.0.1:2", ACKFLOW_DEV_DIR=str(tmp_path))
    assert pressed.returncode == 1 and "cannot follow" in pressed.stderr, pressed.stderr


@pytest.mark.parametrize("args", [("click", "cancel"), ("click", "run", "--no-follow"), ("chat", "echo hi")])
def test_a_chat_service_that_does_not_answer_is_named_not_a_traceback(tmp_path, args):
    done = ackflow(tmp_path, *args, "--chat-url", "http://127.0.0.1:2")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "nothing answers at http://127.0.0.1:2: is `ackflow dev` running" in done.stderr, done.stderr


def test_a_service_that_does_not_answer_is_named_with_the_option_of_the_command_that_sets_it(tmp_path):
    """`ackflow mail receive` reaches the Gmail stand-in (--gmail-url): the answer named --chat-url,
    an option the command does not have."""
    done = ackflow(tmp_path, "mail", "receive", "--from", "a@acme.example", "--subject", "s",
                   "--gmail-url", "http://127.0.0.1:2", "--to", "office@example.com")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "nothing answers at http://127.0.0.1:2: is `ackflow dev` running, and is the URL right " \
           "(--gmail-url)?" in done.stderr, done.stderr


@pytest.mark.parametrize("email", ["bob@example.com", "山田@example.jp"])
def test_a_chat_user_has_the_same_id_in_every_process(email):
    code = f"from ackflow_tools.cli.chat import chat_user; print(chat_user({email!r})['name'])"
    names = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(names) == 1 and names.pop().startswith("users/")


def terminal_columns(text: str) -> int:
    """Columns a terminal gives ``text`` (wcwidth's rules for what a card holds): East Asian wide and
    full-width characters and emoji two, combining and format characters none, the rest one."""
    import unicodedata

    return sum(0 if unicodedata.category(c) in ("Mn", "Me", "Cf") else
               2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


@pytest.mark.parametrize(("text", "columns"), [("ACME", 4), ("金型", 4), ("ＡＣＭＥ", 8), ("ｶﾀｶﾅ", 4), ("🚀", 2),
                                               ("か\u3099", 2), ("「」", 4), ("\u200b", 0)])
def test_cell_width_counts_as_a_terminal_does(text, columns):
    from ackflow_tools.devtools.dialogcli import cell_width

    assert cell_width(text) == columns


def test_ackflow_chat_draws_japanese_cards_with_a_straight_right_edge():
    from ackflow.app import views
    from ackflow.chat.events import EventFormat
    from ackflow.chat.replies import message_json
    from ackflow.i18n import Speaker
    from ackflow_tools.devtools.chatcli import render_message
    from ackflow_tools.devtools.dialogcli import cell_width
    from workers.job_types import build_registry

    registry = build_registry(Settings())
    for speaker in (Speaker("ja", "Asia/Tokyo"), Speaker("en", "UTC")):
        reply = views.help_card(registry, {"help", "status", "newcase", "estimate", "case"}, speaker,
                                "ＡＣＭＥ「プレス金型」🚀 " * 8)
        drawn = render_message(message_json(reply, EventFormat.CLASSIC, "https://a/"))
        box = [line for line in drawn.splitlines() if line.startswith("  ") and line.strip()[:1] in "┌│└"]
        assert len(box) > 5 and {cell_width(line) for line in box} == {78}, drawn
        assert {terminal_columns(line) for line in box} == {78}, drawn  # as a terminal counts them, not as we do
        if speaker.language == "ja":
            assert "新規案件 顧客 件名" in drawn and "できること" in drawn


def test_ackflow_chat_never_starts_a_japanese_line_with_a_closing_bracket_or_a_full_stop():
    """Japanese text in a card's box broke before 」 and 。 (「状況 j…」 drawn as "…「状況 j…" and
    "」で確認…", a help line's 。 alone on the next line): a line breaks before the character that
    precedes them, or at a space in the line's second half counted in columns."""
    from ackflow.app import views
    from ackflow.i18n import Speaker
    from ackflow_tools.devtools.chatcli import _NO_LINE_START, plain, wrapped
    from ackflow_tools.devtools.dialogcli import cell_width
    from workers.job_types import build_registry

    said = "進み具合と結果はこのスレッドでお知らせします。いつでも「状況 jiitrr5d2bw」で確認できます。"
    assert wrapped(said, 72) == ["進み具合と結果はこのスレッドでお知らせします。いつでも「状況",
                                 "jiitrr5d2bw」で確認できます。"]
    assert wrapped("案件を表示します: 状況と履歴、見積、請求書、資料、ジョブ。", 56)[-1] == "ブ。"
    assert wrapped("a" * 10 + "」。", 10) == ["a" * 9, "a」。"]  # the closing marks go down together
    card = views.help_card(build_registry(Settings()), {"help", "status", "jobs", "cancel", "retry", "newcase",
                                                         "estimate", "case", "cases"}, Speaker("ja", "Asia/Tokyo"))
    texts = [plain(str(widget.text)) for section in card.card.sections for widget in section.widgets]
    for width in range(12, 80):
        for text in texts:
            lines = wrapped(text, width)
            assert all(cell_width(line) <= width for line in lines), (width, lines)
            starts = [line for line in lines[1:] if line[:1] in _NO_LINE_START]
            assert "".join(lines) == text.replace("\n", "") or " " in text, (width, lines)
            assert not starts, (width, starts)


def test_ackflow_dialog_drops_bidi_and_control_characters_from_values_so_the_box_stays_straight():
    import unicodedata

    from ackflow_tools.devtools.dialogcli import cell_width, render_dialog

    steering = "\u202eevil\u202c \u2066iso\u2069 \u200f\x1b[31mred\x1b[0m\tback\x08\r\x9b"
    card = {"header": {"title": "新規案件\u202e"}, "sections": [{"widgets": [
        {"textInput": {"name": "title", "label": "件名\u202d", "value": steering}},
        {"textParagraph": {"text": "ＡＣＭＥ\u2067「金型」"}}]}],
        "fixedFooter": {"primaryButton": {"text": "次へ\x1b]0;owned\x07"}}}
    drawn = render_dialog(card, width=60)
    lines = drawn.splitlines()
    assert {cell_width(line) for line in lines} == {terminal_columns(line) for line in lines} == {60}, drawn
    bidi = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert not [c for c in drawn if c in bidi or (c != "\n" and unicodedata.category(c) == "Cc")], repr(drawn)
    assert "件名 (title): evil iso [31mred[0m back" in drawn and "次へ]0;owned" in drawn


def test_free_ports_are_handed_out_below_the_kernels_ephemeral_range_once_each():
    """Outgoing connections take source ports from the ephemeral range (as does a bind to port 0):
    a port handed to a child there could be taken before the child binds it."""
    from ackflow_tools.devtools.procs import PORTS_BELOW_EPHEMERAL, ephemeral_ports_start, free_port, port_free

    top = ephemeral_ports_start()
    ports = [free_port() for _ in range(50)]
    assert all(top - PORTS_BELOW_EPHEMERAL <= port < top for port in ports)
    assert len(set(ports)) == len(ports) and all(port_free("127.0.0.1", port) for port in ports)


class ScriptedThread:
    """The terminal's view of a space, fed by a script: each step is one batch of changes."""

    def __init__(self, steps):
        self.steps, self.messages = list(steps), {}

    def by_client_id(self, client_id):
        return next((m for m in self.messages.values() if m.get("clientAssignedMessageId") == client_id), None)

    def follow(self, done, timeout):
        while True:
            if done():
                return True
            if not self.steps:
                return False
            self.steps.pop(0)(self)


def test_ackflow_chat_follows_a_job_until_its_result_is_written_not_a_late_progress_edit(tmp_path, capsys):
    """A progress edit the space's budget let out after the job finished is written later than
    the finish, yet is not the result: the terminal waits for the store to say the result is written."""
    from ackflow_tools.cli.chat import _follow_job

    store = Runtime(Settings(sqlite_path=str(tmp_path / "jobs.db"))).store
    now = time.time()
    store.create_job(Job(id="jlate1", type="echo", params={}, requester=Requester("users/1", "a@x.jp"),
                         space="spaces/s", thread=None, queue="q", steps=(StepState("echo"),), created_at=now,
                         updated_at=now))
    store.update_job("jlate1", lambda job: job.replace(status=JobStatus.SUCCEEDED, finished_at=now, message_due=True))

    def late_progress(thread):
        thread.messages["m"] = {"clientAssignedMessageId": "client-jlate1", "text": "Running · step 1/1",
                                "lastUpdateTime": "2999-01-01T00:00:00Z"}

    def result(thread):
        thread.messages["m"] = {"clientAssignedMessageId": "client-jlate1", "text": "Done"}
        store.update_job("jlate1", lambda job: job.replace(message_due=False, message_shown_at=time.time()))

    thread = ScriptedThread([late_progress, result])
    runtime = type("R", (), {"store": store})()
    _follow_job(thread, runtime, "jlate1", timeout=5)
    assert thread.messages["m"]["text"] == "Done" and not thread.steps
    assert "job jlate1: SUCCEEDED" in capsys.readouterr().out


def test_jobs_requester_finds_an_address_however_it_is_typed(tmp_path, monkeypatch):
    """``ackflow jobs --requester`` finds a person's jobs in any case, as the console's filter does;
    a job stored before the lowercase copy of the address by the address as stored."""
    from ackflow.jobs.model import REQUESTER_LOWER
    from ackflow.store.documents import JOBS

    db = tmp_path / "jobs.db"
    store = Runtime(Settings(sqlite_path=str(db))).store
    now = time.time()
    for n, (job_id, email) in enumerate((("jmixed1", "Alice@Example.com"), ("jlower1", "alice@example.com"),
                                         ("jbob1", "bob@example.com"))):
        store.create_job(Job(id=job_id, type="echo", params={}, requester=Requester("users/1", email),
                             space="spaces/s", thread=None, queue="q", steps=(StepState("echo"),),
                             created_at=now - n, updated_at=now - n))
    old = Job(id="jold1", type="echo", params={}, requester=Requester("users/1", "Alice@Example.com"),
              space="spaces/s", thread=None, queue="q", steps=(StepState("echo"),), created_at=now - 9,
              updated_at=now - 9).to_dict()
    del old[REQUESTER_LOWER]
    store.docs.transaction(lambda tx: tx.create(JOBS, "jold1", old))
    store.close()

    from click.testing import CliRunner

    for name in [n for n in os.environ if n.upper().startswith("ACKFLOW_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ACKFLOW_SQLITE_PATH", str(db))
    monkeypatch.chdir(tmp_path)

    def listed(typed: str, *more: str) -> list[str]:  # in this process: the code under test, wherever it is
        done = CliRunner().invoke(cli, ["jobs", "--requester", typed, *more])
        assert done.exit_code == 0, done.output
        return [line.split()[0] for line in done.output.splitlines()[1:]]

    assert listed("alice@example.com") == ["jmixed1", "jlower1"]
    assert listed("ALICE@example.com") == ["jmixed1", "jlower1"]
    assert listed("Alice@Example.com") == ["jmixed1", "jlower1", "jold1"]  # the older job, as stored
    # with a status as well (the store reads both at once now: "not both" was the older read's limit)
    assert listed("ALICE@example.com", "--status", "QUEUED") == ["jmixed1", "jlower1"]
    done = CliRunner().invoke(cli, ["jobs", "--requester", "alice@example.com", "--status", "FAILED"])
    assert done.output == "no jobs\n"
    assert listed(" Alice@Example.com ") == ["jmixed1", "jlower1", "jold1"]  # pasted with its spaces, as the console
    for limit in ("0", "-1"):  # refused: not "no jobs", nor every job (SQLite's LIMIT -1)
        assert CliRunner().invoke(cli, ["jobs", "--limit", limit]).exit_code == 2


def test_jobs_show_says_when_chat_refused_a_finished_jobs_result_for_good(tmp_path):
    """Chat refused the final write for good (the space is gone, the app removed): the job is no
    longer owed a message and was never shown. The operator must read that, not "running"."""
    db = tmp_path / "jobs.db"
    store = Runtime(Settings(sqlite_path=str(db))).store
    now = time.time()
    for job_id, shown_at in (("jrefused1", None), ("jshown1", now)):
        store.create_job(Job(id=job_id, type="echo", params={}, requester=Requester("users/1", "a@x.jp"),
                             space="spaces/gone", thread=None, queue="q", steps=(StepState("echo"),),
                             created_at=now, updated_at=now))
        store.update_job(job_id, lambda job, at=shown_at: job.replace(
            status=JobStatus.SUCCEEDED, finished_at=now, message_due=False, message_shown_at=at))
    store.close()
    refused = ackflow(tmp_path, "jobs", "show", "jrefused1", ACKFLOW_SQLITE_PATH=str(db))
    line = next(x for x in refused.stdout.splitlines() if x.strip().startswith("message"))
    assert "never shown" in line and "running" not in line, refused.stdout
    shown = ackflow(tmp_path, "jobs", "show", "jshown1", ACKFLOW_SQLITE_PATH=str(db))
    assert "result shown" in shown.stdout, shown.stdout


def test_jobs_show_says_a_step_with_nothing_to_do_was_not_needed(tmp_path):
    from ackflow.jobs.context import nothing_to_do
    from ackflow.jobs.model import StepStatus

    db = tmp_path / "jobs.db"
    store = Runtime(Settings(sqlite_path=str(db))).store
    now = time.time()
    steps = (StepState("echo", status=StepStatus.SUCCEEDED, attempts=1, output={"text": "x"}),
             StepState("mail", status=StepStatus.SUCCEEDED, attempts=1, output=nothing_to_do({"text": "x"})))
    store.create_job(Job(id="jnone0000001", type="echo", params={}, requester=Requester("users/1", "a@x.jp"),
                         space=None, thread=None, queue="q", steps=steps, created_at=now, updated_at=now,
                         status=JobStatus.SUCCEEDED, current=2, finished_at=now))
    store.close()
    shown = ackflow(tmp_path, "jobs", "show", "jnone0000001", ACKFLOW_SQLITE_PATH=str(db)).stdout
    assert "step 1 echo: SUCCEEDED, 1 attempt(s)" in shown and "step 2 mail: not needed, 1 attempt(s)" in shown, shown


def test_jobs_show_says_a_japanese_requesters_error_in_english_with_what_they_were_told(tmp_path):
    from ackflow.app.audit import stored
    from ackflow.i18n import N_, Msg, speaker_for
    from ackflow.jobs.model import StepStatus

    db = tmp_path / "jobs.db"
    store = Runtime(Settings(sqlite_path=str(db))).store
    now = time.time()
    message = Msg(N_("there is no case {case}; write “cases” to see the open cases and their numbers"),
                  case="2026-099")
    japanese = message.render(speaker_for("ja"))
    assert japanese != str(message)
    run = {"attempt": 1, "error": japanese, "said": stored(message)}
    steps = (StepState("ordered", status=StepStatus.FAILED, attempts=1, error=japanese, runs=(run,)),)
    store.create_job(Job(id="jjapanese001", type="ordered", params={}, requester=Requester("users/1", "a@x.jp"),
                         space=None, thread=None, queue="q", steps=steps, created_at=now, updated_at=now,
                         status=JobStatus.FAILED, finished_at=now, last_error=japanese,
                         last_said=stored(message)))
    store.close()
    shown = ackflow(tmp_path, "jobs", "show", "jjapanese001", ACKFLOW_SQLITE_PATH=str(db)).stdout
    english = f"there is no case 2026-099; write “cases” to see the open cases and their numbers  (told: {japanese})"
    assert f"  error       {english}" in shown and f"      error   {english}" in shown, shown  # the job's, the step's


def test_ackflow_click_run_finds_the_job_of_a_japanese_card_so_it_follows_it():
    """``ackflow click run`` presses 実行 on a Japanese card; the job it follows is read from that
    same button (it printed the queued card and stopped, without the job's result, before)."""
    from ackflow.app import views
    from ackflow.chat.events import EventFormat
    from ackflow.chat.replies import message_json
    from ackflow.i18n import Speaker
    from ackflow.jobs.model import Confirmation
    from ackflow_tools.devtools.chatcli import button_params
    from workers.job_types import build_registry

    job_type = build_registry(Settings()).get("echo")
    confirmation = Confirmation("c1", "t1", "echo", {"text": "こんにちは"}, Requester("users/1"), "spaces/a", None,
                                0.0, 900.0)
    for language, label in (("ja", "実行"), ("en", "Run")):
        card = views.confirmation_card(confirmation, job_type, 900, Speaker(language, "Asia/Tokyo"))
        message = message_json(card, EventFormat.CLASSIC, "https://a/")
        assert button_params(message, label)["confirmation"] == "c1"
        assert button_params(message, "run") == {"confirmation": "c1", "token": "t1"}, language
    assert button_params(message, "nope") == {}


def test_dev_help_names_every_port_the_offset_moves():
    """Someone picking a free --port-offset from ``ackflow dev --help`` checks the ports it names:
    the case folders' server (always on) and Pub/Sub, its relay and Gmail (with mail) were not."""
    from click.testing import CliRunner

    from ackflow_tools.cli.dev import DEFAULT_PORTS

    shown = " ".join(CliRunner().invoke(cli, ["dev", "--help"], terminal_width=400).output.split())
    assert [name for name, port in DEFAULT_PORTS.items() if str(port) not in shown] == []


class _Terminal:
    """The Chat service as `ackflow chat` and `click` see it: one confirmation card in the space;
    pressing its Run button answers as the app answers someone it refuses (a text, no job)."""

    def __init__(self, card: dict):
        from ackflow_tools.devtools.chatcli import Exchange

        self.card, self.exchange = card, Exchange
        self.pressed: list[str] = []

    def send(self, text: str, mention: bool = False):
        return self.exchange({"reply": {"message": self.card}})

    def latest_with_button(self, button: str) -> dict:
        return self.card

    def press(self, button: str, message: dict | None = None):
        self.pressed.append(button)
        return self.exchange({"reply": {"message": {"text": "Only bob or an admin may decide this request."}}}), \
            self.card


def _confirmation_card(store=None) -> dict:
    from ackflow.app import views
    from ackflow.chat.events import EventFormat
    from ackflow.chat.replies import message_json
    from ackflow.i18n import Speaker
    from ackflow.jobs.model import Confirmation
    from workers.job_types import build_registry

    confirmation = Confirmation("c1", "t1", "echo", {"text": "hi"}, Requester("users/2", "bob@example.com"),
                                "spaces/team", None, time.time(), time.time() + 900)
    if store is not None:
        store.create_confirmation(confirmation)
    card = views.confirmation_card(confirmation, build_registry(Settings()).get("echo"), 900, Speaker("en", "UTC"))
    return {**message_json(card, EventFormat.CLASSIC, "https://a/"), "name": "spaces/team/messages/m1"}


def test_the_click_ackflow_chat_suggests_presses_as_the_same_person_in_the_same_space(monkeypatch):
    """`ackflow chat TEXT --user bob@… --space spaces/team` printed `ackflow click run` alone, which
    presses as dev@example.com in spaces/dev: another card, or bob's refused (the app: only bob)."""
    from click.testing import CliRunner

    from ackflow_tools.cli import chat as chat_cli

    opened = []
    monkeypatch.setattr(chat_cli, "_terminal", lambda *args: opened.append(args) or _Terminal(_confirmation_card()))
    done = CliRunner().invoke(cli, ["chat", "echo hi", "--user", "bob@example.com", "--space", "spaces/team",
                                    "--chat-url", "http://127.0.0.1:2", "--locale", "en-US", "--tz", "Europe/London"])
    assert done.exit_code == 0, done.output
    options = ("--space spaces/team --user bob@example.com --chat-url http://127.0.0.1:2 "
               "--locale en-US --tz Europe/London")
    assert f"click run {options}   or   " in done.output and f"click cancel {options})" in done.output, done.output
    default = CliRunner().invoke(cli, ["chat", "echo hi", "--chat-url", "http://127.0.0.1:2"])
    assert "click run --chat-url http://127.0.0.1:2   or   " in default.output, default.output  # spaces/dev: no --space


def test_ackflow_click_run_that_starts_no_job_exits_nonzero(monkeypatch, tmp_path):
    """Run pressed on someone else's request (or an expired card) is refused by the app and starts
    nothing: `ackflow click run` printed the refusal and exited 0, as if the job had run."""
    from click.testing import CliRunner

    from ackflow_tools.cli import chat as chat_cli

    runtime = Runtime(Settings(sqlite_path=str(tmp_path / "a.db")))
    card = _confirmation_card(runtime.store)  # stored, never confirmed: no job
    terminal = _Terminal(card)
    monkeypatch.setattr(chat_cli, "_terminal", lambda *args: terminal)
    monkeypatch.setattr(chat_cli, "_follow_runtime", lambda explicit: runtime)
    done = CliRunner().invoke(cli, ["click", "run", "--space", "spaces/team"])
    runtime.store.close()
    assert terminal.pressed == ["run"]
    assert done.exit_code == 1, done.output
    assert "run was pressed, but no job started: the app's answer is above" in done.output, done.output


def test_ackflow_chat_with_no_dev_running_does_not_send_you_to_a_deployments_settings(tmp_path):
    """The local Chat service exists only under `ackflow dev`: loading a deployment's settings
    (which the error of `jobs` rightly offers) gives `ackflow chat` nothing to talk to."""
    said = ackflow(tmp_path, "chat", "echo hi")
    assert said.returncode == 1 and "no `ackflow dev` is running here" in said.stderr, said.stderr
    assert "operator_env" not in said.stderr and "--chat-url" in said.stderr, said.stderr
    assert "operator_env" in ackflow(tmp_path, "jobs").stderr


def _console_page(cwd, *args: str, **env: str) -> str:
    """The jobs page of a real ``ackflow console ARGS`` on a free port, then the console stopped."""
    import urllib.request

    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("ACKFLOW_")}
    with console_process(list(args), {**clean, "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT)), **env},
                         cwd=cwd) as url, urllib.request.urlopen(url + "/jobs", timeout=30) as answer:
        return answer.read().decode()


def test_console_by_hand_reads_the_deployments_language_and_time_zone_unless_told(tmp_path):
    """The deployment's ACKFLOW_LANGUAGE and ACKFLOW_TIME_ZONE are the pages' defaults (not ja and
    Asia/Tokyo whatever it says); --language and --time-zone still win."""
    db = tmp_path / "ackflow.db"
    store = Runtime(Settings(sqlite_path=str(db))).store
    at = time.time()
    store.create_job(Job(id="jbyhand1", type="echo", params={"text": "hi"}, requester=Requester("users/1", "a@x.jp"),
                         space="spaces/s", thread=None, queue="ackflow-default", steps=(StepState("echo"),),
                         created_at=at, updated_at=at))
    store.close()
    deployment = {"ACKFLOW_SQLITE_PATH": str(db), "ACKFLOW_LANGUAGE": "en", "ACKFLOW_TIME_ZONE": "America/New_York",
                  "ACKFLOW_DEV_DIR": str(tmp_path / "nodev")}
    page = _console_page(tmp_path, **deployment)
    assert '<html lang="en">' in page and "· America/New_York</footer>" in page
    told = _console_page(tmp_path, "--language", "ja", "--time-zone", "Europe/Berlin", **deployment)
    assert '<html lang="ja">' in told and "· Europe/Berlin</footer>" in told
    unset = _console_page(tmp_path, ACKFLOW_SQLITE_PATH=str(db), ACKFLOW_DEV_DIR=str(tmp_path / "nodev"))
    assert '<html lang="ja">' in unset and "· Asia/Tokyo</footer>" in unset


def test_console_help_names_the_deployments_settings_as_its_defaults():
    from click.testing import CliRunner

    shown = " ".join(CliRunner().invoke(cli, ["console", "--help"], terminal_width=200).output.split())
    assert "ACKFLOW_LANGUAGE if set, else ja" in shown and "ACKFLOW_TIME_ZONE if set, else Asia/Tokyo" in shown
    docs = " ".join((ROOT / "docs" / "console.md").read_text().split())
    assert "in the deployment's language with times in its time zone (`ACKFLOW_LANGUAGE`, `ACKFLOW_TIME_ZONE`" in docs
