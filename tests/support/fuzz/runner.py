"""Run the fuzz against a running pipeline (both functions as real servers) and check, for every
request: no 5xx, a status the case allows, no exception text or traceback in a body nor the
fallback apology of a handler that raised, no live markup in an answer, what a 200 from ``/mail``
or ``/sweep`` must say, and for a press on a mail card what it may change in the store
(``mail_cards``); and, for the whole run:
confirmations only for job commands that were answered with one, jobs only from a Run click by the
requester, no job cancelled or retried by anyone but its requester or an admin, every mail
delivered during the run proposed by one card, the webhook's memory bounded, and every message the
app wrote into the spaces (the worker's job messages and the mail cards too, made from hostile
words) free of live markup and within Chat's size.

Seeded: the same seed sends the same requests (ids the app makes differ). A failing request is
saved as JSON (its bytes in base64, its Authorization header, the answer) for ``replay``.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from ackflow.jobs.model import Job, JobStatus
from ackflow_tools.devtools.stack import INVOKER, MAIL_SPACE, MAILBOX, LocalStack
from ackflow_tools.emulators.chat.feed import changes
from tests.support.mail import mail
from tests.support.markup import HOSTILE, live_markup, message_of
from workers.office.mail.records import MailRecords, record_id

from .events import ALICE, BOB, CAROL, SPACES, Case, EventFuzzer, _dump, _other_last, buttons, is_run
from .mail_cards import FALLBACK, MailCardFuzzer
from .tasks import task_case
from .tokens import invalid_tokens
from .worker_paths import PushFuzzer, status_is, sweep_case

MAILS = 40  # most mails delivered during a run (one every 50 requests, up to this)
MAIL_WORDS = ("見積のお願い", "\u202egnp.exe", "<users/all> 至急", "{text} %s ${7*7}", "ｅｃｈｏ １２", "a" * 300,
              "=?utf-8?b?PGEgaHJlZj0iaHR0cHM6Ly9leGFtcGxlLm5ldCI+eDwvYT4=?=")  # an encoded <a href=…>

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
    kinds: dict = field(default_factory=dict)  # what was sent (webhook, task, mail, sweep, job, token) → statuses
    rss_kib: dict = field(default_factory=dict)  # "before" / "after": the webhook's serving process
    rss_samples: list = field(default_factory=list)  # (requests sent, KiB) every fortieth of the run
    asked: int = 0  # answers that carried a confirmation card
    server_refusals: int = 0  # requests gunicorn refused before the app (oversized or invalid headers)
    legit_runs: set = field(default_factory=set)
    refused_runs: set = field(default_factory=set)  # a requester's Run the store's state now refuses (said)
    app_messages: int = 0  # messages of the app in the spaces at the end (every change of each), checked
    epilogue_requests: int = 0  # sent after the random ones (the Cancel and Retry of real jobs, the last push)
    mails: int = 0  # delivered to the request mailbox during the run, each checked proposed once
    mail_presses: Counter = field(default_factory=Counter)  # presses on the mail cards' buttons and form, by kind
    mail_effects: dict = field(default_factory=dict)  # what they were allowed to do: mails ignored, bound, opened
    failures: list = field(default_factory=list)  # (path of the saved request, why)

    def summary(self) -> dict:
        return {"seed": self.seed, "requests": self.requests, "seconds": round(self.seconds, 1),
                "statuses": dict(sorted(self.statuses.items())),
                "by_kind": {k: dict(sorted(v.items())) for k, v in sorted(self.kinds.items())}, "rss_kib": self.rss_kib,
                "rss_kib_samples": self.rss_samples,
                "refused_by_the_http_server": self.server_refusals,
                "epilogue_requests": self.epilogue_requests, "mails_delivered": self.mails,
                "mail_presses": dict(sorted(self.mail_presses.items())), **self.mail_effects,
                "confirmations_asked": self.asked, "jobs_run": len(self.legit_runs),
                "runs_refused_at_run": len(self.refused_runs),
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
    def __init__(self, stack: LocalStack, fmt: str, seed: int, failures_dir: Path, log=print,
                 gmail_url: str | None = None, mail_presses: int = 100):
        self.stack = stack
        self.fmt = fmt
        self.seed = seed
        self.rng = random.Random(seed)
        self.failures_dir = Path(failures_dir)
        self.log = log
        self.http = requests.Session()
        runtime = stack.runtime()
        self.store = runtime.store
        self.periodic = {t.name for t in stack.runtime().registry if t.schedule}  # the sweep starts these
        self.admins = {a.lower() for a in stack.settings().admins}
        self.events = EventFuzzer(self.rng, fmt, stack.webhook_url)
        self.mailbox = stack.office_settings().mailbox
        self.pushes = PushFuzzer(self.rng, self.mailbox or MAILBOX, configured=bool(self.mailbox))
        self.gmail_url = gmail_url  # where mails are delivered during the run (None: none are)
        self.mails: list[str] = []  # the ids of the mails delivered
        self.job_actions: dict[str, list] = {}  # job → the (event, by) of its history the epilogue expects
        self.mail_cards_before: set[str] = set()  # mail cards in the office space before the run
        self.mail_cards = MailCardFuzzer(self.rng, fmt, stack.webhook_url, runtime, stack.url("chat"), self.http) \
            if self.mailbox else None  # presses on the cards' buttons and the open-a-case form
        self.mail_presses = mail_presses  # after the random requests, on two fresh mails' cards
        self.asked_ids: set[str] = set()  # the confirmations answers showed (a mail's pending one again)
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
        if roll < 0.08:  # to a task's path, /mail or /sweep: refused before anything is read or run
            name = self.rng.choice(sorted(self.worker_tokens))
            path, body = self.rng.choice((("", b'{"job_id": "jzzzzzzzzzz", "step": 0}'), ("mail", self.pushes.valid()),
                                          ("sweep", b"")))
            return "worker", Case(f"token/{name} /{path}", body, statuses=frozenset({400, 401, 431}), path=path), \
                self.worker_tokens[name]
        if roll < 0.13:
            return "worker", task_case(self.rng, self.events.jobs), self.worker_valid
        if roll < 0.19:
            return "worker", self.pushes.next_case(), self.worker_valid
        if roll < 0.205:
            return "worker", sweep_case(self.rng, self.events.jobs), self.worker_valid
        if roll < 0.245 and self.mail_cards is not None:
            return "webhook", self.mail_cards.next_case(), self.valid
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
        if case.expect is not None:  # /mail, /sweep: what the answer must say
            if why := case.expect(body):
                return why
            if EXCEPTION_TEXT.search(response.text):
                return f"exception text in the answer: {response.text[:300]!r}"
        message = message_of(body) if isinstance(body, dict) else {}
        if any(words in response.text for words in FALLBACK):
            return "the fallback apology: a handler raised (the webhook's log has the traceback)"
        if live := live_markup(message):
            return f"live markup in the answer: {live[:3]}"
        if len(json.dumps(message, ensure_ascii=False).encode()) > CHAT_MESSAGE_LIMIT:
            return "an answer larger than Chat accepts"
        # the card became the queued one (in the requester's language) because the job exists
        if case.legit_run and not self.store.get_confirmation(case.legit_run).job_id and \
                not _refused_at_run(self.store.get_confirmation(case.legit_run)):
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
        self.mail_cards_before = {change["message"].get("clientAssignedMessageId")
                                  for change in changes(self.http, self.stack.url("chat"), MAIL_SPACE)
                                  if "message" in change}
        warm_up = warm_up if warm_up is not None else max(50, total // 10)
        pid = serving_pid(self.stack.procs["webhook"].proc.pid)
        mails = min(MAILS, total // 50) if self.gmail_url else 0
        started = time.perf_counter()
        for index in range(total):
            if index == warm_up:
                self.report.rss_kib["before"] = rss_kib(pid)
            if index % max(1, total // 40) == 0:
                self.report.rss_samples.append((index, rss_kib(pid)))
            if mails and index % (total // mails) == total // mails // 2:
                self._deliver_mail()  # then a notification (or a sweep's poll) proposes it
            target, case, authorization = self._next()
            if case.mail is not None and authorization == self.valid:
                self._press(index, case)
                continue
            try:
                response = self.send(target, case, authorization)
            except requests.RequestException as exc:
                self._fail(index, target, case, authorization, None, f"no answer: {type(exc).__name__}")
                continue
            self.report.statuses[response.status_code] += 1
            self.report.kinds.setdefault(_kind(target, case), Counter())[response.status_code] += 1
            if why := self.check(case, response):
                self._fail(index, target, case, authorization, response, why)
            body = _json_or_none(response) if response.status_code == 200 and target == "webhook" else None
            if body and authorization == self.valid:
                self._count_asked(body)
            if case.legit_run and response.status_code == 200:
                job_id = self.store.get_confirmation(case.legit_run).job_id
                (self.report.legit_runs if job_id else self.report.refused_runs).add(case.legit_run)
                if job_id:
                    self.events.jobs.append(job_id)
                    self.events.owners[job_id] = case.user
            self.events.observe(case, response.status_code, body)
        self.report.requests = total
        self.report.seconds = time.perf_counter() - started
        self.report.rss_kib["after"] = rss_kib(pid)
        epilogue = itertools.count(total)  # numbers for the requests after the random ones
        self._hostile_results(epilogue)
        self._job_actions(epilogue)
        self._mail_epilogue(epilogue)
        self._check_store(before_jobs, before_confirmations)
        self._check_messages()
        self._check_job_actions()
        self._check_mail(epilogue)
        return self.report

    def _count_asked(self, body: dict) -> None:
        """Count the confirmations an answer shows that no answer showed before (a mail's "open a
        case" pressed again shows its pending confirmation again: one confirmation, one card)."""
        for confirmation in _asks(body) - self.asked_ids:
            self.asked_ids.add(confirmation)
            self.report.asked += 1

    # -- the mail cards' buttons and form --------------------------------------------------------
    def _press(self, index: int, case: Case) -> tuple[int, dict | None]:
        """Send a press on a mail card (``mail_cards``) and check it like any request, and its
        effect on the store against the store before it: (status, JSON answer)."""
        fuzzer = self.mail_cards
        before, newest_job = fuzzer.snapshot(), fuzzer.newest_job()
        try:
            response = self.send("webhook", case, self.valid)
        except requests.RequestException as exc:
            self._fail(index, "webhook", case, self.valid, None, f"no answer: {type(exc).__name__}")
            return 0, None
        status = response.status_code
        self.report.statuses[status] += 1
        self.report.kinds.setdefault("mail card press", Counter())[status] += 1
        self.report.mail_presses[case.mail.kind.split(" ")[0]] += 1
        problems = [why] if (why := self.check(case, response)) else []
        body = _json_or_none(response) if status == 200 else None
        if body:
            self._count_asked(body)
        jobs = sum(fuzzer.jobs.values())
        problems += fuzzer.check(case, status, body, before, newest_job)
        if sum(fuzzer.jobs.values()) > jobs:  # a Run of the mail's confirmation by whom it may
            self.report.legit_runs.add(case.mail.confirmation)
        if problems:
            self._fail(index, "webhook", case, self.valid, response, "; ".join(problems))
        fuzzer.observe(case, status, body)
        return status, body

    def _mail_epilogue(self, numbers) -> None:
        """Two fresh mails' cards, pressed as the office would and as it must not be able to (the
        script of ``MailCardFuzzer.script``), then ``mail_presses`` random presses on them and the rest."""
        if self.mail_cards is None or not self.gmail_url:
            return
        fresh = []
        for _ in range(2):
            self._deliver_mail()
            fresh.append(record_id(self.mailbox, self.mails[-1]))
        self.pushes.mail_waiting = False
        self._send_checked(next(numbers), Case("mail/a notification of the mails to press", self.pushes.valid(),
                                               statuses=frozenset({200}), path="mail", expect=status_is("ok")),
                           "worker")
        script = self.mail_cards.script(*fresh)
        try:
            case = next(script)
            while True:
                self.report.epilogue_requests += 1
                case = script.send(self._press(next(numbers), case))
        except StopIteration:
            pass
        for why in self.mail_cards.script_failures:
            self.report.failures.append(("(mail script)", why))
        for _ in range(self.mail_presses):
            self.report.epilogue_requests += 1
            self._press(next(numbers), self.mail_cards.next_case())
        fuzzer = self.mail_cards
        self.report.mail_effects = {"mails_ignored": len(fuzzer.ignored), "mail_confirmations": len(fuzzer.bound),
                                    "mail_jobs": sum(fuzzer.jobs.values())}

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
        for confirmation_id in self.events.intruded - self.report.legit_runs - self.report.refused_runs:
            if confirmation_id in confirmations and confirmations[confirmation_id]["status"] != "PENDING":
                status = confirmations[confirmation_id]["status"]
                problems.append(f"{confirmation_id}, clicked only by intruders, is {status}")
        for problem in problems:
            self.report.failures.append(("(store)", problem))


    def _ask_and_run(self, numbers, text: str, user: dict, label: str) -> tuple[str, dict] | None:
        """Ask for a job as ``user`` and press Run on its card as they would: the job's id and the
        card's Run parameters (None, and a failure, if no job was made)."""
        index = next(numbers)
        asked = Case(f"{label}/ask", _dump(self.events._message_event(text, user=user)), user=user)
        response = self.send("webhook", asked, self.valid)
        body = _json_or_none(response) if response.status_code == 200 else None
        if why := self.check(asked, response):
            self._fail(index, "webhook", asked, self.valid, response, why)
        if not body or not _asks(body):
            self._fail(index, "webhook", asked, self.valid, response, f"“{text[:40]}” asked no confirmation")
            return None
        self._count_asked(body)
        run = next(b for card in message_of(body)["cardsV2"] for b in buttons(card) if is_run(b))
        action = run["onClick"]["action"]
        params = {p["key"]: p["value"] for p in action["parameters"]}
        click = Case(f"{label}/run", _dump(self.events._event(
            "CARD_CLICKED", user=user, message=self.events._bot_message(), function=action["function"],
            parameters=params)), user=user, legit_run=params["confirmation"])
        response = self.send("webhook", click, self.valid)
        if why := self.check(click, response):
            self._fail(index, "webhook", click, self.valid, response, why)
        if response.status_code != 200:
            return None
        self.report.legit_runs.add(params["confirmation"])
        job_id = self.store.get_confirmation(params["confirmation"]).job_id
        return (job_id, params) if job_id else None

    def _hostile_results(self, numbers) -> None:
        """Echo jobs whose results are the review's hostile strings, asked for and run by their
        requester: the random mix runs few jobs, so the messages the worker writes afterwards (what
        a person reads in a shared space) would seldom hold hostile text otherwise."""
        for text in HOSTILE:
            self._ask_and_run(numbers, f"echo {text}", ALICE, "epilogue/echo")

    # -- Cancel and Retry of jobs that exist -----------------------------------------------------
    def _job_actions(self, numbers) -> None:
        """Cancel and Retry of running and failed jobs by people the access rules do not allow (only
        the requester and the admins may: ``AccessPolicy.may_decide``), as the app's own job cards
        and commands offer them: Bob presses Retry on Alice's failed job's card, Alice on Bob's;
        Alice's card with its job parameter changed to Bob's job, forged ids or values of the
        wrong type; ``cancel``/``retry`` typed and as slash commands with another's job id;
        Cancel clicks naming a job (no card of the app has one: a confirmation card's Cancel names
        the confirmation), and Cancel on the confirmation card whose Run made Alice's job, by Bob.
        Then the requester and an admin do the same, as they may. The effect is checked from the
        store at the end (``_check_job_actions``): the random mix seldom finds a job running or
        failed when its hostile click comes, so a Cancel or Retry that worked would seldom show."""
        made = {}
        for key, user, text in (("alice sleeps", ALICE, "sleep 60"), ("alice fails", ALICE, "fail --always"),
                                ("bob sleeps", BOB, "sleep 60"), ("bob fails", BOB, "fail --always")):
            made[key] = self._ask_and_run(numbers, text, user, "jobs")
            if made[key] is None:
                return
        a_sleep, a_fail, b_sleep, b_fail = (made[k][0] for k in ("alice sleeps", "alice fails", "bob sleeps",
                                                                  "bob fails"))
        for job_id, user in ((a_sleep, ALICE), (a_fail, ALICE), (b_sleep, BOB), (b_fail, BOB)):
            self.events.owners[job_id] = user
        cards = {job_id: self._retry_button(job_id) for job_id in (a_fail, b_fail)}
        if None in cards.values() or not self._running(a_sleep, b_sleep):
            return
        (a_function, a_params), (b_function, b_params) = cards[a_fail], cards[b_fail]
        action = self.events.job_action
        hostile = [
            action("retry", "click", a_fail, BOB, params=a_params, function=a_function),
            action("retry", "click", b_fail, ALICE, params=b_params, function=b_function),
            *(action("retry", "click", job, who, params={**a_params, "job": job}, function=a_function)
              for job, who in ((b_fail, ALICE), (_other_last(a_fail), ALICE), (a_fail.upper(), ALICE),
                               (f"{a_fail} ", ALICE), (f"{b_fail}/../{a_fail}", BOB), (a_fail[:-1], ALICE),
                               ([a_fail], BOB), ({"id": a_fail}, BOB), (7, BOB), (None, BOB), (True, ALICE),
                               ([b_fail], ALICE))),
            *(action(act, how, job, who) for act, job, who in (
                ("retry", a_fail, BOB), ("cancel", a_sleep, BOB), ("retry", b_fail, ALICE), ("cancel", b_sleep, ALICE))
              for how in ("text", "slash", "click")),
            action("cancel", "click", None, BOB, function=None, params={
                **made["alice sleeps"][1], **({"actionName": "cancel"} if self.fmt == "addon" else {})}),
        ]
        for case in hostile:
            case.name = f"jobs/hostile {case.name}"
            self._send_checked(next(numbers), case)
        legit = [action("retry", "click", a_fail, ALICE, params=a_params, function=a_function),
                 action("cancel", "text", a_sleep, ALICE),
                 action("retry", "click", b_fail, CAROL, params=b_params, function=b_function),
                 action("cancel", "slash", b_sleep, CAROL)]
        for case in legit:
            case.name = f"jobs/allowed {case.name}"
            self._send_checked(next(numbers), case)
        alice, carol = ALICE["email"], CAROL["email"]
        self.job_actions = {a_fail: [("retried", alice)], a_sleep: [("cancelled", alice)],
                            b_fail: [("retried", carol)], b_sleep: [("cancelled", carol)]}

    def _send_checked(self, index: int, case: Case, target: str = "webhook", authorization=None):
        authorization = authorization or (self.valid if target == "webhook" else self.worker_valid)
        response = self.send(target, case, authorization)
        self.report.epilogue_requests += 1
        if why := self.check(case, response):
            self._fail(index, target, case, authorization, response, why)
        return response

    def _retry_button(self, job_id: str, timeout: float = 30.0) -> tuple[str, dict] | None:
        """The Retry button of a failed job's message in its space, as the worker rendered it:
        (its action's function, its parameters)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.store.get_job(job_id)
            if job.status.finished and not job.message_due:
                break
            time.sleep(0.2)
        else:
            self.report.failures.append(("(jobs)", f"job {job_id} is {job.status.value}, not FAILED and shown, "
                                                   f"after {timeout:.0f} s"))
            return None
        shown = {}
        for change in changes(self.http, self.stack.url("chat"), job.space):
            message = change.get("message") or {}
            if message.get("clientAssignedMessageId") == job.message_id:
                shown = message
        for card in shown.get("cardsV2") or []:
            for button in buttons(card):
                action = (button.get("onClick") or {}).get("action") or {}
                params = {p["key"]: p["value"] for p in action.get("parameters") or []}
                if "retry" in (action.get("function"), params.get("actionName")):
                    return action["function"], params
        self.report.failures.append(("(jobs)", f"no Retry button on the message of failed job {job_id}"))
        return None

    def _running(self, *job_ids: str, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.store.get_job(j).status == JobStatus.RUNNING for j in job_ids):
                return True
            time.sleep(0.2)
        self.report.failures.append(("(jobs)", f"jobs {job_ids} not all RUNNING after {timeout:.0f} s"))
        return False

    def _check_job_actions(self) -> None:
        """From the store: no job was cancelled or retried by anyone but its requester or an admin
        (its history says who; the audit log too), and the epilogue's jobs were cancelled and
        retried exactly by whom it allowed."""
        jobs, _ = self._ids()
        for job_id, data in jobs.items():
            job = Job.from_dict(data)
            allowed = {job.requester.email.lower()} - {""} | self.admins
            done = [(h.get("event"), h.get("by")) for h in job.history if h.get("event") in ("cancelled", "retried")]
            for event, by in done:
                if str(by).lower() not in allowed:
                    self.report.failures.append(("(jobs)", f"job {job_id} of {job.requester.email or 'nobody'} "
                                                           f"was {event} by {by}"))
            if job_id in self.job_actions and done != self.job_actions[job_id]:
                self.report.failures.append(("(jobs)", f"job {job_id}: {done or 'nothing done'}, expected "
                                                       f"{self.job_actions[job_id]}"))
        for entry in self.store.list_audit(limit=100_000):
            if entry.action not in ("cancel", "retry") or entry.outcome != "done":
                continue
            data = jobs.get(entry.job_id or entry.target)
            owner = Job.from_dict(data).requester.email.lower() if data else ""
            if entry.actor.lower() not in ({owner} - {""}) | self.admins:
                self.report.failures.append(("(audit)", f"{entry.action} of {entry.target} (of {owner or '?'}) "
                                                         f"done by {entry.actor}"))

    # -- the request mailbox ---------------------------------------------------------------------
    def _deliver_mail(self) -> None:
        """A mail with hostile words into the request mailbox of the Gmail stand-in (no push: the
        fuzz's own notifications and sweeps find it)."""
        number = len(self.mails)
        subject = f"{HOSTILE[number % len(HOSTILE)]} {self.rng.choice(MAIL_WORDS)}"
        raw = mail(subject, body=f"{self.rng.choice(HOSTILE)}\n{self.rng.choice(MAIL_WORDS)}",
                   html=self.rng.choice((None, f"<p>{HOSTILE[(number + 1) % len(HOSTILE)]}</p>")))
        response = self.http.post(f"{self.gmail_url}/_emulator/users/{self.mailbox}/messages", data=raw,
                                  headers={"Content-Type": "message/rfc822"}, timeout=10)
        response.raise_for_status()
        self.mails.append(response.json()["id"])
        self.pushes.mail_waiting = True

    def _check_mail(self, numbers) -> None:
        """After one more notification (as Gmail sends after the last mail), every mail delivered
        is proposed, by one card and one claim, whatever the hostile pushes and sweeps did; no card
        for a mail that was not delivered."""
        if not self.gmail_url:
            return
        last = Case("mail/the last notification", self.pushes.valid(), statuses=frozenset({200}), path="mail",
                    expect=status_is("ok"))
        self._send_checked(next(numbers), last, "worker")
        records = MailRecords(self.store.docs)
        allowed = self.mail_cards.expected_status if self.mail_cards is not None else lambda rid: {"PROPOSED"}
        created = Counter(change["message"].get("clientAssignedMessageId")
                          for change in changes(self.http, self.stack.url("chat"), MAIL_SPACE)
                          if change.get("kind") == "created" and "message" in change)
        wanted = set()
        for mail_id in self.mails:
            rid = record_id(self.mailbox, mail_id)
            wanted.add(f"client-{rid}")
            record = records.get(rid) or {}
            if record.get("status") not in allowed(rid) or record.get("attempts") != 1:
                self.report.failures.append(("(mail)", f"mail {mail_id}: {record.get('status')} after "
                                                       f"{record.get('attempts')} claims, not "
                                                       f"{' or '.join(sorted(allowed(rid)))} after one"))
            if created[f"client-{rid}"] != 1:
                self.report.failures.append(("(mail)", f"mail {mail_id}: {created[f'client-{rid}']} cards"))
        if extra := {k for k in created if str(k).startswith("client-mail-")} - wanted - self.mail_cards_before:
            self.report.failures.append(("(mail)", f"cards of mails never delivered: {sorted(extra)[:5]}"))
        jobs, _ = self._ids()  # a mail becomes one case at most, whatever was pressed
        for rid, count in Counter(j["params"].get("mail") for j in jobs.values() if j.get("type") == "newcase"
                                  and (j.get("params") or {}).get("mail")).items():
            if count > 1:
                self.report.failures.append(("(mail)", f"mail {rid} became {count} newcase jobs"))
        self.report.mails = len(self.mails)

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
        for space in (*SPACES, MAIL_SPACE):  # the mail cards hold the mails' words
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


def _kind(target: str, case: Case) -> str:
    """What a request was, for the figures: a token's target, a job's Cancel or Retry, a task, a
    push, a sweep, or another event."""
    if case.name.startswith("token/"):
        return f"invalid token → {target if target == 'webhook' else '/' + (case.path or 'task')}"
    prefix = case.name.split("/", 1)[0]
    if target == "worker":
        return {"task": "task", "mail": "/mail", "sweep": "/sweep"}.get(prefix, prefix)
    return "job cancel/retry" if prefix == "job" else "event"


def _refused_at_run(confirmation) -> bool:
    """Closed by its Run because the store's state now refuses it (another Run issued the estimate
    version this card was to make, …): the card said why (``confirm._refused``); nobody cancelled
    it and no newer request replaced it."""
    return confirmation.status.value == "CANCELLED" and not confirmation.decided_by and not confirmation.replaced


def _json_or_none(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return None


def _asks(body: dict) -> set[str]:
    """The confirmations whose cards (with a Run button) the answer shows."""
    return {_pairs(b).get("confirmation", "") for card in message_of(body).get("cardsV2") or []
            if card.get("cardId", "").startswith("confirm-") for b in buttons(card) if is_run(b)}


def _pairs(button: dict) -> dict:
    return {p.get("key"): p.get("value") for p in ((button.get("onClick") or {}).get("action") or {}).get(
        "parameters") or []}


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
