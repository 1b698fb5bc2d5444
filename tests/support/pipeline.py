"""Drive a running LocalStack as people and as the queue would: send, click, wait, look."""

from __future__ import annotations

import json
import time
from pathlib import Path

import requests

from ackflow.jobs.model import Job, JobStatus
from ackflow_tools.devtools.stack import INVOKER, LocalStack

ROOT = Path(__file__).resolve().parents[2]
FAST_QUEUES = Path(__file__).with_name("fast_queues.json")

ALICE = {"name": "users/1001", "displayName": "Alice", "email": "alice@example.com"}
BOB = {"name": "users/1002", "displayName": "Bob", "email": "bob@example.com"}


class Pipeline:
    def __init__(self, stack: LocalStack, fmt: str):
        self.stack = stack
        self.fmt = fmt
        self.runtime = stack.runtime()
        self.store = self.runtime.store
        self.chat_url = stack.url("chat")
        self.http = requests.Session()

    # -- as a person -----------------------------------------------------------------------------
    def send(self, text: str, space: str = "spaces/e2e", user: dict = ALICE, **extra) -> dict:
        body = {"text": text, "user": user, "format": self.fmt, **extra}
        response = self.http.post(f"{self.chat_url}/_emulator/{space}:send", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def click(self, message: dict, button: str, space: str = "spaces/e2e", user: dict = ALICE, **extra) -> dict:
        body = {"message": message["name"], "button": button, "user": user, "format": self.fmt, **extra}
        response = self.http.post(f"{self.chat_url}/_emulator/{space}:click", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def submit_dialog(self, button: str, inputs: dict | None = None, space: str = "spaces/e2e", user: dict = ALICE,
                      **extra) -> dict:
        """Press ``button`` in the person's open dialog with these ``formInputs``."""
        body = {"button": button, "formInputs": inputs or {}, "user": user, **extra}
        response = self.http.post(f"{self.chat_url}/_emulator/{space}:submitDialog", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def cancel_dialog(self, space: str = "spaces/e2e", user: dict = ALICE, **extra) -> dict:
        response = self.http.post(f"{self.chat_url}/_emulator/{space}:cancelDialog", json={"user": user, **extra},
                                  timeout=60)
        response.raise_for_status()
        return response.json()

    def open_dialog(self, space: str = "spaces/e2e", user: dict = ALICE) -> dict | None:
        response = self.http.get(f"{self.chat_url}/_emulator/{space}/dialog", params={"user": user["name"]})
        return response.json()["dialog"] if response.status_code == 200 else None

    def card_text(self, message: dict) -> str:
        return json.dumps(message, ensure_ascii=False)

    def start(self, text: str, space: str = "spaces/e2e", user: dict = ALICE, **client) -> str:
        """Send a job command, press Run (in whatever language the card speaks), and return the new job's id."""
        card = self.send(text, space, user, **client)["reply"]["message"]
        result = self.click(card, run_label(card), space, user)
        assert "error" not in result, result
        return self.job_of(card)

    def job_of(self, card: dict) -> str:
        from ackflow_tools.emulators.chat.userside import find_button

        params = {p["key"]: p["value"] for p in find_button(card, run_label(card))["parameters"]}
        return self.store.get_confirmation(params["confirmation"]).job_id

    # -- looking -----------------------------------------------------------------------------------
    def wait_job(self, job_id: str, *statuses: JobStatus, timeout: float = 20.0) -> Job:
        wanted = statuses or (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
        deadline = time.monotonic() + timeout
        while True:
            job = self.store.get_job(job_id)
            if job.status in wanted:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} is {job.status.value}, expected {[s.value for s in wanted]}: "
                                     f"{job.last_error}\n{self.stack.procs['worker'].log_tail(30)}")
            time.sleep(0.05)

    def messages_feed(self, space: str = "spaces/e2e") -> list[dict]:
        """Everything that happened in the space, in order (the local Chat service's change feed)."""
        from ackflow_tools.emulators.chat.feed import changes

        return changes(self.http, self.chat_url, space)

    def messages(self, space: str = "spaces/e2e") -> dict[str, dict]:
        """The latest version of every message in the space, by name."""
        latest: dict[str, dict] = {}
        for change in self.messages_feed(space):
            if "message" in change:
                if change["kind"] == "deleted":
                    latest.pop(change["message"]["name"], None)
                else:
                    latest[change["message"]["name"]] = change["message"]
        return latest

    def job_message(self, job: Job, timeout: float = 30.0) -> dict:
        """The job's own message once it shows the job's final state: the store confirms that write
        (``message_due`` cleared) only after it landed, and later than any older write. (30 s: in a
        test space whose Chat write budget earlier jobs spent, a result may wait its turn.)"""
        deadline = time.monotonic() + timeout
        while True:
            current = self.store.get_job(job.id)
            if not current.status.finished or current.message_due:
                found = []
            else:
                found = [m for m in self.messages(job.space).values()
                         if m.get("clientAssignedMessageId") == job.message_id]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no final message for {job.id} ({current.status.value}, "
                                     f"message due: {current.message_due})")
            time.sleep(0.05)

    def worker_token(self) -> str:
        response = self.http.post(
            f"{self.stack.url('tasks')}/v1/projects/-/serviceAccounts/{INVOKER}:generateIdToken",
            json={"audience": self.stack.worker_url})
        return response.json()["token"]

    # -- as the queue ------------------------------------------------------------------------------
    def deliver(self, job_id: str, step: int, generation: int = 0, task: str = "replayed",
                retry: int = 0) -> requests.Response:
        """Deliver the task of the job's ``step`` to the worker again, as a queue that delivers at
        least once does (signed as the queue signs it). A step already done is answered
        ``{"status": "duplicate"}`` and not run again."""
        headers = {"Authorization": f"Bearer {self.worker_token()}", "X-CloudTasks-TaskName": task,
                   "X-CloudTasks-TaskRetryCount": str(retry)}
        return requests.post(self.stack.worker_url, json={"job_id": job_id, "step": step, "generation": generation},
                             headers=headers, timeout=30)

    def killed_at(self, where: str, command: str, before_kill=None) -> str:
        """Start ``command`` with the worker set to stop at the end of the step ``where``
        (``type:step``), wait until it is there, call ``before_kill(job_id)`` if given, then SIGKILL
        the worker (after the step's work, before its record: the hardest moment for a retry) and
        start a fresh one. The job's id. Needs a stack whose job types have pause points
        (``tests.support.jobtypes:with_pause_points``, ``ACKFLOW_TEST_PAUSE_FILE`` set)."""
        control = Path(self.stack.env()["ACKFLOW_TEST_PAUSE_FILE"])
        reached = control.with_suffix(".reached")
        reached.unlink(missing_ok=True)
        control.write_text(where)
        try:
            job_id = self.start(command)
            deadline = time.monotonic() + 30
            while not reached.exists():
                assert time.monotonic() < deadline, f"the worker never reached the end of {where}"
                time.sleep(0.05)
            if before_kill is not None:
                before_kill(job_id)
            self.stack.restart("worker")
        finally:
            control.unlink(missing_ok=True)
        return job_id

    def counts(self) -> tuple[int, int]:
        docs = self.store.docs
        jobs = len(docs.query("jobs", [], "created_at", True, 10_000))
        confirmations = len(docs.query("confirmations", [], "created_at", True, 10_000))
        return jobs, confirmations


def run_label(card: dict) -> str:
    """The label of the card's Run button (Run, 実行: the card speaks its reader's language)."""
    from ackflow_tools.devtools.chatcli import button_for

    return button_for(card, "run") or "Run"


def chat_signer_for(pipeline: Pipeline):
    """The local Chat service's signing side, in the pipeline's event format (the test plays Google)."""
    return pipeline.stack.chat_signer(pipeline.fmt)


def post_event(pipeline: Pipeline, body, token: str | None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return requests.post(pipeline.stack.webhook_url, data=data, headers=headers, timeout=30)
