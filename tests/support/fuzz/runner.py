"""Run the fuzz against a running pipeline (both functions as real servers) and check, for every
request: no 5xx, a status the case allows, no exception text or traceback in a body, no live
markup in an answer; and, for the whole run: confirmations only for job commands that were
answered with one, jobs only from a Run click by the requester, the webhook's memory bounded, and
every message the app wrote into the spaces (the worker's job messages too, made from hostile
arguments) free of live markup and within Chat's size.

Seeded: the same seed sends the same requests (ids the app makes differ). A failing request is
saved as JSON (its bytes in base64, its Authorization header, the answer) for ``replay``.
"""

from __future__ import annotations

import base64
import json
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from ackflow_tools.devtools.stack import INVOKER, LocalStack
from ackflow_tools.emulators.chat.feed import changes
from tests.support.markup import HOSTILE, live_markup, message_of

from .events import ALICE, SPACES, Case, EventFuzzer, _dump, buttons, is_run
from .tasks import task_case
from .tokens import invalid_tokens

EXCEPTION_TEXT = re.compile(
    r"Traceback|File \"|\b[A-Z][A-Za-z]*(Error|Exception)\b|Internal Server Error|<!doctype|<html|"
    r"Expecting (value|property)|line \d+ column \d+|\(char \d+\)|codec can't|object has no attribute|"
    r"not subscriptable|unhashable type|maximum recursion", re.IGNORECASE)
CHAT_MESSAGE_LIMIT = 32_000  # bytes: Chat refuses a bigger message
# Headers over 8 kB or with control characters never reach the functions: gunicorn (Google's front
# end in the cloud) refuses them with its own fixed page. Counted, not held against the app.
SERVER_REFUSAL = re.compile(r"^<html>\s*<head>\s*<title>(Bad Request|Request Header Fields Too Large)</title>")


@dataclass
class Report:
    seed: int
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    rss_kib: dict = field(default_factory=dict)  # "before" / "after": the webhook's serving process
    rss_samples: list = field(default_factory=list)  # (requests sent, KiB) every tenth of the run
    asked: int = 0  # answers that carried a confirmation card
    server_refusals: int = 0  # requests gunicorn refused before the app (oversized or invalid headers)
    legit_runs: set = field(default_factory=set)
    app_messages: int = 0  # messages of the app in the spaces at the end (every change of each), checked
    failures: list = field(default_factory=list)  # (path of the saved request, why)

    def summary(self) -> dict:
        return {"seed": self.seed, "requests": self.requests, "seconds": round(self.seconds, 1),
                "statuses": dict(sorted(self.statuses.items())), "rss_kib": self.rss_kib,
                "rss_kib_samples": self.rss_samples,
                "refused_by_the_http_server": self.server_refusals,
                "confirmations_asked": self.asked, "jobs_run": len(self.legit_runs),
                "app_messages_checked": self.app_messages,
                "failures": len(self.failures)}


def serving_pid(master: int) -> int:
    """The gunicorn worker under functions-framework's master (the process that serves)."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        children = []
    return int(children[0]) if children else master


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


class FuzzRun:
    def __init__(self, stack: LocalStack, fmt: str, seed: int, failures_dir: Path, log=print):
        self.stack = stack
        self.fmt = fmt
        self.seed = seed
        self.rng = random.Random(seed)
        self.failures_dir = Path(failures_dir)
        self.log = log
        self.http = requests.Session()
        self.store = stack.runtime().store
        self.periodic = {t.name for t in stack.runtime().registry if t.schedule}  # the sweep starts these
        self.events = EventFuzzer(self.rng, fmt, stack.webhook_url)
        self.chat = stack.chat_signer(fmt)
        self.valid = f"Bearer {self.chat.token(fmt)}"
        self.worker_valid = f"Bearer {self._worker_token(stack.worker_url)}"
        self.webhook_tokens = self._webhook_tokens()
        self.worker_tokens = self._worker_tokens()
        self.report = Report(seed)

    # -- tokens ----------------------------------------------------------------------------------
    def _worker_token(self, audience: str, email: str = INVOKER) -> str:
        url = f"{self.stack.url('tasks')}/v1/projects/-/serviceAccounts/{email}:generateIdToken"
        return self.http.post(url, json={"audience": audience, "includeEmail": True}, timeout=10).json()["token"]

    def _webhook_tokens(self) -> dict:
        now = int(time.time())
        if self.fmt == "addon" or self.stack.config.chat_auth == "endpoint-url":
            email = self.chat.app.addon_signer_email() if self.fmt == "addon" else "chat@system.gserviceaccount.com"
            claims = {"iss": "https://accounts.google.com", "aud": self.stack.webhook_url, "sub": "1", "email": email,
                      "email_verified": True, "iat": now, "exp": now + 3600}
            return invalid_tokens(self.chat.google_signer, claims)
        claims = {"iss": "chat@system.gserviceaccount.com", "aud": self.chat.app.project_number, "iat": now,
                  "exp": now + 3600}
        return invalid_tokens(self.chat.chat_signer, claims)

    def _worker_tokens(self) -> dict:
        from ackflow_tools.emulators.cloudtasks.storage import TasksStorage

        signer = TasksStorage(self.stack.workdir / "tasks.db").signer("google-oidc")
        now = int(time.time())
        claims = {"iss": "https://accounts.google.com", "aud": self.stack.worker_url, "sub": "1", "email": INVOKER,
                  "email_verified": True, "iat": now, "exp": now + 3600}
        tokens = invalid_tokens(signer, claims)
        tokens["another service account"] = f"Bearer {self._worker_token(self.stack.worker_url, 'x@p.iam.example')}"
        tokens["the webhook's audience"] = f"Bearer {self._worker_token(self.stack.webhook_url)}"
        return tokens

    # -- one request -----------------------------------------------------------------------------
    def _next(self) -> tuple[str, Case, str | bytes | None]:
        roll = self.rng.random()
        if roll < 0.05:
            name = self.rng.choice(sorted(self.webhook_tokens))
            case = self.events.next_case()
            case.statuses = frozenset({400, 401, 413, 431})  # 400/431: gunicorn's refusals (see check)
            case.name = f"token/{name}"
            case.user = case.legit_run = None
            return "webhook", case, self.webhook_tokens[name]
        if roll < 0.09:
            name = self.rng.choice(sorted(self.worker_tokens))
            return "worker", Case(f"token/{name}", b'{"job_id": "jzzzzzzzzzz", "step": 0}',
                                  statuses=frozenset({400, 401, 431})), self.worker_tokens[name]
        if roll < 0.16:
            return "worker", task_case(self.rng, self.events.jobs), self.worker_valid
        return "webhook", self.events.next_case(), self.valid

    def send(self, target: str, case: Case, authorization) -> requests.Response:
        url = (self.stack.webhook_url if target == "webhook" else self.stack.worker_url) + case.path
        headers = {"Content-Type": "application/json", **case.headers}
        if authorization is not None:
            headers["Authorization"] = authorization
        return self.http.post(url, data=case.body, headers=headers, timeout=60)

    def check(self, case: Case, response: requests.Response) -> str | None:
        status = response.status_code
        if status >= 500:
            return f"{status} from the server"
        if status not in case.statuses:
            return f"status {status}, expected one of {sorted(case.statuses)}"
        if status != 200:
            if status in (400, 431) and case.name.startswith("token/"):
                if not SERVER_REFUSAL.match(response.text):  # the app must verify before it reads
                    return f"a bad token answered {status} by the app: {response.text[:200]!r}"
                self.report.server_refusals += 1
                return None
            if EXCEPTION_TEXT.search(response.text):
                return f"exception text in the body: {response.text[:200]!r}"
            if len(response.content) > 2000:
                return f"a {len(response.content)}-byte error body"
            return None
        try:
            body = response.json()
        except ValueError:
            return f"200 with a body that is not JSON: {response.text[:100]!r}"
        if "Traceback" in response.text and b"Traceback" not in case.body:
            return "a traceback in the answer"
        if case.name.startswith("task/") and not (isinstance(body, dict) and body.get("status") == "dropped"):
            return f"a task no queue sends was not dropped: {response.text[:200]!r}"
        message = message_of(body) if isinstance(body, dict) else {}
        if live := live_markup(message):
            return f"live markup in the answer: {live[:3]}"
        if len(json.dumps(message, ensure_ascii=False).encode()) > CHAT_MESSAGE_LIMIT:
            return "an answer larger than Chat accepts"
        # the card became the queued one (in the requester's language) because the job exists
        if case.legit_run and not self.store.get_confirmation(case.legit_run).job_id:
            return f"a valid Run by the requester made no job: {response.text[:200]!r}"
        return None

    def _fail(self, index: int, target: str, case: Case, authorization, response, why: str) -> None:
        self.failures_dir.mkdir(parents=True, exist_ok=True)
        path = self.failures_dir / f"fuzz-{self.seed}-{index}.json"
        auth = authorization.decode("utf-8", "replace") if isinstance(authorization, bytes) else authorization
        path.write_text(json.dumps({
            "seed": self.seed, "index": index, "target": target, "case": case.name, "why": why,
            "authorization": auth, "headers": {k: str(v) for k, v in case.headers.items()}, "path": case.path,
            "body_base64": base64.b64encode(case.body).decode(),
            "status": getattr(response, "status_code", None), "answer": getattr(response, "text", "")[:4000],
        }, ensure_ascii=False, indent=1))
        self.report.failures.append((str(path), f"#{index} {case.name[:120]}: {why}"))

    # -- the run ---------------------------------------------------------------------------------
    def run(self, total: int, warm_up: int | None = None) -> Report:
        self.log(f"fuzz: seed {self.seed}, {total} requests, {self.fmt} events")
        before_jobs, before_confirmations = self._ids()
        warm_up = warm_up if warm_up is not None else max(50, total // 10)
        pid = serving_pid(self.stack.procs["webhook"].proc.pid)
        started = time.perf_counter()
        for index in range(total):
            if index == warm_up:
                self.report.rss_kib["before"] = rss_kib(pid)
            if index % max(1, total // 10) == 0:
                self.report.rss_samples.append((index, rss_kib(pid)))
            target, case, authorization = self._next()
            try:
                response = self.send(target, case, authorization)
            except requests.RequestException as exc:
                self._fail(index, target, case, authorization, None, f"no answer: {type(exc).__name__}")
                continue
            self.report.statuses[response.status_code] += 1
            if why := self.check(case, response):
                self._fail(index, target, case, authorization, response, why)
            body = _json_or_none(response) if response.status_code == 200 and target == "webhook" else None
            if body and authorization == self.valid and _asks(body):
                self.report.asked += 1
            if case.legit_run and response.status_code == 200:
                self.report.legit_runs.add(case.legit_run)
                job_id = self.store.get_confirmation(case.legit_run).job_id
                if job_id:
                    self.events.jobs.append(job_id)
            self.events.observe(case, response.status_code, body)
        self.report.requests = total
        self.report.seconds = time.perf_counter() - started
        self.report.rss_kib["after"] = rss_kib(pid)
        self._hostile_results(total)
        self._check_store(before_jobs, before_confirmations)
        self._check_messages()
        return self.report

    def _ids(self) -> tuple[dict, dict]:
        docs = self.store.docs
        jobs = {d["id"]: d for d in docs.query("jobs", [], "created_at", True, 100_000)}
        confirmations = {d["id"]: d for d in docs.query("confirmations", [], "created_at", True, 100_000)}
        return jobs, confirmations

    def _check_store(self, before_jobs: dict, before_confirmations: dict) -> None:
        jobs, confirmations = self._ids()
        new_jobs = {k: v for k, v in jobs.items() if k not in before_jobs and v.get("confirmation_id")}
        new_confirmations = {k: v for k, v in confirmations.items() if k not in before_confirmations}
        problems = [f"job {k} ({v.get('type')}) made from no confirmation" for k, v in jobs.items()
                    if k not in before_jobs and not v.get("confirmation_id") and v.get("type") not in self.periodic]
        if len(new_confirmations) != self.report.asked:
            problems.append(f"{len(new_confirmations)} confirmations stored, {self.report.asked} asked for")
        made_from = Counter(job["confirmation_id"] for job in new_jobs.values())
        if set(made_from) != self.report.legit_runs or any(n != 1 for n in made_from.values()):
            problems.append(f"jobs from confirmations {sorted(made_from)}, valid Runs {sorted(self.report.legit_runs)}")
        for confirmation_id in self.events.intruded - self.report.legit_runs:
            if confirmation_id in confirmations and confirmations[confirmation_id]["status"] != "PENDING":
                status = confirmations[confirmation_id]["status"]
                problems.append(f"{confirmation_id}, clicked only by intruders, is {status}")
        for problem in problems:
            self.report.failures.append(("(store)", problem))


    def _hostile_results(self, index: int) -> None:
        """Echo jobs whose results are the review's hostile strings, asked for and run by their
        requester: the random mix runs few jobs, so the messages the worker writes afterwards (what
        a person reads in a shared space) would seldom hold hostile text otherwise."""
        for number, text in enumerate(HOSTILE):
            asked = Case("epilogue/echo", _dump(self.events._message_event(f"echo {text}", user=ALICE)),
                         user=ALICE)
            response = self.send("webhook", asked, self.valid)
            body = _json_or_none(response) if response.status_code == 200 else None
            if why := self.check(asked, response):
                self._fail(index + number, "webhook", asked, self.valid, response, why)
            if not body or not _asks(body):
                self._fail(index + number, "webhook", asked, self.valid, response, "echo asked no confirmation")
                continue
            self.report.asked += 1
            run = next(b for card in message_of(body)["cardsV2"] for b in buttons(card) if is_run(b))
            action = run["onClick"]["action"]
            params = {p["key"]: p["value"] for p in action["parameters"]}
            click = Case("epilogue/run", _dump(self.events._event(
                "CARD_CLICKED", user=ALICE, message=self.events._bot_message(), function=action["function"],
                parameters=params)), user=ALICE, legit_run=params["confirmation"])
            response = self.send("webhook", click, self.valid)
            if why := self.check(click, response):
                self._fail(index + number, "webhook", click, self.valid, response, why)
            if response.status_code == 200:
                self.report.legit_runs.add(params["confirmation"])

    def _check_messages(self, settle: float = 30.0) -> None:
        """What the app wrote into the spaces after its answers (the worker's job messages: results
        made from hostile arguments) holds to the rules of an answer: no live markup, within Chat's
        size. Waits up to ``settle`` seconds for the jobs of the run to finish first."""
        job_ids = [self.store.get_confirmation(c).job_id for c in self.report.legit_runs]
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            jobs = [self.store.get_job(j) for j in job_ids if j]
            if all(job.status.finished and not job.message_due for job in jobs):
                break
            time.sleep(0.5)
        chat = self.stack.url("chat")
        for space in SPACES:
            for change in changes(self.http, chat, space):
                message = change.get("message") or {}
                if change.get("kind") == "deleted" or (message.get("sender") or {}).get("type") != "BOT":
                    continue
                self.report.app_messages += 1
                why = []
                if live := live_markup(message):
                    why.append(f"live markup: {live[:3]}")
                if len(json.dumps(message, ensure_ascii=False).encode()) > CHAT_MESSAGE_LIMIT:
                    why.append("larger than Chat accepts")
                if why:
                    self.report.failures.append(
                        ("(chat)", f"{message.get('name')} ({message.get('clientAssignedMessageId')}): "
                                   f"{'; '.join(why)}"))


def _json_or_none(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return None


def _asks(body: dict) -> bool:
    """Whether the answer is a confirmation card (a new one, with a Run button)."""
    return any(card.get("cardId", "").startswith("confirm-") and any(is_run(b) for b in buttons(card))
               for card in message_of(body).get("cardsV2") or [])


def replay(stack: LocalStack, path: Path, fmt: str) -> requests.Response:
    """Send a saved failing request again; a request that had the run's valid token gets a fresh one."""
    saved = json.loads(Path(path).read_text())
    worker = saved["target"] == "worker"
    headers = {"Content-Type": "application/json", **saved["headers"]}
    if saved["authorization"] is not None:
        headers["Authorization"] = saved["authorization"]
    if not saved["case"].startswith("token/"):
        if worker:
            url = f"{stack.url('tasks')}/v1/projects/-/serviceAccounts/{INVOKER}:generateIdToken"
            token = requests.post(url, json={"audience": stack.worker_url, "includeEmail": True}, timeout=10)
            headers["Authorization"] = f"Bearer {token.json()['token']}"
        else:
            headers["Authorization"] = f"Bearer {stack.chat_signer(fmt).token(fmt)}"
    url = (stack.worker_url if worker else stack.webhook_url) + saved["path"]
    return requests.post(url, data=base64.b64decode(saved["body_base64"]), headers=headers, timeout=60)
